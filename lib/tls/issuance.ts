import { createHash, createPublicKey, KeyObject } from 'crypto';
import { Duration } from 'cdk8s';
import { CertificateStore } from './certificate-store';
import { KeyAlgorithm } from './key-algorithm';
import { BACKDATE_MS, createCa, issueServingCertificate, KeyPairPem } from './pki';
import {
  assertCanIssueServing, assertCurrentlyValid, assertIsCa, assertKeyMatches, assertServingCertificate, canonicalCertificatePem, CertInfo, formatDate,
  parseCertificates, parsePrivateKey, readPrivateKey, signs,
} from './x509';

/** Store file names. */
const CA_CERT = 'ca.crt';
const CA_KEY = 'ca.key';
const TLS_CERT = 'tls.crt';
const TLS_KEY = 'tls.key';
/**
 * The record of the last store contents that passed every check, with the
 * dates that decide renewal. It holds no key material. It is bound to the
 * exact bytes of the CA, the serving certificate and key and the request by a
 * SHA-256 digest, so any change to any of them means a full check again.
 */
const CHECKED = 'checked.json';
/** Bumped whenever the checks change, so that older records are not trusted. */
const CHECK_VERSION = 3;

/**
 * A CA that is ready to sign: its PEM and what was parsed of it.
 * @internal
 */
export interface SigningCa extends KeyPairPem {
  readonly info: CertInfo;
  // -- issue 11 (key algorithms): the parsed key, and warnings about weak CAs
  readonly key: KeyObject;
  readonly warnings?: string[];
  // -- end issue 11
}

/**
 * A signing CA as read, before it is parsed and checked.
 * @internal
 */
export interface CaSource {
  /** the CA certificate, canonical PEM (this is also the caBundle) */
  readonly certPem: string;
  readonly keyPem: string;
  /** parses and checks the CA, throwing the strategy's errors */
  validate(): SigningCa;
}

/**
 * What a serving certificate must look like; a stored one that differs is reissued.
 * @internal
 */
export interface ServingRequest {
  readonly commonName: string;
  readonly dnsNames: string[];
  readonly validity: Duration;
  readonly renewBefore: Duration;
  // -- issue 11 (key algorithms): undefined follows the CA's key type
  readonly keyAlgorithm?: KeyAlgorithm;
  // -- end issue 11
  readonly now: Date;
}

/**
 * Outcome of making sure the store holds a usable serving certificate.
 * @internal
 */
export interface ServingResult extends KeyPairPem {
  /** true when a new certificate was issued in this synth */
  readonly issued: boolean;
  readonly warnings: string[];
}

/** Validity windows and the CA's name, as kept in the check record. */
interface Dates {
  readonly caSubject: string;
  readonly caNotBefore: number;
  readonly caNotAfter: number;
  readonly notBefore: number;
  readonly notAfter: number;
}

function corrupt(store: CertificateStore, name: string, reason: string, fix: string): Error {
  return new Error(`store: '${store._path(name)}' is unusable (${reason}); ${fix}. Nothing in the store was changed`);
}

/**
 * A CA given by the user (certificate and key PEM), checked on demand.
 * @internal
 */
export function userCa(prop: string, certPem: string, certSource: string, keyPem: string, keySource: string, now: Date, dnsNames: string[]): CaSource {
  return {
    certPem: canonicalCertificatePem(certPem),
    keyPem,
    validate: () => {
      const example = '/etc/kubernetes/pki/ca.crt';
      const certs = parseCertificates(`${prop}.caCertificate`, certPem, certSource);
      if (certs.length > 1) {
        throw new Error(`${prop}.caCertificate: ${certSource} holds ${certs.length} certificates; pass only the signing CA certificate (e.g. ${example})`);
      }
      const info = certs[0];
      // -- issue 11: the checks Go makes of a CA (EKU, name constraints, key size, critical extensions)
      const warnings = assertCanIssueServing(`${prop}.caCertificate`, info, dnsNames, example);
      assertCurrentlyValid(`${prop}.caCertificate`, info, now, 'the CA certificate');
      const key = readPrivateKey(`${prop}.caKey`, keyPem, keySource);
      assertKeyMatches(`${prop}.caKey`, info, key.key, 'the CA certificate');
      assertCanSign(`${prop}.caKey`, key.key);
      return { certPem: canonicalCertificatePem(certPem), keyPem: key.pem, info, key: key.key, warnings };
      // -- end issue 11
    },
  };
}

/**
 * The dedicated CA kept in the store, created on first use. An existing CA
 * is never replaced: if it is unusable, validating it throws.
 * @internal
 */
export function dedicatedCa(prop: string, store: CertificateStore, commonName: string, validity: Duration, keyAlgorithm: KeyAlgorithm, now: Date): CaSource {
  const certPem = store._read(CA_CERT);
  const keyPem = store._read(CA_KEY);
  const moveAside = `restore the file from your backup, or move the store directory '${store.directory}' aside to create a new CA (the APIService's caBundle then changes)`;
  if (certPem === undefined && keyPem === undefined) {
    const orphans = [TLS_CERT, TLS_KEY].filter(name => store._read(name) !== undefined);
    if (orphans.length > 0) {
      throw new Error(`store: '${store.directory}' holds ${orphans.join(' and ')} but no dedicated CA (${CA_CERT}, ${CA_KEY}); restore the CA from your backup, or delete ${orphans.map(o => `'${store._path(o)}'`).join(' and ')} to start over with a new CA. Nothing in the store was changed`);
    }
    const ca = createCa({ commonName, validityDays: validity.toDays(), keyAlgorithm, now });
    store._write({ [CA_KEY]: ca.keyPem, [CA_CERT]: ca.certPem });
    const info = parseCertificates(prop, ca.certPem, store._path(CA_CERT))[0];
    return { certPem: canonicalCertificatePem(ca.certPem), keyPem: ca.keyPem, validate: () => ({ ...ca, info, key: parsePrivateKey(prop, ca.keyPem, store._path(CA_KEY)) }) };
  }
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? CA_CERT : CA_KEY;
    throw corrupt(store, missing, `it is missing while ${missing === CA_CERT ? CA_KEY : CA_CERT} exists`, moveAside);
  }
  return {
    certPem: canonicalCertificatePem(certPem),
    keyPem,
    validate: () => {
      let info: CertInfo;
      try {
        info = parseCertificates(prop, certPem, store._path(CA_CERT))[0];
        assertIsCa(prop, info, store._path(CA_CERT));
      } catch (e: any) {
        throw corrupt(store, CA_CERT, e.message, moveAside);
      }
      let key: KeyObject;
      try {
        key = parsePrivateKey(prop, keyPem, store._path(CA_KEY));
        assertKeyMatches(prop, info, key, 'the stored CA certificate');
      } catch (e: any) {
        throw corrupt(store, CA_KEY, e.message, moveAside);
      }
      if (info.notAfter.getTime() <= now.getTime()) {
        throw new Error(`${prop}: the dedicated CA in '${store.directory}' expired on ${formatDate(info.notAfter)}; it is never replaced silently: move '${store._path(CA_CERT)}' and '${store._path(CA_KEY)}' aside to create a new one, then apply the new APIService caBundle together with the new Secret`);
      }
      if (info.notBefore.getTime() > now.getTime()) {
        throw new Error(`${prop}: the dedicated CA in '${store.directory}' is not valid before ${formatDate(info.notBefore)}; check the clock of this machine (and of the one that created '${store._path(CA_CERT)}')`);
      }
      return { certPem, keyPem, info, key };
    },
  };
}

/**
 * Returns the serving certificate kept in the store if it still fits the
 * request and the CA; otherwise issues and stores a new one.
 *
 * When the store's bytes and the request are exactly those of the last full
 * check (the check record), only the dates are looked at again: nothing is
 * parsed. Anything else gets every check.
 * @internal
 */
export function ensureServingCertificate(prop: string, store: CertificateStore, source: CaSource, request: ServingRequest): ServingResult {
  const certPem = store._read(TLS_CERT);
  const keyPem = store._read(TLS_KEY);
  const recordText = store._read(CHECKED);

  if (certPem !== undefined && keyPem !== undefined) {
    const record = readRecord(recordText);
    if (record && record.digest === digest(source, certPem, keyPem, request, record.dates) && fitsInTime(record.dates, request)) {
      return { certPem, keyPem, issued: false, warnings: [...record.caWarnings, ...caWarnings(prop, record.dates, request)] };
    }
  }

  const ca = source.validate();
  const keyAlgorithm = request.keyAlgorithm ?? followCa(ca.key);
  let result: ServingResult | undefined;
  if (certPem !== undefined || keyPem !== undefined) {
    const fix = `restore it from your backup, or delete '${store._path(TLS_CERT)}' and '${store._path(TLS_KEY)}' to issue a new serving certificate`;
    if (certPem === undefined || keyPem === undefined) {
      const missing = certPem === undefined ? TLS_CERT : TLS_KEY;
      throw corrupt(store, missing, `it is missing while ${missing === TLS_CERT ? TLS_KEY : TLS_CERT} exists`, fix);
    }
    let info: CertInfo;
    try {
      info = parseCertificates(prop, certPem, store._path(TLS_CERT))[0];
    } catch (e: any) {
      throw corrupt(store, TLS_CERT, e.message, fix);
    }
    let keyOk: boolean;
    let algorithm: KeyAlgorithm | undefined;
    try {
      const key = parsePrivateKey(prop, keyPem, store._path(TLS_KEY));
      keyOk = info.x509.checkPrivateKey(key);
      algorithm = KeyAlgorithm._ofKey(key);
    } catch (e: any) {
      throw corrupt(store, TLS_KEY, e.message, fix);
    }
    const dates = datesOf(ca.info, info);
    if (keyOk && algorithm === keyAlgorithm && fitsCa(info, ca, request) && fitsInTime(dates, request)) {
      result = { certPem, keyPem, issued: false, warnings: [...ca.warnings ?? [], ...caWarnings(prop, dates, request)] };
      writeRecord(store, recordText, source, result, request, dates, keyAlgorithm, ca.warnings);
    }
  }
  if (!result) {
    const issued = issueServingCertificate({
      ca: { cert: ca.info, key: ca.key },
      commonName: request.commonName,
      dnsNames: request.dnsNames,
      validityDays: request.validity.toDays(),
      keyAlgorithm,
      now: request.now,
    });
    const info = parseCertificates(prop, issued.certPem, store._path(TLS_CERT))[0];
    if (!signs(ca.info, info)) {
      throw new Error(`${prop}: the serving certificate just issued does not verify against its CA (${ca.info.subject}); nothing was stored. Report this with the CA certificate (never its key)`);
    }
    store._write({ [TLS_KEY]: issued.keyPem, [TLS_CERT]: issued.certPem });
    const dates = datesOf(ca.info, info);
    result = { ...issued, issued: true, warnings: [...ca.warnings ?? [], ...caWarnings(prop, dates, request)] };
    writeRecord(store, recordText, source, result, request, dates, keyAlgorithm, ca.warnings);
  }
  return result;
}

function datesOf(ca: CertInfo, cert: CertInfo): Dates {
  return {
    caSubject: ca.subject,
    caNotBefore: ca.notBefore.getTime(),
    caNotAfter: ca.notAfter.getTime(),
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
  };
}

/**
 * Whether a stored certificate was issued by this CA for exactly these names,
 * and passes the checks kube-apiserver makes (serverAuth, not a CA, SHA-256,
 * positive serial).
 */
function fitsCa(cert: CertInfo, ca: SigningCa, request: ServingRequest): boolean {
  const sameNames = cert.x509.subject === `CN=${request.commonName}`
    && cert.dnsNames.length === request.dnsNames.length
    && [...cert.dnsNames].sort().join(',') === [...request.dnsNames].sort().join(',');
  if (!sameNames || !signs(ca.info, cert)) {
    return false;
  }
  try {
    assertServingCertificate('store', cert, request.commonName);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the CA and the certificate are valid now, and the certificate is
 * either far from expiry or already as long-lived as the CA allows.
 */
function fitsInTime(d: Dates, request: ServingRequest): boolean {
  const now = request.now.getTime();
  const caCurrent = d.caNotBefore <= now && d.caNotAfter > now;
  const current = d.notBefore <= now && d.notAfter > now;
  const farFromExpiry = d.notAfter - now > request.renewBefore.toMilliseconds();
  const cappedByCa = d.notAfter >= d.caNotAfter;
  // a shorter validity than the stored certificate's is a changed input
  const notTooLong = d.notAfter - d.notBefore <= request.validity.toMilliseconds() + BACKDATE_MS;
  return caCurrent && current && notTooLong && (farFromExpiry || cappedByCa);
}

function caWarnings(prop: string, d: Dates, request: ServingRequest): string[] {
  if (d.caNotAfter - request.now.getTime() < request.renewBefore.toMilliseconds()) {
    return [`${prop}: the signing CA (${d.caSubject}) expires on ${formatDate(new Date(d.caNotAfter))}, within the renewBefore window; the serving certificate cannot outlive it: plan the CA's renewal`];
  }
  return [];
}

function digest(source: CaSource, certPem: string, keyPem: string, request: ServingRequest, dates: Dates): string {
  const parts = [
    String(CHECK_VERSION), source.certPem, source.keyPem, certPem, keyPem,
    request.commonName, request.dnsNames.join(','), request.keyAlgorithm?.name ?? 'follow-ca',
    JSON.stringify([dates.caSubject, dates.caNotBefore, dates.caNotAfter, dates.notBefore, dates.notAfter]),
  ];
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(`${Buffer.byteLength(part)}:`).update(part);
  }
  return hash.digest('hex');
}

function readRecord(text: string | undefined): { digest: string; dates: Dates; caWarnings: string[] } | undefined {
  if (text === undefined) {
    return undefined;
  }
  try {
    const r = JSON.parse(text);
    const d = r?.dates;
    const numbers = d && ['caNotBefore', 'caNotAfter', 'notBefore', 'notAfter'].every(k => typeof d[k] === 'number');
    if (r.version === CHECK_VERSION && typeof r.digest === 'string' && numbers && typeof d.caSubject === 'string') {
      const caWarnings = Array.isArray(r.caWarnings) && r.caWarnings.every((w: unknown) => typeof w === 'string') ? r.caWarnings : [];
      return { digest: r.digest, dates: d, caWarnings };
    }
  } catch {
    // a record that does not parse is only a cache miss: everything is checked again
  }
  return undefined;
}

function writeRecord(store: CertificateStore, current: string | undefined, source: CaSource, result: KeyPairPem, request: ServingRequest, dates: Dates,
  keyAlgorithm: KeyAlgorithm, caWarnings: string[] = []): void {
  // -- issue 11: the key algorithm, and the warnings about the CA (weak key, SHA-1) so that a warm synth repeats them
  const record = {
    version: CHECK_VERSION, digest: digest(source, result.certPem, result.keyPem, request, dates), keyAlgorithm: keyAlgorithm.name, dates,
    ...(caWarnings.length ? { caWarnings } : {}),
  };
  // -- end issue 11
  const text = JSON.stringify(record, undefined, 2) + '\n';
  if (current !== text) {
    store._write({ [CHECKED]: text });
  }
}

// -- issue 11 (key algorithms)
/**
 * The serving key algorithm that follows the CA's key: RSA 2048 for any RSA
 * CA, the CA's curve for ECDSA, Ed25519 for Ed25519.
 * @internal
 */
export function followCa(caKey: KeyObject): KeyAlgorithm {
  const pub = createPublicKey(caKey);
  if (pub.asymmetricKeyType === 'rsa') {
    return KeyAlgorithm.RSA_2048;
  }
  return KeyAlgorithm._ofKey(pub) ?? KeyAlgorithm.RSA_2048;
}

/** Throws unless the library can sign with the CA's key (RSA, ECDSA P-256/P-384/P-521, Ed25519). */
function assertCanSign(prop: string, key: KeyObject): void {
  const pub = createPublicKey(key);
  if (pub.asymmetricKeyType === 'rsa' || KeyAlgorithm._ofKey(pub)) {
    return;
  }
  const what = pub.asymmetricKeyType === 'ec' ? `ECDSA on ${pub.asymmetricKeyDetails?.namedCurve}` : pub.asymmetricKeyType;
  throw new Error(`${prop}: the CA's key is ${what}, which the library cannot sign with; the CA must be RSA, ECDSA P-256, P-384 or P-521, or Ed25519. Issue the certificate yourself and use ServingTls.fromPem(), or use ServingTls.fromDedicatedCa()`);
}
// -- end issue 11
