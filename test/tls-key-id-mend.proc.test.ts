import { execFileSync, spawnSync } from 'child_process';
import { readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as forge from 'node-forge';
import { goVerifyBinary } from './go-verify-binary';
import { tmp, writeTmp } from './helpers';
import { Phase, runCa, synthPhase } from './support/rotation';

// Stores written before the key-identifier fix: every RSA CA carried
// subjectKeyIdentifier = SHA-1 of nothing (DA:39:A3:EE:...), and its leaves
// the same authorityKeyIdentifier. How they are mended (docs/rotation.md), in
// Go (test/go-verify, kube-apiserver's verifier) AND OpenSSL (openssl verify
// -x509_strict, which picks an issuer by key identifier and never backtracks),
// in both orders of arrival: the new caBundle before the new Secret, and the
// new Secret before the new caBundle.

const CLUSTER = 'metrics-server';
const SERVER_NAME = 'metrics-server.kube-system.svc';
const EMPTY = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const T0 = Date.now();
const at = (minutes: number) => new Date(T0 + minutes * 60000).toISOString();

/** Rewrites a stored RSA CA certificate as the library wrote it before the fix: same key and name, subjectKeyIdentifier = SHA-1 of nothing. */
function breakKeyId(unit: string): void {
  const certFile = path.join(unit, 'ca.crt');
  const cert = forge.pki.certificateFromPem(readFileSync(certFile, 'utf8'));
  const key = forge.pki.privateKeyFromPem(readFileSync(path.join(unit, 'ca.key'), 'utf8'));
  // node-forge computes a subjectKeyIdentifier from the key whatever it is given, so the value is set after
  const ski = cert.extensions.find((e: any) => e.name === 'subjectKeyIdentifier');
  ski.subjectKeyIdentifier = EMPTY;
  ski.value = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, forge.util.hexToBytes(EMPTY));
  cert.sign(key as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  writeFileSync(certFile, forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'), { mode: 0o600 });
}

function skid(pem: string): string {
  const ext = forge.pki.certificateFromPem(pem).getExtension('subjectKeyIdentifier') as any;
  return ext.subjectKeyIdentifier;
}

/** A store as the library left it before the fix: an RSA dedicated CA with the empty key id and a serving certificate issued from it. */
function oldStore(): string {
  const dir = path.join(tmp(), 'pki');
  synthPhase(dir, CLUSTER);
  const cluster = path.join(dir, 'clusters', CLUSTER);
  breakKeyId(path.join(cluster, 'ca'));
  // the next synth issues the serving certificate again, from the CA as it now stands (authorityKeyIdentifier = its SKID)
  rmSync(path.join(cluster, 'metrics-server.kube-system.svc.cluster.local'), { recursive: true, force: true });
  rmSync(path.join(cluster, 'metrics-server.kube-system.svc.cluster.local.checked.json'), { force: true });
  return dir;
}

interface Case { id: string; cert: string; key: string; bundle: string }
const pair = (id: string, leaf: Phase, bundle: Phase): Case => ({ id, cert: leaf.cert, key: leaf.key, bundle: bundle.bundlePem });
/** every consecutive pair of phases, both orders of arrival, and each phase with itself */
function transitions(name: string, phases: Phase[]): Case[] {
  const cases = phases.map((p, i) => pair(`${name} ${i}: its own certificate and bundle`, p, p));
  for (let i = 0; i + 1 < phases.length; i++) {
    cases.push(pair(`${name} ${i}->${i + 1}: new bundle first (old certificate, new bundle)`, phases[i], phases[i + 1]));
    cases.push(pair(`${name} ${i}->${i + 1}: new certificate first (new certificate, old bundle)`, phases[i + 1], phases[i]));
  }
  return cases;
}

function judge(cases: Case[]): { id: string; go: string; openssl: string }[] {
  const dir = tmp();
  const manifest = path.join(dir, 'cases.json');
  writeFileSync(manifest, JSON.stringify(cases.map(c => ({ ...c, serverName: SERVER_NAME }))));
  const go: any[] = JSON.parse(execFileSync(goVerifyBinary(), ['-batch', manifest], { encoding: 'utf8' }));
  return cases.map((c, i) => {
    const r = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', SERVER_NAME,
      '-CAfile', writeTmp(dir, `b${i}.pem`, c.bundle), writeTmp(dir, `c${i}.pem`, c.cert)], { encoding: 'utf8' });
    return { id: c.id, go: go[i].handshake, openssl: r.status === 0 ? 'ok' : (r.stdout + r.stderr).split('\n').find(l => /^error/.test(l)) ?? 'failed' };
  });
}
const ok = (rows: { id: string }[]) => rows.map(r => ({ id: r.id, go: 'ok', openssl: 'ok' }));

describe('a store whose CA carries the empty key id is mended by `ca rotate`: the new CA has its real key id, no outage in any phase', () => {
  let phases: Phase[];
  beforeAll(async () => {
    const dir = oldStore();
    phases = [synthPhase(dir, CLUSTER)];
    expect(skid(phases[0].bundle[0])).toBe(EMPTY);
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(0)])).code).toBe(0);
    phases.push(synthPhase(dir, CLUSTER));
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(11)])).code).toBe(0);
    phases.push(synthPhase(dir, CLUSTER));
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(22)])).code).toBe(0);
    phases.push(synthPhase(dir, CLUSTER));
  }, 60_000);

  test('the next CA carries its real key id; the switched bundle holds two CAs of one name with different ids', () => {
    expect(phases[2].bundle).toHaveLength(2);
    expect(skid(phases[2].bundle[0])).toBe(EMPTY);
    expect(skid(phases[2].bundle[1])).not.toBe(EMPTY);
    expect(skid(phases[3].bundle[0])).not.toBe(EMPTY);
  });

  test('Go and OpenSSL verify every phase and every transition, in both orders of arrival', () => {
    const rows = judge(transitions('rotate', phases));
    expect(rows).toHaveLength(10);
    expect(rows).toEqual(ok(rows));
  });
});

describe('a staged rotation whose next CA carries the empty key id (staged before the upgrade): the synth certifies it again', () => {
  let before: Phase;
  let mended: Phase;
  let phases: Phase[];
  let dir: string;
  let nextUnit: string;
  let stable = false;
  beforeAll(async () => {
    dir = oldStore();
    synthPhase(dir, CLUSTER);
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(0)])).code).toBe(0);
    nextUnit = path.join(dir, 'clusters', CLUSTER, 'ca-next');
    const keyBefore = readFileSync(path.join(nextUnit, 'ca.key'), 'utf8');
    breakKeyId(nextUnit);
    // what the cluster got from the staged synth of the old release
    const oldBundle = readFileSync(path.join(dir, 'clusters', CLUSTER, 'ca', 'ca.crt'), 'utf8') + readFileSync(path.join(nextUnit, 'ca.crt'), 'utf8');
    mended = synthPhase(dir, CLUSTER);
    stable = synthPhase(dir, CLUSTER).yaml === mended.yaml;
    before = { ...mended, bundlePem: oldBundle, bundle: [] };
    expect(readFileSync(path.join(nextUnit, 'ca.key'), 'utf8')).toBe(keyBefore);
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(11)])).code).toBe(0);
    const switched = synthPhase(dir, CLUSTER);
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(22)])).code).toBe(0);
    phases = [before, mended, switched, synthPhase(dir, CLUSTER)];
  }, 60_000);

  test('the next CA now has its real key id, the same key, name and validity; the serving certificate did not change', () => {
    const next = forge.pki.certificateFromPem(mended.bundle[1]);
    const old = forge.pki.certificateFromPem(before.bundlePem.slice(before.bundlePem.indexOf('-----BEGIN', 10)));
    expect(skid(mended.bundle[1])).not.toBe(EMPTY);
    expect(forge.pki.publicKeyToPem(next.publicKey)).toBe(forge.pki.publicKeyToPem(old.publicKey));
    expect([next.subject.getField('CN').value, next.validity.notBefore, next.validity.notAfter]).toEqual([old.subject.getField('CN').value, old.validity.notBefore, old.validity.notAfter]);
    expect(mended.cert).toBe(before.cert);
    // the mend is written once: the next synth changes nothing
    expect(stable).toBe(true);
  });

  test('Go and OpenSSL: the mend (only the bundle changes), the switch and the finish, in both orders of arrival', () => {
    const rows = judge(transitions('mended', phases));
    expect(rows).toEqual(ok(rows));
  });
});

describe('a rotation switched before the upgrade (both CAs carry the empty key id): finishing it is the mend', () => {
  let switched: Phase;
  let finished: Phase;
  beforeAll(async () => {
    const dir = oldStore();
    synthPhase(dir, CLUSTER);
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(0)])).code).toBe(0);
    const nextUnit = path.join(dir, 'clusters', CLUSTER, 'ca-next');
    // the old release: staged, synthesized and switched with a next CA of the empty key id (no mend ran)
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(11)])).code).toBe(0);
    breakKeyId(nextUnit);
    switched = synthPhase(dir, CLUSTER);
    expect((await runCa(['rotate', '--store', dir, '--cluster', CLUSTER, '--now', at(22)])).code).toBe(0);
    finished = synthPhase(dir, CLUSTER);
  }, 60_000);

  test('the switched phase of the old release fails in OpenSSL (it picks the old CA by key id and does not backtrack), Go passes', () => {
    const [own] = judge([pair('switched, own bundle', switched, switched)]);
    expect(own.go).toBe('ok');
    expect(own.openssl).toMatch(/certificate signature failure|unable to get local issuer/);
  });

  test('finishing changes only the bundle; the finished bundle verifies in Go and OpenSSL with the switched certificate, and Go never failed', () => {
    expect(finished.cert).toBe(switched.cert);
    const rows = judge([pair('finished', finished, finished), pair('switched certificate, finished bundle', switched, finished)]);
    expect(rows).toEqual(ok(rows));
    expect(judge([pair('finished certificate, switched bundle', finished, switched)])[0].go).toBe('ok');
  });
});
