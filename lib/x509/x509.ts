import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'crypto';

import { NameConstraints, parseCertificateDer, parseNameConstraints } from './forge-adapter';
import { decodePemBlocks, encodePem, PemBlock } from './pem-decode';

import { CertInfo } from './cert-info';
import { nameConstraintsParseProblem } from './name-constraints';

/**
 * Signature algorithms that Go's crypto/x509 (and so kube-apiserver) refuses,
 * by OID: the OpenSSL name for messages and, where Go refuses it as an
 * insecure algorithm (x509.InsecureAlgorithmError), Go's name for it.
 */
const WEAK_SIGNATURES: { [oid: string]: { readonly name: string; readonly go?: string } } = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', go: 'MD5-RSA' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', go: 'SHA1-RSA' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', go: 'ECDSA-SHA1' },
  '1.2.840.10040.4.3': { name: 'dsa-with-sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-sha256' },
};

/**
 * A refusal of the X.509 checks, structured: the prop, why (the reason) and
 * the fix. Its message is `prop: reason; fix`, as every refusal of the
 * library reads; callers that word it otherwise (audit) use the fields.
 * @internal
 */
export class X509Refusal extends Error {
  constructor(readonly prop: string, readonly reason: string, readonly fix?: string, readonly code?: X509RefusalCode) {
    super(fix === undefined ? `${prop}: ${reason}` : `${prop}: ${reason}; ${fix}`);
    this.name = 'X509Refusal';
  }
}

/**
 * What a caller may tell refusals apart by (more codes as callers need them;
 * a refusal without one is told by its prop, reason and fix only).
 * `no-certificate`: the text holds no PEM CERTIFICATE block Go would read.
 * @internal
 */
export type X509RefusalCode = 'no-certificate';

export function refusal(prop: string, reason: string, fix?: string, code?: X509RefusalCode): X509Refusal {
  return new X509Refusal(prop, reason, fix, code);
}

/**
 * The name of a signature algorithm (by OID) that kube-apiserver refuses, or
 * undefined for one it accepts.
 * @internal
 */
export function weakSignatureName(oid: string): string | undefined {
  return WEAK_SIGNATURES[oid]?.name;
}

/**
 * Go's name of a signature algorithm it refuses as insecure
 * (`x509: cannot verify signature: insecure algorithm SHA1-RSA`), or undefined.
 * @internal
 */
export function goInsecureAlgorithm(oid: string): string | undefined {
  return WEAK_SIGNATURES[oid]?.go;
}

/** extendedKeyUsage purposes that let a certificate serve TLS (anyExtendedKeyUsage, by OID: node-forge has no name for it). */
const SERVER_AUTH_EKUS = ['serverAuth', '2.5.29.37.0'];

/**
 * Extensions Go's crypto/x509 understands, so that it accepts them marked
 * critical (x509/parser.go processExtensions). Any other critical extension
 * makes Go refuse the certificate ("unhandled critical extension").
 */
const HANDLED_EXTENSIONS = ['2.5.29.15', '2.5.29.19', '2.5.29.17', '2.5.29.30', '2.5.29.31', '2.5.29.35', '2.5.29.37', '2.5.29.14', '2.5.29.32', '1.3.6.1.5.5.7.1.1'];

/** Curves Go's crypto/x509 parses; a certificate with a key on another curve does not parse in Go. */
const X509_CURVES = ['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1'];
/** Curves Go's crypto/tls can sign a handshake with (no P-224). */
const TLS_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

/** RSA keys below this many bits are refused by Go 1.24+ (crypto/rsa: insecure key size). */
const MIN_RSA_BITS = 1024;
/** RSA keys below this many bits are accepted with a warning. */
const WEAK_RSA_BITS = 2048;

/**
 * The certificates of a PEM text in canonical form: each CERTIFICATE block
 * Go reads, re-encoded (LF, no headers), one after the other. Nothing else of
 * the text.
 * @internal
 */
export function canonicalCertificatePem(pem: string): string {
  return decodePemBlocks(pem).filter(b => b.type === 'CERTIFICATE').map(b => encodePem('CERTIFICATE', b.bytes)).join('');
}

/**
 * Parses every certificate in a PEM text, reading the PEM blocks as Go's
 * encoding/pem does (leading and trailing text, CRLF, headers) and keeping
 * the CERTIFICATE blocks. Throws, naming `prop`, when there is none or one
 * does not parse.
 * @internal
 */
export function parseCertificates(prop: string, pem: string, source: string): CertInfo[] {
  const blocks = certificateBlocks(prop, pem, source);
  return blocks.map((block, i) => parseCertificateBlock(prop, block, source, i));
}

/**
 * The CERTIFICATE blocks of a PEM text; throws when there is none.
 * @internal
 */
export function certificateBlocks(prop: string, pem: string, source: string): PemBlock[] {
  const all = decodePemBlocks(pem);
  const blocks = all.filter(b => b.type === 'CERTIFICATE');
  if (blocks.length === 0) {
    const what = all.some(b => / ?PRIVATE KEY$/.test(b.type))
      ? 'it holds a private key, not a certificate'
      : /-----BEGIN CERTIFICATE-----/.test(pem)
        ? 'its \'-----BEGIN CERTIFICATE-----\' block is malformed the way Go\'s PEM decoder reads it (END line, base64 body)'
        : 'it holds no PEM block \'-----BEGIN CERTIFICATE-----\'';
    throw refusal(prop, `${source} is not a PEM certificate (${what})`, `pass a PEM certificate file such as /etc/kubernetes/pki/ca.crt`, 'no-certificate');
  }
  return blocks;
}

/**
 * Parses one CERTIFICATE block.
 * @internal
 */
export function parseCertificateBlock(prop: string, block: PemBlock, source: string, index: number): CertInfo {
  let x509: X509Certificate;
  let tbs: ReturnType<typeof parseCertificateDer>;
  try {
    x509 = new X509Certificate(block.bytes);
    tbs = parseCertificateDer(block.bytes);
    if (!x509.raw.equals(block.bytes)) {
      throw new Error('trailing data after the certificate');
    }
  } catch (e: any) {
    throw refusal(prop, `certificate #${index + 1} in ${source} does not parse (${e.message})`, `pass a valid PEM certificate`);
  }
  const find = (oid: string) => tbs.extensions.find(e => e.oid === oid);
  const bc = find('2.5.29.19')?.parsed;
  const ku = find('2.5.29.15')?.parsed;
  const eku = find('2.5.29.37')?.parsed;
  const san = find('2.5.29.17')?.parsed;
  const ski = find('2.5.29.14');
  const aki = find('2.5.29.35');
  const sanExt = find('2.5.29.17');
  const nc = find('2.5.29.30');
  const ekuNames = eku
    ? Object.keys(eku).filter(k => eku[k] === true && !['critical'].includes(k))
    : undefined;
  let nameConstraints: NameConstraints | undefined;
  const unhandledCritical = tbs.extensions.filter(e => e.critical && !HANDLED_EXTENSIONS.includes(e.oid)).map(e => e.oid);
  if (nc) {
    try {
      nameConstraints = parseNameConstraints(nc.value);
    } catch (e: any) {
      throw refusal(prop, `certificate #${index + 1} in ${source} has a nameConstraints extension that does not parse (${e.message})`, `reissue it`);
    }
    const invalid = nameConstraintsParseProblem(nameConstraints);
    if (invalid) {
      throw refusal(prop, `certificate #${index + 1} in ${source} has a nameConstraints extension Go cannot parse (${invalid}), so Go skips the certificate`, `reissue it with valid constraints`);
    }
    if (nameConstraints.unhandledForms && nc.critical) {
      // Go marks nameConstraints with other forms than DNS, IP, email and URI as unhandled
      unhandledCritical.push(nc.oid);
    }
  }
  const altNames: any[] = san?.altNames ?? [];
  const pub = x509.publicKey;
  return {
    pem: encodePem('CERTIFICATE', block.bytes),
    x509,
    subject: x509.subject.replace(/\n/g, ', '),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    version: tbs.version,
    hasBasicConstraints: bc !== undefined,
    isCa: !!(bc && bc.cA),
    maxPathLen: bc && typeof bc.pathLenConstraint === 'number' ? bc.pathLenConstraint : undefined,
    keyUsage: ku ? { keyCertSign: !!ku.keyCertSign, digitalSignature: !!ku.digitalSignature, keyEncipherment: !!ku.keyEncipherment } : undefined,
    extKeyUsage: ekuNames,
    dnsNames: altNames.filter(n => n.type === 2).map(n => n.value as string),
    ipAddresses: altNames.filter(n => n.type === 7).map(n => Buffer.from(n.value as string, 'binary')),
    emailAddresses: altNames.filter(n => n.type === 1).map(n => n.value as string),
    uris: altNames.filter(n => n.type === 6).map(n => n.value as string),
    sanValue: sanExt?.value,
    signatureOid: tbs.signatureOid,
    serialNegative: tbs.serialBytes.length > 0 && (tbs.serialBytes.charCodeAt(0) & 0x80) !== 0,
    selfSigned: tbs.rawIssuer === tbs.rawSubject,
    rawSubject: tbs.rawSubject,
    rawIssuer: tbs.rawIssuer,
    subjectKeyId: ski ? skiValue(ski.value) : undefined,
    authorityKeyId: aki ? akiValue(aki.value) : undefined,
    unhandledCritical,
    nameConstraints,
    keyType: pub.asymmetricKeyType ?? 'unknown',
    rsaBits: pub.asymmetricKeyType === 'rsa' ? pub.asymmetricKeyDetails?.modulusLength : undefined,
    curve: pub.asymmetricKeyType === 'ec' ? pub.asymmetricKeyDetails?.namedCurve : undefined,
  };
}

/** The OCTET STRING contents of a subjectKeyIdentifier value. */
function skiValue(value: string): string | undefined {
  // 0x04 len bytes (short form: identifiers are 20 bytes or so)
  if (value.charCodeAt(0) !== 0x04 || value.charCodeAt(1) >= 0x80) {
    return undefined;
  }
  return value.slice(2, 2 + value.charCodeAt(1));
}

/** The keyIdentifier ([0] IMPLICIT OCTET STRING) of an authorityKeyIdentifier value. */
function akiValue(value: string): string | undefined {
  // 0x30 len 0x80 len bytes (short forms)
  if (value.charCodeAt(0) !== 0x30 || value.charCodeAt(1) >= 0x80 || value.charCodeAt(2) !== 0x80 || value.charCodeAt(3) >= 0x80) {
    return undefined;
  }
  return value.slice(4, 4 + value.charCodeAt(3));
}

/**
 * Throws unless Go would accept the certificate's public key and extensions:
 * no critical extension Go does not handle, RSA of at least 1024 bits (Go
 * 1.24+), EC on a curve Go parses. Returns a warning for RSA 1024-2047.
 * @internal
 */
export function assertGoAcceptsCertificate(prop: string, cert: CertInfo, what: string): string[] {
  if (cert.unhandledCritical.length > 0) {
    throw refusal(prop, `${what} (${cert.subject}) has a critical extension Go does not handle (${cert.unhandledCritical.join(', ')}), so kube-apiserver refuses it (x509: unhandled critical extension)`, `reissue it without that extension, or mark it non-critical`);
  }
  if (cert.serialNegative) {
    throw refusal(prop, `${what} (${cert.subject}) has a negative serial number, which Go 1.23+ and Kubernetes 1.32+ reject`, `reissue it`);
  }
  return assertGoAcceptsKey(prop, cert.x509.publicKey, what, cert.subject);
}

/**
 * Throws unless Go can use the key (RSA >= 1024 bits, ECDSA on a curve Go
 * parses, Ed25519); for the serving key (`tls`), also unless Go's TLS can
 * sign with it. Returns a warning for RSA 1024-2047.
 * @internal
 */
export function assertGoAcceptsKey(prop: string, key: KeyObject, what: string, subject: string, tls = false): string[] {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const type = pub.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = pub.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw refusal(prop, `${what} (${subject}) has an RSA key of ${bits} bits`, `Go 1.24+ (and so current kube-apiserver) refuses RSA keys under ${MIN_RSA_BITS} bits: reissue it with at least 2048 bits`);
    }
    if (bits < WEAK_RSA_BITS) {
      return [`${prop}: ${what} (${subject}) has an RSA key of ${bits} bits, which is weak; reissue it with at least 2048 bits`];
    }
    return [];
  }
  if (type === 'ec') {
    const curve = pub.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    if (!(tls ? TLS_CURVES : X509_CURVES).includes(curve)) {
      throw refusal(prop, `${what} (${subject}) has an ECDSA key on curve ${curve}, which Go ${tls ? 'cannot serve TLS with' : 'does not support'}`, `use P-256, P-384 or P-521`);
    }
    return [];
  }
  if (type === 'ed25519') {
    return [];
  }
  throw refusal(prop, `${what} (${subject}) has a ${type} key, which Go's crypto/x509 and crypto/tls do not accept`, `use RSA (2048+ bits), ECDSA (P-256, P-384, P-521) or Ed25519`);
}

/**
 * The private key of a PEM text, read the way Go's tls.X509KeyPair reads it:
 * the first block whose type is `PRIVATE KEY` or ends in ` PRIVATE KEY`
 * (other blocks such as `EC PARAMETERS` are skipped), its DER tried as
 * PKCS#1, PKCS#8 and SEC1. Returns the key and the canonical PEM of that
 * block alone: only it is ever written (a second key in the file is not).
 * @internal
 */
export function readPrivateKey(prop: string, pem: string, source: string): { key: KeyObject; pem: string } {
  const blocks = decodePemBlocks(pem);
  const block = blocks.find(b => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'));
  if (!block) {
    const what = blocks.some(b => b.type === 'CERTIFICATE') ? 'it holds a certificate, not a private key' : 'it holds no PEM block \'-----BEGIN ... PRIVATE KEY-----\' that Go\'s PEM decoder reads';
    throw refusal(prop, `${source} is not a PEM private key (${what})`, `pass the key file, e.g. /etc/kubernetes/pki/ca.key`);
  }
  if (block.type === 'ENCRYPTED PRIVATE KEY' || block.headers['Proc-Type'] !== undefined || block.headers['DEK-Info'] !== undefined) {
    throw refusal(prop, `the private key in ${source} is encrypted`, `decrypt it first (e.g. 'openssl pkey -in key.pem -out key.decrypted.pem')`);
  }
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: block.bytes, format: 'der', type });
    } catch {
      continue;
    }
    if (type === 'pkcs8' && !['rsa', 'ec', 'ed25519'].includes(key.asymmetricKeyType ?? '')) {
      throw refusal(prop, `the private key in ${source} is a ${key.asymmetricKeyType} key, which Go's crypto/tls does not accept`, `use RSA (2048+ bits), ECDSA (P-256, P-384, P-521) or Ed25519`);
    }
    return { key, pem: encodePem(block.type, block.bytes) };
  }
  throw refusal(prop, `the private key in ${source} does not parse (not PKCS#1, PKCS#8 or SEC1 DER)`, `pass an unencrypted PKCS#1, PKCS#8 or SEC1 PEM key`);
}

/**
 * Parses a private key (PKCS#1, PKCS#8 or SEC1, unencrypted), as Go reads it.
 * @internal
 */
export function parsePrivateKey(prop: string, pem: string, source: string): KeyObject {
  return readPrivateKey(prop, pem, source).key;
}

/**
 * Throws unless `key` is the private key of `cert`.
 * @internal
 */
export function assertKeyMatches(prop: string, cert: CertInfo, key: KeyObject, what: string): void {
  if (!cert.x509.checkPrivateKey(key)) {
    throw refusal(prop, `the private key does not match ${what} (${cert.subject})`, `pass the key that belongs to this certificate`);
  }
}

/** RFC 3339 in UTC, to the second (as certificates carry their dates). */
export function fmt(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Whether the certificate is outside its validity period at `now`, as Go's
 * `Certificate.Verify` decides (`now` before notBefore, or after notAfter;
 * both bounds are valid).
 * @internal
 */
export function validityProblem(cert: { readonly notBefore: Date; readonly notAfter: Date }, now: Date): 'not-yet-valid' | 'expired' | undefined {
  if (now.getTime() < cert.notBefore.getTime()) {
    return 'not-yet-valid';
  }
  if (now.getTime() > cert.notAfter.getTime()) {
    return 'expired';
  }
  return undefined;
}

/**
 * Throws if the certificate is not valid at `now` (see `validityProblem`).
 * @internal
 */
export function assertCurrentlyValid(prop: string, cert: CertInfo, now: Date, what: string): void {
  const problem = validityProblem(cert, now);
  if (problem === 'expired') {
    throw refusal(prop, `${what} (${cert.subject}) expired on ${fmt(cert.notAfter)}`, `renew it or pass a current one`);
  }
  if (problem === 'not-yet-valid') {
    throw refusal(prop, `${what} (${cert.subject}) is not valid before ${fmt(cert.notBefore)}`, `check the clock of the machine that issued it, or wait`);
  }
}

/**
 * Whether the certificate's extendedKeyUsage lets it (or, on a CA, the
 * certificates under it) serve TLS, as Go checks down the chain: absent or
 * empty means any purpose, otherwise serverAuth or anyExtendedKeyUsage.
 * @internal
 */
export function allowsServerAuth(cert: CertInfo): boolean {
  return !cert.extKeyUsage || cert.extKeyUsage.length === 0 || cert.extKeyUsage.some(u => SERVER_AUTH_EKUS.includes(u));
}

/**
 * ISO date without milliseconds, for messages.
 * @internal
 */
export function formatDate(d: Date): string {
  return fmt(d);
}
