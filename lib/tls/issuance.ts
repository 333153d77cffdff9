import { createHash, createPublicKey, KeyObject } from 'crypto';
import { readdirSync } from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { caParamsJson, readRotation, recoverRotation, rotationDirectories } from './ca-rotation';
import { CertificateStore } from './certificate-store';
import { KeyAlgorithm } from './key-algorithm';
import { BACKDATE_MS, createCa, hasEmptyKeyId, issueServingCertificate, KeyPairPem, recertifyCa, validityDaysProblem } from './pki';
import { warn } from '../_util';
import {
  assertInsideStore, CA_CERT, CA_KEY, clusterNameOf, commitUnit, crashPoint, exists, hasLeftovers, listDirectories, PARAMS_FILE, readKeyFile, readOptional,
  recoverUnit, removeDeadTemporaries, unlinkAll, writeAtomic,
} from './store-files';
import { acquireLock, lockLeftBehind } from './store-lock';
import { assertLocalStoreMayWrite } from '../store/frozen';
import {
  assertCanIssueServing, assertCurrentlyValid, assertIsCa, assertKeyMatches, assertServingCertificate, canonicalCertificatePem, CertInfo, formatDate,
  parseCertificates, parsePrivateKey, readPrivateKey, signs,
} from './x509';

/** File names inside the serving units. */
const TLS_CERT = 'tls.crt';
const TLS_KEY = 'tls.key';
/** Files of the flat layout of releases up to 0.1 (`<store>/{ca,tls}.{crt,key}`, `checked.json`), adopted on first use. */
const LEGACY_RECORD = 'checked.json';
/**
 * The record of the last store contents that passed every check, with the
 * dates that decide renewal. It holds no key material. It is bound to the
 * exact bytes of the CA, the serving certificate and key and the request by a
 * SHA-256 digest, so any change to any of them means a full check again. It
 * is a cache: one that cannot be read or written only means a full check.
 */
const RECORD_SUFFIX = '.checked.json';
/** Bumped whenever the checks change, so that older records are not trusted. */
const CHECK_VERSION = 3;

/**
 * A CA that is ready to sign: what was parsed and checked of it.
 * @internal
 */
export interface SigningCa {
  readonly info: CertInfo;
  /** the parsed key */
  readonly key: KeyObject;
  /** warnings about a weak but valid CA (RSA under 2048 bits, SHA-1) */
  readonly warnings?: string[];
}

/**
 * A signing CA as read, before it is parsed and checked.
 * @internal
 */
export interface CaSource {
  /** the CA certificate, canonical PEM (this is also the caBundle) */
  readonly certPem: string;
  readonly keyPem: string;
  /** the caBundle when it is more than `certPem` (a CA rotation in progress) */
  readonly bundlePem?: string;
  /** a CA rotation in progress, said on every synth until it is finished */
  readonly rotationWarning?: string;
  /** parses and checks the CA, throwing the strategy's errors */
  validate(): SigningCa;
  /**
   * a CA made in this synth: commits it to the store. Called only once the
   * serving certificate it signs is issued and checked, so that no error
   * follows a commit of one without the other
   */
  commit?(): void;
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
  /** undefined follows the CA's key type */
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly now: Date;
}

/**
 * The dedicated CA the store creates on first use.
 * @internal
 */
export interface DedicatedCaRequest {
  readonly commonName: string;
  readonly validity: Duration;
  readonly keyAlgorithm: KeyAlgorithm;
  /** a CA kept under `shared-ca/<name>` that several clusters share; per cluster when absent */
  readonly sharedName?: string;
}

/**
 * Which cluster of the store an instance uses.
 * @internal
 */
export interface ClusterChoice {
  /** the directory name under `clusters/` */
  readonly name: string;
  /** derived from the chart (so a rename is checked), not given by the user */
  readonly derived: boolean;
  /** the construct path of the chart, for messages */
  readonly chartPath: string;
  /** the cluster names every chart of the app derives (evaluated when needed) */
  readonly appClusters: () => Set<string>;
  /** runs a check once the whole app is built (construct validation) */
  readonly addValidation: (check: () => string[]) => void;
  /** the construct that keeps the warnings */
  readonly scope: IConstruct;
}

/**
 * Everything one instance asks of the store.
 * @internal
 */
export interface StoreIssueRequest {
  readonly prop: string;
  readonly store: CertificateStore;
  readonly cluster: ClusterChoice;
  /** the CA you hold (`fromCa`); or */
  readonly userCa?: CaSource;
  /** the dedicated CA kept in the store (`fromDedicatedCa`) */
  readonly dedicatedCa?: DedicatedCaRequest;
  /** the service identity, e.g. 'metrics-server.kube-system.svc.cluster.local' */
  readonly identity: string;
  readonly serving: ServingRequest;
}

/**
 * Outcome of making sure the store holds a usable serving certificate.
 * @internal
 */
export interface ServingResult extends KeyPairPem {
  /** the signing CA's certificate (the caBundle) */
  readonly caCertPem: string;
  /** true when a new certificate was issued in this synth */
  readonly issued: boolean;
  /** the serving certificate's expiry */
  readonly notAfter: Date;
  /** the signing CA's expiry */
  readonly caNotAfter: Date;
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

function corrupt(file: string, reason: string, fix: string): Error {
  return new Error(`store: '${file}' is unusable (${reason}); ${fix}. Nothing in the store was changed`);
}

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
 * The first successful result of `check`, computed on first use: a CA is
 * checked once per synth even when the unlocked pass hands over to the locked one.
 */
function once<T>(check: () => T): () => T {
  let result: { value: T } | undefined;
  return () => (result ??= { value: check() }).value;
}

/** Where one request's material lives in the store. */
interface Paths {
  readonly clusterDir: string;
  /** the dedicated CA's unit (absent with a CA of your own) */
  readonly caUnit?: string;
  readonly servingUnit: string;
  readonly record: string;
}

function pathsOf(r: StoreIssueRequest): Paths {
  assertInsideStore(r.store.directory, [
    { what: r.cluster.derived ? `${r.prop}.store (the cluster directory derived from chart '${r.cluster.chartPath}')` : `${r.prop}.store.cluster`, value: r.cluster.name },
    { what: `${r.prop} (the service identity)`, value: r.identity },
    ...(r.dedicatedCa?.sharedName !== undefined ? [{ what: `${r.prop}.sharedCaName`, value: r.dedicatedCa.sharedName }] : []),
  ]);
  const clusterDir = r.store._clusterDirectory(r.cluster.name);
  return {
    clusterDir,
    caUnit: r.dedicatedCa ? (r.dedicatedCa.sharedName ? r.store._path('shared-ca', r.dedicatedCa.sharedName) : path.join(clusterDir, 'ca')) : undefined,
    servingUnit: path.join(clusterDir, r.identity),
    record: path.join(clusterDir, `${r.identity}${RECORD_SUFFIX}`),
  };
}

/** Reads a certificate and its key; the key file must be private. */
function readPair(dir: string, certName: string, keyName: string): { cert?: string; key?: string } {
  // O_NOFOLLOW, and the mode checked on the open file
  const key = readKeyFile(path.join(dir, keyName));
  return { cert: readOptional(path.join(dir, certName)), key };
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

/** Thrown inside an unlocked attempt that needs the lock to go on. */
const NEEDS_LOCK = Symbol('needs the lock');

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
    // params.json: the settings, so that `ca rotate` makes the next CA alike (lib/tls/ca-rotation.ts)
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

/** A CA kept in a unit of the store, checked on demand. */
function storedCa(prop: string, unit: string, certPem: string, keyPem: string, now: Date): CaSource {
  const certFile = path.join(unit, CA_CERT);
  const keyFile = path.join(unit, CA_KEY);
  const moveAside = `restore the file from your backup, or move the directory '${unit}' aside to create a new CA (the APIService's caBundle then changes)`;
  return {
    certPem: canonicalCertificatePem(certPem),
    keyPem,
    validate: once(() => {
      let info: CertInfo;
      try {
        info = parseCertificates(prop, certPem, certFile)[0];
        assertIsCa(prop, info, certFile);
      } catch (e: any) {
        throw corrupt(certFile, e.message, moveAside);
      }
      let key: KeyObject;
      try {
        key = parsePrivateKey(prop, keyPem, keyFile);
        assertKeyMatches(prop, info, key, 'the stored CA certificate');
      } catch (e: any) {
        throw corrupt(keyFile, e.message, moveAside);
      }
      if (info.notAfter.getTime() <= now.getTime()) {
        throw new Error(`${prop}: the dedicated CA in '${unit}' expired on ${formatDate(info.notAfter)}; it is never replaced silently: rotate CAs before they expire with 'secure-metrics-server ca rotate' (docs/rotation.md); now that it has expired, move '${unit}' aside to create a new one, then apply the new APIService caBundle together with the new Secret`);
      }
      if (info.notBefore.getTime() > now.getTime()) {
        throw new Error(`${prop}: the dedicated CA in '${unit}' is not valid before ${formatDate(info.notBefore)}; check the clock of this machine (and of the one that created '${certFile}')`);
      }
      return { info, key };
    }),
  };
}

// ---- CA rotation (the phases are changed only by lib/tls/ca-rotation.ts) ----

/**
 * The dedicated CA as a rotation in progress makes it: 'staged' signs with
 * the current CA, 'switched' with the next one; both put the two CAs in the
 * caBundle (the current first). A finish interrupted after the next CA took
 * the current one's place gives one CA, as after the finish.
 */
function withRotation(prop: string, unit: string, current: CaSource, now: Date): CaSource {
  const rotation = readRotation(unit);
  if (!rotation) {
    return current;
  }
  const next = storedCa(prop, rotation.unit, rotation.certPem, rotation.keyPem, now);
  const signing = rotation.phase === 'staged' ? current : next;
  const bundle = next.certPem === current.certPem ? current.certPem : current.certPem + next.certPem;
  const finishing = next.certPem === current.certPem;
  const since = rotation.phase === 'staged' ? rotation.stagedAt : rotation.switchedAt ?? rotation.stagedAt;
  // the command as it runs on this store and cluster (unit: <store>/clusters/<cluster>/ca)
  const rotateCommand = `secure-metrics-server ca rotate --store ${JSON.stringify(path.dirname(path.dirname(path.dirname(unit))))} --cluster ${path.basename(path.dirname(unit))}`;
  return {
    certPem: signing.certPem,
    keyPem: signing.keyPem,
    bundlePem: bundle === signing.certPem ? undefined : bundle,
    rotationWarning: `${prop}: the dedicated CA in '${unit}' is being rotated: ${finishing
      ? `the finish was interrupted (this synth already gives the finished caBundle); run '${rotateCommand}' to complete it`
      : `phase '${rotation.phase}' since ${since}; once this synth is applied and has taken effect, run '${rotateCommand}' for '${rotation.phase === 'staged' ? 'switch' : 'finish'}' (docs/rotation.md)`}`,
    validate: () => {
      // the next CA is checked in either phase; the current one only while it signs
      const checkedNext = next.validate();
      return signing === next ? checkedNext : current.validate();
    },
  };
}

function rotationWarnings(source: CaSource): string[] {
  return source.rotationWarning ? [source.rotationWarning] : [];
}

/** The caBundle of a CA source. */
function bundleOf(source: CaSource): string {
  return source.bundlePem ?? source.certPem;
}

function expiryOf(d: Dates): { notAfter: Date; caNotAfter: Date } {
  return { notAfter: new Date(d.notAfter), caNotAfter: new Date(d.caNotAfter) };
}

/**
 * Key identifiers of stores written before the fix (docs/rotation.md): a
 * staged next CA whose subjectKeyIdentifier is the SHA-1 of nothing, as the
 * library wrote every RSA CA, is certified again with the same key, name and
 * validity and its real key identifier, under the lock. In the staged phase
 * the next CA signs nothing yet, so only the caBundle's second certificate
 * changes and the serving certificate stays: in either order of arrival
 * every client keeps verifying, and after the switch the leaf's
 * authorityKeyIdentifier picks the next CA out of the bundle for OpenSSL.
 * Any other key identifier, and any CA that already signs, is left as it is.
 */
function mendStagedKeyId(prop: string, caUnit: string, locked: boolean): typeof NEEDS_LOCK | undefined {
  const rotation = readRotation(caUnit);
  if (!rotation || rotation.phase !== 'staged') {
    return undefined;
  }
  let info: CertInfo;
  let key: KeyObject;
  try {
    info = parseCertificates(prop, rotation.certPem, path.join(rotation.unit, CA_CERT))[0];
    key = parsePrivateKey(prop, rotation.keyPem, path.join(rotation.unit, CA_KEY));
  } catch {
    // an unusable next CA is reported by its own check (withRotation)
    return undefined;
  }
  if (!hasEmptyKeyId(info, key) || !info.x509.checkPrivateKey(key)) {
    return undefined;
  }
  if (!locked) {
    return NEEDS_LOCK;
  }
  const files: { [name: string]: string } = {};
  for (const name of readdirSync(rotation.unit)) {
    files[name] = name === CA_CERT ? recertifyCa(info, key) : readOptional(path.join(rotation.unit, name))!;
  }
  commitUnit(rotation.unit, files, 'mend-key-id');
  return undefined;
}

// ---- end of CA rotation ----

/** Per app (its root construct): the derived cluster names that got a new CA in this synth. */
const newClusters = new WeakMap<object, Set<string>>();

/**
 * A chart that got a new cluster directory may be a renamed chart when a
 * rename is likely: this app made exactly one new cluster directory, and the
 * store holds exactly one cluster directory with a CA that no chart of the
 * app uses (the old name). Once the whole app is built, that is a warning
 * naming both directories and how to keep the old CA. A new chart in a
 * store that several apps share (several unclaimed directories), or several
 * new charts at once, is no sign of a rename: no warning.
 */
function checkRenameLater(r: StoreIssueRequest, p: Paths): void {
  if (!r.cluster.derived) {
    return;
  }
  const root = r.cluster.scope.node.root;
  const made = newClusters.get(root) ?? new Set<string>();
  newClusters.set(root, made);
  made.add(r.cluster.name);
  const unclaimed = () => {
    const app = r.cluster.appClusters();
    return listDirectories(r.store._path('clusters'))
      .filter(n => n !== r.cluster.name && !app.has(n) && exists(path.join(r.store._clusterDirectory(n), 'ca', CA_CERT)));
  };
  let warned = false;
  r.cluster.addValidation(() => {
    if (warned) {
      return [];
    }
    warned = true;
    const found = unclaimed();
    if (found.length !== 1 || made.size !== 1) {
      return [];
    }
    const old = r.store._clusterDirectory(found[0]);
    warn(r.cluster.scope, `${r.prop}.store: chart '${r.cluster.chartPath}' got a new CA in '${p.clusterDir}', while the store holds '${old}', which no chart of this app uses. If chart '${found[0]}' was renamed to '${r.cluster.chartPath}', its cluster now has a new caBundle: to keep the old CA, run rm -r '${p.clusterDir}' && mv '${old}' '${p.clusterDir}' and synthesize again. If '${r.cluster.chartPath}' is a new cluster, or another app shares this store, nothing is wrong: name the cluster with CertificateStore.fromDirectory(dir, { cluster: '${r.cluster.name}' }) to silence this`);
    return [];
  });
}


/**
 * Adopts a store written by releases up to 0.1 (flat `{ca,tls}.{crt,key}`
 * in the store directory) into this cluster, under the lock: the first synth
 * after upgrading gives the same caBundle and serving key. Each step can be
 * repeated, so a crash in the middle is finished by the next locked run.
 */
function adoptLegacyLayout(r: StoreIssueRequest, p: Paths): void {
  const flat = (n: string) => r.store._path(n);
  const flatTls = readPair(r.store.directory, TLS_CERT, TLS_KEY);
  const flatCa = readPair(r.store.directory, CA_CERT, CA_KEY);
  if (flatTls.cert === undefined && flatTls.key === undefined && flatCa.cert === undefined && flatCa.key === undefined) {
    return;
  }
  if (r.dedicatedCa) {
    if (flatCa.cert === undefined || flatCa.key === undefined) {
      return;
    }
    const current = readOptional(path.join(p.caUnit!, CA_CERT));
    if (current === undefined) {
      commitUnit(p.caUnit!, { [CA_KEY]: flatCa.key, [CA_CERT]: flatCa.cert }, 'adopt-ca');
    } else if (current !== flatCa.cert) {
      // another cluster's (or an unrelated) CA: left where it is
      return;
    }
  }
  if (flatTls.cert !== undefined && flatTls.key !== undefined) {
    const current = readOptional(path.join(p.servingUnit, TLS_CERT));
    if (current === undefined) {
      commitUnit(p.servingUnit, { [TLS_KEY]: flatTls.key, [TLS_CERT]: flatTls.cert }, 'adopt-tls');
    } else if (current !== flatTls.cert) {
      return;
    }
  }
  // the serving pair first, the CA last: a crash in between is finished next time
  unlinkAll([flat(TLS_KEY), flat(TLS_CERT), flat(LEGACY_RECORD)]);
  crashPoint('adopt:tls-removed');
  if (r.dedicatedCa) {
    unlinkAll([flat(CA_KEY), flat(CA_CERT)]);
  }
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

/** The check record's text, or undefined when it is missing or unreadable (a cache miss, never a failure). */
function readRecordText(file: string): string | undefined {
  try {
    return readOptional(file);
  } catch {
    return undefined;
  }
}

/** Writes the check record when it changed; a record that cannot be written is skipped (the next synth checks in full). */
function writeRecord(file: string, current: string | undefined, source: CaSource, result: KeyPairPem, request: ServingRequest, dates: Dates,
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
