import { createHash } from 'crypto';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'fs';
import * as path from 'path';
import { KeyAlgorithm } from './key-algorithm';
import { BACKDATE_MS, createCa, validityDaysProblem } from './pki';
import { CA_CERT, CA_KEY, commitUnit, crashPoint, exists, listDirectories, PARAMS_FILE, readKeyFile, readOptional, recoverUnit } from './store-files';
import { acquireLock } from './store-lock';
import { CertInfo, formatDate, parseCertificates, parsePrivateKey, signs } from './x509';

/**
 * The staged rotation of a cluster's dedicated CA, kept in the
 * certificate store beside the CA:
 *
 * - `clusters/<cluster>/ca/`: the CA in use, with `params.json` (the
 *   non-secret settings it was made with: common name, validity, key algorithm);
 * - `clusters/<cluster>/ca-next/`: during a rotation, the new CA with the same
 *   files plus `rotation.json` (phase and times). One unit, replaced as a whole
 *   by `commitUnit`, so a phase change is atomic;
 * - `clusters/<cluster>/ca-retired/<sha256-prefix>[-aborted]/`: retired CAs, kept aside.
 *
 * What a synth makes of it (lib/tls/issuance.ts, `withRotation`):
 *
 * | phase    | signs the serving certificate | caBundle      |
 * |----------|-------------------------------|---------------|
 * | (none)   | ca                            | ca            |
 * | staged   | ca                            | ca + ca-next  |
 * | switched | ca-next                       | ca + ca-next  |
 * | finished | ca (the former ca-next)       | ca            |
 *
 * Phase changes run only from the command (`secure-metrics-server ca rotate`),
 * under the store lock; synths never change the phase.
 *
 * @internal
 */

/** The unit of the next CA, beside `ca`. */
export const NEXT_UNIT = 'ca-next';
/** The directory of retired CAs, beside `ca`. */
export const RETIRED_DIR = 'ca-retired';
/** The rotation state file in the next CA's unit. */
export const STATE_FILE = 'rotation.json';
/** Default minimum time between two phases, in minutes (see docs/rotation.md). */
export const DEFAULT_MIN_WAIT_MINUTES = 10;

export type Phase = 'staged' | 'switched';

/** The non-secret settings a dedicated CA was made with. */
export interface CaParams {
  readonly commonName: string;
  readonly validityDays: number;
  /** a KeyAlgorithm name, e.g. 'RSA_2048' */
  readonly keyAlgorithm: string;
}

/** The text of `params.json` for a CA made with these settings. */
export function caParamsJson(p: CaParams): string {
  return JSON.stringify({ version: 1, commonName: p.commonName, validityDays: p.validityDays, keyAlgorithm: p.keyAlgorithm }, undefined, 2) + '\n';
}

/** The rotation in progress, as a synth reads it. */
export interface RotationView {
  readonly phase: Phase;
  readonly unit: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly stagedAt: string;
  readonly switchedAt?: string;
}

/**
 * The stored serving certificates of the cluster whose dedicated CA is in
 * `caUnit` that the CA in `caUnit` did not sign (the new CA's, after
 * 'switch'): going back to the old CA alone would break them. Undefined when
 * the CA itself cannot be read (then nothing is known to be safe).
 */
export function servingNotByCurrent(caUnit: string): string[] | undefined {
  let current: CertInfo | undefined;
  try {
    current = readCert(path.join(caUnit, CA_CERT));
  } catch {
    return undefined;
  }
  if (!current) {
    return undefined;
  }
  const dir = path.dirname(caUnit);
  return servingIdentities(dir).filter(id => {
    try {
      const cert = readCert(path.join(dir, id, 'tls.crt'));
      return !cert || !signs(current!, cert);
    } catch {
      return true;
    }
  });
}

/** A rotation state that the command can write back by hand, for the message (its phase as found from the serving certificates). */
function switchedStateText(now: string): string {
  return JSON.stringify({ version: 1, phase: 'switched', stagedAt: now, switchedAt: now });
}

function corrupt(file: string, reason: string, caUnit: string): Error {
  const notByOld = servingNotByCurrent(caUnit);
  const unit = path.join(path.dirname(caUnit), NEXT_UNIT);
  let fix: string;
  if (notByOld !== undefined && notByOld.length === 0) {
    fix = "restore it from your backup, or run 'secure-metrics-server ca rotate --abort' (every stored serving certificate is still issued by the old CA, so going back to it is safe)";
  } else {
    const which = notByOld === undefined ? `the CA in '${caUnit}' cannot be read` : `the serving certificate of ${notByOld.map(n => `'${n}'`).join(', ')} is not issued by the old CA (it is the new CA's: 'switch' ran), so the old CA alone would not verify it`;
    fix = `restore it from your backup. 'ca rotate --abort' is not possible: ${which}. Without a backup, if '${path.join(unit, CA_CERT)}' and '${path.join(unit, CA_KEY)}' are intact, write the state back (the phase after 'switch'): echo '${switchedStateText(formatDate(new Date()))}' > '${path.join(unit, STATE_FILE)}', then go on with 'secure-metrics-server ca rotate'`;
  }
  return new Error(`store: '${file}' is unusable (${reason}); ${fix}. Nothing in the store was changed`);
}

/**
 * The rotation in progress beside the CA unit `caUnit`, or undefined. A
 * synth reads one missing file here when no rotation runs.
 */
export function readRotation(caUnit: string): RotationView | undefined {
  const unit = path.join(path.dirname(caUnit), NEXT_UNIT);
  const stateFile = path.join(unit, STATE_FILE);
  const stateText = readOptional(stateFile);
  if (stateText === undefined) {
    if (exists(unit)) {
      throw corrupt(stateFile, 'it is missing while the directory exists', caUnit);
    }
    return undefined;
  }
  let state: any;
  try {
    state = JSON.parse(stateText);
  } catch (e: any) {
    throw corrupt(stateFile, `not JSON: ${e.message}`, caUnit);
  }
  if (state?.version !== 1 || (state.phase !== 'staged' && state.phase !== 'switched') || typeof state.stagedAt !== 'string') {
    throw corrupt(stateFile, 'not a rotation state of this version', caUnit);
  }
  const keyFile = path.join(unit, CA_KEY);
  const certPem = readOptional(path.join(unit, CA_CERT));
  const keyPem = readKeyFile(keyFile);
  if (certPem === undefined || keyPem === undefined) {
    if (!exists(stateFile)) {
      // the unit was moved away while this unlocked read ran (--abort, finish): no rotation any more
      return undefined;
    }
    throw corrupt(unit, `${certPem === undefined ? CA_CERT : CA_KEY} is missing`, caUnit);
  }
  return { phase: state.phase, unit, certPem, keyPem, stagedAt: state.stagedAt, switchedAt: typeof state.switchedAt === 'string' ? state.switchedAt : undefined };
}

/**
 * Finishes or undoes the unit commits a killed rotation left beside the CA
 * unit `caUnit` (the next CA's unit, retired units). Call under the lock.
 */
export function recoverRotation(caUnit: string): void {
  recoverUnit(path.join(path.dirname(caUnit), NEXT_UNIT));
  const retired = path.join(path.dirname(caUnit), RETIRED_DIR);
  let names: string[];
  try {
    names = readdirSync(retired);
  } catch {
    return;
  }
  const units = new Set(names.map(n => /^\.(.+)\.(?:new|old)-/.exec(n)?.[1]).filter((n): n is string => n !== undefined));
  for (const unit of units) {
    recoverUnit(path.join(retired, unit));
  }
}

/** The directories where a killed rotation may leave leftovers (for hasLeftovers). */
export function rotationDirectories(caUnit: string): string[] {
  return [path.join(path.dirname(caUnit), RETIRED_DIR)];
}

/** SHA-256 of a certificate's DER, hex. */
export function fingerprint(info: CertInfo): string {
  return createHash('sha256').update(info.x509.raw).digest('hex');
}

/** The clusters of a store that hold a dedicated CA (`clusters/<name>/ca`). */
export function clustersWithCa(storeDir: string): string[] {
  return listDirectories(path.join(storeDir, 'clusters')).filter(n => exists(path.join(storeDir, 'clusters', n, 'ca', CA_CERT)));
}

/** The shared CAs of a store (`shared-ca/<name>`). */
export function sharedCas(storeDir: string): string[] {
  return listDirectories(path.join(storeDir, 'shared-ca')).filter(n => exists(path.join(storeDir, 'shared-ca', n, CA_CERT)));
}


/** One certificate as `ca status` reports it. */
export interface CertStatus {
  readonly role: 'current' | 'next' | 'retired' | 'shared' | 'serving';
  /** the file it was read from */
  readonly file: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256: string;
  /**
   * serving certificates: which CA issued it, found by verifying the signature:
   * the cluster's dedicated CA ('current', 'next', 'retired'), a shared CA of the
   * store ('shared', see `sharedCa`), or a CA the store does not hold ('outside':
   * `fromCa`, whose CA is `issuer`)
   */
  readonly issuedBy?: 'current' | 'next' | 'retired' | 'shared' | 'outside';
  /** serving certificates issued by a shared CA: its name (`shared-ca/<name>`) */
  readonly sharedCa?: string;
  /** serving certificates: the service identity */
  readonly identity?: string;
  /** CAs: signs the serving certificates now */
  readonly signing?: boolean;
  /** CAs: in the caBundle a synth writes now */
  readonly inBundle?: boolean;
  /** shared CAs: the name (`shared-ca/<name>`) */
  readonly name?: string;
  /** shared CAs: the clusters whose stored serving certificates it signed */
  readonly clusters?: string[];
}

/** The state of one cluster of the store. */
export interface ClusterStatus {
  readonly cluster: string;
  /** the cluster has a dedicated CA of its own (`clusters/<cluster>/ca`), which `ca rotate` rotates */
  readonly dedicatedCa: boolean;
  /** 'none' (no rotation, or no dedicated CA), 'staged', 'switched', or 'finish-interrupted' */
  readonly phase: string;
  readonly stagedAt?: string;
  readonly switchedAt?: string;
  /** with a dedicated CA: what `ca rotate` does next: 'stage', 'switch', 'finish' or 'complete the finish' */
  readonly nextStep?: string;
  /** the earliest time `ca rotate` runs the next step without --force */
  readonly nextStepAfter?: string;
  readonly certificates: CertStatus[];
}

/** Everything of a store that has a date, for `ca status`. */
export interface StoreStatus {
  readonly clusters: ClusterStatus[];
  readonly sharedCas: CertStatus[];
}

function readCert(file: string): CertInfo | undefined {
  const pem = readOptional(file);
  return pem === undefined ? undefined : parseCertificates('store', pem, file)[0];
}

function certStatus(role: CertStatus['role'], file: string, info: CertInfo, extra: Partial<CertStatus> = {}): CertStatus {
  return {
    role, file, subject: info.subject, issuer: info.x509.issuer, notBefore: formatDate(info.notBefore), notAfter: formatDate(info.notAfter),
    sha256: fingerprint(info), ...extra,
  };
}

function clusterPaths(storeDir: string, cluster: string) {
  const dir = path.join(storeDir, 'clusters', cluster);
  return { dir, ca: path.join(dir, 'ca'), next: path.join(dir, NEXT_UNIT), retired: path.join(dir, RETIRED_DIR) };
}

/** The serving units of a cluster: `<identity>/tls.crt`. */
function servingIdentities(clusterDir: string): string[] {
  return listDirectories(clusterDir).filter(n => n !== 'ca' && n !== NEXT_UNIT && n !== RETIRED_DIR && exists(path.join(clusterDir, n, 'tls.crt')));
}

/** The clusters of a store that hold a dedicated CA or a serving certificate (`fromCa` too). */
export function clustersInStore(storeDir: string): string[] {
  return listDirectories(path.join(storeDir, 'clusters')).filter(n => {
    const dir = path.join(storeDir, 'clusters', n);
    return exists(path.join(dir, 'ca', CA_CERT)) || servingIdentities(dir).length > 0;
  });
}

export interface SharedCa {
  readonly name: string;
  readonly file: string;
  readonly info: CertInfo;
}

function readSharedCas(storeDir: string): SharedCa[] {
  return sharedCas(storeDir).map(name => {
    const file = path.join(storeDir, 'shared-ca', name, CA_CERT);
    return { name, file, info: readCert(file)! };
  });
}

/** The shared CAs that signed a stored serving certificate of the cluster. */
function sharedCasOfCluster(storeDir: string, cluster: string, shared: SharedCa[]): SharedCa[] {
  const dir = clusterPaths(storeDir, cluster).dir;
  const leaves = servingIdentities(dir).map(id => readCert(path.join(dir, id, 'tls.crt'))!);
  return shared.filter(s => leaves.some(l => signs(s.info, l)));
}

/**
 * Reads a cluster's CAs, rotation and serving certificates (no lock, no
 * write). `shared`: the store's shared CAs, to name the issuer of serving
 * certificates that no CA of the cluster signed.
 */
export function clusterStatus(storeDir: string, cluster: string, minWaitMs: number, shared: SharedCa[] = readSharedCas(storeDir)): ClusterStatus {
  const p = clusterPaths(storeDir, cluster);
  const current = readCert(path.join(p.ca, CA_CERT));
  const identities = servingIdentities(p.dir);
  if (!current && identities.length === 0) {
    throw new Error(`--cluster: cluster '${cluster}' holds neither a dedicated CA nor a serving certificate in '${p.dir}'; ${describeStore(storeDir)}`);
  }
  const rotation = current ? readRotation(p.ca) : undefined;
  const next = rotation ? parseCertificates('store', rotation.certPem, path.join(rotation.unit, CA_CERT))[0] : undefined;
  const finishInterrupted = current !== undefined && next !== undefined && fingerprint(next) === fingerprint(current);
  const phase = finishInterrupted ? 'finish-interrupted' : rotation?.phase ?? 'none';
  const certificates: CertStatus[] = [];
  const signingIsNext = phase === 'switched';
  if (current) {
    certificates.push(certStatus('current', path.join(p.ca, CA_CERT), current, { signing: !signingIsNext, inBundle: true }));
  }
  if (next && !finishInterrupted) {
    certificates.push(certStatus('next', path.join(rotation!.unit, CA_CERT), next, { signing: signingIsNext, inBundle: true }));
  }
  const retired: CertInfo[] = [];
  for (const name of listDirectories(p.retired)) {
    const info = readCert(path.join(p.retired, name, CA_CERT));
    if (info) {
      retired.push(info);
      certificates.push(certStatus('retired', path.join(p.retired, name, CA_CERT), info, { signing: false, inBundle: false }));
    }
  }
  for (const identity of identities) {
    const file = path.join(p.dir, identity, 'tls.crt');
    const info = readCert(file)!;
    const bySharedCa = shared.find(s => signs(s.info, info));
    const issuedBy = current && signs(current, info) ? 'current' : next && signs(next, info) ? 'next' : retired.some(r => signs(r, info)) ? 'retired'
      : bySharedCa ? 'shared' : 'outside';
    certificates.push(certStatus('serving', file, info, { identity, issuedBy, ...(issuedBy === 'shared' ? { sharedCa: bySharedCa!.name } : {}) }));
  }
  if (!current) {
    return { cluster, dedicatedCa: false, phase: 'none', certificates };
  }
  const nextStep = finishInterrupted ? 'complete the finish' : phase === 'none' ? 'stage' : phase === 'staged' ? 'switch' : 'finish';
  const since = phase === 'staged' ? rotation!.stagedAt : phase === 'switched' ? rotation!.switchedAt : undefined;
  return {
    cluster, dedicatedCa: true, phase, stagedAt: rotation?.stagedAt, switchedAt: rotation?.switchedAt, nextStep,
    nextStepAfter: since ? formatDate(new Date(Date.parse(since) + minWaitMs)) : undefined,
    certificates,
  };
}

/**
 * Everything of the store that has a date (no lock, no write): every
 * cluster's CAs, rotation and serving certificates, and every shared CA with
 * the clusters whose serving certificates it signed. `cluster`: that one
 * cluster only (and no shared CA).
 */
export function storeStatus(storeDir: string, minWaitMs: number, cluster?: string): StoreStatus {
  const shared = readSharedCas(storeDir);
  const names = cluster !== undefined ? [cluster] : clustersInStore(storeDir);
  const clusters = names.map(n => clusterStatus(storeDir, n, minWaitMs, shared));
  if (cluster !== undefined) {
    return { clusters, sharedCas: [] };
  }
  const sharedCasStatus = shared.map(s => certStatus('shared', s.file, s.info, {
    name: s.name,
    clusters: clusters.filter(c => c.certificates.some(x => x.sharedCa === s.name)).map(c => c.cluster),
  }));
  return { clusters, sharedCas: sharedCasStatus };
}

/** A sentence naming what a store holds, for errors. */
export function describeStore(storeDir: string): string {
  const clusters = clustersInStore(storeDir);
  const shared = sharedCas(storeDir);
  if (clusters.length === 0 && shared.length === 0) {
    return `the store '${storeDir}' holds nothing: no cluster's CA or serving certificate and no shared CA (synthesize once with ServingTls.fromDedicatedCa() or fromCa() first, or pass --store)`;
  }
  const parts = [clusters.length ? `the clusters ${clusters.map(n => `'${n}'`).join(', ')}` : '', shared.length ? `the shared CAs ${shared.map(n => `'${n}'`).join(', ')}` : ''];
  return `the store '${storeDir}' holds ${parts.filter(Boolean).join(' and ')}`;
}

/** A sentence naming the clusters of a store that `ca rotate` can rotate, for errors. */
export function describeClusters(storeDir: string): string {
  const names = clustersWithCa(storeDir);
  return names.length === 0
    ? `the store '${storeDir}' holds no cluster with a dedicated CA (synthesize once with ServingTls.fromDedicatedCa() first, or pass --store)`
    : `the store '${storeDir}' holds ${names.map(n => `'${n}'`).join(', ')}: pass --cluster with one of them`;
}

/**
 * Why `ca rotate` does not rotate a cluster without a dedicated CA of its
 * own, and what to do instead: a refusal (exit 1) when the cluster uses a
 * shared CA or a CA outside the store; undefined when the store does not
 * know the cluster.
 */
export function notRotatable(storeDir: string, cluster: string): Error | undefined {
  const dir = clusterPaths(storeDir, cluster).dir;
  if (servingIdentities(dir).length === 0) {
    return undefined;
  }
  const shared = readSharedCas(storeDir);
  const used = sharedCasOfCluster(storeDir, cluster, shared);
  if (used.length > 0) {
    const s = used[0];
    const users = clustersInStore(storeDir).filter(c => sharedCasOfCluster(storeDir, c, [s]).length > 0);
    return refused(`ca rotate: cluster '${cluster}' uses the shared CA '${s.name}' ('${path.dirname(s.file)}', sharedCaName), which 'ca rotate' does not rotate: `
      + `every cluster that trusts it (${users.map(u => `'${u}'`).join(', ')}) would have to go through each phase together, and the store keeps a rotation per cluster. `
      + 'Rotate it by hand in every cluster with ServingTls.fromCa and additionalTrustedCas, or give each cluster a CA of its own (docs/rotation.md#a-shared-ca)');
  }
  return refused(`ca rotate: cluster '${cluster}' has no dedicated CA: its serving certificate is issued by a CA outside the store (fromCa), which 'ca rotate' does not rotate. `
    + 'Rotate that CA by hand with ServingTls.fromCa and additionalTrustedCas (docs/rotation.md#a-ca-you-hold-fromca-the-cluster-ca-being-replaced)');
}

/** What `ca rotate` asks for. */
export interface RotateRequest {
  readonly storeDir: string;
  readonly cluster: string;
  readonly now: Date;
  readonly abort: boolean;
  /** skip the minimum wait between phases (never the order, never the reissue check) */
  readonly force: boolean;
  /** skip the check that a synth reissued every stored serving certificate before 'finish' (an identity no longer deployed) */
  readonly skipReissueCheck?: boolean;
  readonly minWaitMs: number;
}

/** What one `ca rotate` call did. */
export interface RotateOutcome {
  /** 'staged', 'switched', 'finished', 'aborted' */
  readonly step: string;
  /** the CA signing from now on */
  readonly signing: CertStatus;
  /** the CAs of the caBundle from now on */
  readonly bundle: CertStatus[];
  /** earliest time of the next step, when there is one */
  readonly nextStepAfter?: string;
}

/** The `code` of a refusal of `ca rotate`: exit code 1, the message says why and what to do. */
export const REFUSED = 'ROTATION_REFUSED';

function refused(message: string): Error {
  return Object.assign(new Error(message), { code: REFUSED });
}

/** The settings of the CA to create: params.json, or what the current CA shows. */
export function paramsOf(caUnit: string, current: CertInfo): CaParams {
  const text = readOptional(path.join(caUnit, PARAMS_FILE));
  if (text !== undefined) {
    try {
      const p = JSON.parse(text);
      if (typeof p.commonName === 'string' && Number.isInteger(p.validityDays) && p.validityDays > 0
        && KeyAlgorithm._all().some(a => a.name === p.keyAlgorithm)) {
        return { commonName: p.commonName, validityDays: p.validityDays, keyAlgorithm: p.keyAlgorithm };
      }
    } catch {
      // falls back to the certificate
    }
  }
  // a CA made before params.json existed: its own subject, lifetime and key type
  const cn = /(?:^|,)CN=([^,]*)/.exec(current.x509.subject)?.[1] ?? 'secure-metrics-server-ca';
  const validityDays = Math.max(1, Math.round((current.notAfter.getTime() - current.notBefore.getTime() - BACKDATE_MS) / 86400000));
  // a key type the library does not generate (RSA 1024) gets the default
  const keyAlgorithm = KeyAlgorithm._ofKey(current.x509.publicKey) ?? KeyAlgorithm.RSA_2048;
  return { commonName: cn, validityDays, keyAlgorithm: keyAlgorithm.name };
}

function stateJson(s: { phase: Phase; stagedAt: string; switchedAt?: string }): string {
  return JSON.stringify({ version: 1, ...s }, undefined, 2) + '\n';
}

function waitRefusal(step: string, previous: string, since: string, minWaitMs: number, now: Date, what: string): Error | undefined {
  const earliest = Date.parse(since) + minWaitMs;
  if (now.getTime() >= earliest) {
    return undefined;
  }
  return refused(`ca rotate: '${step}' is refused until ${formatDate(new Date(earliest))} (${Math.round(minWaitMs / 60000)} minutes after '${previous}' ran at ${since}): ${what}. Run it again then, or pass --force once you have checked it`);
}

/**
 * Runs the next phase of the rotation of a cluster's dedicated CA (or
 * `--abort`), under the store lock. Crash-safe: each phase is one unit
 * commit, except finish, whose steps can be repeated (see docs/rotation.md).
 */
export function rotateCa(r: RotateRequest): RotateOutcome {
  const p = clusterPaths(r.storeDir, r.cluster);
  if (!exists(path.join(p.ca, CA_CERT))) {
    const refusal = notRotatable(r.storeDir, r.cluster);
    if (refusal) {
      throw refusal;
    }
    throw new Error(`--cluster: cluster '${r.cluster}' has no dedicated CA in '${p.ca}'; ${describeClusters(r.storeDir)}`);
  }
  const release = acquireLock(path.join(r.storeDir, '.lock'), r.storeDir);
  try {
    crashPoint('rotate:locked');
    recoverUnit(p.ca);
    recoverRotation(p.ca);
    return rotateLocked(r, p);
  } finally {
    release();
  }
}

function rotateLocked(r: RotateRequest, p: ReturnType<typeof clusterPaths>): RotateOutcome {
  const currentCert = readOptional(path.join(p.ca, CA_CERT))!;
  const currentKey = readKeyFile(path.join(p.ca, CA_KEY));
  if (currentKey === undefined) {
    throw new Error(`store: '${path.join(p.ca, CA_KEY)}' is missing while '${path.join(p.ca, CA_CERT)}' exists; restore it from your backup before rotating`);
  }
  const current = parseCertificates('store', currentCert, path.join(p.ca, CA_CERT))[0];
  let rotation: RotationView | undefined;
  try {
    rotation = readRotation(p.ca);
  } catch (e) {
    if (!r.abort) {
      throw e;
    }
    // --abort of an unusable rotation state: only while every stored serving certificate is still the old CA's
    const notByOld = servingNotByCurrent(p.ca);
    if (notByOld === undefined || notByOld.length > 0) {
      throw e;
    }
    // kept aside as it is
    mkdirSync(p.retired, { recursive: true, mode: 0o700 });
    renameSync(p.next, path.join(p.retired, `unusable-${formatDate(r.now).replace(/[-:]/g, '')}`));
    const only = certStatus('current', path.join(p.ca, CA_CERT), current, { signing: true, inBundle: true });
    return { step: 'aborted', signing: only, bundle: [only] };
  }
  const now = formatDate(r.now);
  const status = (role: CertStatus['role'], unit: string, info: CertInfo, signing: boolean) => certStatus(role, path.join(unit, CA_CERT), info, { signing, inBundle: true });

  if (!rotation) {
    if (r.abort) {
      throw refused(`ca rotate --abort: no rotation of cluster '${r.cluster}' is in progress; nothing to abort`);
    }
    // stage: a new CA beside the current one, made with the current one's settings
    const params = paramsOf(p.ca, current);
    const algorithm = KeyAlgorithm._all().find(a => a.name === params.keyAlgorithm)!;
    // bounds before any key is generated, and every outcome built before the commit
    const problem = validityDaysProblem(params.validityDays, r.now);
    if (problem) {
      throw refused(`ca rotate: 'stage' is refused: the new CA's validity (validityDays in '${path.join(p.ca, PARAMS_FILE)}') cannot be issued: ${problem}; set validityDays to e.g. 3650 in that file, then run 'ca rotate' again. Nothing in the store was changed`);
    }
    const ca = createCa({ commonName: params.commonName, validityDays: params.validityDays, keyAlgorithm: algorithm, now: r.now });
    const next = parseCertificates('store', ca.certPem, path.join(p.next, CA_CERT))[0];
    if (!next.x509.checkPrivateKey(parsePrivateKey('store', ca.keyPem, path.join(p.next, CA_KEY)))) {
      throw new Error('store: internal error: the new CA\'s key does not match it; nothing was stored');
    }
    commitUnit(p.next, { [CA_KEY]: ca.keyPem, [CA_CERT]: ca.certPem, [PARAMS_FILE]: caParamsJson(params), [STATE_FILE]: stateJson({ phase: 'staged', stagedAt: now }) }, 'rotate-stage');
    return {
      step: 'staged', signing: status('current', p.ca, current, true), bundle: [status('current', p.ca, current, true), status('next', p.next, next, false)],
      nextStepAfter: formatDate(new Date(r.now.getTime() + r.minWaitMs)),
    };
  }

  const next = parseCertificates('store', rotation.certPem, path.join(p.next, CA_CERT))[0];
  const nextKey = parsePrivateKey('store', rotation.keyPem, path.join(p.next, CA_KEY));
  if (!next.x509.checkPrivateKey(nextKey)) {
    throw new Error(`store: '${path.join(p.next, CA_KEY)}' does not belong to '${path.join(p.next, CA_CERT)}'; restore the directory from your backup`);
  }
  const finishInterrupted = fingerprint(next) === fingerprint(current);

  if (r.abort) {
    const notByOld = servingNotByCurrent(p.ca) ?? [];
    if (notByOld.length > 0 && rotation.phase === 'staged' && !finishInterrupted) {
      throw refused(`ca rotate --abort: the serving certificate of ${notByOld.map(n => `'${n}'`).join(', ')} in cluster '${r.cluster}' is not issued by the old CA, so the old CA alone would not verify it; going back is refused. Go on with 'ca rotate' (the old CA stays trusted until 'finish')`);
    }
    if (rotation.phase !== 'staged' || finishInterrupted) {
      throw refused(`ca rotate --abort: the rotation of cluster '${r.cluster}' is past 'stage' (phase '${finishInterrupted ? 'finish' : rotation.phase}'): the serving certificate is already issued by the new CA, so the old CA alone would no longer verify it. Go on with 'ca rotate' (the old CA stays trusted until 'finish')`);
    }
    // the unused new CA is kept aside, like a retired one
    const target = path.join(p.retired, `${fingerprint(next).slice(0, 16)}-aborted`);
    mkdirSync(p.retired, { recursive: true, mode: 0o700 });
    renameSync(p.next, target);
    return { step: 'aborted', signing: status('current', p.ca, current, true), bundle: [status('current', p.ca, current, true)] };
  }

  if (rotation.phase === 'staged' && !finishInterrupted) {
    const refusal = r.force ? undefined : waitRefusal('switch', 'stage', rotation.stagedAt, r.minWaitMs, r.now,
      'the caBundle holding both CAs must be applied, and kube-apiserver must use it, before any serving certificate of the new CA reaches metrics-server');
    if (refusal) {
      throw refusal;
    }
    commitUnit(p.next, { [CA_KEY]: rotation.keyPem, [CA_CERT]: rotation.certPem,
      [PARAMS_FILE]: readOptional(path.join(p.next, PARAMS_FILE)) ?? caParamsJson(paramsOf(p.ca, current)),
      [STATE_FILE]: stateJson({ phase: 'switched', stagedAt: rotation.stagedAt, switchedAt: now }) }, 'rotate-switch');
    return {
      step: 'switched', signing: status('next', p.next, next, true), bundle: [status('current', p.ca, current, false), status('next', p.next, next, true)],
      nextStepAfter: formatDate(new Date(r.now.getTime() + r.minWaitMs)),
    };
  }

  // finish (or complete an interrupted finish)
  if (!finishInterrupted) {
    const refusal = r.force ? undefined : waitRefusal('finish', 'switch', rotation.switchedAt ?? rotation.stagedAt, r.minWaitMs, r.now,
      'the Secret with the serving certificate of the new CA must be applied and mounted by every metrics-server pod (the kubelet syncs Secrets every minute or so) before the old CA leaves the caBundle');
    if (refusal) {
      throw refusal;
    }
    // --force skips the wait only; this check has its own flag
    if (!r.skipReissueCheck) {
      const stale = servingIdentities(p.dir).filter(id => {
        const file = path.join(p.dir, id, 'tls.crt');
        return !signs(next, readCert(file)!);
      });
      if (stale.length > 0) {
        throw refused(`ca rotate: 'finish' is refused: the serving certificate of ${stale.map(s => `'${s}'`).join(', ')} is not yet issued by the new CA, so no synth has run since 'switch'. Synthesize, apply the new Secret, wait for the pods to mount it, then run 'ca rotate' again. If an identity is no longer deployed, delete its directory (${stale.map(s => `'${path.join(p.dir, s)}'`).join(', ')}) or pass --skip-reissue-check (--force does not skip this check)`);
      }
    }
    const retired = path.join(p.retired, fingerprint(current).slice(0, 16));
    recoverUnit(retired);
    if (!exists(retired)) {
      const params = readOptional(path.join(p.ca, PARAMS_FILE));
      commitUnit(retired, { [CA_KEY]: currentKey, [CA_CERT]: currentCert, ...(params !== undefined ? { [PARAMS_FILE]: params } : {}),
        'retired.json': JSON.stringify({ version: 1, retiredAt: now }, undefined, 2) + '\n' }, 'rotate-retire');
    }
    crashPoint('rotate:retired');
    commitUnit(p.ca, { [CA_KEY]: rotation.keyPem, [CA_CERT]: rotation.certPem,
      [PARAMS_FILE]: readOptional(path.join(p.next, PARAMS_FILE)) ?? caParamsJson(paramsOf(p.ca, current)) }, 'rotate-finish');
  }
  // the next CA is now the CA: its unit goes (renamed first, so that no half-deleted unit is ever read)
  const gone = path.join(path.dirname(p.next), `.${NEXT_UNIT}.old-finished`);
  rmSync(gone, { recursive: true, force: true });
  renameSync(p.next, gone);
  crashPoint('rotate:next-moved');
  rmSync(gone, { recursive: true, force: true });
  return { step: 'finished', signing: status('current', p.ca, next, true), bundle: [status('current', p.ca, next, true)] };
}

/** What `ca prune` did. */
export interface PruneOutcome {
  /** the retired CAs deleted, with their keys */
  readonly removed: { readonly directory: string; readonly subject?: string; readonly sha256?: string; readonly notAfter?: string }[];
  /** retired CAs kept, and why */
  readonly kept: { readonly directory: string; readonly reason: string }[];
}

/**
 * Deletes the retired CAs of a cluster (`ca-retired/*`, with their private
 * keys), under the store lock. No synth reads them and no caBundle holds
 * them; a retired CA that still signed a stored serving certificate is kept.
 */
export function pruneRetired(storeDir: string, cluster: string): PruneOutcome {
  const p = clusterPaths(storeDir, cluster);
  if (!exists(p.dir)) {
    throw new Error(`--cluster: cluster '${cluster}' is not in the store ('${p.dir}'); ${describeStore(storeDir)}`);
  }
  const release = acquireLock(path.join(storeDir, '.lock'), storeDir);
  try {
    recoverRotation(p.ca);
    const removed: PruneOutcome['removed'][number][] = [];
    const kept: PruneOutcome['kept'][number][] = [];
    let names: string[] = [];
    try {
      names = readdirSync(p.retired);
    } catch {
      // none
    }
    for (const n of names.filter(x => x.startsWith('.') && x.endsWith('.pruning'))) {
      rmSync(path.join(p.retired, n), { recursive: true, force: true });
    }
    const serving = servingIdentities(p.dir).map(id => {
      try {
        return { id, cert: readCert(path.join(p.dir, id, 'tls.crt')) };
      } catch {
        return { id, cert: undefined };
      }
    });
    for (const name of listDirectories(p.retired)) {
      const directory = path.join(p.retired, name);
      let info: CertInfo | undefined;
      try {
        info = readCert(path.join(directory, CA_CERT));
      } catch {
        info = undefined;
      }
      const signed = info ? serving.filter(s => s.cert && signs(info!, s.cert)).map(s => s.id) : [];
      if (signed.length > 0) {
        kept.push({ directory, reason: `it signed the stored serving certificate of ${signed.map(x => `'${x}'`).join(', ')}` });
        continue;
      }
      // renamed first, so that no half-deleted unit is ever read as a retired CA
      const gone = path.join(p.retired, `.${name}.pruning`);
      renameSync(directory, gone);
      rmSync(gone, { recursive: true, force: true });
      removed.push({ directory, ...(info ? { subject: info.subject, sha256: fingerprint(info), notAfter: formatDate(info.notAfter) } : {}) });
    }
    return { removed, kept };
  } finally {
    release();
  }
}
