import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'crypto';
import * as forge from 'node-forge';
import { buildCertificate, keyIdentifier, parseCertificateDer, parseNameConstraints } from '../lib/x509/forge-adapter';

// The one module that uses node-forge internals (getTBSCertificate,
// certificateExtensionFromAsn1) and builds ASN.1 by hand. If a node-forge
// upgrade changes those internals, these tests fail first.

const asn1 = forge.asn1;

function algorithmOf(der: Buffer): { tbsAlg: forge.asn1.Asn1; outerAlg: forge.asn1.Asn1 } {
  const cert = asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const fields = cert.value as forge.asn1.Asn1[];
  return { tbsAlg: (fields[0].value as forge.asn1.Asn1[])[2], outerAlg: fields[1] };
}

const keys = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  p256: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
  p384: generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey,
  p521: generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey,
  ed25519: generateKeyPairSync('ed25519').privateKey,
};

function selfSigned(key: typeof keys.rsa): Buffer {
  return buildCertificate({
    serialHex: '4a01', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86400_000), commonName: 'ca',
    publicKey: key, signerKey: key, extensions: [{ name: 'basicConstraints', cA: true, critical: true }],
  });
}

describe('buildCertificate', () => {
  test.each([
    ['rsa', '1.2.840.113549.1.1.11', true],
    ['p256', '1.2.840.10045.4.3.2', false],
    ['p384', '1.2.840.10045.4.3.3', false],
    ['p521', '1.2.840.10045.4.3.4', false],
    ['ed25519', '1.3.101.112', false],
  ] as const)('%s: signature algorithm %s, NULL parameters only for RSA, signature verifies', (name, oid, nullParams) => {
    const der = selfSigned(keys[name]);
    const { tbsAlg, outerAlg } = algorithmOf(der);
    for (const alg of [tbsAlg, outerAlg]) {
      const parts = alg.value as forge.asn1.Asn1[];
      expect(asn1.derToOid(parts[0].value as string)).toBe(oid);
      // Go rejects NULL parameters on Ed25519 (RFC 8410), ECDSA carries none (RFC 5758)
      expect(parts.length).toBe(nullParams ? 2 : 1);
    }
    const x = new X509Certificate(der);
    expect(x.verify(createPublicKey(keys[name]))).toBe(true);
    expect(x.publicKey.export({ type: 'spki', format: 'der' })).toEqual(createPublicKey(keys[name]).export({ type: 'spki', format: 'der' }));
  });

  /**
   * RFC 5280 4.2.1.2 method 1, computed here without the adapter: the
   * subjectPublicKey BIT STRING is the last TLV of the SubjectPublicKeyInfo
   * SEQUENCE, read with a tiny DER length reader (so an RSA key, whose BIT
   * STRING contents are themselves DER, is hashed whole).
   */
  function independentKeyId(key: typeof keys.rsa): string {
    const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
    const tlv = (at: number): { start: number; end: number } => {
      let len = der[at + 1];
      let start = at + 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
        start += n;
      }
      return { start, end: start + len };
    };
    const outer = tlv(0);
    const alg = tlv(outer.start);
    const bits = tlv(alg.end);
    expect(der[alg.end]).toBe(0x03);
    expect(der[bits.start]).toBe(0);
    return createHash('sha1').update(der.subarray(bits.start + 1, bits.end)).digest('hex');
  }

  test.each(['rsa', 'p256', 'p384', 'ed25519'] as const)('%s: subject and authority key identifiers are the SHA-1 of the real subjectPublicKey bits', name => {
    const caKey = keys[name];
    const caDer = selfSigned(caKey);
    const ca = parseCertificateDer(caDer);
    const expected = independentKeyId(caKey);
    expect(expected).not.toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(ca.extensions.find(e => e.oid === '2.5.29.14')!.parsed.subjectKeyIdentifier).toBe(expected);
    expect(Buffer.from(keyIdentifier(caKey), 'binary').toString('hex')).toBe(expected);
    const leafDer = buildCertificate({
      serialHex: '4a02', notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000), commonName: 'leaf',
      publicKey: keys.ed25519, signerKey: caKey, rawIssuer: ca.rawSubject, authorityKeyId: keyIdentifier(caKey),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'a.b' }] }],
    });
    const leaf = parseCertificateDer(leafDer);
    expect(leaf.extensions.find(e => e.oid === '2.5.29.14')!.parsed.subjectKeyIdentifier).toBe(independentKeyId(keys.ed25519));
    // AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier }
    expect(Buffer.from(leaf.extensions.find(e => e.oid === '2.5.29.35')!.value, 'binary').toString('hex')).toBe(`30168014${expected}`);
    expect(leaf.rawIssuer).toBe(ca.rawSubject);
    expect(new X509Certificate(leafDer).verify(createPublicKey(caKey))).toBe(true);
  });

  test('an unsupported signing key is refused', () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    expect(() => selfSigned(k)).toThrow(/unsupported curve secp256k1/);
  });
});

describe('parseCertificateDer and parseNameConstraints', () => {
  test('version, serial, critical flags and name constraints are read from the DER', () => {
    const der = selfSigned(keys.rsa);
    const tbs = parseCertificateDer(der);
    expect(tbs.version).toBe(3);
    expect(Buffer.from(tbs.serialBytes, 'binary').toString('hex')).toBe('4a01');
    expect(tbs.signatureOid).toBe('1.2.840.113549.1.1.11');
    expect(tbs.extensions.find(e => e.oid === '2.5.29.19')).toMatchObject({ critical: true, parsed: { cA: true } });
    // NameConstraints ::= SEQUENCE { permitted [0] { SEQUENCE { [2] "svc" } }, excluded [1] { SEQUENCE { [7] 10.0.0.0/8 } } }
    const nc = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, 'svc')])]),
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 1, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, '\x0a\x00\x00\x00\xff\x00\x00\x00')])]),
    ]);
    const parsed = parseNameConstraints(asn1.toDer(nc).getBytes());
    expect(parsed.permittedDns).toEqual(['svc']);
    expect(parsed.excludedIp).toEqual([[Buffer.from([10, 0, 0, 0]), Buffer.from([255, 0, 0, 0])]]);
    expect(parsed.unhandledForms).toBe(false);
  });
});
