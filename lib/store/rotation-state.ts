import { createHash } from 'crypto';
import { readdirSync } from 'fs';
import * as path from 'path';
import { CA_CERT, CA_KEY, exists, listDirectories, readKeyFile, readOptional, recoverUnit } from './store-files';
import { formatDate, parseCertificates } from '../x509/x509';
import { CertInfo } from '../x509/cert-info';
import { signs } from '../x509/chain';

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
 * What a synth makes of it (lib/store/issuance.ts, `withRotation`):
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

export function readCert(file: string): CertInfo | undefined {
  const pem = readOptional(file);
  return pem === undefined ? undefined : parseCertificates('store', pem, file)[0];
}

/** The serving units of a cluster: `<identity>/tls.crt`. */
export function servingIdentities(clusterDir: string): string[] {
  return listDirectories(clusterDir).filter(n => n !== 'ca' && n !== NEXT_UNIT && n !== RETIRED_DIR && exists(path.join(clusterDir, n, 'tls.crt')));
}
