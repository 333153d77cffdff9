import * as path from 'path';
import { CA_CERT, exists, listDirectories } from './store-files';
import { formatDate, parseCertificates } from '../x509/x509';
import { CertInfo } from '../x509/cert-info';
import { signs } from '../x509/chain';
import { NEXT_UNIT, RETIRED_DIR, clustersWithCa, fingerprint, readCert, readRotation, servingIdentities, sharedCas } from './rotation-state';

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

export function certStatus(role: CertStatus['role'], file: string, info: CertInfo, extra: Partial<CertStatus> = {}): CertStatus {
  return {
    role, file, subject: info.subject, issuer: info.x509.issuer, notBefore: formatDate(info.notBefore), notAfter: formatDate(info.notAfter),
    sha256: fingerprint(info), ...extra,
  };
}

export function clusterPaths(storeDir: string, cluster: string) {
  const dir = path.join(storeDir, 'clusters', cluster);
  return { dir, ca: path.join(dir, 'ca'), next: path.join(dir, NEXT_UNIT), retired: path.join(dir, RETIRED_DIR) };
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

export function readSharedCas(storeDir: string): SharedCa[] {
  return sharedCas(storeDir).map(name => {
    const file = path.join(storeDir, 'shared-ca', name, CA_CERT);
    return { name, file, info: readCert(file)! };
  });
}

/** The shared CAs that signed a stored serving certificate of the cluster. */
export function sharedCasOfCluster(storeDir: string, cluster: string, shared: SharedCa[]): SharedCa[] {
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
