import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'crypto';
import * as forge from 'node-forge';

/**
 * Signature algorithms that Go's crypto/x509 (and so kube-apiserver) refuses.
 */
const WEAK_SIGNATURES: { [oid: string]: string } = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
};

/** extendedKeyUsage purposes that let a certificate serve TLS (anyExtendedKeyUsage, by OID: node-forge has no name for it). */
const SERVER_AUTH_EKUS = ['serverAuth', '2.5.29.37.0'];

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * What the library needs to know of one X.509 certificate.
 * @internal
 */
export interface CertInfo {
  readonly pem: string;
  readonly x509: X509Certificate;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly version: number;
  /** basicConstraints cA (false when the extension is absent) */
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint, when present */
  readonly maxPathLen?: number;
  /** keyUsage bits, or undefined when the extension is absent (any usage) */
  readonly keyUsage?: { readonly keyCertSign: boolean; readonly digitalSignature: boolean; readonly keyEncipherment: boolean };
  /** extKeyUsage purposes by name, or undefined when the extension is absent (any purpose) */
  readonly extKeyUsage?: string[];
  readonly dnsNames: string[];
  readonly signatureOid: string;
  readonly serialNegative: boolean;
  readonly selfSigned: boolean;
  /** the DER bytes of the subject and issuer names (binary strings), which Go compares byte for byte */
  readonly rawSubject: string;
  readonly rawIssuer: string;
}

/**
 * The certificates of a PEM text in canonical form: each block with LF line
 * ends, one after the other, ending with a newline. Nothing else of the text.
 * @internal
 */
export function canonicalCertificatePem(pem: string): string {
  return (pem.match(CERT_BLOCK) ?? []).map(b => b.replace(/\r\n/g, '\n')).join('\n') + '\n';
}

/**
 * Parses every certificate in a PEM text. Throws, naming `prop`, when there is
 * none or one does not parse.
 * @internal
 */
export function parseCertificates(prop: string, pem: string, source: string): CertInfo[] {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    const what = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)
      ? 'it holds a private key, not a certificate'
      : 'it holds no PEM block \'-----BEGIN CERTIFICATE-----\'';
    throw new Error(`${prop}: ${source} is not a PEM certificate (${what}); pass a PEM certificate file such as /etc/kubernetes/pki/ca.crt`);
  }
  return blocks.map((block, i) => parseOne(prop, block.replace(/\r\n/g, '\n'), source, i));
}

function parseOne(prop: string, pem: string, source: string, index: number): CertInfo {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pem);
  } catch (e: any) {
    throw new Error(`${prop}: certificate #${index + 1} in ${source} does not parse (${e.message}); pass a valid PEM certificate`);
  }
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(x509.raw.toString('binary')));
  const tbs = (asn1.value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
  let i = 0;
  let version = 1;
  if (tbs[0].tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && tbs[0].type === 0) {
    const v = (tbs[0].value as forge.asn1.Asn1[])[0].value as string;
    version = v.charCodeAt(v.length - 1) + 1;
    i++;
  }
  const serialBytes = tbs[i].value as string;
  const signatureOid = forge.asn1.derToOid((tbs[i + 1].value as forge.asn1.Asn1[])[0].value as string);
  const rawIssuer = forge.asn1.toDer(tbs[i + 2]).getBytes();
  const rawSubject = forge.asn1.toDer(tbs[i + 4]).getBytes();
  const extsNode = tbs.find(n => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const exts: any[] = extsNode ? (forge.pki as any).certificateExtensionsFromAsn1(extsNode) : [];
  const ext = (name: string) => exts.find(e => e.name === name);

  const bc = ext('basicConstraints');
  const ku = ext('keyUsage');
  const eku = ext('extKeyUsage');
  const san = ext('subjectAltName');
  const ekuNames = eku
    ? Object.keys(eku).filter(k => eku[k] === true && !['critical'].includes(k))
    : undefined;

  return {
    pem,
    x509,
    subject: x509.subject.replace(/\n/g, ', '),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    version,
    isCa: !!(bc && bc.cA),
    maxPathLen: bc && typeof bc.pathLenConstraint === 'number' ? bc.pathLenConstraint : undefined,
    keyUsage: ku ? { keyCertSign: !!ku.keyCertSign, digitalSignature: !!ku.digitalSignature, keyEncipherment: !!ku.keyEncipherment } : undefined,
    extKeyUsage: ekuNames,
    dnsNames: san ? (san.altNames as any[]).filter(n => n.type === 2).map(n => n.value as string) : [],
    signatureOid,
    serialNegative: serialBytes.length > 0 && (serialBytes.charCodeAt(0) & 0x80) !== 0,
    selfSigned: x509.checkIssued(x509),
    rawSubject,
    rawIssuer,
  };
}

/**
 * Parses a private key (PKCS#1 or PKCS#8, unencrypted).
 * @internal
 */
export function parsePrivateKey(prop: string, pem: string, source: string): KeyObject {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new Error(`${prop}: the private key in ${source} is encrypted; decrypt it first (e.g. 'openssl pkey -in key.pem -out key.decrypted.pem')`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    const what = /-----BEGIN CERTIFICATE-----/.test(pem) ? 'it holds a certificate, not a private key' : 'it holds no PEM block \'-----BEGIN ... PRIVATE KEY-----\'';
    throw new Error(`${prop}: ${source} is not a PEM private key (${what}); pass the key file, e.g. /etc/kubernetes/pki/ca.key`);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (e: any) {
    throw new Error(`${prop}: the private key in ${source} does not parse (${e.message}); pass an unencrypted PKCS#1 or PKCS#8 PEM key`);
  }
}

/**
 * Throws unless `key` is the private key of `cert`.
 * @internal
 */
export function assertKeyMatches(prop: string, cert: CertInfo, key: KeyObject, what: string): void {
  if (!cert.x509.checkPrivateKey(key)) {
    throw new Error(`${prop}: the private key does not match ${what} (${cert.subject}); pass the key that belongs to this certificate`);
  }
}

function fmt(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

/**
 * Throws if the certificate is not valid at `now`.
 * @internal
 */
export function assertCurrentlyValid(prop: string, cert: CertInfo, now: Date, what: string): void {
  if (cert.notAfter.getTime() <= now.getTime()) {
    throw new Error(`${prop}: ${what} (${cert.subject}) expired on ${fmt(cert.notAfter)}; renew it or pass a current one`);
  }
  if (cert.notBefore.getTime() > now.getTime()) {
    throw new Error(`${prop}: ${what} (${cert.subject}) is not valid before ${fmt(cert.notBefore)}; check the clock of the machine that issued it, or wait`);
  }
}

/**
 * Throws unless the certificate may sign certificates the way Go's crypto/x509
 * requires: X.509 v3, basicConstraints CA:TRUE, keyCertSign when keyUsage is present.
 * @internal
 */
export function assertIsCa(prop: string, cert: CertInfo, example: string): void {
  if (cert.version !== 3) {
    throw new Error(`${prop}: the certificate is not a CA (X.509 v${cert.version}, without basicConstraints) (${cert.subject}); pass an X.509 v3 CA certificate with basicConstraints CA:TRUE, e.g. ${example}`);
  }
  if (!cert.isCa) {
    throw new Error(`${prop}: the certificate is not a CA (basicConstraints CA:FALSE or absent) (${cert.subject}); pass the CA certificate, e.g. ${example}`);
  }
  if (cert.keyUsage && !cert.keyUsage.keyCertSign) {
    throw new Error(`${prop}: the CA certificate may not sign certificates (keyUsage without keyCertSign) (${cert.subject}); pass a CA whose keyUsage includes keyCertSign, e.g. ${example}`);
  }
}

/**
 * Throws if the certificate is signed with an algorithm kube-apiserver refuses.
 * @internal
 */
export function assertStrongSignature(prop: string, cert: CertInfo): void {
  const weak = WEAK_SIGNATURES[cert.signatureOid];
  if (weak) {
    throw new Error(`${prop}: the certificate (${cert.subject}) is signed with ${weak}, which kube-apiserver rejects; reissue it with SHA-256 (e.g. 'openssl x509 -req -sha256 ...')`);
  }
}

/**
 * Throws unless the serving certificate passes the checks kube-apiserver makes
 * when it dials `serverName`.
 * @internal
 */
export function assertServingCertificate(prop: string, cert: CertInfo, serverName: string): void {
  if (!cert.dnsNames.some(name => matchesHostname(name, serverName))) {
    const cnOnly = cert.x509.subject.split('\n').includes(`CN=${serverName}`);
    const has = cert.dnsNames.length ? `its DNS SANs are ${cert.dnsNames.join(', ')}` : 'it has no DNS SAN';
    throw new Error(`${prop}: the serving certificate is not valid for '${serverName}' (${has}${cnOnly ? '; the Common Name is ignored by kube-apiserver' : ''}); reissue it with subjectAltName DNS:${serverName}`);
  }
  if (cert.extKeyUsage && !allowsServerAuth(cert)) {
    throw new Error(`${prop}: the serving certificate's extendedKeyUsage (${cert.extKeyUsage.join(', ') || 'empty'}) does not allow serverAuth; reissue it with extendedKeyUsage = serverAuth`);
  }
  if (cert.isCa) {
    throw new Error(`${prop}: the serving certificate (${cert.subject}) is a CA certificate; pass the leaf certificate issued for '${serverName}' first in the file`);
  }
  if (cert.serialNegative) {
    throw new Error(`${prop}: the serving certificate (${cert.subject}) has a negative serial number, which Kubernetes 1.32+ rejects; reissue it`);
  }
  assertStrongSignature(prop, cert);
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

function allowsServerAuth(cert: CertInfo): boolean {
  return !cert.extKeyUsage || cert.extKeyUsage.some(u => SERVER_AUTH_EKUS.includes(u));
}

/**
 * Finds a chain from `leaf` through `intermediates` to one of `roots`, checking
 * signatures and the CA rules for every signing certificate. Returns undefined on
 * success, or the reason it failed.
 * @internal
 */
export function verifyChain(leaf: CertInfo, intermediates: CertInfo[], roots: CertInfo[], now: Date): string | undefined {
  let current = leaf;
  const seen = new Set<CertInfo>();
  for (let depth = 0; depth < 8; depth++) {
    // Go checks the signature on every certificate below the root, the CA
    // rules on every signing certificate (roots too) and extendedKeyUsage
    // down the whole chain
    const weak = WEAK_SIGNATURES[current.signatureOid];
    if (weak) {
      return `'${current.subject}' is signed with ${weak}`;
    }
    const root = roots.find(r => signs(r, current));
    if (root) {
      return caProblem(root, now, depth);
    }
    const next = intermediates.find(c => !seen.has(c) && c !== current && signs(c, current));
    if (!next) {
      return `no certificate in the CA bundle signed '${current.subject}'`;
    }
    const problem = caProblem(next, now, depth);
    if (problem) {
      return problem;
    }
    seen.add(next);
    current = next;
  }
  return 'the chain is longer than 8 certificates';
}

/**
 * Whether `issuer` signed `cert` as Go's chain building sees it: the issuer
 * name equal to the CA's subject byte for byte (OpenSSL compares a normalized
 * form, Go does not), and the signature valid under the CA's key.
 * @internal
 */
export function signs(issuer: CertInfo, cert: CertInfo): boolean {
  return cert.rawIssuer === issuer.rawSubject && cert.x509.verify(issuer.x509.publicKey);
}

/** `intermediatesBelow`: how many intermediates lie between `ca` and the leaf. */
function caProblem(ca: CertInfo, now: Date, intermediatesBelow: number): string | undefined {
  if (ca.version !== 3 || !ca.isCa) {
    return `'${ca.subject}' is not a CA (basicConstraints CA:FALSE)`;
  }
  if (ca.keyUsage && !ca.keyUsage.keyCertSign) {
    return `'${ca.subject}' lacks keyUsage keyCertSign`;
  }
  if (!allowsServerAuth(ca)) {
    return `'${ca.subject}' has extendedKeyUsage ${ca.extKeyUsage!.join(', ') || '(empty)'} without serverAuth, so no certificate it issues may serve TLS`;
  }
  if (ca.maxPathLen !== undefined && intermediatesBelow > ca.maxPathLen) {
    return `'${ca.subject}' allows ${ca.maxPathLen} intermediate(s) below it (pathLenConstraint), the chain has ${intermediatesBelow}`;
  }
  if (ca.notAfter.getTime() <= now.getTime() || ca.notBefore.getTime() > now.getTime()) {
    return `'${ca.subject}' is not valid now (${fmt(ca.notBefore)} to ${fmt(ca.notAfter)})`;
  }
  return undefined;
}

/**
 * Whether a public key is RSA and of which size (undefined for other kinds).
 * @internal
 */
export function rsaBits(key: KeyObject): number | undefined {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.asymmetricKeyType === 'rsa' ? pub.asymmetricKeyDetails?.modulusLength : undefined;
}

/**
 * ISO date without milliseconds, for messages.
 * @internal
 */
export function formatDate(d: Date): string {
  return fmt(d);
}
