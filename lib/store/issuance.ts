import { createPublicKey, KeyObject } from 'crypto';

import * as path from 'path';
import { Duration } from 'cdk8s';

import { caParamsJson, recoverRotation, rotationDirectories } from './rotation-state';

import { KeyAlgorithm } from '../x509/key-algorithm';
import { createCa, issueServingCertificate, validityDaysProblem } from '../x509/pki';

import { CA_CERT, CA_KEY, commitUnit, crashPoint, exists, hasLeftovers, PARAMS_FILE, recoverUnit, removeDeadTemporaries, writeAtomic } from './store-files';
import { clusterNameOf } from './store-paths';
import { acquireLock, lockLeftBehind } from './store-lock';
import { assertCurrentlyValid, assertKeyMatches, canonicalCertificatePem, parseCertificates, parsePrivateKey, readPrivateKey } from '../x509/x509';
import { assertCanIssueServing, assertIsCa } from '../x509/serving-checks';
import { CertInfo } from '../x509/cert-info';
import { signs } from '../x509/chain';
import { CaSource, NEEDS_LOCK, Paths, ServingResult, StoreIssueRequest } from './issuance-types';
import { caWarnings, datesOf, digest, fitsCa, fitsInTime, readRecord, readRecordText, writeRecord } from './check-record';
import { TLS_CERT, TLS_KEY, pathsOf, readPair } from './units';
import { adoptLegacyLayout } from './legacy-adoption';
import { checkRenameLater } from './rename-check';
import { corrupt, once } from './units';
import { bundleOf, expiryOf, mendStagedKeyId, rotationWarnings, storedCa, withRotation } from './synth-rotation';
import { assertLocalStoreMayWrite } from './frozen';

/**
 * A CA given by the user (certificate and key PEM), checked on demand.
 * @internal
 */
export function userCa(prop: string, certPem: string, certSource: string, keyPem: string, keySource: string, now: Date, dnsNames: string[]): CaSource {
  return {
    certPem: canonicalCertificatePem(certPem),
    keyPem,
    validate: once(() => {
      const example = '/etc/kubernetes/pki/ca.crt';
      const certs = parseCertificates(`${prop}.caCertificate`, certPem, certSource);
      if (certs.length > 1) {
        throw new Error(`${prop}.caCertificate: ${certSource} holds ${certs.length} certificates; pass only the signing CA certificate (e.g. ${example})`);
      }
      const info = certs[0];
      // the checks Go makes of a CA (EKU, name constraints, key size, critical extensions)
      const warnings = assertCanIssueServing(`${prop}.caCertificate`, info, dnsNames, example);
      assertCurrentlyValid(`${prop}.caCertificate`, info, now, 'the CA certificate');
      const key = readPrivateKey(`${prop}.caKey`, keyPem, keySource);
      assertKeyMatches(`${prop}.caKey`, info, key.key, 'the CA certificate');
      assertCanSign(`${prop}.caKey`, key.key);
      return { info, key: key.key, warnings };
    }),
  };
}

/**
 * The chart whose derived name a cluster directory holds (`chart.json`, no
 * secret): two different charts never share one directory, even when their
 * derived names are equal (a chart named like another's derived name, names
 * that differ only in case on a case-insensitive file system).
 */
const OWNER_FILE = 'chart.json';

function ownerJson(chartPath: string): string {
  return JSON.stringify({ version: 1, chart: chartPath }, undefined, 2) + '\n';
}

/**
 * For a derived cluster name: refuses a directory that belongs to another
 * chart mapping to the same name; records the chart in a directory that has
 * no record yet (best effort, like the check record) or was moved by hand
 * from another chart's name (the rename recipe).
 */
function checkOwner(r: StoreIssueRequest, p: Paths, record: boolean): void {
  if (!r.cluster.derived || !exists(p.clusterDir)) {
    return;
  }
  const file = path.join(p.clusterDir, OWNER_FILE);
  let recorded: string | undefined;
  const text = readRecordText(file);
  try {
    const o = text === undefined ? undefined : JSON.parse(text);
    recorded = typeof o?.chart === 'string' ? o.chart : undefined;
  } catch {
    recorded = undefined;
  }
  if (recorded === r.cluster.chartPath) {
    return;
  }
  if (recorded !== undefined && clusterNameOf(recorded).toLowerCase() === r.cluster.name.toLowerCase()) {
    throw new Error(`${r.prop}.store: chart '${r.cluster.chartPath}' and chart '${recorded}' both map to the cluster directory '${p.clusterDir}' (${clusterNameOf(recorded) === r.cluster.name ? 'the same derived name' : 'names that differ only in case, one directory on this file system'}), which holds the CA and keys of '${recorded}' ('${file}'); two charts never share one: name this chart's cluster with CertificateStore.fromDirectory(dir, { cluster: 'another-name' }), or rename the chart. If chart '${recorded}' is gone and '${r.cluster.chartPath}' should keep its CA, delete '${file}'`);
  }
  if (!record) {
    return;
  }
  try {
    writeAtomic(file, ownerJson(r.cluster.chartPath));
  } catch {
    // a read-only store: checked again next time
  }
}

function assertValidity(prop: string, validity: Duration, now: Date, example: string): void {
  const ms = validity.toMilliseconds();
  const problem = validityDaysProblem(ms / 86400000, now);
  if (problem) {
    throw new Error(`${prop}: ${validity.toHumanString()} cannot be issued: ${problem}; use e.g. ${example}`);
  }
}

/**
 * Returns the serving certificate kept in the store if it still fits the
 * request and the CA; otherwise, under the store lock, issues (and, for the
 * dedicated CA, creates the CA) and stores it.
 *
 * A first pass takes no lock and writes nothing but the check record (a
 * cache, best effort): when the store's bytes and the request are exactly
 * those of the last full check, only the dates are looked at again. Any
 * other outcome (missing, expiring, half-written or changed material) is
 * decided again under the lock, after reading the store again, since
 * another process may have written it meanwhile.
 * @internal
 */
export function issueFromStore(r: StoreIssueRequest): ServingResult {
  r.store._assertNotFile();
  // bounds first: nothing is generated or committed for a validity no certificate can carry
  assertValidity(`${r.prop}.validity`, r.serving.validity, r.serving.now, 'Duration.days(365)');
  if (r.dedicatedCa) {
    assertValidity(`${r.prop}.caValidity`, r.dedicatedCa.validity, r.serving.now, 'Duration.days(3650)');
  }
  const p = pathsOf(r);
  checkOwner(r, p, false);
  const result = issueChecked(r, p);
  // recorded once the synth succeeded (a directory it created, or one without a record yet)
  checkOwner(r, p, true);
  return result;
}

function issueChecked(r: StoreIssueRequest, p: Paths): ServingResult {
  // leftovers of a killed synth (a unit half-replaced, a dead holder's lock) are repaired under the lock
  // (CA rotation: and in the directory of retired CAs)
  const dirs = new Set([p.clusterDir, ...(p.caUnit ? [path.dirname(p.caUnit), ...rotationDirectories(p.caUnit)] : [])]);
  const repair = hasLeftovers([...dirs]) || lockLeftBehind(r.store._lockFile());
  const first = repair ? NEEDS_LOCK : attempt(r, p, false);
  if (first !== NEEDS_LOCK) {
    return first;
  }
  // frozen synth (CI): a local store is never created or renewed there (lib/store/frozen.ts)
  assertLocalStoreMayWrite(r.prop, r.store.directory);
  r.store._ensureDirectory();
  let release: () => void;
  try {
    release = acquireLock(r.store._lockFile(), r.store.directory);
  } catch (e: any) {
    if (e.code === undefined) {
      throw e;
    }
    throw new Error(`store: cannot take the lock in '${r.store.directory}' (${e.code}); this synth must write the store (material is missing, expiring, changed or left half-written by a killed synth): make the directory writable, or synthesize once where it is`, { cause: e });
  }
  try {
    crashPoint('locked');
    removeDeadTemporaries(r.store.directory);
    if (p.caUnit) {
      recoverUnit(p.caUnit);
      if (!r.dedicatedCa?.sharedName) {
        // CA rotation: a phase change interrupted by a crash
        recoverRotation(p.caUnit);
      }
    }
    recoverUnit(p.servingUnit);
    adoptLegacyLayout(r, p);
    const result = attempt(r, p, true);
    if (result === NEEDS_LOCK) {
      throw new Error('store: internal error: a locked pass asked for the lock');
    }
    return result;
  } finally {
    release();
  }
}

function attempt(r: StoreIssueRequest, p: Paths, locked: boolean): ServingResult | typeof NEEDS_LOCK {
  const prop = r.prop;
  const request = r.serving;
  let source: CaSource;
  if (r.userCa) {
    source = r.userCa;
  } else {
    const created = dedicatedCa(r, p, locked);
    if (created === NEEDS_LOCK) {
      return NEEDS_LOCK;
    }
    source = created;
  }

  const tls = readPair(p.servingUnit, TLS_CERT, TLS_KEY);
  const certFile = path.join(p.servingUnit, TLS_CERT);
  const keyFile = path.join(p.servingUnit, TLS_KEY);
  const recordText = readRecordText(p.record);
  if (tls.cert !== undefined && tls.key !== undefined) {
    const record = readRecord(recordText);
    if (record && record.digest === digest(source, tls.cert, tls.key, request, record.dates) && fitsInTime(record.dates, request)) {
      return {
        caCertPem: bundleOf(source), certPem: tls.cert, keyPem: tls.key, issued: false, ...expiryOf(record.dates),
        warnings: [...record.caWarnings, ...caWarnings(prop, record.dates, request), ...rotationWarnings(source)],
      };
    }
  }

  const ca = source.validate();
  const keyAlgorithm = request.keyAlgorithm ?? followCa(ca.key);
  if (tls.cert !== undefined || tls.key !== undefined) {
    // without the lock, anything but usable material may be a renewal in
    // progress in another process: decided again under the lock
    const fix = `restore it from your backup, or delete '${certFile}' and '${keyFile}' to issue a new serving certificate`;
    if (tls.cert === undefined || tls.key === undefined) {
      if (!locked) {
        return NEEDS_LOCK;
      }
      const missing = tls.cert === undefined ? certFile : keyFile;
      throw corrupt(missing, `it is missing while ${tls.cert === undefined ? keyFile : certFile} exists`, fix);
    }
    let info: CertInfo;
    let keyOk: boolean;
    let algorithm: KeyAlgorithm | undefined;
    try {
      info = parseCertificates(prop, tls.cert, certFile)[0];
    } catch (e: any) {
      if (!locked) {
        return NEEDS_LOCK;
      }
      throw corrupt(certFile, e.message, fix);
    }
    try {
      const key = parsePrivateKey(prop, tls.key, keyFile);
      keyOk = info.x509.checkPrivateKey(key);
      algorithm = KeyAlgorithm._ofKey(key);
    } catch (e: any) {
      if (!locked) {
        return NEEDS_LOCK;
      }
      throw corrupt(keyFile, e.message, fix);
    }
    if (!keyOk) {
      if (!locked) {
        return NEEDS_LOCK;
      }
      throw new Error(`store: '${keyFile}' does not belong to '${certFile}' (the key does not match the certificate's public key); a key placed by hand is never replaced: put back the key of that certificate, or delete both files to issue a new serving certificate. Nothing in the store was changed`);
    }
    const dates = datesOf(ca.info, info);
    if (algorithm === keyAlgorithm && fitsCa(info, ca, request) && fitsInTime(dates, request)) {
      const result = {
        caCertPem: bundleOf(source), certPem: tls.cert, keyPem: tls.key, issued: false, ...expiryOf(dates),
        warnings: [...ca.warnings ?? [], ...caWarnings(prop, dates, request), ...rotationWarnings(source)],
      };
      writeRecord(p.record, recordText, source, result, request, dates, keyAlgorithm, ca.warnings);
      return result;
    }
  }
  if (!locked) {
    return NEEDS_LOCK;
  }
  const issued = issueServingCertificate({
    ca: { cert: ca.info, key: ca.key },
    commonName: request.commonName,
    dnsNames: request.dnsNames,
    validityDays: request.validity.toDays(),
    keyAlgorithm,
    now: request.now,
  });
  const info = parseCertificates(prop, issued.certPem, certFile)[0];
  if (!signs(ca.info, info)) {
    throw new Error(`${prop}: the serving certificate just issued does not verify against its CA (${ca.info.subject}); nothing was stored. Report this with the CA certificate (never its key)`);
  }
  // the CA made in this synth first (a crash between the two leaves a CA without a serving certificate, which the next synth issues)
  source.commit?.();
  commitUnit(p.servingUnit, { [TLS_KEY]: issued.keyPem, [TLS_CERT]: issued.certPem }, 'tls');
  const dates = datesOf(ca.info, info);
  const result = {
    ...issued, caCertPem: bundleOf(source), issued: true, ...expiryOf(dates),
    warnings: [...ca.warnings ?? [], ...caWarnings(prop, dates, request), ...rotationWarnings(source)],
  };
  writeRecord(p.record, recordText, source, result, request, dates, keyAlgorithm, ca.warnings);
  return result;
}

/**
 * The dedicated CA kept in the store, created (under the lock) on first
 * use. An existing CA is never replaced: if it is unusable, validating it throws.
 */
function dedicatedCa(r: StoreIssueRequest, p: Paths, locked: boolean): CaSource | typeof NEEDS_LOCK {
  const prop = r.prop;
  const spec = r.dedicatedCa!;
  const unit = p.caUnit!;
  const certFile = path.join(unit, CA_CERT);
  const keyFile = path.join(unit, CA_KEY);
  const { cert: certPem, key: keyPem } = readPair(unit, CA_CERT, CA_KEY);
  const moveAside = `restore the file from your backup, or move the directory '${unit}' aside to create a new CA (the APIService's caBundle then changes)`;
  if (certPem === undefined && keyPem === undefined) {
    if (!locked) {
      return NEEDS_LOCK;
    }
    const tls = readPair(p.servingUnit, TLS_CERT, TLS_KEY);
    const orphans = [TLS_CERT, TLS_KEY].filter(n => (n === TLS_CERT ? tls.cert : tls.key) !== undefined);
    if (orphans.length > 0) {
      throw new Error(`store: '${p.servingUnit}' holds ${orphans.join(' and ')} but there is no dedicated CA ('${unit}'); restore the CA from your backup, or delete '${p.servingUnit}' to start over with a new CA. Nothing in the store was changed`);
    }
    const ca = createCa({ commonName: spec.commonName, validityDays: spec.validity.toDays(), keyAlgorithm: spec.keyAlgorithm, now: r.serving.now });
    const newCluster = !exists(p.clusterDir);
    // params.json: the settings, so that `ca rotate` makes the next CA alike (lib/store/ca-rotation.ts)
    const params = caParamsJson({ commonName: spec.commonName, validityDays: spec.validity.toDays(), keyAlgorithm: spec.keyAlgorithm.name });
    // checked as a stored CA is, before anything is committed
    const info = parseCertificates(prop, ca.certPem, certFile)[0];
    assertIsCa(prop, info, certFile);
    const key = parsePrivateKey(prop, ca.keyPem, keyFile);
    assertKeyMatches(prop, info, key, 'the CA just created');
    let committed = false;
    return {
      certPem: canonicalCertificatePem(ca.certPem), keyPem: ca.keyPem, validate: () => ({ info, key }),
      commit: () => {
        if (committed) {
          return;
        }
        commitUnit(unit, { [CA_KEY]: ca.keyPem, [CA_CERT]: ca.certPem, [PARAMS_FILE]: params }, 'ca');
        committed = true;
        if (newCluster && !spec.sharedName) {
          checkRenameLater(r, p);
        }
      },
    };
  }
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? certFile : keyFile;
    throw corrupt(missing, `it is missing while ${certPem === undefined ? keyFile : certFile} exists`, moveAside);
  }
  const current = storedCa(prop, unit, certPem, keyPem, r.serving.now);
  if (!spec.sharedName && mendStagedKeyId(prop, unit, locked) === NEEDS_LOCK) {
    return NEEDS_LOCK;
  }
  return spec.sharedName ? current : withRotation(prop, unit, current, r.serving.now);
}

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
