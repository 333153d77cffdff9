import { KeyObject, randomBytes } from 'crypto';
import { buildCertificate, keyIdentifier } from './forge-adapter';
import { KeyAlgorithm } from './key-algorithm';
import { encodePem } from './pem-decode';
import { CertInfo } from './cert-info';

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
  const started = Date.now();
  progress.before(started);
  const key = algorithm._generate();
  progress.after(started, Date.now(), algorithm.name);
  return key;
}

/** Environment variable: '1' prints key-generation progress even when stderr is not a terminal, '0' never. */
export const PROGRESS_ENV = 'SECURE_METRICS_SERVER_PROGRESS';
/** Key generation that takes longer than this (one key, or keys in a row) is reported on stderr. */
const PROGRESS_AFTER_MS = 2000;
/** Keys generated less than this apart belong to one run (one synth of a fleet). */
const RUN_GAP_MS = 1000;

/**
 * Progress of key generation on stderr: once the keys of one run (a synth
 * of a fleet of RSA-4096 CAs) have taken more than about two seconds, a line
 * says so, and then one line before each further key. Generation is
 * synchronous, so the first line comes after the key that crossed the mark.
 */
const progress = {
  runStart: 0,
  lastEnd: -Infinity,
  busyMs: 0,
  keys: 0,
  told: false,
  enabled(): boolean {
    const env = process.env[PROGRESS_ENV];
    return env === '1' || (env !== '0' && process.stderr.isTTY === true);
  },
  before(now: number): void {
    if (now - this.lastEnd > RUN_GAP_MS || now < this.lastEnd) {
      this.runStart = now;
      this.busyMs = 0;
      this.keys = 0;
      this.told = false;
    }
    if (this.told && this.enabled()) {
      process.stderr.write(`secure-metrics-server: generating key ${this.keys + 1} (${this.keys} so far in ${((now - this.runStart) / 1000).toFixed(1)} s)...\n`);
    }
  },
  after(started: number, ended: number, algorithm: string): void {
    this.lastEnd = ended;
    this.busyMs += ended - started;
    this.keys++;
    if (!this.told && this.busyMs > PROGRESS_AFTER_MS) {
      this.told = true;
      if (this.enabled()) {
        process.stderr.write(`secure-metrics-server: key generation is slow: ${this.keys} key(s) in ${(this.busyMs / 1000).toFixed(1)} s (the last ${algorithm}); the keys are kept in the certificate store, so the next synth makes none\n`);
      }
    }
  },
};

/** The latest X.509 time (RFC 5280: GeneralizedTime 99991231235959Z). */
export const MAX_NOT_AFTER = Date.UTC(9999, 11, 31, 23, 59, 59);
/** Validity periods above this many days (100 years) are refused: no key of the library is meant to live that long. */
export const MAX_VALIDITY_DAYS = 36525;

/**
 * Why a validity of `days` from `now` cannot be issued, or undefined: not a
 * positive whole number of days, over 100 years, or ending after 9999-12-31
 * (no X.509 time encodes it). Checked before any key is generated.
 * @internal
 */
export function validityDaysProblem(days: number, now: Date): string | undefined {
  if (!Number.isSafeInteger(days) || days < 1) {
    return `${days} is not a positive whole number of days`;
  }
  if (days > MAX_VALIDITY_DAYS) {
    return `${days} days is more than ${MAX_VALIDITY_DAYS} days (100 years)`;
  }
  const end = Math.floor(now.getTime() / 1000) * 1000 + days * DAY_MS;
  if (!Number.isFinite(now.getTime()) || end > MAX_NOT_AFTER) {
    return `${days} days from ${Number.isFinite(now.getTime()) ? now.toISOString() : 'an invalid date'} end after 9999-12-31T23:59:59Z, the last time an X.509 certificate can carry`;
  }
  return undefined;
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
    // RFC 5280 4.2.1.1: every certificate but a self-signed one carries authorityKeyIdentifier (OpenSSL's
    // -x509_strict refuses one without); a CA without subjectKeyIdentifier gets its key's (method 1)
    authorityKeyId: ca.subjectKeyId ?? keyIdentifier(options.ca.key),
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
