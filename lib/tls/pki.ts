import { createPrivateKey, randomBytes } from 'crypto';
import * as forge from 'node-forge';

/**
 * How far `notBefore` is set back, to tolerate clock skew between nodes.
 * @internal
 */
export const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

let keysGenerated = 0;

/**
 * Number of RSA keys this process has generated (for tests and benchmarks:
 * a synth from a warm certificate store generates none).
 */
export function generatedKeyCount(): number {
  return keysGenerated;
}

/**
 * A certificate and its private key, PEM encoded.
 * @internal
 */
export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

/** node-forge writes CRLF line ends; Kubernetes tooling writes LF. */
function lf(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}

/**
 * Generates an RSA key. node-forge hands this to Node's native
 * `crypto.generateKeyPairSync` as long as no PRNG of its own is passed, which
 * is what this does.
 * @internal
 */
export function generateRsaKey(bits: number): forge.pki.rsa.KeyPair {
  keysGenerated++;
  return forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
}

/**
 * A positive serial of 128 random bits, minimally DER-encoded (first byte 0x40..0x7f).
 */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x3f) | 0x40;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, now: Date, days: number, notAfterMax?: Date): void {
  const start = Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000;
  let end = Math.floor(now.getTime() / 1000) * 1000 + days * DAY_MS;
  if (notAfterMax && end > notAfterMax.getTime()) {
    end = notAfterMax.getTime();
  }
  cert.validity.notBefore = new Date(start);
  cert.validity.notAfter = new Date(end);
}

/**
 * Options for a self-signed CA.
 * @internal
 */
export interface CaOptions {
  readonly commonName: string;
  readonly validityDays: number;
  readonly keyBits: number;
  readonly now: Date;
}

/**
 * Creates a self-signed CA: v3, CA:TRUE (critical), keyCertSign+cRLSign, SHA-256.
 * @internal
 */
export function createCa(options: CaOptions): KeyPairPem {
  const keys = generateRsaKey(options.keyBits);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, options.now, options.validityDays);
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    certPem: lf(forge.pki.certificateToPem(cert)),
    keyPem: lf(forge.pki.privateKeyToPem(keys.privateKey)),
  };
}

/**
 * Options for a serving certificate.
 * @internal
 */
export interface ServingCertOptions {
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly commonName: string;
  readonly dnsNames: string[];
  readonly validityDays: number;
  readonly keyBits: number;
  readonly now: Date;
}

/**
 * Loads a CA for signing with node-forge, which handles RSA only.
 * @internal
 */
export function loadSigningCa(prop: string, certPem: string, keyPem: string): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  let cert: forge.pki.Certificate;
  let key: forge.pki.rsa.PrivateKey;
  try {
    cert = forge.pki.certificateFromPem(certPem);
    const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem' }) as string;
    key = forge.pki.privateKeyFromPem(pkcs8) as forge.pki.rsa.PrivateKey;
    if (!key || typeof (key as any).sign !== 'function') {
      throw new Error('not RSA');
    }
  } catch {
    throw new Error(`${prop}: only RSA CAs can issue the serving certificate at synth time; for an ECDSA or Ed25519 CA, issue the certificate yourself and use ServingTls.fromPem(), or use ServingTls.fromDedicatedCa()`);
  }
  return { cert, key };
}

/**
 * Issues a serving certificate signed by the CA: v3, CA:FALSE, keyUsage
 * digitalSignature+keyEncipherment, EKU serverAuth, DNS SANs, SHA-256,
 * positive random serial, never valid past the CA.
 * @internal
 */
export function issueServingCertificate(prop: string, options: ServingCertOptions): KeyPairPem {
  const ca = loadSigningCa(prop, options.caCertPem, options.caKeyPem);
  const keys = generateRsaKey(options.keyBits);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, options.now, options.validityDays, ca.cert.validity.notAfter);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  // replaced by the CA's subject bytes when signing (below)
  cert.setIssuer(ca.cert.subject.attributes);
  const caSki = ca.cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  const extensions: any[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: options.dnsNames.map(value => ({ type: 2, value })) },
    { name: 'subjectKeyIdentifier' },
  ];
  if (caSki?.subjectKeyIdentifier) {
    extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(caSki.subjectKeyIdentifier) });
  }
  cert.setExtensions(extensions);
  // Signed as cert.sign() does, with one difference: Go finds the issuer by
  // comparing the issuer name with the CA's subject byte for byte, and
  // node-forge re-encodes names from their attributes (which changes UTF8String
  // values outside ASCII and splits multi-valued RDNs), so the issuer written
  // is the CA's subject exactly as it stands in the CA certificate
  const md = forge.md.sha256.create();
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  const tbs = (forge.pki as any).getTBSCertificate(cert) as forge.asn1.Asn1;
  const fields = tbs.value as forge.asn1.Asn1[];
  const caFields = ((ca.cert as any).tbsCertificate as forge.asn1.Asn1).value as forge.asn1.Asn1[];
  const caOffset = caFields[0].tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  fields[3] = caFields[caOffset + 4];
  (cert as any).tbsCertificate = tbs;
  (cert as any).md = md;
  md.update(forge.asn1.toDer(tbs).getBytes());
  cert.signature = ca.key.sign(md);
  return {
    certPem: lf(forge.pki.certificateToPem(cert)),
    keyPem: lf(forge.pki.privateKeyToPem(keys.privateKey)),
  };
}
