import { createHash } from 'crypto';
import { KeyAlgorithm } from '../x509/key-algorithm';
import { BACKDATE_MS, KeyPairPem } from '../x509/pki';
import { readOptional, writeAtomic } from './store-files';
import { formatDate } from '../x509/x509';
import { assertServingCertificate } from '../x509/serving-checks';
import { CertInfo } from '../x509/cert-info';
import { signs } from '../x509/chain';
import { CaSource, Dates, ServingRequest, SigningCa } from './issuance-types';

/**
 * The record of the last store contents that passed every check, with the
 * dates that decide renewal. It holds no key material. It is bound to the
 * exact bytes of the CA, the serving certificate and key and the request by a
 * SHA-256 digest, so any change to any of them means a full check again. It
 * is a cache: one that cannot be read or written only means a full check.
 */
export const RECORD_SUFFIX = '.checked.json';
/** Bumped whenever the checks change, so that older records are not trusted. */
const CHECK_VERSION = 3;

export function datesOf(ca: CertInfo, cert: CertInfo): Dates {
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
export function fitsCa(cert: CertInfo, ca: SigningCa, request: ServingRequest): boolean {
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
export function fitsInTime(d: Dates, request: ServingRequest): boolean {
  const now = request.now.getTime();
  const caCurrent = d.caNotBefore <= now && d.caNotAfter > now;
  const current = d.notBefore <= now && d.notAfter > now;
  const farFromExpiry = d.notAfter - now > request.renewBefore.toMilliseconds();
  const cappedByCa = d.notAfter >= d.caNotAfter;
  // a shorter validity than the stored certificate's is a changed input
  const notTooLong = d.notAfter - d.notBefore <= request.validity.toMilliseconds() + BACKDATE_MS;
  return caCurrent && current && notTooLong && (farFromExpiry || cappedByCa);
}

export function caWarnings(prop: string, d: Dates, request: ServingRequest): string[] {
  if (d.caNotAfter - request.now.getTime() < request.renewBefore.toMilliseconds()) {
    return [`${prop}: the signing CA (${d.caSubject}) expires on ${formatDate(new Date(d.caNotAfter))}, within the renewBefore window; the serving certificate cannot outlive it: plan the CA's renewal`];
  }
  return [];
}

export function digest(source: CaSource, certPem: string, keyPem: string, request: ServingRequest, dates: Dates): string {
  const parts = [
    String(CHECK_VERSION), source.certPem, source.keyPem, certPem, keyPem,
    // CA rotation: the bundle's second CA, when there is one
    ...(source.bundlePem !== undefined ? [source.bundlePem] : []),
    request.commonName, request.dnsNames.join(','), request.keyAlgorithm?.name ?? 'follow-ca',
    JSON.stringify([dates.caSubject, dates.caNotBefore, dates.caNotAfter, dates.notBefore, dates.notAfter]),
  ];
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(`${Buffer.byteLength(part)}:`).update(part);
  }
  return hash.digest('hex');
}

export function readRecord(text: string | undefined): { digest: string; dates: Dates; caWarnings: string[] } | undefined {
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

/** The check record's text, or undefined when it is missing or unreadable (a cache miss, never a failure). */
export function readRecordText(file: string): string | undefined {
  try {
    return readOptional(file);
  } catch {
    return undefined;
  }
}

/** Writes the check record when it changed; a record that cannot be written is skipped (the next synth checks in full). */
export function writeRecord(file: string, current: string | undefined, source: CaSource, result: KeyPairPem, request: ServingRequest, dates: Dates,
  keyAlgorithm: KeyAlgorithm, caWarnings: string[] = []): void {
  // the key algorithm, and the warnings about the CA (weak key, SHA-1) so that a warm synth repeats them
  const record = {
    version: CHECK_VERSION, digest: digest(source, result.certPem, result.keyPem, request, dates), keyAlgorithm: keyAlgorithm.name, dates,
    ...(caWarnings.length ? { caWarnings } : {}),
  };
  const text = JSON.stringify(record, undefined, 2) + '\n';
  if (current !== text) {
    try {
      writeAtomic(file, text);
    } catch {
      // only a cache: a read-only store still synthesizes
    }
  }
}
