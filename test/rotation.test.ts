import { X509Certificate } from 'crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { Pem, SecureMetricsServer, ServingTls } from '../lib';
import { main } from '../lib/cli/main';
import { fixtureCa, fixtureStore, FIXTURE_CLUSTER, find, quietApp, synth, tmp } from './helpers';
import { rotateThroughAllPhases, runCa, setCaParams, signedByOneOf, splitPem, synthPhase } from './support/rotation';

// The staged rotation of the dedicated CA, in this process (the Go
// verification, crashes and concurrent synths are in rotation.proc.test.ts),
// and the overlapping trust of CAs you hold. The store starts as a copy of
// the fixture (RSA CA and serving certificate); its params.json asks for
// ECDSA P-256, so the new CA takes milliseconds to make.

const P256 = { commonName: 'rotated-ca', validityDays: 400, keyAlgorithm: 'ECDSA_P256' };

function rotationStore(): string {
  const store = fixtureStore();
  synth({ servingTls: ServingTls.fromDedicatedCa({ store }) });
  setCaParams(store.directory, FIXTURE_CLUSTER, P256);
  return store.directory;
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('staged rotation of the dedicated CA', () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof rotateThroughAllPhases>>;
  beforeAll(async () => {
    dir = rotationStore();
    result = await rotateThroughAllPhases(dir, FIXTURE_CLUSTER, Date.now());
  });

  test('each phase is one call that succeeds, and every synth in between is byte-stable', () => {
    expect(result.runs.map(r => [r.code, r.stderr])).toEqual([[0, ''], [0, ''], [0, '']]);
    expect(result.runs.map(r => /phase '(\w+)' done/.exec(r.stdout)?.[1])).toEqual(['stage', 'switch', 'finish']);
    expect(result.unstable).toEqual([]);
  });

  test('stage: both CAs in the caBundle, leaf unchanged; switch: leaf by the new CA, both CAs; finish: the new CA only', () => {
    const [before, staged, switched, finished] = result.phases;
    const oldCa = before.bundle[0];
    expect(before.bundle).toHaveLength(1);
    expect(staged.bundle).toHaveLength(2);
    expect(staged.bundle[0]).toBe(oldCa);
    const newCa = staged.bundle[1];
    expect(fp(newCa)).not.toBe(fp(oldCa));
    // made with the settings the store recorded (params.json)
    expect(new X509Certificate(newCa).subject).toBe('CN=rotated-ca');
    expect(new X509Certificate(newCa).publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(staged.cert).toBe(before.cert);
    expect(switched.bundle).toEqual(staged.bundle);
    expect(switched.cert).not.toBe(staged.cert);
    expect(signedByOneOf(switched.cert, [newCa])).toBe(true);
    expect(signedByOneOf(switched.cert, [oldCa])).toBe(false);
    expect(finished.bundle).toEqual([newCa]);
    expect(finished.cert).toBe(switched.cert);
  });

  test('every consecutive pair verifies both ways (Node; Go in rotation.proc.test.ts)', () => {
    const p = result.phases;
    for (let i = 0; i + 1 < p.length; i++) {
      expect([i, signedByOneOf(p[i].cert, p[i + 1].bundle), signedByOneOf(p[i + 1].cert, p[i].bundle)]).toEqual([i, true, true]);
    }
    // and the check can fail: jumping from before to switched breaks the old bundle
    expect(signedByOneOf(p[2].cert, p[0].bundle)).toBe(false);
  });

  test('the old CA is retired (kept), the next CA unit is gone, the expiry annotations follow the signing CA', () => {
    const cluster = path.join(dir, 'clusters', FIXTURE_CLUSTER);
    expect(existsSync(path.join(cluster, 'ca-next'))).toBe(false);
    const retired = readdirSync(path.join(cluster, 'ca-retired'));
    expect(retired).toHaveLength(1);
    expect(readFileSync(path.join(cluster, 'ca-retired', retired[0], 'ca.crt'), 'utf8')).toBe(result.phases[0].bundle[0]);
    expect(readdirSync(path.join(cluster, 'ca-retired', retired[0])).sort()).toEqual(['ca.crt', 'ca.key', 'params.json', 'retired.json']);
    const [before, staged, switched, finished] = result.phases;
    const caNotAfter = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString().replace('.000Z', 'Z');
    expect(staged.annotations[ServingTls.CA_NOT_AFTER_ANNOTATION]).toBe(caNotAfter(before.bundle[0]));
    expect(switched.annotations[ServingTls.CA_NOT_AFTER_ANNOTATION]).toBe(caNotAfter(staged.bundle[1]));
    expect(finished.annotations[ServingTls.SERVING_NOT_AFTER_ANNOTATION]).toBe(caNotAfter(finished.cert));
  });

  test('a synth during a rotation warns, naming the phase and the next step; before and after it does not', () => {
    const [before, staged, switched, finished] = result.phases.map(p => p.warnings.filter(w => w.includes('being rotated')));
    expect(before).toEqual([]);
    expect(staged).toEqual([expect.stringMatching(/^servingTls: the dedicated CA in '.*' is being rotated: phase 'staged' since \S+Z; once this synth is applied and has taken effect, run 'secure-metrics-server ca rotate --store "[^"]+" --cluster fixture' for 'switch'/)]);
    expect(switched).toEqual([expect.stringContaining("phase 'switched' since")]);
    expect(finished).toEqual([]);
  });

  test('after the rotation, status shows no rotation, the current CA and the retired one', async () => {
    const r = await runCa(['status', '--store', dir, '--format', 'json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.clusters).toHaveLength(1);
    expect(s.clusters[0].phase).toBe('none');
    expect(s.clusters[0].certificates.map((c: any) => [c.role, c.role === 'serving' ? c.issuedBy : c.signing])).toEqual([
      ['current', true], ['retired', false], ['serving', 'current'],
    ]);
  });
});

describe('the order and the waits are enforced', () => {
  const t0 = Date.now();
  const at = (minutes: number) => new Date(t0 + minutes * 60000).toISOString();

  test('switch before the minimum wait is refused with the time; --force overrides; finish before a synth is refused', async () => {
    const dir = rotationStore();
    expect((await runCa(['rotate', '--store', dir, '--now', at(0)])).code).toBe(0);
    const early = await runCa(['rotate', '--store', dir, '--now', at(5)]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`ca rotate: 'switch' is refused until ${at(10).replace(/\.\d{3}Z$/, 'Z')} (10 minutes after 'stage'`);
    expect(early.stderr).toContain('--force');
    const status = JSON.parse((await runCa(['status', '--store', dir, '--format', 'json'])).stdout);
    expect(status.clusters[0].phase).toBe('staged');
    expect(status.clusters[0].nextStep).toBe('switch');
    expect((await runCa(['rotate', '--store', dir, '--now', at(5), '--force'])).code).toBe(0);
    // no synth since switch: the serving certificate is still the old CA's
    const noSynth = await runCa(['rotate', '--store', dir, '--now', at(30)]);
    expect(noSynth.code).toBe(1);
    expect(noSynth.stderr).toMatch(/'finish' is refused: the serving certificate of 'metrics-server\.kube-system\.svc\.cluster\.local' is not yet issued by the new CA/);
    const aborted = await runCa(['rotate', '--store', dir, '--abort']);
    expect(aborted.code).toBe(1);
    expect(aborted.stderr).toContain("the rotation of cluster 'fixture' is past 'stage' (phase 'switched')");
    synthPhase(dir, FIXTURE_CLUSTER);
    expect((await runCa(['rotate', '--store', dir, '--now', at(30)])).code).toBe(0);
  });

  test('--abort after stage returns to the old CA, keeping the unused one aside; with nothing to abort it is refused', async () => {
    const dir = rotationStore();
    const before = synthPhase(dir, FIXTURE_CLUSTER);
    expect((await runCa(['rotate', '--store', dir, '--abort'])).stderr).toContain('no rotation of cluster \'fixture\' is in progress');
    await runCa(['rotate', '--store', dir]);
    expect(synthPhase(dir, FIXTURE_CLUSTER).bundle).toHaveLength(2);
    const r = await runCa(['rotate', '--store', dir, '--abort']);
    expect([r.code, r.stdout]).toEqual([0, expect.stringContaining('rotation aborted')]);
    expect(synthPhase(dir, FIXTURE_CLUSTER).yaml).toBe(before.yaml);
    expect(readdirSync(path.join(dir, 'clusters', FIXTURE_CLUSTER, 'ca-retired'))).toEqual([expect.stringMatching(/^[0-9a-f]{16}-aborted$/)]);
  });

  test('a CA made before params.json existed: the new CA copies its name, lifetime and key type', async () => {
    const store = fixtureStore();
    synth({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    rmSync(path.join(store.directory, 'clusters', FIXTURE_CLUSTER, 'ca', 'params.json'), { force: true });
    expect((await runCa(['rotate', '--store', store.directory])).code).toBe(0);
    const [oldCa, newCa] = synthPhase(store.directory, FIXTURE_CLUSTER).bundle.map(p => new X509Certificate(p));
    const days = (c: X509Certificate) => Math.round((Date.parse(c.validTo) - Date.parse(c.validFrom)) / 86400000);
    expect([newCa.subject, newCa.publicKey.asymmetricKeyType, newCa.publicKey.asymmetricKeyDetails?.modulusLength, days(newCa)])
      .toEqual([oldCa.subject, 'rsa', 2048, days(oldCa)]);
    expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);
  });

  test('an unusable rotation state stops the synth, naming the file and the fix, which works', async () => {
    const dir = rotationStore();
    const next = path.join(dir, 'clusters', FIXTURE_CLUSTER, 'ca-next');
    mkdirSync(next, { mode: 0o700 });
    writeFileSync(path.join(next, 'rotation.json'), '{"version":1,"phase":"later"}');
    expect(() => synthPhase(dir, FIXTURE_CLUSTER)).toThrow(`store: '${path.join(next, 'rotation.json')}' is unusable (not a rotation state of this version); restore it from your backup, or run 'secure-metrics-server ca rotate --abort' (every stored serving certificate is still issued by the old CA, so going back to it is safe). Nothing in the store was changed`);
    // and that way out works
    expect((await runCa(['rotate', '--store', dir, '--abort'])).code).toBe(0);
    expect(synthPhase(dir, FIXTURE_CLUSTER).bundle).toHaveLength(1);
  });

  test('a fleet store needs --cluster, and the error lists the clusters', async () => {
    const dir = path.join(tmp(), 'pki');
    const store = fixtureStore(dir);
    cpSync(path.join(dir, 'clusters', FIXTURE_CLUSTER), path.join(dir, 'clusters', 'cluster-b'), { recursive: true });
    void store;
    const r = await runCa(['rotate', '--store', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ca rotate: --cluster: the store holds several clusters, so --cluster is needed; the store '${dir}' holds 'cluster-b', 'fixture': pass --cluster with one of them\n`);
    const unknown = await runCa(['rotate', '--store', dir, '--cluster', 'nope']);
    expect(unknown.stderr).toContain("cluster 'nope' has no dedicated CA");
    // status covers every cluster
    expect((await runCa(['status', '--store', dir])).stdout.match(/^cluster /gm)).toHaveLength(2);
  });
});

describe('ca status', () => {
  test('--fail-within exits 1 naming what expires within the window, 0 otherwise; text and json', async () => {
    const dir = rotationStore();
    const ok = await runCa(['status', '--store', dir, '--fail-within', '30d']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^cluster fixture: no rotation in progress; next: stage\n {2}current CA CN=secure-metrics-server-ca: expires \S+ \[signs, in caBundle\]/);
    // the serving certificate lives 365 days
    const late = await runCa(['status', '--store', dir, '--fail-within', '400d', '--format', 'json']);
    expect(late.code).toBe(1);
    const s = JSON.parse(late.stdout);
    expect(s.expiringWithinWindow).toEqual([expect.stringMatching(/metrics-server\.kube-system\.svc\.cluster\.local\/tls\.crt \(serving certificate\) expires /)]);
    expect(late.stderr).toContain('1 certificate(s) expire within the window');
  });

  test('a store of shared CAs only: every serving certificate and the shared CA with the clusters it signed for; rotate refuses, saying why', async () => {
    // the fixture's CA moved to shared-ca/fleet: what sharedCaName leaves (no dedicated CA in the cluster)
    const dir = path.join(tmp(), 'pki');
    fixtureStore(dir);
    cpSync(path.join(dir, 'clusters', FIXTURE_CLUSTER), path.join(dir, 'clusters', 'cluster-b'), { recursive: true });
    for (const c of [FIXTURE_CLUSTER, 'cluster-b']) {
      const ca = path.join(dir, 'clusters', c, 'ca');
      if (c === FIXTURE_CLUSTER) {
        mkdirSync(path.join(dir, 'shared-ca'), { mode: 0o700 });
        cpSync(ca, path.join(dir, 'shared-ca', 'fleet'), { recursive: true });
      }
      rmSync(ca, { recursive: true });
    }
    const text = await runCa(['status', '--store', dir]);
    expect([text.code, text.stderr]).toEqual([0, '']);
    expect(text.stdout).toMatch(/^cluster cluster-b: no dedicated CA \(uses the shared CA 'fleet'\); 'ca rotate' does not apply\n {2}serving metrics-server\.kube-system\.svc\.cluster\.local \(issued by the shared CA 'fleet'\): expires /);
    expect(text.stdout).toMatch(/\nshared CAs:\n {2}shared CA 'fleet' CN=secure-metrics-server-ca \(signed for 'cluster-b', 'fixture'\): expires /);
    const json = JSON.parse((await runCa(['status', '--store', dir, '--format', 'json'])).stdout);
    expect(json.clusters.map((c: any) => [c.cluster, c.dedicatedCa, c.certificates.map((x: any) => [x.role, x.issuedBy, x.sharedCa])])).toEqual([
      ['cluster-b', false, [['serving', 'shared', 'fleet']]], [FIXTURE_CLUSTER, false, [['serving', 'shared', 'fleet']]],
    ]);
    expect(json.sharedCas.map((c: any) => [c.name, c.clusters])).toEqual([['fleet', ['cluster-b', FIXTURE_CLUSTER]]]);
    expect((await runCa(['status', '--store', dir, '--fail-within', '30d'])).code).toBe(0);
    // the serving certificates live 365 days, the shared CA longer
    const late = JSON.parse((await runCa(['status', '--store', dir, '--fail-within', '400d', '--format', 'json'])).stdout);
    expect(late.expiringWithinWindow).toEqual([expect.stringContaining('(serving certificate)'), expect.stringContaining('(serving certificate)')]);
    const rotate = await runCa(['rotate', '--store', dir]);
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(/^ca rotate: cluster 'cluster-b' uses the shared CA 'fleet' \(.*shared-ca\/fleet', sharedCaName\), which 'ca rotate' does not rotate: every cluster that trusts it \('cluster-b', 'fixture'\) would have to .*docs\/rotation\.md#a-shared-ca\)\n$/);
    expect((await runCa(['rotate', '--store', dir, '--cluster', FIXTURE_CLUSTER])).stderr).toContain(`cluster '${FIXTURE_CLUSTER}' uses the shared CA 'fleet'`);
  });

  test('a store of fromCa certificates only: the serving certificate, issued by a CA outside the store; rotate refuses, saying why', async () => {
    const dir = path.join(tmp(), 'pki');
    fixtureStore(dir);
    rmSync(path.join(dir, 'clusters', FIXTURE_CLUSTER, 'ca'), { recursive: true });
    const text = await runCa(['status', '--store', dir, '--fail-within', '30d']);
    expect([text.code, text.stderr]).toEqual([0, '']);
    expect(text.stdout).toMatch(/^cluster fixture: no dedicated CA; 'ca rotate' does not apply\n {2}serving \S+ \(issued by a CA outside the store: CN=secure-metrics-server-ca\): expires \S+, sha256 [0-9a-f]{16}\n$/);
    expect((await runCa(['status', '--store', dir, '--fail-within', '400d'])).code).toBe(1);
    const rotate = await runCa(['rotate', '--store', dir]);
    expect([rotate.code, rotate.stderr]).toEqual([1, expect.stringMatching(/^ca rotate: cluster 'fixture' has no dedicated CA: its serving certificate is issued by a CA outside the store \(fromCa\)/)]);
  });

  test('usage errors exit 2; the command is in the dispatcher\'s table', async () => {
    expect((await runCa(['status', '--fail-within', 'soon'])).stderr).toBe("ca: --fail-within: 'soon' is not a duration; use a number and a unit, e.g. 30d, 12h, 10m\n");
    expect((await runCa(['rotate', '--format', 'json'])).code).toBe(2);
    expect((await runCa([])).stderr).toBe('ca: an action is needed: status, rotate or prune\n');
    const empty = await runCa(['status', '--store', path.join(tmp(), 'empty')]);
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringContaining("holds nothing: no cluster's CA or serving certificate and no shared CA")]);
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, readStdin: async () => Buffer.alloc(0), env: {},
      cwd: process.cwd() };
    expect(await main(['ca', '--help'], io)).toBe(0);
    expect(out).toContain('usage: secure-metrics-server ca status');
  });
});

describe('overlapping trust for CAs you hold', () => {
  test('fromCa: additionalTrustedCas joins the caBundle after the signing CA, checked like any root', () => {
    // an ECDSA CA signs (fast: the serving key follows it); the RSA one is the CA being replaced
    const current = fixtureCa('k3s-ecdsa');
    const old = fixtureCa('kubernetes');
    const { objects } = synth({
      servingTls: ServingTls.fromCa({
        store: fixtureStore(), caCertificate: Pem.fromFile(current.cert), caKey: Pem.fromFile(current.key), additionalTrustedCas: Pem.fromFile(old.cert),
      }),
    });
    const bundle = splitPem(Buffer.from(find(objects, 'APIService').spec.caBundle, 'base64').toString());
    expect(bundle.map(fp)).toEqual([fp(readFileSync(current.cert, 'utf8')), fp(readFileSync(old.cert, 'utf8'))]);
    const secret = find(objects, 'Secret');
    expect(signedByOneOf(Buffer.from(secret.data['tls.crt'], 'base64').toString(), bundle.slice(0, 1))).toBe(true);
    expect(Object.keys(secret.metadata.annotations).sort()).toEqual([ServingTls.CA_NOT_AFTER_ANNOTATION, ServingTls.SERVING_NOT_AFTER_ANNOTATION]);
  });

  test('fromCa: an additional trusted CA that is not a CA is refused with its prop path', () => {
    const current = fixtureCa('kubernetes');
    const app = quietApp();
    const leafPem = synth().objects.find(o => o.kind === 'Secret').data['tls.crt'];
    expect(() => new SecureMetricsServer(new Chart(app, 'x'), 'M', {
      servingTls: ServingTls.fromCa({
        store: fixtureStore(), caCertificate: Pem.fromFile(current.cert), caKey: Pem.fromFile(current.key),
        additionalTrustedCas: Pem.fromString(Buffer.from(leafPem, 'base64').toString()),
      }),
    })).toThrow(/^servingTls\.additionalTrustedCas: /);
  });

  test('fromPem and fromExistingSecret keep a bundle of the old and new CA as given (the overlap of a rotation)', () => {
    const store = fixtureStore();
    const s = synth({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const certPem = Buffer.from(find(s.objects, 'Secret').data['tls.crt'], 'base64').toString();
    const keyPem = Buffer.from(find(s.objects, 'Secret').data['tls.key'], 'base64').toString();
    const ownCa = s.construct.caBundle!;
    const other = readFileSync(fixtureCa('other-ca').cert, 'utf8');
    for (const bundle of [ownCa + other, other + ownCa]) {
      const pemTls = synth({ servingTls: ServingTls.fromPem({ certificate: Pem.fromString(certPem), privateKey: Pem.fromString(keyPem),
        caBundle: Pem.fromString(bundle) }) });
      expect(splitPem(pemTls.construct.caBundle!).map(fp)).toEqual(splitPem(bundle).map(fp));
      expect(find(pemTls.objects, 'APIService').metadata.annotations[ServingTls.SERVING_NOT_AFTER_ANNOTATION]).toMatch(/Z$/);
      const existing = synth({ servingTls: ServingTls.fromExistingSecret({ secretName: 'tls', caBundle: Pem.fromString(bundle) }) });
      expect(splitPem(existing.construct.caBundle!).map(fp)).toEqual(splitPem(bundle).map(fp));
    }
  });
});
