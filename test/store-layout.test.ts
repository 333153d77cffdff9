import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { App, Chart, Duration, Testing } from 'cdk8s';
import { CertificateStore, KeyAlgorithm, SecureMetricsServer, SecureMetricsServerTesting, ServingTls } from '../lib';
import { captureStderr, decode, find, legacyStoreFixture, listTree, storePaths, synthYaml, tmp } from './helpers';
import { LEGACY_CA_VALIDITY_DAYS, LEGACY_VALIDITY_DAYS } from './support/legacy-store-0.1';
import { treeState } from './support/proc';

/** A store as release 0.1 wrote it, made by the global setup (test/support/legacy-store-0.1.ts). */
const FIXTURE = legacyStoreFixture();
/** The options it was made with (it must not expire). */
const LEGACY_OPTIONS = { caValidity: Duration.days(LEGACY_CA_VALIDITY_DAYS), validity: Duration.days(LEGACY_VALIDITY_DAYS) };

function legacyCopy(chmod: boolean): CertificateStore {
  const dir = path.join(tmp(), 'pki');
  mkdirSync(dir, { mode: 0o700 });
  for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key', 'checked.json']) {
    cpSync(path.join(FIXTURE, f), path.join(dir, f));
    chmodSync(path.join(dir, f), chmod ? 0o600 : 0o644);
  }
  return CertificateStore.fromDirectory(dir);
}

/** One App with one SecureMetricsServer per chart id; returns the objects of each chart. */
function synthCharts(store: CertificateStore, charts: { id: string; namespace?: string }[],
  tls = (s: CertificateStore) => ServingTls.fromDedicatedCa({ store: s })) {
  const app = new App({ outdir: tmp() });
  const built = charts.map(c => {
    const chart = new Chart(app, c.id, { namespace: c.namespace });
    return { chart, construct: new SecureMetricsServer(chart, 'MetricsServer', { servingTls: tls(store) }) };
  });
  app.synthYaml();
  return built.map(b => ({ construct: b.construct, objects: b.chart.toJson() as any[] }));
}

describe('upgrading from the flat layout of release 0.1', () => {
  test('the first synth adopts the store: same caBundle and serving key, no key generated', () => {
    const store = legacyCopy(true);
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, ...LEGACY_OPTIONS }) });
    expect(first.keys).toBe(0);
    expect(first.construct.caBundle).toBe(readFileSync(path.join(FIXTURE, 'ca.crt'), 'utf8'));
    expect(first.key).toBe(readFileSync(path.join(FIXTURE, 'tls.key'), 'utf8'));
    expect(first.cert).toBe(readFileSync(path.join(FIXTURE, 'tls.crt'), 'utf8'));
    // moved into the keyed layout; nothing left in the flat one
    expect(listTree(store.directory)).toEqual([
      '.gitignore',
      'clusters/metrics-server/ca/ca.crt',
      'clusters/metrics-server/ca/ca.key',
      'clusters/metrics-server/chart.json',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local.checked.json',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local/tls.crt',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local/tls.key',
    ]);
    const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, ...LEGACY_OPTIONS }) });
    expect(second.keys).toBe(0);
    expect(second.yaml).toBe(first.yaml);
  });

  test('key files as a checkout leaves them (0644) are refused with the chmod that fixes them', () => {
    const store = legacyCopy(false);
    const key = path.join(store.directory, 'tls.key');
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, ...LEGACY_OPTIONS }) }))
      .toThrow(`store: '${key}' holds a private key but its mode is 0644 (group or others may access it); run: chmod 600 '${key}' (and chmod 700 on its directory)`);
  });
});

describe('store permissions, path and record', () => {
  test('a key file readable by others is refused, not used silently', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    chmodSync(storePaths(store).caKey, 0o640);
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`store: '${storePaths(store).caKey}' holds a private key but its mode is 0640 (group or others may access it); run: chmod 600 '${storePaths(store).caKey}'`);
    chmodSync(storePaths(store).caKey, 0o600);
    expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }).keys).toBe(0);
  });

  test('a store path that is a file gets a clear message', () => {
    const file = path.join(tmp(), 'pki');
    writeFileSync(file, 'not a directory');
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(file) }) }))
      .toThrow(`store: '${file}' is a file, not a directory; pass a directory to CertificateStore.fromDirectory() (it is created on first synth)`);
  });

  test('an unreadable and unwritable check record means a full check, not a failure', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    // a directory where the record should be: it can be neither read nor replaced (even by root)
    require('fs').rmSync(storePaths(store).record);
    mkdirSync(storePaths(store).record);
    const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(second.keys).toBe(0);
    expect(second.yaml).toBe(first.yaml);
  });

  test('a warm synth takes no lock and writes nothing', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const before = treeState(store.directory);
    const lock = jest.spyOn(require('../lib/store/store-lock'), 'acquireLock');
    try {
      const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
      expect(second.yaml).toBe(first.yaml);
      expect(lock).not.toHaveBeenCalled();
    } finally {
      lock.mockRestore();
    }
    expect(treeState(store.directory)).toBe(before);
  });
});

describe('keyed by cluster and service identity', () => {
  test('different service identities in one store keep their own certificates: alternating synths change nothing', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const a1 = synthYaml({ namespace: 'team-a', servingTls: ServingTls.fromDedicatedCa({ store }) });
    const b1 = synthYaml({ namespace: 'team-b', servingTls: ServingTls.fromDedicatedCa({ store }) });
    const c1 = synthYaml({ clusterDomain: 'example.internal', namespace: 'team-a', servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect([a1.keys, b1.keys, c1.keys]).toEqual([2, 1, 1]);
    const a2 = synthYaml({ namespace: 'team-a', servingTls: ServingTls.fromDedicatedCa({ store }) });
    const b2 = synthYaml({ namespace: 'team-b', servingTls: ServingTls.fromDedicatedCa({ store }) });
    const c2 = synthYaml({ clusterDomain: 'example.internal', namespace: 'team-a', servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect([a2.keys, b2.keys, c2.keys]).toEqual([0, 0, 0]);
    expect([a2.yaml, b2.yaml, c2.yaml]).toEqual([a1.yaml, b1.yaml, c1.yaml]);
    expect(new Set([a1.key, b1.key, c1.key]).size).toBe(3);
  });

  test('an explicit cluster name keys the store; an explicit shared CA signs for several clusters, each with its own serving key', () => {
    const dir = path.join(tmp(), 'pki');
    const named = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(dir, { cluster: 'prod-eu' }) }) });
    expect(existsSync(path.join(dir, 'clusters', 'prod-eu', 'ca', 'ca.crt'))).toBe(true);
    const fleet = synthCharts(CertificateStore.fromDirectory(dir), [{ id: 'x' }, { id: 'y' }], s => ServingTls.fromDedicatedCa({ store: s, sharedCaName: 'fleet' }));
    expect(fleet[0].construct.caBundle).toBe(fleet[1].construct.caBundle);
    expect(fleet[0].construct.caBundle).toBe(readFileSync(path.join(dir, 'shared-ca', 'fleet', 'ca.crt'), 'utf8'));
    expect(fleet[0].construct.caBundle).not.toBe(named.construct.caBundle);
    const keys = fleet.map(f => decode(find(f.objects, 'Secret').data['tls.key']));
    expect(keys[0]).not.toBe(keys[1]);
    expect(() => CertificateStore.fromDirectory(dir, { cluster: '../x' })).toThrow(/cluster '\.\.\/x' is not a usable directory name/);
  });

  test('a nested or unusual chart path gives a readable directory name plus a hash', () => {
    const { clusterNameOf } = require('../lib/store/store-paths');
    expect(clusterNameOf('cluster-a')).toBe('cluster-a');
    expect(clusterNameOf('team/cluster-a')).toMatch(/^team\.cluster-a-[0-9a-f]{8}$/);
    expect(clusterNameOf('.hidden')).toMatch(/^hidden-[0-9a-f]{8}$/);
    expect(clusterNameOf('a b')).not.toBe(clusterNameOf('a_b'));
  });

  test('a renamed chart does not get a new CA silently: a warning names the directory found and the one expected', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    synthCharts(store, [{ id: 'cluster-a' }, { id: 'cluster-b' }]);
    const found = store._clusterDirectory('cluster-b');
    const expected = store._clusterDirectory('cluster-b2');
    const renamed = captureStderr(() => synthCharts(store, [{ id: 'cluster-a' }, { id: 'cluster-b2' }]));
    expect(renamed.stderr).toBe(`[secure-metrics-server] WARNING: servingTls.store: chart 'cluster-b2' got a new CA in '${expected}', while the store holds '${found}', which no chart of this app uses. If chart 'cluster-b' was renamed to 'cluster-b2', its cluster now has a new caBundle: to keep the old CA, run rm -r '${expected}' && mv '${found}' '${expected}' and synthesize again. If 'cluster-b2' is a new cluster, or another app shares this store, nothing is wrong: name the cluster with CertificateStore.fromDirectory(dir, { cluster: 'cluster-b2' }) to silence this\n`);
    // following the advice keeps the old CA
    const oldCa = readFileSync(path.join(found, 'ca', 'ca.crt'), 'utf8');
    require('fs').rmSync(expected, { recursive: true });
    require('fs').renameSync(found, expected);
    const after = captureStderr(() => synthCharts(store, [{ id: 'cluster-a' }, { id: 'cluster-b2' }]));
    expect(after.stderr).toBe('');
    expect(after.result[1].construct.caBundle).toBe(oldCa);
    // a new chart declared before existing ones is not mistaken for a rename
    const more = captureStderr(() => synthCharts(store, [{ id: 'cluster-a' }, { id: 'cluster-new' }, { id: 'cluster-b2' }]));
    expect(more.stderr).toBe('');
    expect(new Set(more.result.map(m => m.construct.caBundle)).size).toBe(3);
  });
});

describe('the renamed-chart warning only when a rename is likely', () => {
  const p256 = (s: CertificateStore) => ServingTls.fromDedicatedCa({ store: s, keyAlgorithm: KeyAlgorithm.ECDSA_P256 });

  test('a new chart in a store that another app shares (two directories no chart of this app uses): no warning', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    synthCharts(store, [{ id: 'team-a-1' }, { id: 'team-a-2' }], p256);
    const other = captureStderr(() => synthCharts(store, [{ id: 'team-b' }], p256));
    expect(other.stderr).toBe('');
  });

  test('two new charts and one unused directory: no single rename to name, no warning', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    synthCharts(store, [{ id: 'old' }], p256);
    expect(captureStderr(() => synthCharts(store, [{ id: 'new-1' }, { id: 'new-2' }], p256)).stderr).toBe('');
  });

  test('a unit test\'s chart in the app\'s store (one unused directory, one new chart) still warns: the case the fix names', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    synthCharts(store, [{ id: 'prod' }], p256);
    expect(captureStderr(() => synthCharts(store, [{ id: 'test' }], p256)).stderr).toContain("If chart 'prod' was renamed to 'test'");
  });
});

describe('consumer unit tests', () => {
  test('SECURE_METRICS_SERVER_STORE keeps keys out of the working directory with default props', () => {
    const cwd = tmp();
    const storeDir = path.join(tmp(), 'store');
    const saved = { cwd: process.cwd(), env: process.env.SECURE_METRICS_SERVER_STORE };
    process.chdir(cwd);
    process.env.SECURE_METRICS_SERVER_STORE = storeDir;
    try {
      const chart = new Chart(Testing.app(), 'test');
      new SecureMetricsServer(chart, 'MetricsServer');
      Testing.synth(chart);
    } finally {
      process.chdir(saved.cwd);
      if (saved.env === undefined) {
        delete process.env.SECURE_METRICS_SERVER_STORE;
      } else {
        process.env.SECURE_METRICS_SERVER_STORE = saved.env;
      }
    }
    expect(listTree(cwd)).toEqual([]);
    expect(listTree(storeDir)).toContain('clusters/test/ca/ca.key');
  });

  test('the snapshot recipe: redacted manifests hold no private key and do not change with a new CA', () => {
    const render = () => {
      const chart = new Chart(Testing.app(), 'test');
      new SecureMetricsServer(chart, 'MetricsServer', { servingTls: ServingTls.fromDedicatedCa({ store: SecureMetricsServerTesting.temporaryStore() }) });
      return Testing.synth(chart);
    };
    const one = render();
    const two = render();
    // what a fresh checkout sees: another CA and key
    expect(JSON.stringify(two)).not.toBe(JSON.stringify(one));
    const redacted = SecureMetricsServerTesting.redactForSnapshot(one);
    expect(redacted).toEqual(SecureMetricsServerTesting.redactForSnapshot(two));
    expect(JSON.stringify(redacted)).not.toMatch(/PRIVATE KEY|LS0tLS1CRUdJTi/);
    expect(find(redacted, 'Secret').data).toEqual({ 'tls.crt': '<certificate redacted>', 'tls.key': '<private key redacted>' });
    expect(find(redacted, 'APIService').spec.caBundle).toBe('<caBundle redacted>');
    // the input is left as it was
    expect(find(one, 'Secret').data['tls.key']).not.toMatch(/redacted/);
  });
});
