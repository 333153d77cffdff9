import { execFileSync, spawnSync } from 'child_process';
import * as path from 'path';
import { CertificateStore, Pem, ServingTls } from '../lib';
import { goErrorText, verifyServer } from '../lib/x509/go-text';
import { parseCertificates } from '../lib/x509/x509';
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
      servingTls: ServingTls.fromPem({ certificate: Pem.fromString(pem.cert(leaf) + pem.cert(mid)), privateKey: Pem.fromString(pem.key(testKey(1))),
        caBundle: Pem.fromString(pem.cert(root)) }),
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
      return { cert: pem.cert(testCert({ cn: SVC, key: testKey(1), issuer: { cert: notCa, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES })),
        bundle: pem.cert(notCa) };
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

// The doctor's kubelet check: the one verifier (lib/x509/x509) and Go's text
// worded from its structured verdict (lib/x509/go-text), compared with what the
// real Go program says for the same kubelet certificate, CA and node address.
(haveGo ? describe : describe.skip)('kubelet certificates as metrics-server\'s Go client judges them: the one verifier, worded as Go 1.26', () => {
  const dir = tmp('sms-kubelet-');
  let n = 0;
  /** a CA made by openssl, with extra extension lines */
  const ca = (cn: string, ext: string[] = []) => {
    const cert = path.join(dir, `ca${n}.crt`);
    const key = path.join(dir, `ca${n++}.key`);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', ...ext.flatMap(e => ['-addext', e])]);
    return { cert, key };
  };
  /** a kubelet serving certificate from `issuer`, as the kubelet-serving CSR flow makes it (IP and DNS SANs) */
  const kubelet = (issuer: { cert: string; key: string }, san: string) => {
    const key = path.join(dir, `k${n}.key`);
    const csr = path.join(dir, `k${n}.csr`);
    const cert = path.join(dir, `k${n++}.crt`);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', '/O=system:nodes/CN=system:node:node-1']);
    const ext = writeTmp(dir, `k${n}.ext`, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`);
    openssl(['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-CAcreateserial', '-out', cert, '-days', '10', '-extfile', ext]);
    return { cert, key };
  };
  const read = (f: string) => require('fs').readFileSync(f, 'utf8') as string;
  const ours = (pair: { cert: string }, caFile: string, host: string) =>
    goErrorText(verifyServer(parseCertificates('chain', read(pair.cert), 'chain'), parseCertificates('ca', read(caFile), 'ca'), host, new Date()), { tls: true }) ?? 'ok';
  const go = (pair: { cert: string; key: string }, caFile: string, host: string) => execFileSync(binary, [pair.cert, pair.key, caFile, host], { encoding: 'utf8' }).trim();

  const cluster = ca('kubernetes');
  const excludesNodes = ca('kubelet-ca', ['nameConstraints=critical,excluded;IP:10.0.0.0/255.0.0.0']);
  const permitsOthers = ca('kubelet-ca-2', ['nameConstraints=critical,permitted;IP:192.168.0.0/255.255.0.0,permitted;DNS:example.com']);
  const excludesName = ca('kubelet-ca-3', ['nameConstraints=critical,excluded;DNS:nodes.internal']);
  const sameNameOtherKey = ca('kubernetes');
  const cases: [string, () => { cert: string; key: string }, string, string][] = [
    ['issued by the cluster CA, dialled by its IP', () => kubelet(cluster, 'IP:10.0.0.5,DNS:node-1'), cluster.cert, '10.0.0.5'],
    ['a kubelet CA whose name constraints exclude the node\'s IP', () => kubelet(excludesNodes, 'IP:10.0.0.5,DNS:node-1'), excludesNodes.cert, '10.0.0.5'],
    ['a kubelet CA that permits only other IPs and names', () => kubelet(permitsOthers, 'IP:10.0.0.5,DNS:node-1'), permitsOthers.cert, '10.0.0.5'],
    ['a kubelet CA whose name constraints exclude the node\'s DNS name', () => kubelet(excludesName, 'IP:10.0.0.5,DNS:node-1.nodes.internal'), excludesName.cert, '10.0.0.5'],
    ['another IP', () => kubelet(cluster, 'IP:10.0.0.6,IP:fd00::6'), cluster.cert, '10.0.0.5'],
    ['no IP SAN', () => kubelet(cluster, 'DNS:node-1'), cluster.cert, '10.0.0.5'],
    ['a CA with the issuer\'s name and another key (Go\'s hint)', () => kubelet(cluster, 'IP:10.0.0.5'), sameNameOtherKey.cert, '10.0.0.5'],
    ['an unrelated CA', () => kubelet(cluster, 'IP:10.0.0.5'), excludesName.cert, '10.0.0.5'],
  ];
  test.each(cases)('%s', (_name, pair, caFile, host) => {
    const p = pair();
    // go-verify serves on 127.0.0.1 and dials with ServerName = the node address: only the certificate is judged
    const said = go(p, caFile, host);
    expect(ours(p, caFile, host)).toBe(said);
    if (_name.includes('name constraints') || _name.includes('permits only')) {
      expect(said).toMatch(/^tls: failed to verify certificate: x509: a root or intermediate certificate is not authorized to sign for this name: /);
    }
  });
});
