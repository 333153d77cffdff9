import * as path from 'path';
import { CA_CERT, CA_KEY, commitUnit, crashPoint, readOptional, unlinkAll } from './store-files';
import { Paths, StoreIssueRequest } from './issuance-types';
import { TLS_CERT, TLS_KEY, readPair } from './units';

/** Files of the flat layout of releases up to 0.1 (`<store>/{ca,tls}.{crt,key}`, `checked.json`), adopted on first use. */
const LEGACY_RECORD = 'checked.json';

/**
 * Adopts a store written by releases up to 0.1 (flat `{ca,tls}.{crt,key}`
 * in the store directory) into this cluster, under the lock: the first synth
 * after upgrading gives the same caBundle and serving key. Each step can be
 * repeated, so a crash in the middle is finished by the next locked run.
 */
export function adoptLegacyLayout(r: StoreIssueRequest, p: Paths): void {
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
