import { execFileSync } from 'child_process';
import { createPrivateKey, KeyObject } from 'crypto';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { goVerifyBinary } from './go-verify-binary';
import { openssl, tmp, writeTmp } from './helpers';
import { KeyAlgorithm } from '../lib';
import { createCa, issueServingCertificate } from '../lib/x509/pki';
import { parseCertificates } from '../lib/x509/x509';

// Key identifiers (RFC 5280 4.2.1.2 method 1) checked against a value the
// library did not compute: openssl's own `subjectKeyIdentifier=hash` on a
// certificate openssl made from the same key. Then the issued chain verifies
// with OpenSSL (-x509_strict) and with Go.

const SERVER_NAME = 'metrics-server.kube-system.svc';
/** SHA-1 of nothing: what every RSA certificate carried before the fix */
const EMPTY_SHA1 = 'DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09';

/** The subjectKeyIdentifier openssl prints for a certificate file, as AA:BB:... */
function opensslSkid(file: string): string {
  const out = openssl(['x509', '-noout', '-ext', 'subjectKeyIdentifier', '-in', file]);
  return out.split('\n')[1].trim();
}

function opensslAkid(file: string): string {
  const out = openssl(['x509', '-noout', '-ext', 'authorityKeyIdentifier', '-in', file]);
  return out.split('\n')[1].trim().replace(/^keyid:/, '');
}

/** A self-signed certificate openssl makes from the key, with openssl's own key identifier. */
function opensslSelfSigned(dir: string, name: string, key: KeyObject): string {
  const keyFile = writeTmp(dir, `${name}.key`, key.export({ type: 'pkcs8', format: 'pem' }) as string);
  const cfg = writeTmp(dir, `${name}.cnf`, '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=x\n[ext]\nsubjectKeyIdentifier=hash\n');
  const out = path.join(dir, `${name}-openssl.crt`);
  openssl(['req', '-x509', '-new', '-config', cfg, '-extensions', 'ext', '-key', keyFile, '-out', out, '-days', '1']);
  return out;
}

const ALGORITHMS = [KeyAlgorithm.RSA_2048, KeyAlgorithm.ECDSA_P256, KeyAlgorithm.ECDSA_P384, KeyAlgorithm.ED25519];

describe('key identifiers are the SHA-1 of the real subjectPublicKey bits, as openssl computes them', () => {
  const dir = tmp();
  const now = new Date();
  const issued = ALGORITHMS.map(algorithm => {
    const ca = createCa({ commonName: `ca-${algorithm.name.replace(/_/g, "-")}`, validityDays: 30, keyAlgorithm: algorithm, now });
    const caKey = createPrivateKey(ca.keyPem);
    const leaf = issueServingCertificate({
      ca: { cert: parseCertificates('t', ca.certPem, 't')[0], key: createPrivateKey(ca.keyPem) },
      commonName: SERVER_NAME, dnsNames: [SERVER_NAME], validityDays: 10, keyAlgorithm: algorithm, now,
    });
    return { algorithm, ca, caKey, leaf };
  });

  test.each(ALGORITHMS.map((a, i) => [a.name, i] as const))('%s: the CA\'s and the leaf\'s SKID match openssl\'s for the same key, the leaf\'s AKID is the CA\'s SKID', (name, i) => {
    const { ca, caKey, leaf } = issued[i];
    const caFile = writeTmp(dir, `${name}-ca.crt`, ca.certPem);
    const leafFile = writeTmp(dir, `${name}-leaf.crt`, leaf.certPem);
    const caSkid = opensslSkid(caFile);
    expect(caSkid).not.toBe(EMPTY_SHA1);
    expect(caSkid).toBe(opensslSkid(opensslSelfSigned(dir, `${name}-ca`, caKey)));
    const leafSkid = opensslSkid(leafFile);
    expect(leafSkid).not.toBe(EMPTY_SHA1);
    expect(leafSkid).toBe(opensslSkid(opensslSelfSigned(dir, `${name}-leaf`, createPrivateKey(leaf.keyPem))));
    expect(leafSkid).not.toBe(caSkid);
    expect(opensslAkid(leafFile)).toBe(caSkid);
  });

  test('every chain verifies with OpenSSL (-x509_strict, sslserver, the service name) and with Go\'s crypto/tls', () => {
    const cases = issued.map(({ algorithm, ca, leaf }) => ({ id: algorithm.name, cert: leaf.certPem, key: leaf.keyPem, bundle: ca.certPem,
      serverName: SERVER_NAME }));
    for (const c of cases) {
      const out = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', SERVER_NAME,
        '-CAfile', writeTmp(dir, `${c.id}-bundle.pem`, c.bundle), writeTmp(dir, `${c.id}-l.pem`, c.cert)]);
      expect(out.trim()).toMatch(/: OK$/);
    }
    const manifest = path.join(dir, 'cases.json');
    writeFileSync(manifest, JSON.stringify(cases));
    const results = JSON.parse(execFileSync(goVerifyBinary(), ['-batch', manifest], { encoding: 'utf8' }));
    expect(results.map((r: any) => [r.id, r.handshake, r.bundle])).toEqual(cases.map(c => [c.id, 'ok', 'ok']));
  });

  test('two CAs with one subject and different keys: OpenSSL picks the signer by key identifier (the rotation\'s switched bundle)', () => {
    // both CAs carry the same name, as the old and the new CA of a rotation do
    const a = createCa({ commonName: 'same', validityDays: 30, keyAlgorithm: KeyAlgorithm.RSA_2048, now });
    const b = createCa({ commonName: 'same', validityDays: 30, keyAlgorithm: KeyAlgorithm.RSA_2048, now });
    const leaf = issueServingCertificate({
      ca: { cert: parseCertificates('t', b.certPem, 't')[0], key: createPrivateKey(b.keyPem) },
      commonName: SERVER_NAME, dnsNames: [SERVER_NAME], validityDays: 10, keyAlgorithm: KeyAlgorithm.RSA_2048, now,
    });
    // the old CA first in the bundle: OpenSSL takes the first name match whose key id matches
    const bundle = writeTmp(dir, 'same-bundle.pem', a.certPem + b.certPem);
    expect(openssl(['verify', '-x509_strict', '-CAfile', bundle, writeTmp(dir, 'same-leaf.pem', leaf.certPem)]).trim()).toMatch(/: OK$/);
  });
});
