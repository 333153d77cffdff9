import { execFileSync, spawnSync } from 'child_process';
import * as path from 'path';
import { CertificateStore, Pem, ServingTls } from '../lib';
import { decode, DEFAULT_DNS_NAMES, find, openssl, opensslCa, pem, synth, testCert, testKey, tmp, writeTmp } from './helpers';

// kube-apiserver verifies metrics-server with Go's crypto/tls and crypto/x509.
// test/go-verify is a small Go program that does the same on loopback: roots =
// the caBundle, ServerName = <service>.<namespace>.svc. Every certificate the
// library issues must pass it, and every certificate the library refuses must
// fail it too. `.ci/run` installs Go (Debian's golang-go) when it is missing.

const SVC = 'metrics-server.kube-system.svc';
const haveGo = spawnSync('go', ['version']).status === 0;
let binary = '';

beforeAll(() => {
  if (haveGo) {
    binary = path.join(tmp('sms-go-'), 'go-verify');
    execFileSync('go', ['build', '-o', binary, '.'], { cwd: path.join(__dirname, 'go-verify'), stdio: 'pipe' });
  }
}, 120_000);

/** Serves cert/key with Go on loopback and dials it trusting only the bundle. */
function goDial(cert: string, key: string, bundle: string, serverName = SVC): string {
  const dir = tmp();
  return execFileSync(binary, [writeTmp(dir, 'tls.crt', cert), writeTmp(dir, 'tls.key', key), writeTmp(dir, 'ca.crt', bundle), serverName], { encoding: 'utf8' }).trim();
}

function material(objects: any[]) {
  const secret = find(objects, 'Secret');
  return { cert: decode(secret.data['tls.crt']), key: decode(secret.data['tls.key']), bundle: decode(find(objects, 'APIService').spec.caBundle) };
}

test('Go is available where the CI runs', () => {
  if (!haveGo && process.env.CI) {
    throw new Error('go is not on the PATH; .ci/run installs golang-go');
  }
  expect(haveGo || !process.env.CI).toBe(true);
});

(haveGo ? describe : describe.skip)('Go crypto/x509, as kube-apiserver', () => {
  test('the dedicated CA\'s serving certificate verifies', () => {
    const m = material(synth().objects);
    expect(goDial(m.cert, m.key, m.bundle)).toBe('ok');
  });

  test('a certificate issued by a cluster CA made by openssl verifies', () => {
    const ca = opensslCa(tmp());
    const m = material(synth({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(ca.key), store: CertificateStore.fromDirectory(path.join(tmp(), 'p')) }) }).objects);
    expect(goDial(m.cert, m.key, m.bundle)).toBe('ok');
  });

  test('a CA whose name has UTF-8 text and a multi-valued RDN: the issuer name still matches byte for byte', () => {
    const dir = tmp();
    const cert = path.join(dir, 'ca.crt');
    const key = path.join(dir, 'ca.key');
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-utf8', '-multivalue-rdn',
      '-subj', '/O=示例公司/OU=平台+L=上海/CN=kubernetes', '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    const m = material(synth({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(cert), caKey: Pem.fromFile(key), store: CertificateStore.fromDirectory(path.join(dir, 'p')) }) }).objects);
    expect(goDial(m.cert, m.key, m.bundle)).toBe('ok');
  });

  test('another namespace verifies for its own name only', () => {
    const m = material(synth({ namespace: 'monitoring' }).objects);
    expect(goDial(m.cert, m.key, m.bundle, 'metrics-server.monitoring.svc')).toBe('ok');
    expect(goDial(m.cert, m.key, m.bundle, SVC)).toMatch(/certificate is valid for .*, not metrics-server.kube-system.svc/);
  });

  test('a chain through an intermediate given with fromPem verifies', () => {
    const root = testCert({ cn: 'root', key: testKey(0), ca: true });
    const mid = testCert({ cn: 'intermediate', key: testKey(2), ca: true, issuer: { cert: root, key: testKey(0) } });
    const leaf = testCert({ cn: SVC, key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES });
    const m = material(synth({
      servingTls: ServingTls.fromPem({ certificate: Pem.fromString(pem.cert(leaf) + pem.cert(mid)), privateKey: Pem.fromString(pem.key(testKey(1))), caBundle: Pem.fromString(pem.cert(root)) }),
    }).objects);
    expect(goDial(m.cert, m.key, m.bundle)).toBe('ok');
  });

  // what the library refuses, Go refuses too
  const ca = () => testCert({ cn: 'test-ca', key: testKey(0), ca: true });
  const refused: Array<[string, () => { cert: string; bundle: string }, RegExp]> = [
    ['a Common Name without a DNS SAN', () => ({ cert: pem.cert(testCert({ cn: SVC, key: testKey(1), issuer: { cert: ca(), key: testKey(0) } })), bundle: pem.cert(ca()) }), /legacy Common Name field/],
    ['a SHA-1 signature', () => ({ cert: pem.cert(testCert({ cn: SVC, key: testKey(1), issuer: { cert: ca(), key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES, sha1: true })), bundle: pem.cert(ca()) }), /insecure algorithm SHA1-RSA/],
    ['an extendedKeyUsage without serverAuth', () => ({ cert: pem.cert(testCert({ cn: SVC, key: testKey(1), issuer: { cert: ca(), key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES, clientAuthOnly: true })), bundle: pem.cert(ca()) }), /incompatible key usage/],
    ['a signer that is not a CA', () => {
      const notCa = testCert({ cn: 'not-a-ca', key: testKey(0) });
      return { cert: pem.cert(testCert({ cn: SVC, key: testKey(1), issuer: { cert: notCa, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES })), bundle: pem.cert(notCa) };
    }, /certificate signed by unknown authority|not authorized to sign/],
    ['an expired certificate', () => ({ cert: pem.cert(testCert({ cn: SVC, key: testKey(1), issuer: { cert: ca(), key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') })), bundle: pem.cert(ca()) }), /expired or is not yet valid/],
  ];
  test.each(refused)('%s: refused by the library and by Go', (_name, make, goError) => {
    const { cert, bundle } = make();
    const key = pem.key(testKey(1));
    expect(() => synth({ servingTls: ServingTls.fromPem({ certificate: Pem.fromString(cert), privateKey: Pem.fromString(key), caBundle: Pem.fromString(bundle) }) })).toThrow(/^servingTls\./);
    expect(goDial(cert, key, bundle)).toMatch(goError);
  });
});
