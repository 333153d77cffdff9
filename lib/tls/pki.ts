import { KeyObject, randomBytes } from 'crypto';
import { buildCertificate, keyIdentifier } from './forge-adapter';
import { KeyAlgorithm } from './key-algorithm';
import { encodePem } from './pem-decode';
import { CertInfo } from './x509';

/**
 * How far `notBefore` is set back, to tolerate clock skew between nodes.
 * @internal
 */
export const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

let keysGenerated = 0;

/**
 * Number of keys this process has generated (for tests and benchmarks:
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

/** Kubernetes tooling writes LF line ends. */
function lf(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}

/**
 * Generates a key of the given algorithm with Node's crypto.
 * @internal
 */
export function generateKey(algorithm: KeyAlgorithm): KeyObject {
  keysGenerated++;
  return algorithm._generate();
}

/**
 * A private key as PEM: PKCS#1 for RSA (as kubeadm and node-forge write it),
 * PKCS#8 for the others.
 * @internal
 */
export function privateKeyPem(key: KeyObject): string {
  const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'pkcs8';
  return lf(key.export({ type, format: 'pem' }) as string);
}

/**
 * A positive serial of 128 random bits, minimally DER-encoded (first byte 0x40..0x7f).
 */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x3f) | 0x40;
  return bytes.toString('hex');
}

function validity(now: Date, days: number, notAfterMax?: Date): { notBefore: Date; notAfter: Date } {
  const start = Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000;
  let end = Math.floor(now.getTime() / 1000) * 1000 + days * DAY_MS;
  if (notAfterMax && end > notAfterMax.getTime()) {
    end = notAfterMax.getTime();
  }
  return { notBefore: new Date(start), notAfter: new Date(end) };
}

/**
 * Options for a self-signed CA.
 * @internal
 */
export interface CaOptions {
  readonly commonName: string;
  readonly validityDays: number;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly now: Date;
}

/**
 * Creates a self-signed CA: v3, CA:TRUE (critical), keyCertSign+cRLSign,
 * SHA-256 (or the digest of the curve, or Ed25519).
 * @internal
 */
export function createCa(options: CaOptions): KeyPairPem {
  const key = generateKey(options.keyAlgorithm);
  const der = buildCertificate({
    serialHex: randomSerial(),
    ...validity(options.now, options.validityDays),
    commonName: options.commonName,
    publicKey: key,
    signerKey: key,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { certPem: encodePem('CERTIFICATE', der), keyPem: privateKeyPem(key) };
}

/**
 * The subjectKeyIdentifier every RSA certificate carried that the library
 * issued between its own certificate builder (forge-adapter) and the fix: the
 * SHA-1 of nothing (node-forge handed the key's BIT STRING over as child
 * nodes, and nothing was hashed). Binary string.
 * @internal
 */
export const EMPTY_SHA1_KEY_ID = Buffer.from('da39a3ee5e6b4b0d3255bfef95601890afd80709', 'hex').toString('binary');

/**
 * Whether a CA certificate the library made carries the key identifier of
 * the old bug (the SHA-1 of nothing) instead of its key's.
 * @internal
 */
export function hasEmptyKeyId(cert: CertInfo, key: KeyObject): boolean {
  return cert.subjectKeyId === EMPTY_SHA1_KEY_ID && keyIdentifier(key) !== EMPTY_SHA1_KEY_ID;
}

/**
 * The same CA certified again: the same key, the same subject and issuer name
 * (byte for byte), the same validity and the extensions the library gives a
 * CA, a new serial, and the key identifier of its key (RFC 5280 method 1).
 * Anything it signed verifies under it as under the original.
 * @internal
 */
export function recertifyCa(cert: CertInfo, key: KeyObject): string {
  const der = buildCertificate({
    serialHex: randomSerial(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    commonName: 'unused',
    rawSubject: cert.rawSubject,
    rawIssuer: cert.rawSubject,
    publicKey: key,
    signerKey: key,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return encodePem('CERTIFICATE', der);
}

/**
 * Options for a serving certificate.
 * @internal
 */
export interface ServingCertOptions {
  readonly ca: SigningKeyPair;
  readonly commonName: string;
  readonly dnsNames: string[];
  readonly validityDays: number;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly now: Date;
}

/**
 * A CA ready to sign: its parsed certificate and its private key.
 * @internal
 */
export interface SigningKeyPair {
  readonly cert: CertInfo;
  readonly key: KeyObject;
}

/**
 * Issues a serving certificate signed by the CA: v3, CA:FALSE, keyUsage
 * digitalSignature (+keyEncipherment for RSA keys), EKU serverAuth, DNS SANs,
 * SHA-256 (or the curve's digest, or Ed25519), positive random serial, never
 * valid past the CA, issuer name copied byte for byte from the CA's subject.
 * @internal
 */
export function issueServingCertificate(options: ServingCertOptions): KeyPairPem {
  const key = generateKey(options.keyAlgorithm);
  const ca = options.ca.cert;
  const keyUsage: any = { name: 'keyUsage', digitalSignature: true, critical: true };
  if (options.keyAlgorithm._kind === 'rsa') {
    // RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment; Go sets it only for RSA keys
    keyUsage.keyEncipherment = true;
  }
  const der = buildCertificate({
    serialHex: randomSerial(),
    ...validity(options.now, options.validityDays, ca.notAfter),
    commonName: options.commonName,
    publicKey: key,
    signerKey: options.ca.key,
    rawIssuer: ca.rawSubject,
    authorityKeyId: ca.subjectKeyId,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      keyUsage,
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: options.dnsNames.map(value => ({ type: 2, value })) },
    ],
  });
  return { certPem: encodePem('CERTIFICATE', der), keyPem: privateKeyPem(key) };
}

/**
 * An RSA key of `bits` (for the benchmark of key generation).
 * @internal
 */
export function generateRsaKey(bits: number): KeyObject {
  const algorithm = KeyAlgorithm._ofRsaBits(bits);
  if (!algorithm) {
    throw new Error(`RSA ${bits} is not a key size the library generates`);
  }
  return generateKey(algorithm);
}
