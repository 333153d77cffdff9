import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'crypto';
import { isIP } from 'net';
import { NameConstraints, parseCertificateDer, parseNameConstraints } from './forge-adapter';
import { decodePemBlocks, encodePem, PemBlock } from './pem-decode';

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
  constructor(readonly prop: string, readonly reason: string, readonly fix?: string) {
    super(fix === undefined ? `${prop}: ${reason}` : `${prop}: ${reason}; ${fix}`);
    this.name = 'X509Refusal';
  }
}

function refusal(prop: string, reason: string, fix?: string): X509Refusal {
  return new X509Refusal(prop, reason, fix);
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
 * What the library needs to know of one X.509 certificate.
 * @internal
 */
export interface CertInfo {
  /** canonical PEM of this certificate alone (LF, 64 columns, no headers) */
  readonly pem: string;
  readonly x509: X509Certificate;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly version: number;
  /** basicConstraints is present */
  readonly hasBasicConstraints: boolean;
  /** basicConstraints cA (false when the extension is absent) */
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint, when present */
  readonly maxPathLen?: number;
  /** keyUsage bits, or undefined when the extension is absent (any usage) */
  readonly keyUsage?: { readonly keyCertSign: boolean; readonly digitalSignature: boolean; readonly keyEncipherment: boolean };
  /** extKeyUsage purposes by name, or undefined when the extension is absent (any purpose) */
  readonly extKeyUsage?: string[];
  readonly dnsNames: string[];
  /** IP address SANs, raw bytes (4 or 16) */
  readonly ipAddresses: Buffer[];
  /** rfc822Name (email) SANs */
  readonly emailAddresses: string[];
  /** uniformResourceIdentifier SANs */
  readonly uris: string[];
  /** the subjectAltName extension value (binary string), when present: Go checks name constraints only on certificates that have one */
  readonly sanValue?: string;
  readonly signatureOid: string;
  readonly serialNegative: boolean;
  readonly selfSigned: boolean;
  /** the DER bytes of the subject and issuer names (binary strings), which Go compares byte for byte */
  readonly rawSubject: string;
  readonly rawIssuer: string;
  /** subjectKeyIdentifier (binary string), when present */
  readonly subjectKeyId?: string;
  /** authorityKeyIdentifier keyIdentifier (binary string), when present */
  readonly authorityKeyId?: string;
  /** OIDs of critical extensions Go does not handle */
  readonly unhandledCritical: string[];
  /** the nameConstraints extension, when present */
  readonly nameConstraints?: NameConstraints;
  /** 'rsa', 'ec', 'ed25519', ... (Node's asymmetricKeyType) */
  readonly keyType: string;
  /** RSA modulus length */
  readonly rsaBits?: number;
  /** EC curve, Node's name */
  readonly curve?: string;
}

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
    throw refusal(prop, `${source} is not a PEM certificate (${what})`, `pass a PEM certificate file such as /etc/kubernetes/pki/ca.crt`);
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
function fmt(d: Date): string {
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
 * Throws unless the certificate may sign certificates the way Go's crypto/x509
 * requires: X.509 v3, basicConstraints CA:TRUE, keyCertSign when keyUsage is present.
 * @internal
 */
export function assertIsCa(prop: string, cert: CertInfo, example: string): void {
  if (cert.version !== 3) {
    throw refusal(prop, `the certificate is not a CA (X.509 v${cert.version}, without basicConstraints) (${cert.subject})`, `pass an X.509 v3 CA certificate with basicConstraints CA:TRUE, e.g. ${example}`);
  }
  if (!cert.isCa) {
    throw refusal(prop, `the certificate is not a CA (basicConstraints CA:FALSE or absent) (${cert.subject})`, `pass the CA certificate, e.g. ${example}`);
  }
  if (cert.keyUsage && !cert.keyUsage.keyCertSign) {
    throw refusal(prop, `the CA certificate may not sign certificates (keyUsage without keyCertSign) (${cert.subject})`, `pass a CA whose keyUsage includes keyCertSign, e.g. ${example}`);
  }
}

/**
 * Throws unless the CA may issue a serving certificate with these DNS names
 * that Go accepts: a CA (see assertIsCa), extendedKeyUsage absent or allowing
 * serverAuth, a key and extensions Go accepts, name constraints that permit
 * every name. Returns warnings (weak RSA key, SHA-1 self-signature).
 * @internal
 */
export function assertCanIssueServing(prop: string, ca: CertInfo, dnsNames: string[], example: string): string[] {
  assertIsCa(prop, ca, example);
  assertCaAllowsServerAuth(prop, ca);
  const warnings = assertGoAcceptsCertificate(prop, ca, 'the CA certificate');
  const problem = nameConstraintProblem(ca, { dnsNames, ipAddresses: [] });
  if (problem) {
    throw refusal(prop, `${problem}, so Go refuses the serving certificate it would issue`, `use a CA whose nameConstraints permit the Service's names, or ServingTls.fromDedicatedCa()`);
  }
  return [...warnings, ...sha1RootWarning(prop, ca)];
}

/**
 * Throws unless the CA's extendedKeyUsage is absent or allows serverAuth: Go
 * checks the purpose down the whole chain, so such a CA verifies no serving
 * certificate.
 * @internal
 */
export function assertCaAllowsServerAuth(prop: string, ca: CertInfo): void {
  if (!allowsServerAuth(ca)) {
    throw refusal(prop, `the CA's extendedKeyUsage (${ca.extKeyUsage!.join(', ')}) lacks serverAuth, so Go refuses every serving certificate under it (${ca.subject})`, `use a CA without extendedKeyUsage or with serverAuth`);
  }
}

/** A warning for a root that signs itself with SHA-1 (Go does not check a root's own signature). */
export function sha1RootWarning(prop: string, root: CertInfo): string[] {
  const weak = weakSignatureName(root.signatureOid);
  return weak && root.selfSigned ? [`${prop}: the CA certificate (${root.subject}) signs itself with ${weak}; Go does not check a root's own signature so it works, but reissue it with SHA-256 when you can`] : [];
}

// ---- name constraints, as Go's crypto/x509 checks them (parser.go
// parseNameConstraintsExtension, verify.go isValid / checkNameConstraints) ----

/** Go's domainToReverseLabels: the labels last first, or undefined for an empty label or a byte outside 33-126. */
function domainToReverseLabels(domain: string): string[] | undefined {
  if (domain === '') {
    return [];
  }
  const labels = domain.split('.').reverse();
  return labels.every(l => l !== '' && [...l].every(c => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126)) ? labels : undefined;
}

/** Go's parseRFC2821Mailbox: local part (atoms or a quoted string) '@' domain, or undefined. */
function parseMailbox(input: string): { local: string; domain: string } | undefined {
  let rest = input;
  let local = '';
  const code = (i = 0) => rest.charCodeAt(i);
  if (rest === '') {
    return undefined;
  }
  if (rest[0] === '"') {
    rest = rest.slice(1);
    for (;;) {
      if (rest === '') {
        return undefined;
      }
      const c = code();
      rest = rest.slice(1);
      if (c === 0x22) {
        break;
      } else if (c === 0x5c) {
        const n = code();
        if (rest !== '' && (n === 11 || n === 12 || (n >= 1 && n <= 9) || (n >= 14 && n <= 127))) {
          local += rest[0];
          rest = rest.slice(1);
        } else {
          return undefined;
        }
      } else if (c === 11 || c === 12 || c === 32 || c === 33 || c === 127 || (c >= 1 && c <= 8) || (c >= 14 && c <= 31)
        || (c >= 35 && c <= 91) || (c >= 93 && c <= 126)) {
        local += String.fromCharCode(c);
      } else {
        return undefined;
      }
    }
  } else {
    while (rest !== '') {
      if (rest[0] === '\\') {
        rest = rest.slice(1);
        if (rest === '') {
          return undefined;
        }
      } else if (!/^[0-9A-Za-z!#$%&'*+\-/=?^_`{|}~.]/.test(rest)) {
        break;
      }
      local += rest[0];
      rest = rest.slice(1);
    }
    if (local === '' || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
      return undefined;
    }
  }
  if (rest[0] !== '@') {
    return undefined;
  }
  const domain = rest.slice(1);
  return domainToReverseLabels(domain) ? { local, domain } : undefined;
}

/** Go's isValidIPMask: ones, then zeros. */
function validIpMask(mask: Buffer): boolean {
  return /^1*0*$/.test([...mask].map(b => b.toString(2).padStart(8, '0')).join(''));
}

/**
 * Why Go refuses to parse these name constraints (and so skips the
 * certificate), or undefined: non-ASCII, malformed DNS, email or URI
 * constraints, a URI constraint that is an IP address, an invalid IP mask.
 * @internal
 */
export function nameConstraintsParseProblem(nc: NameConstraints): string | undefined {
  if (nc.malformed.length > 0) {
    return nc.malformed[0];
  }
  const ia5 = (v: string) => [...v].every(c => c.charCodeAt(0) < 0x80);
  const domainOk = (v: string) => domainToReverseLabels(v.startsWith('.') ? v.slice(1) : v) !== undefined;
  for (const c of [...nc.permittedDns, ...nc.excludedDns]) {
    if (!ia5(c) || !domainOk(c)) {
      return `DNS constraint '${c}'`;
    }
  }
  for (const c of [...nc.permittedEmail, ...nc.excludedEmail]) {
    if (!ia5(c) || (c.includes('@') ? !parseMailbox(c) : !domainOk(c))) {
      return `email constraint '${c}'`;
    }
  }
  for (const c of [...nc.permittedUri, ...nc.excludedUri]) {
    if (!ia5(c) || isIP(c) !== 0 || !domainOk(c)) {
      return `URI constraint '${c}'${isIP(c) !== 0 ? ' is an IP address' : ''}`;
    }
  }
  for (const [, mask] of [...nc.permittedIp, ...nc.excludedIp]) {
    if (!validIpMask(mask)) {
      return `IP constraint with mask ${mask.toString('hex')}`;
    }
  }
  return undefined;
}

/** A constraint match: true, false, or why Go cannot match (a string, which refuses the chain). */
type Match = boolean | string;

/** Go's matchDomainConstraint: '' matches all, a leading '.' demands at least one more label, labels ASCII case-insensitive. */
function matchDomainConstraint(domain: string, constraint: string): Match {
  if (constraint === '') {
    return true;
  }
  const d = domainToReverseLabels(domain);
  if (!d) {
    return `cannot parse domain '${domain}'`;
  }
  const must = constraint.startsWith('.');
  const c = domainToReverseLabels(must ? constraint.slice(1) : constraint);
  if (!c) {
    return `cannot parse domain '${constraint}'`;
  }
  if (d.length < c.length || (must && d.length === c.length)) {
    return false;
  }
  return c.every((label, i) => label.toLowerCase() === d[i].toLowerCase());
}

/** Go's matchEmailConstraint: a constraint with '@' is one exact mailbox (domain case-insensitive), else a domain constraint on the mailbox's domain. */
function matchEmailConstraint(mailbox: { local: string; domain: string }, constraint: string): Match {
  if (constraint.includes('@')) {
    const m = parseMailbox(constraint);
    return m ? m.local === mailbox.local && m.domain.toLowerCase() === mailbox.domain.toLowerCase() : `cannot parse constraint '${constraint}'`;
  }
  return matchDomainConstraint(mailbox.domain, constraint);
}

/**
 * The host of a URI as Go's net/url.Parse reads it (port and userinfo
 * removed), '' when the URI has no authority, or an error string.
 */
function uriHost(uri: string): { host: string } | { error: string } {
  let rest = uri.split('#')[0];
  // eslint-disable-next-line no-control-regex -- a URI with a control character is refused
  if (/[\x00-\x1f\x7f]/.test(rest)) {
    return { error: 'invalid control character in URL' };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(rest);
  if (/^:/.test(rest)) {
    return { error: 'missing protocol scheme' };
  }
  if (scheme) {
    rest = rest.slice(scheme[0].length);
  }
  rest = rest.split('?')[0];
  if (!rest.startsWith('/')) {
    if (!scheme && rest.split('/')[0].includes(':')) {
      return { error: 'first path segment in URL cannot contain colon' };
    }
    return { host: '' };
  }
  if (!rest.startsWith('//') || (!scheme && rest.startsWith('///'))) {
    return { host: '' };
  }
  const authority = rest.slice(2).split('/')[0];
  let host = authority.slice(authority.lastIndexOf('@') + 1);
  let port = '';
  if (host.startsWith('[')) {
    const end = host.lastIndexOf(']');
    if (end < 0) {
      return { error: 'missing \']\' in host' };
    }
    port = host.slice(end + 1);
    host = host.slice(0, end + 1);
  } else if (host.includes(':')) {
    port = host.slice(host.lastIndexOf(':'));
    host = host.slice(0, host.lastIndexOf(':'));
  }
  if (port !== '' && !/^:[0-9]*$/.test(port)) {
    return { error: `invalid port '${port}' after host` };
  }
  if (!host.startsWith('[') && /[^A-Za-z0-9\-_.~!$&'()*+,;=%<>"\x80-\uffff]/.test(host)) {
    return { error: `invalid character in host name '${host}'` };
  }
  try {
    host = host.startsWith('[') ? host : decodeURIComponent(host);
  } catch {
    return { error: `invalid URL escape in '${host}'` };
  }
  return { host };
}

/** Go's matchURIConstraint: the URI's host must be a domain name (not empty, not an IP address), matched as a domain constraint. */
function matchUriConstraint(uri: string, constraint: string): Match {
  const parsed = uriHost(uri);
  if ('error' in parsed) {
    return parsed.error;
  }
  return uriHostProblem(uri, parsed.host) ?? matchDomainConstraint(parsed.host, constraint);
}

/** Go's parseURIs: a URI SAN whose host is empty or an IP address cannot be matched against any constraint. */
function uriHostProblem(uri: string, host: string): string | undefined {
  if (host === '') {
    return `URI with empty host ('${uri}') cannot be matched against constraints`;
  }
  if ((host.startsWith('[') && host.endsWith(']')) || isIP(host) !== 0) {
    return `URI with IP ('${uri}') cannot be matched against constraints`;
  }
  return undefined;
}

function matchIpConstraint(ip: Buffer, [net, mask]: Buffer[]): Match {
  return ip.length === net.length && [...ip].every((b, i) => (b & mask[i]) === (net[i] & mask[i]));
}


/** The names of a certificate that name constraints apply to. */
interface ConstrainedNames {
  readonly dnsNames: string[];
  readonly ipAddresses: Buffer[];
  readonly emailAddresses?: string[];
  readonly uris?: string[];
}

/**
 * Why a CA's name constraints forbid a name: the library's sentence, and the
 * detail Go 1.26 puts after "x509: a root or intermediate certificate is not
 * authorized to sign for this name: ".
 * @internal
 */
export interface NameConstraintViolation {
  readonly message: string;
  readonly goDetail: string;
}

/** Go's %q of a string (a JSON string is the same for the names that reach here). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** An IP address as Go's net.IP.String() prints it: dotted IPv4 (IPv4-mapped too), IPv6 in its shortest form. */
export function goIpString(ip: Buffer): string {
  const mapped = ip.length === 16 && ip.subarray(0, 10).every(b => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
  if (ip.length === 4 || mapped) {
    return [...ip.subarray(ip.length - 4)].join('.');
  }
  if (ip.length !== 16) {
    return `?${ip.toString('hex')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(ip.readUInt16BE(i));
  }
  // the longest run of at least two zero groups becomes '::' (the first of equal runs)
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map(x => x.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** Go's IPNet.String(): the network and the prefix length, or the mask in hex when it is not canonical. */
function goIpNetString([net, mask]: Buffer[]): string {
  const bits = [...mask].map(b => b.toString(2).padStart(8, '0')).join('');
  const ones = /^(1*)0*$/.exec(bits);
  const masked = Buffer.from([...net].map((b, i) => b & mask[i]));
  return ones ? `${goIpString(masked)}/${ones[1].length}` : `${goIpString(masked)}/${mask.toString('hex')}`;
}

/**
 * Why the CA's name constraints forbid one of the names, as Go 1.26 checks
 * them on every CA of the chain (crypto/x509/constraints.go): URI SANs must
 * have a host that is a domain name and email SANs must be RFC 2821
 * mailboxes once the CA has name constraints of any type; then IP, DNS, URI
 * and email SANs in that order, each permitted first, then excluded. There is
 * no limit on the number of comparisons (Go 1.26 no longer uses
 * MaxConstraintComparisions). Undefined when the names pass.
 * @internal
 */
export function nameConstraintViolation(ca: CertInfo, names: ConstrainedNames): NameConstraintViolation | undefined {
  const nc = ca.nameConstraints;
  if (!nc || [nc.permittedDns, nc.excludedDns, nc.permittedIp, nc.excludedIp, nc.permittedEmail, nc.excludedEmail, nc.permittedUri,
    nc.excludedUri].every(l => l.length === 0)) {
    return undefined;
  }
  const who = `the CA '${ca.subject}'`;
  const check = <T, C>(type: string, name: string, parsed: T, match: (p: T, c: C) => Match, permitted: C[], excluded: C[], show: (c: C) => string,
    goConstraint: (c: C) => string): NameConstraintViolation | undefined => {
    const cannot = (m: string) => ({ message: `${who} cannot check the ${type} '${name}' against its nameConstraints (${m})`, goDetail: m });
    if (permitted.length > 0) {
      let ok = false;
      for (const c of permitted) {
        const m = match(parsed, c);
        if (typeof m === 'string') {
          return cannot(m);
        }
        if (m) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        return {
          message: `${who} does not permit the ${type} '${name}' (nameConstraints permitted ${permitted.slice(0, 5).map(show).join(', ')}${permitted.length > 5 ? ` and ${permitted.length - 5} more` : ''})`,
          goDetail: `${type} ${goQuote(name)} is not permitted by any constraint`,
        };
      }
    }
    for (const c of excluded) {
      const m = match(parsed, c);
      if (typeof m === 'string') {
        return cannot(m);
      }
      if (m) {
        return {
          message: `${who} excludes the ${type} '${name}' (nameConstraints excluded ${show(c)})`,
          goDetail: `${type} ${goQuote(name)} is excluded by constraint ${goQuote(goConstraint(c))}`,
        };
      }
    }
    return undefined;
  };
  const unparsable = (what: string, name: string, goDetail: string) => ({ message: `${who} has nameConstraints, and Go cannot parse the ${what} SAN '${name}'`, goDetail });
  // Go's parseURIs and parseMailboxes: before any check, whatever the constraints' types
  for (const name of names.uris ?? []) {
    const parsed = uriHost(name);
    if ('error' in parsed) {
      return { message: `${who} has nameConstraints, and Go cannot parse the URI SAN '${name}' (${parsed.error})`, goDetail: parsed.error };
    }
    const hostProblem = uriHostProblem(name, parsed.host);
    if (hostProblem) {
      return { message: `${who} cannot check the URI '${name}' against its nameConstraints (${hostProblem})`, goDetail: hostProblem };
    }
  }
  const mailboxes: { name: string; mailbox: { local: string; domain: string } }[] = [];
  for (const name of names.emailAddresses ?? []) {
    const mailbox = parseMailbox(name);
    if (!mailbox) {
      return unparsable('email address', name, `cannot parse rfc822Name ${goQuote(name)}`);
    }
    mailboxes.push({ name, mailbox });
  }
  for (const ip of names.ipAddresses) {
    if (ip.length !== 4 && ip.length !== 16) {
      return { message: `${who} has nameConstraints, and Go cannot parse an IP address SAN of ${ip.length} bytes`, goDetail: `IP address of ${ip.length} bytes` };
    }
    const v = check('IP address', goIpString(ip), ip, matchIpConstraint, nc.permittedIp, nc.excludedIp, ([n, m]) => `IP:${[...n].join('.')}/${[...m].join('.')}`, goIpNetString);
    if (v) {
      return v;
    }
  }
  for (const name of names.dnsNames) {
    const v = domainToReverseLabels(name)
      ? check('DNS name', name, name, matchDomainConstraint, nc.permittedDns, nc.excludedDns, c => `DNS:${c}`, c => c)
      : unparsable('DNS', name, `x509: cannot parse dnsName ${goQuote(name)}`);
    if (v) {
      return v;
    }
  }
  for (const name of names.uris ?? []) {
    const v = check('URI', name, name, matchUriConstraint, nc.permittedUri, nc.excludedUri, c => `URI:${c}`, c => c);
    if (v) {
      return v;
    }
  }
  for (const { name, mailbox } of mailboxes) {
    const v = check('email address', name, mailbox, matchEmailConstraint, nc.permittedEmail, nc.excludedEmail, c => `email:${c}`, c => c);
    if (v) {
      return v;
    }
  }
  return undefined;
}

/**
 * Why the CA's name constraints forbid one of the names (the library's
 * sentence of nameConstraintViolation), or undefined.
 * @internal
 */
export function nameConstraintProblem(ca: CertInfo, names: ConstrainedNames): string | undefined {
  return nameConstraintViolation(ca, names)?.message;
}

/**
 * Throws if the certificate is signed with an algorithm kube-apiserver refuses.
 * @internal
 */
export function assertStrongSignature(prop: string, cert: CertInfo): void {
  const weak = weakSignatureName(cert.signatureOid);
  if (weak) {
    throw refusal(prop, `the certificate (${cert.subject}) is signed with ${weak}, which kube-apiserver rejects`, `reissue it with SHA-256 (e.g. 'openssl x509 -req -sha256 ...')`);
  }
}

/**
 * Throws unless the serving certificate passes the checks kube-apiserver makes
 * when it dials `serverName`.
 * @internal
 */
export function assertServingCertificate(prop: string, cert: CertInfo, serverName: string): void {
  if (!coversServerName(cert, serverName)) {
    const cnOnly = cert.x509.subject.split('\n').includes(`CN=${serverName}`);
    const has = cert.dnsNames.length ? `its DNS SANs are ${cert.dnsNames.join(', ')}` : 'it has no DNS SAN';
    throw refusal(prop, `the serving certificate is not valid for '${serverName}' (${has}${cnOnly ? '; the Common Name is ignored by kube-apiserver' : ''})`, `reissue it with subjectAltName DNS:${serverName}`);
  }
  if (!allowsServerAuth(cert)) {
    throw refusal(prop, `the serving certificate's extendedKeyUsage (${cert.extKeyUsage!.join(', ')}) does not allow serverAuth`, `reissue it with extendedKeyUsage = serverAuth`);
  }
  if (cert.isCa) {
    throw refusal(prop, `the serving certificate (${cert.subject}) is a CA certificate`, `pass the leaf certificate issued for '${serverName}' first in the file`);
  }
  if (cert.serialNegative) {
    throw refusal(prop, `the serving certificate (${cert.subject}) has a negative serial number, which Kubernetes 1.32+ rejects`, `reissue it`);
  }
  assertStrongSignature(prop, cert);
  if (cert.unhandledCritical.length > 0) {
    throw refusal(prop, `the serving certificate (${cert.subject}) has a critical extension Go does not handle (${cert.unhandledCritical.join(', ')}), so kube-apiserver refuses it (x509: unhandled critical extension)`, `reissue it without that extension`);
  }
}

/**
 * Whether a DNS SAN matches a host name the way Go's crypto/x509 VerifyHostname
 * does: ASCII case-insensitive, a trailing dot on the host ignored, and a
 * wildcard only as the whole leftmost label, standing for exactly one label.
 * @internal
 */
export function matchesHostname(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, '');
  if (p === '' || h === '') {
    return false;
  }
  const pl = p.split('.');
  const hl = h.split('.');
  return pl.length === hl.length && pl.every((label, i) => (i === 0 && label === '*' && hl[0] !== '') || label === hl[i]);
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
 * Whether a DNS SAN of the certificate matches `serverName` (the Common Name
 * is ignored, as Go ignores it).
 * @internal
 */
export function coversServerName(cert: CertInfo, serverName: string): boolean {
  return cert.dnsNames.some(name => matchesHostname(name, serverName));
}

/** Go's maxChainSignatureChecks: the signature checks one verification may make. */
const MAX_SIGNATURE_CHECKS = 100;

/**
 * The certificates of `pool` whose subject is `cert`'s issuer, in Go's order
 * (CertPool.findPotentialParents): the key identifiers matching first, then
 * one of them absent, then mismatching.
 */
function potentialParents(cert: CertInfo, pool: CertInfo[]): CertInfo[] {
  // a CertPool holds each certificate once
  const byName = pool.filter((c, i) => c.rawSubject === cert.rawIssuer && pool.findIndex(o => o.pem === c.pem) === i);
  const rank = (c: CertInfo) => ((c.subjectKeyId ?? '') === (cert.authorityKeyId ?? '') ? 0 : (c.subjectKeyId === undefined) !== (cert.authorityKeyId === undefined) ? 1 : 2);
  return byName.map((c, i) => ({ c, i, r: rank(c) })).sort((a, b) => a.r - b.r || a.i - b.i).map(x => x.c);
}

/** Go's alreadyInChain: the same subject, public key and subjectAltName as a certificate of the chain (stops cross-signature loops). */
function alreadyInChain(candidate: CertInfo, chain: CertInfo[]): boolean {
  const spki = (c: CertInfo) => c.x509.publicKey.export({ type: 'spki', format: 'der' });
  return chain.some(c => c.rawSubject === candidate.rawSubject && spki(c).equals(spki(candidate)) && c.sanValue === candidate.sanValue);
}

/**
 * Finds a chain from `leaf` through `intermediates` to one of `roots` the way
 * Go's Certificate.Verify builds chains: for each certificate, every
 * candidate issuer with its subject (roots first, then intermediates, key
 * identifiers matching first) is tried, backtracking when a candidate's
 * signature or CA rules fail, until one chain reaches a root; at most 100
 * signature checks. Returns undefined on success, or the reason no chain
 * exists (the first failure met).
 * @internal
 */
export function verifyChain(leaf: CertInfo, intermediates: CertInfo[], roots: CertInfo[], now: Date): string | undefined {
  return chainProblem(leaf, intermediates, roots, now)?.message;
}

/**
 * verifyChain's structured result: undefined when a chain exists, else the
 * first failure met (what Go reports as the hint of "signed by unknown
 * authority", or the error of a CA rule).
 * @internal
 */
export function chainProblem(leaf: CertInfo, intermediates: CertInfo[], roots: CertInfo[], now: Date): ChainProblem | undefined {
  let checks = 0;
  let firstProblem: ChainProblem | undefined;
  const note = (p: ChainProblem) => {
    firstProblem = firstProblem ?? p;
  };
  const noIssuer = (cert: CertInfo, candidate?: CertInfo): ChainProblem => ({ code: 'no-issuer', message: `no certificate in the CA bundle signed '${cert.subject}'`, cert, candidate });
  const build = (chain: CertInfo[]): boolean => {
    const current = chain[chain.length - 1];
    // Go refuses a weak signature for every candidate issuer alike
    const weak = weakSignatureName(current.signatureOid);
    if (weak) {
      const candidate = potentialParents(current, roots)[0] ?? potentialParents(current, intermediates)[0];
      note({ code: 'weak-signature', message: `'${current.subject}' is signed with ${weak}`, cert: current, candidate });
      return false;
    }
    const candidates = [
      ...potentialParents(current, roots).map(c => ({ c, root: true })),
      ...potentialParents(current, intermediates).map(c => ({ c, root: false })),
    ];
    if (candidates.length === 0) {
      note(noIssuer(current));
    }
    for (const { c, root } of candidates) {
      if (alreadyInChain(c, chain)) {
        continue;
      }
      if (++checks > MAX_SIGNATURE_CHECKS) {
        // Go reports this error rather than the first failure
        firstProblem = { code: 'signature-limit', message: `more than ${MAX_SIGNATURE_CHECKS} signature checks to build the chain (Go's limit)`, cert: current };
        return false;
      }
      if (!signs(c, current)) {
        // a certificate with the issuer's name but another key (an old CA, an impostor)
        note({ ...noIssuer(current, c), code: 'bad-signature' });
        continue;
      }
      // Go checks the CA rules on every signing certificate (roots too) and extendedKeyUsage down the whole chain
      const problem = caProblem(c, now, chain.length - 1, leaf);
      if (problem) {
        note({ ...problem, cert: current, candidate: c });
        continue;
      }
      if (root || build([...chain, c])) {
        return true;
      }
    }
    return false;
  };
  return build([leaf]) ? undefined : firstProblem ?? noIssuer(leaf);
}

/**
 * Whether `issuer` signed `cert` as Go's chain building sees it: the issuer
 * name equal to the CA's subject byte for byte (OpenSSL compares a normalized
 * form, Go does not), and the signature valid under the CA's key.
 * @internal
 */
export function signs(issuer: CertInfo, cert: CertInfo): boolean {
  if (cert.rawIssuer !== issuer.rawSubject) {
    return false;
  }
  try {
    return cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/**
 * What kept a candidate issuer out of the chain, or why a certificate found
 * none: the structured result of the one chain verifier (chainProblem), which
 * lib/tls/go-text.ts words as Go does.
 * @internal
 */
export type ChainProblemCode =
  | 'no-issuer' | 'bad-signature' | 'weak-signature' | 'signature-limit'
  | 'unhandled-critical' | 'name-constraints' | 'not-ca' | 'no-cert-sign' | 'eku' | 'path-len' | 'expired' | 'not-yet-valid';

/** @internal */
export interface ChainProblem {
  readonly code: ChainProblemCode;
  /** the library's sentence */
  readonly message: string;
  /** the certificate an issuer was looked for */
  readonly cert: CertInfo;
  /** the candidate issuer that was refused (absent for 'no-issuer' without candidates, 'weak-signature', 'signature-limit') */
  readonly candidate?: CertInfo;
  /** for 'name-constraints' */
  readonly violation?: NameConstraintViolation;
}

/** `intermediatesBelow`: how many intermediates lie between `ca` and the leaf. */
function caProblem(ca: CertInfo, now: Date, intermediatesBelow: number, leaf: CertInfo): Omit<ChainProblem, 'cert' | 'candidate'> | undefined {
  if (ca.unhandledCritical.length > 0) {
    return { code: 'unhandled-critical', message: `'${ca.subject}' has a critical extension Go does not handle (${ca.unhandledCritical.join(', ')})` };
  }
  // Go checks the leaf's names and the CA's own SANs
  const violation = (leaf.sanValue !== undefined ? nameConstraintViolation(ca, leaf) : undefined)
    ?? (ca.sanValue !== undefined ? nameConstraintViolation(ca, ca) : undefined);
  if (violation) {
    return { code: 'name-constraints', message: violation.message, violation };
  }
  if (ca.version !== 3 || !ca.isCa) {
    return { code: 'not-ca', message: `'${ca.subject}' is not a CA (basicConstraints CA:FALSE)` };
  }
  if (ca.keyUsage && !ca.keyUsage.keyCertSign) {
    return { code: 'no-cert-sign', message: `'${ca.subject}' lacks keyUsage keyCertSign` };
  }
  if (!allowsServerAuth(ca)) {
    return { code: 'eku', message: `'${ca.subject}' has extendedKeyUsage ${ca.extKeyUsage!.join(', ')} without serverAuth, so no certificate it issues may serve TLS` };
  }
  if (ca.maxPathLen !== undefined && intermediatesBelow > ca.maxPathLen) {
    return { code: 'path-len', message: `'${ca.subject}' allows ${ca.maxPathLen} intermediate(s) below it (pathLenConstraint), the chain has ${intermediatesBelow}` };
  }
  const time = validityProblem(ca, now);
  if (time) {
    return { code: time, message: `'${ca.subject}' is not valid now (${fmt(ca.notBefore)} to ${fmt(ca.notAfter)})` };
  }
  return undefined;
}

/**
 * ISO date without milliseconds, for messages.
 * @internal
 */
export function formatDate(d: Date): string {
  return fmt(d);
}
