import { Duration } from 'cdk8s';
import { CertificateStore } from './certificate-store';
import { createCa, issueServingCertificate, KeyPairPem } from './pki';
import { assertCurrentlyValid, assertIsCa, assertKeyMatches, CertInfo, formatDate, parseCertificates, parsePrivateKey, rsaBits } from './x509';

/** Store file names. */
const CA_CERT = 'ca.crt';
const CA_KEY = 'ca.key';
const TLS_CERT = 'tls.crt';
const TLS_KEY = 'tls.key';

/**
 * A CA that is ready to sign: its PEM and what was parsed of it.
 * @internal
 */
export interface SigningCa extends KeyPairPem {
  readonly info: CertInfo;
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
  readonly keyBits: number;
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

function corrupt(store: CertificateStore, name: string, reason: string, fix: string): Error {
  return new Error(`store: '${store._path(name)}' is unusable (${reason}); ${fix}. Nothing in the store was changed`);
}

/**
 * Validates a CA given by the user (certificate and key PEM).
 * @internal
 */
export function loadUserCa(prop: string, certPem: string, certSource: string, keyPem: string, keySource: string, now: Date): SigningCa {
  const example = '/etc/kubernetes/pki/ca.crt';
  const certs = parseCertificates(`${prop}.caCertificate`, certPem, certSource);
  if (certs.length > 1) {
    throw new Error(`${prop}.caCertificate: ${certSource} holds ${certs.length} certificates; pass only the signing CA certificate (e.g. ${example})`);
  }
  const info = certs[0];
  assertIsCa(`${prop}.caCertificate`, info, example);
  assertCurrentlyValid(`${prop}.caCertificate`, info, now, 'the CA certificate');
  const key = parsePrivateKey(`${prop}.caKey`, keyPem, keySource);
  assertKeyMatches(`${prop}.caKey`, info, key, 'the CA certificate');
  return { certPem: info.pem, keyPem, info };
}

/**
 * Returns the dedicated CA kept in the store, creating it on first use. An
 * existing CA is never replaced: if it is unusable, this throws.
 * @internal
 */
export function ensureDedicatedCa(prop: string, store: CertificateStore, commonName: string, validity: Duration, keyBits: number, now: Date): SigningCa & { created: boolean } {
  const certPem = store._read(CA_CERT);
  const keyPem = store._read(CA_KEY);
  const moveAside = `restore the file from your backup, or move the store directory '${store.directory}' aside to create a new CA (the APIService's caBundle then changes)`;
  if (certPem === undefined && keyPem === undefined) {
    const ca = createCa({ commonName, validityDays: validity.toDays(), keyBits, now });
    store._write({ [CA_KEY]: ca.keyPem, [CA_CERT]: ca.certPem });
    const info = parseCertificates(prop, ca.certPem, store._path(CA_CERT))[0];
    return { ...ca, info, created: true };
  }
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? CA_CERT : CA_KEY;
    throw corrupt(store, missing, `it is missing while ${missing === CA_CERT ? CA_KEY : CA_CERT} exists`, moveAside);
  }
  let info: CertInfo;
  try {
    info = parseCertificates(prop, certPem, store._path(CA_CERT))[0];
    assertIsCa(prop, info, store._path(CA_CERT));
  } catch (e: any) {
    throw corrupt(store, CA_CERT, e.message, moveAside);
  }
  try {
    const key = parsePrivateKey(prop, keyPem, store._path(CA_KEY));
    assertKeyMatches(prop, info, key, 'the stored CA certificate');
  } catch (e: any) {
    throw corrupt(store, CA_KEY, e.message, moveAside);
  }
  if (info.notAfter.getTime() <= now.getTime()) {
    throw new Error(`${prop}: the dedicated CA in '${store.directory}' expired on ${formatDate(info.notAfter)}; it is never replaced silently: move '${store._path(CA_CERT)}' and '${store._path(CA_KEY)}' aside to create a new one, then apply the new APIService caBundle together with the new Secret`);
  }
  return { certPem, keyPem, info, created: false };
}

/**
 * Returns the serving certificate kept in the store if it still fits the
 * request and the CA; otherwise issues and stores a new one.
 * @internal
 */
export function ensureServingCertificate(prop: string, store: CertificateStore, ca: SigningCa, request: ServingRequest): ServingResult {
  const warnings: string[] = [];
  const caRemaining = ca.info.notAfter.getTime() - request.now.getTime();
  if (caRemaining < request.renewBefore.toMilliseconds()) {
    warnings.push(`${prop}: the signing CA (${ca.info.subject}) expires on ${formatDate(ca.info.notAfter)}, within the renewBefore window; the serving certificate cannot outlive it: plan the CA's renewal`);
  }

  const certPem = store._read(TLS_CERT);
  const keyPem = store._read(TLS_KEY);
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
    let bits: number | undefined;
    try {
      const key = parsePrivateKey(prop, keyPem, store._path(TLS_KEY));
      keyOk = info.x509.checkPrivateKey(key);
      bits = rsaBits(key);
    } catch (e: any) {
      throw corrupt(store, TLS_KEY, e.message, fix);
    }
    if (keyOk && fits(info, bits, ca, request)) {
      return { certPem, keyPem, issued: false, warnings };
    }
  }

  const issued = issueServingCertificate(prop, {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: request.commonName,
    dnsNames: request.dnsNames,
    validityDays: request.validity.toDays(),
    keyBits: request.keyBits,
    now: request.now,
  });
  store._write({ [TLS_KEY]: issued.keyPem, [TLS_CERT]: issued.certPem });
  return { ...issued, issued: true, warnings };
}

/**
 * Whether a stored certificate can be kept: same CA, same names and key size,
 * valid now, and either far from expiry or already as long-lived as the CA allows.
 */
function fits(cert: CertInfo, keyBits: number | undefined, ca: SigningCa, request: ServingRequest): boolean {
  const now = request.now.getTime();
  const sameNames = cert.x509.subject === `CN=${request.commonName}`
    && cert.dnsNames.length === request.dnsNames.length
    && [...cert.dnsNames].sort().join(',') === [...request.dnsNames].sort().join(',');
  const signedByCa = cert.x509.checkIssued(ca.info.x509) && cert.x509.verify(ca.info.x509.publicKey);
  const current = cert.notBefore.getTime() <= now && cert.notAfter.getTime() > now;
  const farFromExpiry = cert.notAfter.getTime() - now > request.renewBefore.toMilliseconds();
  const cappedByCa = cert.notAfter.getTime() >= ca.info.notAfter.getTime();
  return sameNames && signedByCa && current && keyBits === request.keyBits && (farFromExpiry || cappedByCa);
}
