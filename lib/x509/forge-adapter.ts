/**
 * The one door to node-forge.
 *
 * node-forge is the project's X.509 library, but several things the library
 * needs are not in its public API: building a TBSCertificate without signing
 * it (`getTBSCertificate`), parsing extensions from ASN.1
 * (`certificateExtensionsFromAsn1`), and a signer for anything but RSA. Every
 * use of those internals, and every ASN.1 structure built or read by hand, is
 * in this file, so that a node-forge upgrade that changes them fails here and
 * in test/forge-adapter.test.ts, nowhere else.
 *
 * Signing is done by Node's `crypto.sign`, which handles RSA, ECDSA and
 * Ed25519 keys alike; node-forge only lays out the structure.
 * @internal
 */
import { createHash, createPublicKey, KeyObject, sign } from 'crypto';
import * as forge from 'node-forge';

const asn1 = forge.asn1;
type Asn1 = forge.asn1.Asn1;

/** One extension of a certificate, as it stands in the DER. */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** the extension's value (the contents of its OCTET STRING), as a binary string */
  readonly value: string;
  /** node-forge's parse of the extension (name, cA, altNames, ...) */
  readonly parsed: any;
}

/** The fields of a certificate the checks need, read from its DER. */
export interface ParsedTbs {
  readonly version: number;
  /** the serial number's INTEGER contents, as a binary string */
  readonly serialBytes: string;
  readonly signatureOid: string;
  /** DER of the issuer and subject names, binary strings (Go compares them byte for byte) */
  readonly rawIssuer: string;
  readonly rawSubject: string;
  readonly extensions: RawExtension[];
}

/**
 * Reads the TBSCertificate fields of a DER certificate. Throws when the DER
 * is not a certificate.
 */
export function parseCertificateDer(der: Buffer): ParsedTbs {
  const cert = asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const tbs = (cert.value as Asn1[])[0].value as Asn1[];
  let i = 0;
  let version = 1;
  if (tbs[0].tagClass === asn1.Class.CONTEXT_SPECIFIC && tbs[0].type === 0) {
    const v = (tbs[0].value as Asn1[])[0].value as string;
    version = v.charCodeAt(v.length - 1) + 1;
    i++;
  }
  const extsNode = tbs.find(n => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const extensions: RawExtension[] = [];
  for (const ext of extsNode ? ((extsNode.value as Asn1[])[0].value as Asn1[]) : []) {
    const fields = ext.value as Asn1[];
    const oid = asn1.derToOid(fields[0].value as string);
    const critical = fields.length === 3 && (fields[1].value as string).charCodeAt(0) !== 0;
    const value = fields[fields.length - 1].value as string;
    let parsed: any;
    try {
      parsed = (forge.pki as any).certificateExtensionFromAsn1(ext);
    } catch {
      parsed = {};
    }
    extensions.push({ oid, critical, value, parsed });
  }
  return {
    version,
    serialBytes: tbs[i].value as string,
    signatureOid: asn1.derToOid((tbs[i + 1].value as Asn1[])[0].value as string),
    rawIssuer: asn1.toDer(tbs[i + 2]).getBytes(),
    rawSubject: asn1.toDer(tbs[i + 4]).getBytes(),
    extensions,
  };
}

/** The names a CA's nameConstraints extension permits and excludes, as written (x509.ts checks them the way Go parses them). */
export interface NameConstraints {
  readonly permittedDns: string[];
  readonly excludedDns: string[];
  readonly permittedIp: Buffer[][];
  readonly excludedIp: Buffer[][];
  /** rfc822Name constraints: a mailbox (with '@'), a domain, or '.domain' */
  readonly permittedEmail: string[];
  readonly excludedEmail: string[];
  /** uniformResourceIdentifier constraints: a domain or '.domain' */
  readonly permittedUri: string[];
  readonly excludedUri: string[];
  /** why a constraint is malformed at the ASN.1 level (IP constraint not 8 or 32 bytes, no subtree at all) */
  readonly malformed: string[];
  /** forms Go does not handle (directory names, other names...): Go treats a critical extension with them as unhandled */
  readonly unhandledForms: boolean;
}

/** Reads a nameConstraints extension value (RFC 5280 4.2.1.10). */
export function parseNameConstraints(value: string): NameConstraints {
  const top = asn1.fromDer(forge.util.createBuffer(value));
  const out = {
    permittedDns: [] as string[], excludedDns: [] as string[], permittedIp: [] as Buffer[][], excludedIp: [] as Buffer[][],
    permittedEmail: [] as string[], excludedEmail: [] as string[], permittedUri: [] as string[], excludedUri: [] as string[],
    malformed: [] as string[], unhandledForms: false,
  };
  let subtreeCount = 0;
  for (const subtrees of top.value as Asn1[]) {
    const permitted = subtrees.type === 0;
    for (const subtree of subtrees.value as Asn1[]) {
      subtreeCount++;
      const base = (subtree.value as Asn1[])[0];
      const bytes = base.value as string;
      if (base.type === 2) {
        (permitted ? out.permittedDns : out.excludedDns).push(bytes);
      } else if (base.type === 7) {
        if (bytes.length === 8 || bytes.length === 32) {
          const half = bytes.length / 2;
          (permitted ? out.permittedIp : out.excludedIp).push([Buffer.from(bytes.slice(0, half), 'binary'), Buffer.from(bytes.slice(half), 'binary')]);
        } else {
          out.malformed.push(`IP constraint of ${bytes.length} bytes`);
        }
      } else if (base.type === 1) {
        (permitted ? out.permittedEmail : out.excludedEmail).push(bytes);
      } else if (base.type === 6) {
        (permitted ? out.permittedUri : out.excludedUri).push(bytes);
      } else {
        out.unhandledForms = true;
      }
    }
  }
  if (subtreeCount === 0) {
    out.malformed.push('empty name constraints extension');
  }
  return out;
}

/** A certificate to build and sign. */
export interface CertificateSpec {
  /** hex, positive, minimally encoded */
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly commonName: string;
  /** the public key the certificate is for */
  readonly publicKey: KeyObject;
  /** the key that signs it (the CA's; the subject's own for a self-signed CA) */
  readonly signerKey: KeyObject;
  /**
   * DER of the issuer name exactly as it stands in the CA certificate (binary
   * string); absent for a self-signed certificate. Go finds the issuer by
   * comparing names byte for byte, and node-forge re-encodes names from their
   * attributes (changing UTF8String values outside ASCII and multi-valued
   * RDNs), so the CA's bytes are copied, never rebuilt.
   */
  readonly rawIssuer?: string;
  /**
   * DER of the subject name to write (binary string), copied byte for byte;
   * absent: CN=commonName. A CA certified again for the same key keeps its
   * exact name this way.
   */
  readonly rawSubject?: string;
  /** the CA's subjectKeyIdentifier (binary string), for authorityKeyIdentifier; absent: none */
  readonly authorityKeyId?: string;
  /** node-forge extension objects (basicConstraints, keyUsage, extKeyUsage, subjectAltName) */
  readonly extensions: any[];
}

/** Signature algorithm per signing key: OID, digest, and whether parameters are NULL. */
function signatureAlgorithm(key: KeyObject): { oid: string; digest: string | null; nullParams: boolean } {
  const pub = createPublicKey(key);
  switch (pub.asymmetricKeyType) {
    case 'rsa':
      return { oid: '1.2.840.113549.1.1.11', digest: 'sha256', nullParams: true };
    case 'ec':
      // the digest Go pairs with each curve; ECDSA AlgorithmIdentifiers carry no parameters (RFC 5758)
      switch (pub.asymmetricKeyDetails?.namedCurve) {
        case 'prime256v1': return { oid: '1.2.840.10045.4.3.2', digest: 'sha256', nullParams: false };
        case 'secp384r1': return { oid: '1.2.840.10045.4.3.3', digest: 'sha384', nullParams: false };
        case 'secp521r1': return { oid: '1.2.840.10045.4.3.4', digest: 'sha512', nullParams: false };
        default: throw new Error(`unsupported curve ${pub.asymmetricKeyDetails?.namedCurve}`);
      }
    case 'ed25519':
      // RFC 8410: parameters MUST be absent; Go rejects NULL here
      return { oid: '1.3.101.112', digest: null, nullParams: false };
    default:
      throw new Error(`unsupported key type ${pub.asymmetricKeyType}`);
  }
}

function algorithmIdentifier(alg: { oid: string; nullParams: boolean }): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(alg.oid).getBytes()),
    ...(alg.nullParams ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')] : []),
  ]);
}

/**
 * The subject key identifier of a public key: SHA-1 of the subjectPublicKey
 * BIT STRING's bytes (RFC 5280 4.2.1.2 method 1, as Go and OpenSSL compute it).
 */
export function keyIdentifier(key: KeyObject): string {
  return createHash('sha1').update(subjectPublicKeyBits(key)).digest().toString('binary');
}

/**
 * The bytes of the subjectPublicKey BIT STRING of a key's SubjectPublicKeyInfo
 * (without the unused-bits octet). node-forge decodes a BIT STRING whose
 * contents happen to be DER (an RSA key's are: RSAPublicKey is a SEQUENCE)
 * into child nodes and leaves `value` an array, so it is told not to
 * (`decodeBitStrings: false`); the contents are checked to be whole bytes.
 */
export function subjectPublicKeyBits(key: KeyObject): Buffer {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const top = asn1.fromDer(forge.util.createBuffer(spki.toString('binary')), { decodeBitStrings: false } as any);
  const bitString = (top.value as Asn1[])[1];
  const contents = bitString.value;
  if (bitString.type !== asn1.Type.BITSTRING || typeof contents !== 'string' || contents.charCodeAt(0) !== 0) {
    throw new Error('SubjectPublicKeyInfo without a whole-byte subjectPublicKey BIT STRING');
  }
  return Buffer.from(contents.slice(1), 'binary');
}

function extension(oid: string, value: Asn1): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

/** A throwaway RSA public key for node-forge's TBS builder, replaced before signing. */
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'));

/**
 * The ASN.1 string type of a name attribute, chosen as Go's crypto/x509 chooses
 * it when it writes one: PrintableString where every character is allowed in
 * it, UTF8String otherwise. node-forge writes PrintableString whatever the
 * value holds, and Go refuses a certificate whose PrintableString carries `_`,
 * `*`, `@` or a non-ASCII letter ("x509: invalid PrintableString").
 */
function directoryStringTag(value: string): number {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? asn1.Type.PRINTABLESTRING : asn1.Type.UTF8;
}

/**
 * Builds a certificate with node-forge's ASN.1 tools and signs it with
 * Node's crypto. The SubjectPublicKeyInfo, the key identifiers and the
 * signature algorithm come from the real keys (node-forge's builder only
 * knows RSA, so it is given a placeholder that is replaced). Returns DER.
 */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const alg = signatureAlgorithm(spec.signerKey);
  const cert = forge.pki.createCertificate();
  cert.publicKey = PLACEHOLDER_KEY;
  cert.serialNumber = spec.serialHex;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const cn = { name: 'commonName', value: spec.commonName, valueTagClass: directoryStringTag(spec.commonName) };
  cert.setSubject([cn]);
  cert.setIssuer([cn]);
  cert.setExtensions(spec.extensions);
  cert.siginfo.algorithmOid = alg.oid;
  const tbs = (forge.pki as any).getTBSCertificate(cert) as Asn1;
  const fields = tbs.value as Asn1[];
  // [0] version, [1] serial, [2] signature, [3] issuer, [4] validity, [5] subject, [6] spki, [7] extensions
  fields[2] = algorithmIdentifier(alg);
  if (spec.rawIssuer !== undefined) {
    fields[3] = asn1.fromDer(forge.util.createBuffer(spec.rawIssuer));
  }
  if (spec.rawSubject !== undefined) {
    fields[5] = asn1.fromDer(forge.util.createBuffer(spec.rawSubject));
  }
  const spki = createPublicKey(spec.publicKey).export({ type: 'spki', format: 'der' });
  fields[6] = asn1.fromDer(forge.util.createBuffer(spki.toString('binary')));
  const ids: Asn1[] = [
    extension('2.5.29.14', asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, keyIdentifier(spec.publicKey))),
  ];
  if (spec.authorityKeyId !== undefined) {
    ids.push(extension('2.5.29.35', asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, spec.authorityKeyId),
    ])));
  }
  if (fields.length < 8) {
    fields.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [])]));
  }
  ((fields[7].value as Asn1[])[0].value as Asn1[]).push(...ids);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign(alg.digest, tbsDer, spec.signerKey);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithmIdentifier(alg),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  return Buffer.from(asn1.toDer(certificate).getBytes(), 'binary');
}
