import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, symlinkSync, statSync } from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { CertificateStore, KeyAlgorithm, Pem, SecureMetricsServer, ServingTls } from '../lib';
import { clusterNameOf } from '../lib/store/store-paths';
import { fixtureCa, fixtureStore, FIXTURE_CLUSTER, quietApp, storePaths, synthYaml, tmp } from './helpers';
import { runCa } from './support/rotation';

// Names become paths safely (issue 18, item 11): every name stays inside the
// store, key files are regular files of their own, the output-directory
// guard compares real paths, and two charts never share a cluster directory.

describe('--cluster stays inside the store', () => {
  test.each([['../../outside'], ['/abs'], ['a/b'], ['..'], ['.'], ['a\u0000b'], ['.hidden']])('ca rotate and ca status refuse --cluster %j (exit 2), and nothing outside the store is touched', async name => {
    const root = tmp();
    const store = fixtureStore(path.join(root, 'store', 'pki'));
    // a CA outside the store where '../../outside' leads (clusters/../../outside)
    const outside = path.join(root, 'store', 'outside');
    mkdirSync(path.join(outside, 'ca'), { recursive: true, mode: 0o700 });
    copyFileSync(storePaths(store, FIXTURE_CLUSTER).caCrt, path.join(outside, 'ca', 'ca.crt'));
    copyFileSync(storePaths(store, FIXTURE_CLUSTER).caKey, path.join(outside, 'ca', 'ca.key'));
    for (const action of ['rotate', 'status']) {
      const r = await runCa([action, '--store', store.directory, '--cluster', name]);
      expect([action, r.code]).toEqual([action, 2]);
      expect(r.stderr).toContain(`--cluster: ${JSON.stringify(name)} is not a cluster directory name of the store (clusters/NAME)`);
    }
    expect(existsSync(path.join(outside, 'ca-next'))).toBe(false);
  });

  test('a cluster name given to the store is checked the same way', () => {
    expect(() => CertificateStore.fromDirectory(tmp(), { cluster: '../x' })).toThrow("cluster '../x' is not a usable directory name");
  });

  test('every derived cluster name is one path segment inside the store, whatever the chart path', () => {
    for (const p of ['..', '.', 'a/../..', '../../etc', 'a\u0000b', '/', '.hidden', 'x'.repeat(300)]) {
      const name = clusterNameOf(p);
      expect([p, name.includes('/') || name.startsWith('.') || name.includes('\u0000') || name.length > 100]).toEqual([p, false]);
    }
  });
});

describe('key files are regular files of their own', () => {
  test('a symlinked serving key in the store is refused, never followed; the target keeps its mode', () => {
    const store = fixtureStore();
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const key = storePaths(store, FIXTURE_CLUSTER).tlsKey;
    const target = path.join(tmp(), 'elsewhere.key');
    copyFileSync(key, target);
    chmodSync(target, 0o600);
    renameSync(key, `${key}.moved`);
    symlinkSync(target, key);
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`store: '${key}' holds a private key but is a symbolic link`);
    expect(lstatSync(key).isSymbolicLink()).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(first.keys).toBe(0);
  });

  test('a symlinked dedicated CA key is refused', () => {
    const store = fixtureStore();
    const key = storePaths(store, FIXTURE_CLUSTER).caKey;
    const target = path.join(tmp(), 'ca.key');
    copyFileSync(key, target);
    chmodSync(target, 0o600);
    renameSync(key, `${key}.moved`);
    symlinkSync(target, key);
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) })).toThrow(`store: '${key}' holds a private key but is a symbolic link`);
  });

  test('fromCa: a CA key file readable by others is refused like a store key file; a symlinked one too', () => {
    const ca = fixtureCa('k3s-ecdsa');
    chmodSync(ca.key, 0o644);
    const props = () => ({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(ca.key), store: CertificateStore.fromDirectory(path.join(tmp(), 'pki')) }) });
    expect(() => synthYaml(props())).toThrow(`servingTls.caKey: '${ca.key}' holds a private key but its mode is 0644 (group or others may access it); run: chmod 600 '${ca.key}'`);
    chmodSync(ca.key, 0o600);
    expect(synthYaml(props()).keys).toBe(1);
    const link = path.join(path.dirname(ca.key), 'link.key');
    symlinkSync(ca.key, link);
    expect(() => synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(link), store: CertificateStore.fromDirectory(path.join(tmp(), 'pki')) }) }))
      .toThrow(`servingTls.caKey: '${link}' holds a private key but is a symbolic link`);
  });
});

describe('the store-inside-outdir guard compares real paths', () => {
  test('a store reached through a symbolic link into the output directory is refused', () => {
    const root = tmp();
    const outdir = path.join(root, 'dist');
    mkdirSync(outdir);
    symlinkSync(outdir, path.join(root, 'via'));
    const app = quietApp({ outdir });
    const chart = new Chart(app, 'c');
    expect(() => new SecureMetricsServer(chart, 'M', { servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(path.join(root, 'via', 'pki')) }) }))
      .toThrow(`servingTls.store: '${path.join(root, 'via', 'pki')}' is inside the app's output directory`);
    // and an output directory reached through a link
    const app2 = quietApp({ outdir: path.join(root, 'via') });
    expect(() => new SecureMetricsServer(new Chart(app2, 'c'), 'M', { servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(path.join(outdir, 'pki')) }) }))
      .toThrow('is inside the app\'s output directory');
  });
});

describe('two different charts never map to one cluster directory', () => {
  test('a chart named like another chart\'s derived name is refused, naming both and the fix; the first keeps its CA', () => {
    const dir = path.join(tmp(), 'pki');
    const app = quietApp({ outdir: tmp() });
    const nested = new Chart(new Construct(app, 'team'), 'cluster-a');
    const derived = clusterNameOf(nested.node.path);
    expect(derived).toMatch(/^team\.cluster-a-[0-9a-f]{8}$/);
    const a = new SecureMetricsServer(nested, 'M', { servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(dir), keyAlgorithm: KeyAlgorithm.ECDSA_P256 }) });
    expect(a.caBundle).toBeDefined();
    const app2 = quietApp({ outdir: tmp() });
    expect(() => new SecureMetricsServer(new Chart(app2, derived), 'M', { servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(dir) }) }))
      .toThrow(`servingTls.store: chart '${derived}' and chart 'team/cluster-a' both map to the cluster directory '${path.join(dir, 'clusters', derived)}' (the same derived name)`);
    expect(JSON.parse(readFileSync(path.join(dir, 'clusters', derived, 'chart.json'), 'utf8')).chart).toBe('team/cluster-a');
  });

  test('a directory moved by hand to a renamed chart\'s name (the rename recipe) is taken over by that chart', () => {
    const dir = path.join(tmp(), 'pki');
    const make = (id: string) => {
      const app = quietApp({ outdir: tmp() });
      return new SecureMetricsServer(new Chart(app, id), 'M', { servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(dir), keyAlgorithm: KeyAlgorithm.ECDSA_P256 }) });
    };
    const old = make('old-name').caBundle;
    renameSync(path.join(dir, 'clusters', 'old-name'), path.join(dir, 'clusters', 'new-name'));
    expect(make('new-name').caBundle).toBe(old);
    expect(JSON.parse(readFileSync(path.join(dir, 'clusters', 'new-name', 'chart.json'), 'utf8')).chart).toBe('new-name');
  });
});

void App;
