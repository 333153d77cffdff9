import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import * as forge from 'node-forge';
import { CertificateStore, Pem, ServingTls } from '../lib';
import { fixtureCa, fixtureStore, openssl, pem, listTree, storePaths, synth, synthYaml, testCert, testKey, tmp, writeStoreCa, writeTmp, DEFAULT_DNS_NAMES } from './helpers';

const SVC = 'metrics-server.kube-system.svc';

/** The DER of a certificate's issuer and subject names, straight from its bytes. */
function names(certPem: string): { issuer: string; subject: string } {
  const tbs = (forge.asn1.fromDer(forge.pem.decode(certPem)[0].body).value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
  const i = tbs[0].tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  return { issuer: forge.asn1.toDer(tbs[i + 2]).toHex(), subject: forge.asn1.toDer(tbs[i + 4]).toHex() };
}

/** A CA made by openssl with any subject (`-subj`, UTF-8, `+` for multi-valued RDNs). */
function opensslCaWithSubject(dir: string, subj: string): { cert: string; key: string } {
  const cert = path.join(dir, 'ca.crt');
  const key = path.join(dir, 'ca.key');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-utf8', '-multivalue-rdn',
    '-subj', subj, '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  return { cert, key };
}

/** A certificate with the extensions given, for the chain rules testCert does not cover. */
function craft(o: {
  cn: string; key: forge.pki.rsa.KeyPair; issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.KeyPair }; exts: any[]; issuerAttrs?: any[];
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = o.key.publicKey;
  cert.serialNumber = '0a1b2c3d';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: o.cn }]);
  cert.setIssuer(o.issuerAttrs ?? (o.issuer ? o.issuer.cert.subject.attributes : [{ name: 'commonName', value: o.cn }]));
  cert.setExtensions(o.exts);
  cert.sign((o.issuer?.key ?? o.key).privateKey, forge.md.sha256.create());
  return cert;
}

const caExts = (extra: any[] = [], pathLen?: number) => [
  { name: 'basicConstraints', cA: true, critical: true, ...(pathLen === undefined ? {} : { pathLenConstraint: pathLen }) },
  { name: 'keyUsage', keyCertSign: true, critical: true },
  ...extra,
];
const leafExts = (dnsNames: string[] = DEFAULT_DNS_NAMES, eku: any = { name: 'extKeyUsage', serverAuth: true }) => [
  { name: 'basicConstraints', cA: false, critical: true },
  { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  eku,
  { name: 'subjectAltName', altNames: dnsNames.map(value => ({ type: 2, value })) },
];

function fromPem(chain: forge.pki.Certificate[], bundle: forge.pki.Certificate[], key = testKey(1)) {
  return ServingTls.fromPem({
    certificate: Pem.fromString(chain.map(pem.cert).join('')),
    privateKey: Pem.fromString(pem.key(key)),
    caBundle: Pem.fromString(bundle.map(pem.cert).join('')),
  });
}

describe('issuer name: byte for byte the CA\'s subject, as Go compares it', () => {
  test.each([
    ['openssl CA like kubeadm\'s (UTF8String CN)', '/CN=kubernetes'],
    ['non-ASCII UTF-8 organization', '/O=示例公司/CN=kubernetes'],
    ['multi-valued RDN', '/CN=kubernetes+O=example'],
  ])('%s', (_name, subj) => {
    const dir = tmp();
    const ca = opensslCaWithSubject(dir, subj);
    const { cert } = synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(ca.key), store: CertificateStore.fromDirectory(path.join(dir, 'pki')) }) });
    expect(names(cert).issuer).toBe(names(readFileSync(ca.cert, 'utf8')).subject);
    const out = openssl(['verify', '-x509_strict', '-CAfile', ca.cert, '-verify_hostname', SVC, '-purpose', 'sslserver', writeTmp(dir, 'leaf.pem', cert)]);
    expect(out.trim()).toMatch(/: OK$/);
  });
});

describe('fromPem: chain rules of Go\'s crypto/x509', () => {
  const root = craft({ cn: 'root', key: testKey(0), exts: caExts() });
  const rootIssuer = { cert: root, key: testKey(0) };

  test('an intermediate signed with SHA-1 by the root is refused', () => {
    const mid = testCert({ cn: 'intermediate', key: testKey(2), ca: true, issuer: rootIssuer, sha1: true });
    const leaf = testCert({ cn: SVC, key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES });
    expect(() => synth({ servingTls: fromPem([leaf, mid], [root]) }))
      .toThrow("servingTls.caBundle: the CA bundle in inline PEM does not verify the serving certificate ('CN=intermediate' is signed with sha1WithRSAEncryption); pass the CA that issued inline PEM");
  });

  test('an expired intermediate is refused', () => {
    const mid = testCert({ cn: 'intermediate', key: testKey(2), ca: true, issuer: rootIssuer, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') });
    const leaf = testCert({ cn: SVC, key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES });
    expect(() => synth({ servingTls: fromPem([leaf, mid], [root]) })).toThrow(/\('CN=intermediate' is not valid now \(2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z\)\)/);
  });

  test('an intermediate that is not a CA is refused', () => {
    const mid = testCert({ cn: 'intermediate', key: testKey(2), issuer: rootIssuer });
    const leaf = testCert({ cn: SVC, key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES });
    expect(() => synth({ servingTls: fromPem([leaf, mid], [root]) })).toThrow(/\('CN=intermediate' is not a CA/);
  });

  test('a missing intermediate is refused', () => {
    const mid = testCert({ cn: 'intermediate', key: testKey(2), ca: true, issuer: rootIssuer });
    const leaf = testCert({ cn: SVC, key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES });
    expect(() => synth({ servingTls: fromPem([leaf], [root]) })).toThrow(`(no certificate in the CA bundle signed 'CN=${SVC}')`);
  });

  test('an intermediate whose extendedKeyUsage excludes serverAuth is refused', () => {
    const mid = craft({ cn: 'intermediate', key: testKey(2), issuer: rootIssuer, exts: caExts([{ name: 'extKeyUsage', clientAuth: true }]) });
    const leaf = craft({ cn: SVC, key: testKey(1), issuer: { cert: mid, key: testKey(2) }, exts: leafExts() });
    expect(() => synth({ servingTls: fromPem([leaf, mid], [root]) })).toThrow(/'CN=intermediate' has extendedKeyUsage clientAuth without serverAuth/);
    const okMid = craft({ cn: 'intermediate', key: testKey(2), issuer: rootIssuer, exts: caExts([{ name: 'extKeyUsage', serverAuth: true, clientAuth: true }]) });
    const okLeaf = craft({ cn: SVC, key: testKey(1), issuer: { cert: okMid, key: testKey(2) }, exts: leafExts() });
    expect(() => synth({ servingTls: fromPem([okLeaf, okMid], [root]) })).not.toThrow();
  });

  test('a root whose pathLenConstraint is 0 cannot have an intermediate below it', () => {
    const root0 = craft({ cn: 'root0', key: testKey(0), exts: caExts([], 0) });
    const mid = testCert({ cn: 'intermediate', key: testKey(2), ca: true, issuer: { cert: root0, key: testKey(0) } });
    const leaf = testCert({ cn: SVC, key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES });
    expect(() => synth({ servingTls: fromPem([leaf, mid], [root0]) })).toThrow(/'CN=root0' allows 0 intermediate\(s\) below it \(pathLenConstraint\), the chain has 1/);
    const direct = testCert({ cn: SVC, key: testKey(1), issuer: { cert: root0, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES });
    expect(() => synth({ servingTls: fromPem([direct], [root0]) })).not.toThrow();
  });

  test('a CA of the same name but another key does not verify the certificate', () => {
    const impostor = craft({ cn: 'root', key: testKey(2), exts: caExts() });
    const leaf = testCert({ cn: SVC, key: testKey(1), issuer: rootIssuer, dnsNames: DEFAULT_DNS_NAMES });
    expect(() => synth({ servingTls: fromPem([leaf], [impostor]) })).toThrow(`(no certificate in the CA bundle signed 'CN=${SVC}')`);
    expect(() => synth({ servingTls: fromPem([leaf], [impostor, root]) })).not.toThrow();
  });

  test('an issuer name encoded differently from the CA\'s subject (PrintableString for UTF8String) is refused', () => {
    const utf8Root = craft({ cn: 'root', key: testKey(0), exts: caExts(), issuerAttrs: [{ name: 'commonName', value: 'root', valueTagClass: forge.asn1.Type.UTF8 }] });
    utf8Root.setSubject([{ name: 'commonName', value: 'root', valueTagClass: forge.asn1.Type.UTF8 } as any]);
    utf8Root.sign(testKey(0).privateKey, forge.md.sha256.create());
    const leaf = craft({ cn: SVC, key: testKey(1), issuer: { cert: utf8Root, key: testKey(0) }, exts: leafExts(), issuerAttrs: [{ name: 'commonName', value: 'root' }] });
    expect(names(pem.cert(leaf)).issuer).not.toBe(names(pem.cert(utf8Root)).subject);
    expect(() => synth({ servingTls: fromPem([leaf], [utf8Root]) })).toThrow(`(no certificate in the CA bundle signed 'CN=${SVC}')`);
  });

  test('DNS SANs match as Go matches them: case-insensitive, a leftmost wildcard for one label', () => {
    const leafWith = (dns: string[]) => craft({ cn: 'x', key: testKey(1), issuer: rootIssuer, exts: leafExts(dns) });
    expect(() => synth({ servingTls: fromPem([leafWith(['*.kube-system.svc'])], [root]) })).not.toThrow();
    expect(() => synth({ servingTls: fromPem([leafWith(['Metrics-Server.Kube-System.SVC'])], [root]) })).not.toThrow();
    for (const dns of ['*.svc', '*.metrics-server.kube-system.svc', 'metrics*.kube-system.svc', 'metrics-server.*.svc']) {
      expect(() => synth({ servingTls: fromPem([leafWith([dns])], [root]) })).toThrow(`servingTls.certificate: the serving certificate is not valid for '${SVC}' (its DNS SANs are ${dns}); reissue it with subjectAltName DNS:${SVC}`);
    }
  });

  test('extendedKeyUsage anyExtendedKeyUsage allows serving', () => {
    const leaf = craft({ cn: SVC, key: testKey(1), issuer: rootIssuer, exts: leafExts(DEFAULT_DNS_NAMES, { name: 'extKeyUsage', '2.5.29.37.0': true }) });
    expect(() => synth({ servingTls: fromPem([leaf], [root]) })).not.toThrow();
  });

  test('a v1 certificate as CA is named as such', () => {
    const v1 = forge.pki.createCertificate();
    v1.version = 0;
    v1.publicKey = testKey(0).publicKey;
    v1.serialNumber = '01';
    v1.validity.notBefore = new Date(Date.now() - 3600_000);
    v1.validity.notAfter = new Date(Date.now() + 86400_000);
    v1.setSubject([{ name: 'commonName', value: 'v1-ca' }]);
    v1.setIssuer([{ name: 'commonName', value: 'v1-ca' }]);
    v1.sign(testKey(0).privateKey, forge.md.sha256.create());
    expect(() => synth({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromString(pem.cert(v1)), caKey: Pem.fromString(pem.key(testKey(0))), store: CertificateStore.fromDirectory(path.join(tmp(), 'pki')) }) }))
      .toThrow('servingTls.caCertificate: the certificate is not a CA (X.509 v1, without basicConstraints) (CN=v1-ca); pass an X.509 v3 CA certificate with basicConstraints CA:TRUE, e.g. /etc/kubernetes/pki/ca.crt');
  });
});

describe('certificate store: what a stored certificate must pass to be reused', () => {
  test('a new cluster CA with the same name (a rebuilt kubeadm cluster) reissues, and nothing else changes', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const props = (ca: { cert: string; key: string }) => ({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(ca.key),
      store }) });
    const oldCa = fixtureCa('kubernetes');
    const first = synthYaml(props(oldCa));
    expect(synthYaml(props(oldCa)).keys).toBe(0);
    const newCa = fixtureCa('kubernetes-rebuilt');
    const second = synthYaml(props(newCa));
    expect(second.keys).toBe(1);
    expect(second.cert).not.toBe(first.cert);
    const dir = tmp();
    expect(openssl(['verify', '-CAfile', newCa.cert, writeTmp(dir, 'leaf.pem', second.cert)]).trim()).toMatch(/: OK$/);
    expect(synthYaml(props(newCa)).yaml).toBe(second.yaml);
  });

  test('a stored key that does not match the stored certificate is never emitted', () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const handPlaced = pem.key(testKey(2)).replace(/\r\n/g, '\n');
    writeFileSync(storePaths(store).tlsKey, handPlaced);
    // an error naming both files; the hand-placed key is never replaced
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`store: '${storePaths(store).tlsKey}' does not belong to '${storePaths(store).tlsCrt}' (the key does not match the certificate's public key); a key placed by hand is never replaced: put back the key of that certificate, or delete both files to issue a new serving certificate. Nothing in the store was changed`);
    expect(readFileSync(storePaths(store).tlsKey, 'utf8')).toBe(handPlaced);
  });

  test.each([
    ['clientAuth only', { clientAuthOnly: true }],
    ['SHA-1', { sha1: true }],
    ['a negative serial', { serial: 'ff01' }],
  ])('a stored certificate kube-apiserver would refuse (%s) is reissued', (_name, o) => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const ca = { cert: forge.pki.certificateFromPem(readFileSync(storePaths(store).caCrt, 'utf8')), key: { privateKey: forge.pki.privateKeyFromPem(readFileSync(storePaths(store).caKey, 'utf8')) } as any };
    const tlsKey = forge.pki.privateKeyFromPem(readFileSync(storePaths(store).tlsKey, 'utf8')) as forge.pki.rsa.PrivateKey;
    const keyPair = { privateKey: tlsKey, publicKey: forge.pki.setRsaPublicKey(tlsKey.n, tlsKey.e) };
    // within the default validity, so that only the rule in question decides
    writeFileSync(storePaths(store).tlsCrt, pem.cert(testCert({ cn: SVC, key: keyPair, issuer: ca, dnsNames: DEFAULT_DNS_NAMES,
      notAfter: new Date(Date.now() + 300 * 86400_000), ...o })));
    const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(second.keys).toBe(1);
    const text = openssl(['x509', '-noout', '-text', '-in', writeTmp(tmp(), 'c.pem', second.cert)]);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
  });

  test('a shorter validity reissues once, then stays stable', () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const shorter = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration.days(90) }) });
    expect(shorter.keys).toBe(1);
    const c = forge.pki.certificateFromPem(shorter.cert);
    expect(Math.round((c.validity.notAfter.getTime() - Date.now()) / 86400_000)).toBe(90);
    const again = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration.days(90) }) });
    expect(again.keys).toBe(0);
    expect(again.yaml).toBe(shorter.yaml);
    // a longer validity is no reason to reissue: the certificate renews at renewBefore
    expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration.days(365) }) }).keys).toBe(0);
  });

  test('a dedicated CA that is not valid yet is an error, and nothing is written', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const future = testCert({ cn: 'secure-metrics-server-ca', key: testKey(0), ca: true, notBefore: new Date('2099-01-01T00:00:00Z'), notAfter: new Date('2109-01-01T00:00:00Z') });
    writeStoreCa(store, pem.cert(future), pem.key(testKey(0)));
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`servingTls: the dedicated CA in '${storePaths(store).ca}' is not valid before 2099-01-01T00:00:00Z; check the clock of this machine (and of the one that created '${storePaths(store).caCrt}')`);
    expect(listTree(store.directory)).toEqual(['clusters/metrics-server/ca/ca.crt', 'clusters/metrics-server/ca/ca.key']);
  });

  test('a check record from an older version of the checks is not trusted', () => {
    const store = fixtureStore();
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const record = JSON.parse(readFileSync(storePaths(store).record, 'utf8'));
    record.version -= 1;
    writeFileSync(storePaths(store).record, JSON.stringify(record));
    const x509 = require('../lib/x509/x509');
    const parseCerts = jest.spyOn(x509, 'parseCertificates');
    try {
      expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }).yaml).toBe(first.yaml);
      expect(parseCerts).toHaveBeenCalled();
    } finally {
      parseCerts.mockRestore();
    }
  });
});
