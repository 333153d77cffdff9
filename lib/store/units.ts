import * as path from 'path';
import { readKeyFile, readOptional } from './store-files';
import { assertInsideStore } from './store-paths';
import { Paths, StoreIssueRequest } from './issuance-types';
import { RECORD_SUFFIX } from './check-record';

/** File names inside the serving units. */
export const TLS_CERT = 'tls.crt';
export const TLS_KEY = 'tls.key';

export function pathsOf(r: StoreIssueRequest): Paths {
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
export function readPair(dir: string, certName: string, keyName: string): { cert?: string; key?: string } {
  // O_NOFOLLOW, and the mode checked on the open file
  const key = readKeyFile(path.join(dir, keyName));
  return { cert: readOptional(path.join(dir, certName)), key };
}

export function corrupt(file: string, reason: string, fix: string): Error {
  return new Error(`store: '${file}' is unusable (${reason}); ${fix}. Nothing in the store was changed`);
}

/**
 * The first successful result of `check`, computed on first use: a CA is
 * checked once per synth even when the unlocked pass hands over to the locked one.
 */
export function once<T>(check: () => T): () => T {
  let result: { value: T } | undefined;
  return () => (result ??= { value: check() }).value;
}
