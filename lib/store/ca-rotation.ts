import { mkdirSync, readdirSync, renameSync, rmSync } from 'fs';
import * as path from 'path';
import { KeyAlgorithm } from '../x509/key-algorithm';
import { BACKDATE_MS, createCa, validityDaysProblem } from '../x509/pki';
import { CA_CERT, CA_KEY, commitUnit, crashPoint, exists, listDirectories, PARAMS_FILE, readKeyFile, readOptional, recoverUnit } from './store-files';
import { acquireLock } from './store-lock';
import { formatDate, parseCertificates, parsePrivateKey } from '../x509/x509';
import { CertInfo } from '../x509/cert-info';
import { signs } from '../x509/chain';
import { CaParams, NEXT_UNIT, Phase, RotationView, STATE_FILE, caParamsJson, fingerprint, readCert, readRotation, recoverRotation, servingIdentities, servingNotByCurrent } from './rotation-state';
import { CertStatus, certStatus, clusterPaths, clustersInStore, describeClusters, describeStore, readSharedCas, sharedCasOfCluster } from './ca-status';

/**
 * `ca rotate`, `ca abort`, `ca prune`: the phase changes of a dedicated CA's
 * staged rotation (lib/store/rotation-state.ts has the layout and its reading,
 * lib/store/ca-status.ts what `ca status` prints), under the store lock.
 * @internal
 */

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
