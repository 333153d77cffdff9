import * as forge from 'node-forge';
import { NameConstraints } from '../lib/x509/forge-adapter';
import { parseCertificates } from '../lib/x509/x509';
import { nameConstraintProblem } from '../lib/x509/name-constraints';
import { CertInfo } from '../lib/x509/cert-info';
import { verifyChain } from '../lib/x509/chain';
import { DEFAULT_DNS_NAMES, pem, testCert, testKey } from './helpers';

// Go's chain building (verify.go buildChains) and name constraint checks
// (isValid / checkNameConstraints) on cases openssl's CLI cannot make
// cheaply; the differential harness (x509-differential.proc.test.ts) holds
// the shapes compared with Go itself.

const info = (c: forge.pki.Certificate): CertInfo => parseCertificates('t', pem.cert(c), 'test')[0];
const NOW = new Date();

describe('chain building backtracks as Go does', () => {
  const rootKey = testKey(0);
  const root = testCert({ cn: 'root', key: rootKey, ca: true });
  const leafOf = (issuer: forge.pki.Certificate, key: forge.pki.rsa.KeyPair) =>
    info(testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(2), issuer: { cert: issuer, key }, dnsNames: DEFAULT_DNS_NAMES }));

  test('mutually cross-signed intermediates end the search instead of looping', () => {
    const a = testCert({ cn: 'A', key: testKey(1), ca: true });
    const b = testCert({ cn: 'B', key: testKey(3), ca: true });
    const aByB = testCert({ cn: 'A', key: testKey(1), ca: true, issuer: { cert: b, key: testKey(3) } });
    const bByA = testCert({ cn: 'B', key: testKey(3), ca: true, issuer: { cert: a, key: testKey(1) } });
    const leaf = leafOf(a, testKey(1));
    expect(verifyChain(leaf, [info(aByB), info(bByA)], [info(root)], NOW)).toMatch(/no certificate in the CA bundle signed/);
    // the same loop with B trusted verifies
    expect(verifyChain(leaf, [info(aByB), info(bByA)], [info(b)], NOW)).toBeUndefined();
  });

  test('at most 100 signature checks, like Go\'s maxChainSignatureChecks', () => {
    const mid = testCert({ cn: 'mid', key: testKey(1), ca: true, issuer: { cert: root, key: rootKey } });
    const leaf = leafOf(mid, testKey(1));
    // certificates with the intermediate's name but another key, before the real one
    // (a small key keeps forge's signing fast; the key is never used to verify anything here)
    const small = forge.pki.rsa.generateKeyPair({ bits: 512, e: 0x10001 });
    const impostors = (n: number) => Array.from({ length: n }, (_, i) => info(testCert({ cn: 'mid', key: small, ca: true, serial: (0x1000 + i).toString(16) })));
    const many = impostors(100);
    expect(verifyChain(leaf, [...many, info(mid)], [info(root)], NOW)).toMatch(/more than 100 signature checks/);
    expect(verifyChain(leaf, [...many.slice(0, 50), info(mid)], [info(root)], NOW)).toBeUndefined();
    // the same certificate twice counts once (a CertPool holds it once)
    expect(verifyChain(leaf, [...Array(150).fill(many[0]), info(mid)], [info(root)], NOW)).toBeUndefined();
  });
});

describe('name constraints as Go checks them', () => {
  const none = { permittedDns: [], excludedDns: [], permittedIp: [], excludedIp: [], permittedEmail: [], excludedEmail: [], permittedUri: [], excludedUri: [],
    malformed: [], unhandledForms: false };
  const ca = (nc: Partial<NameConstraints>) => ({ subject: 'CN=ca', nameConstraints: { ...none, ...nc } }) as unknown as CertInfo;
  const names = (o: { dns?: string[]; email?: string[]; uri?: string[] }) => ({ dnsNames: o.dns ?? [], ipAddresses: [], emailAddresses: o.email ?? [],
    uris: o.uri ?? [] });

  test('URI SANs: host without userinfo and port, IP hosts and hostless URIs refused', () => {
    const c = ca({ excludedUri: ['example.com'] });
    expect(nameConstraintProblem(c, names({ uri: ['https://user@api.example.com:8443/x?q#f'] }))).toMatch(/excludes the URI/);
    expect(nameConstraintProblem(c, names({ uri: ['https://api.example.org/'] }))).toBeUndefined();
    expect(nameConstraintProblem(c, names({ uri: ['https://[::1]:443/'] }))).toMatch(/URI with IP/);
    expect(nameConstraintProblem(c, names({ uri: ['https://10.0.0.1/'] }))).toMatch(/URI with IP/);
    expect(nameConstraintProblem(c, names({ uri: ['mailto:ops@example.com'] }))).toMatch(/URI with empty host/);
    expect(nameConstraintProblem(c, names({ uri: ['https://api.example.com:x/'] }))).toMatch(/cannot parse the URI SAN .*invalid port/);
    // Go 1.26 parses every URI SAN once the CA has constraints of any type
    expect(nameConstraintProblem(ca({ excludedDns: ['example.com'] }), names({ uri: ['https://10.0.0.1/'] }))).toMatch(/URI with IP/);
    expect(nameConstraintProblem(ca({ excludedDns: ['example.com'] }), names({ uri: ['https://api.example.org/'] }))).toBeUndefined();
  });

  test('email SANs: RFC 2821 mailboxes, exact mailbox constraints, domain constraints', () => {
    const c = ca({ permittedEmail: ['example.com'], excludedEmail: ['root@example.com'] });
    expect(nameConstraintProblem(c, names({ email: ['"ops team"@Example.COM'] }))).toBeUndefined();
    expect(nameConstraintProblem(c, names({ email: ['root@EXAMPLE.com'] }))).toMatch(/excludes the email address/);
    expect(nameConstraintProblem(c, names({ email: ['Root@example.com'] }))).toBeUndefined();
    expect(nameConstraintProblem(c, names({ email: ['ops@sub.example.com'] }))).toBeUndefined();
    expect(nameConstraintProblem(ca({ permittedEmail: ['.example.com'] }), names({ email: ['ops@example.com'] }))).toMatch(/does not permit the email address/);
    expect(nameConstraintProblem(c, names({ email: ['a..b@example.com'] }))).toMatch(/cannot parse the email address SAN/);
    // a DNS SAN Go cannot parse is refused under any constraint
    expect(nameConstraintProblem(c, names({ dns: ['bad..name'] }))).toMatch(/cannot parse the DNS SAN/);
  });

  test('excluded is checked before permitted', () => {
    const c = ca({ permittedDns: ['svc'], excludedDns: ['kube-system.svc'] });
    expect(nameConstraintProblem(c, names({ dns: ['metrics-server.kube-system.svc'] }))).toMatch(/excludes the DNS name/);
    expect(nameConstraintProblem(c, names({ dns: ['metrics-server.other.svc'] }))).toBeUndefined();
  });

  test('no limit on constraint comparisons: Go 1.26 no longer uses MaxConstraintComparisions', () => {
    const c = ca({ excludedDns: Array(125000).fill('kube-system.svc'), permittedDns: Array(125000).fill('svc') });
    expect(nameConstraintProblem(c, names({ dns: ['a.svc', 'b.svc'] }))).toBeUndefined();
    expect(nameConstraintProblem(c, names({ dns: ['a.svc', 'b.kube-system.svc'] }))).toMatch(/excludes the DNS name 'b.kube-system.svc'/);
    expect(nameConstraintProblem(c, names({ dns: ['a.example.com'] }))).toMatch(/does not permit the DNS name 'a.example.com' \(nameConstraints permitted DNS:svc, DNS:svc, DNS:svc, DNS:svc, DNS:svc and 124995 more\)/);
  });
});
