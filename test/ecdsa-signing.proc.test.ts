import { execFileSync, spawnSync } from 'child_process';
import { createPublicKey, X509Certificate } from 'crypto';
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { CertificateStore, KeyAlgorithm, Pem, ServingTls } from '../lib';
import { goVerifyBinary } from './go-verify-binary';
import { storePaths, synth, synthYaml, tmp, writeTmp } from './helpers';

// fromCa with every CA key type a cluster uses (kubeadm RSA, k3s/RKE2 ECDSA
// P-256, P-384, P-521, Ed25519): the serving key follows the CA's type by
// default or is chosen with keyAlgorithm; every issued certificate passes
// Go (test/go-verify) and `openssl verify -x509_strict`.

const SVC = 'metrics-server.kube-system.svc';
const haveGo = spawnSync('go', ['version']).status === 0 || process.env.CI === 'true'; // never skipped in CI
let goVerify = '';

beforeAll(() => {
  if (haveGo) {
    goVerify = goVerifyBinary();
  }
}, 120_000);

/** A CA made by the openssl CLI with the given `-newkey` algorithm options. */
function ca(dir: string, newkey: string[], cn: string): { cert: string; key: string } {
  const cert = path.join(dir, 'ca.crt');
  const key = path.join(dir, 'ca.key');
  execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', key, '-out', cert, '-days', '365', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'pipe' });
  return { cert, key };
}

const CAS: Array<[string, string[], string, string]> = [
  // name, openssl -newkey options, expected serving key (Node's type/curve), expected signature algorithm
  ['RSA 2048', ['-newkey', 'rsa:2048'], 'rsa/2048', 'sha256WithRSAEncryption'],
  ['ECDSA P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ec/prime256v1', 'ecdsa-with-SHA256'],
  ['ECDSA P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ec/secp384r1', 'ecdsa-with-SHA384'],
  ['ECDSA P-521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], 'ec/secp521r1', 'ecdsa-with-SHA512'],
  ['Ed25519', ['-newkey', 'ed25519'], 'ed25519/', 'ED25519'],
];

function keyDescription(pem: string): string {
  const k = createPublicKey(pem);
  const d = k.asymmetricKeyDetails ?? {};
  return `${k.asymmetricKeyType}/${d.namedCurve ?? d.modulusLength ?? ''}`;
}

function signatureAlgorithm(certFile: string): string {
  const text = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-text'], { encoding: 'utf8' });
  return /Signature Algorithm: (\S+)/.exec(text)![1];
}

function verifyWithGoAndOpenssl(dir: string, cert: string, key: string, caFile: string): void {
  const certFile = writeTmp(dir, 'tls.crt', cert);
  const keyFile = writeTmp(dir, 'tls.key', key);
  const r = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, certFile], { encoding: 'utf8' });
  expect(r.stdout.trim()).toBe(`${certFile}: OK`);
  if (haveGo) {
    expect(execFileSync(goVerify, [certFile, keyFile, caFile, SVC], { encoding: 'utf8' }).trim()).toBe('ok');
  }
}

describe.each(CAS)('fromCa with a %s CA', (_name, newkey, keyType, sigAlg) => {
  test('the serving key follows the CA, and Go and openssl accept the certificate', () => {
    const dir = tmp();
    const c = ca(dir, newkey, 'cluster-ca');
    const store = CertificateStore.fromDirectory(path.join(dir, 'pki'));
    const r = synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(c.cert), caKey: Pem.fromFile(c.key), store }) });
    expect(keyDescription(r.key)).toBe(keyType);
    expect(r.key.match(/BEGIN/g)).toHaveLength(1);
    verifyWithGoAndOpenssl(dir, r.cert, r.key, c.cert);
    expect(signatureAlgorithm(path.join(dir, 'tls.crt'))).toBe(sigAlg);
    expect(JSON.parse(readFileSync(storePaths(store).record, 'utf8')).keyAlgorithm).toBe(KeyAlgorithm._ofKey(createPublicKey(r.key))!.name);
    // a second synth reissues nothing
    const again = synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(c.cert), caKey: Pem.fromFile(c.key), store }) });
    expect(again.keys).toBe(0);
    expect(again.cert).toBe(r.cert);
  });
});

test('keyAlgorithm chooses the serving key whatever the CA (an ECDSA P-384 key under an RSA CA)', () => {
  const dir = tmp();
  const c = ca(dir, ['-newkey', 'rsa:2048'], 'kubernetes');
  const r = synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(c.cert), caKey: Pem.fromFile(c.key), store: CertificateStore.fromDirectory(path.join(dir, 'pki')), keyAlgorithm: KeyAlgorithm.ECDSA_P384 }) });
  expect(keyDescription(r.key)).toBe('ec/secp384r1');
  verifyWithGoAndOpenssl(dir, r.cert, r.key, c.cert);
});

test('the dedicated CA takes keyAlgorithm too (Ed25519 CA and serving key)', () => {
  const dir = tmp();
  const store = CertificateStore.fromDirectory(path.join(dir, 'pki'));
  const r = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: KeyAlgorithm.ED25519 }) });
  expect(keyDescription(r.key)).toBe('ed25519/');
  expect(new X509Certificate(readFileSync(storePaths(store).caCrt)).publicKey.asymmetricKeyType).toBe('ed25519');
  verifyWithGoAndOpenssl(dir, r.cert, r.key, storePaths(store).caCrt);
});

test('changing keyAlgorithm reissues the serving certificate; the CA stays', () => {
  const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
  const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
  const ca = readFileSync(storePaths(store).caCrt, 'utf8');
  const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: KeyAlgorithm.RSA_2048 }) });
  expect(second.keys).toBe(0);
  expect(second.cert).toBe(first.cert);
  const third = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: KeyAlgorithm.ECDSA_P256 }) });
  expect(third.keys).toBe(1);
  expect(keyDescription(third.key)).toBe('ec/prime256v1');
  expect(readFileSync(storePaths(store).caCrt, 'utf8')).toBe(ca);
});

test('an upgrade from a store with the previous check record reissues nothing still valid', () => {
  const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
  const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keySize: 2048 }) });
  // the record of the previous release: version 2, no keyAlgorithm
  const record = JSON.parse(readFileSync(storePaths(store).record, 'utf8'));
  writeFileSync(storePaths(store).record, JSON.stringify({ version: 2, digest: record.digest, dates: record.dates }));
  const after = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
  expect(after.keys).toBe(0);
  expect(after.cert).toBe(first.cert);
  expect(JSON.parse(readFileSync(storePaths(store).record, 'utf8'))).toMatchObject({ version: 3, keyAlgorithm: 'RSA_2048' });
});

test('keyAlgorithm and keySize together are refused, naming both', () => {
  expect(() => synth({ servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(path.join(tmp(), 'pki')), keyAlgorithm: KeyAlgorithm.ECDSA_P256, keySize: 2048 }) }))
    .toThrow('servingTls.keyAlgorithm: keyAlgorithm (ECDSA_P256) and keySize (2048) are both set; keySize is deprecated: remove it and keep keyAlgorithm');
});

test('a weak CA (RSA 1024) is warned about on every synth, warm ones too', () => {
  const dir = tmp();
  const c = ca(dir, ['-newkey', 'rsa:1024'], 'old-ca');
  const store = CertificateStore.fromDirectory(path.join(dir, 'pki'));
  const props = () => ({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(c.cert), caKey: Pem.fromFile(c.key), store,
    keyAlgorithm: KeyAlgorithm.ECDSA_P256 }) });
  const weak = /^servingTls\.caCertificate: the CA certificate \(CN=old-ca\) has an RSA key of 1024 bits, which is weak/;
  const first = synthYaml(props());
  expect(first.construct.warnings).toEqual([expect.stringMatching(weak)]);
  const warm = synthYaml(props());
  expect(warm.keys).toBe(0);
  expect(warm.construct.warnings).toEqual([expect.stringMatching(weak)]);
});
