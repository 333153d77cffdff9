import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import * as path from 'path';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { frozenSynth } from '../store/frozen';
import { OutputCacheFile } from './output-cache';
import { SharedCertificateStore } from '../store/shared-store';
import { listFiles, materialize, removeWorkingDirectory, SEALED_KEY_SUFFIX, syncBack, workingDirectory, writePublic } from '../store/shared-sync';
import { ageIdentitiesFromEnvironment, sopsDecryptBinary } from '../store/sops';
import { CertificateStore } from '../store/certificate-store';
import { ServingResult, StoreIssueRequest } from '../store/issuance-types';
import { SecretOutput, sha256Hex } from './secret-output';
import { formatDate } from '../x509/x509';
import { acquireLock } from '../store/store-lock';

/**
 * The serving Secret of the issuing strategies (fromCa, fromDedicatedCa),
 * from a local or a shared store, in the output form chosen
 * (docs/gitops.md). The issuing itself stays issueFromStore's.
 * @internal
 */

/** What the strategy asks for. */
export interface ServeRequest {
  readonly scope: Construct;
  readonly prop: string;
  readonly secretName: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly now: Date;
  readonly output: SecretOutput;
  /** the request for issueFromStore, with the local store (replaced by a working copy of a shared store) */
  readonly issue: StoreIssueRequest;
  readonly issueFromStore: (r: StoreIssueRequest) => ServingResult;
  readonly sharedStore?: SharedCertificateStore;
  /** the annotations of the Secret and APIService for these dates */
  readonly annotationsOf: (caNotAfter: Date, notAfter: Date) => { [key: string]: string };
}

/** What the strategy gets back. */
export interface ServeResult {
  readonly secret: ApiObject;
  readonly caCertPem: string;
  readonly notAfter: Date;
  readonly caNotAfter: Date;
  readonly warnings: string[];
}

const SERVED_VERSION = 1;

/** The command a frozen synth tells the user to run where an identity is. */
function fixCommand(storeDir: string): string {
  const rel = path.relative(process.cwd(), storeDir) || '.';
  return `run 'cdk8s synth' (or 'npm run synth') where an age identity of the store is set (SOPS_AGE_KEY_FILE), outside CI, then 'git add ${rel} && git commit'`;
}

/**
 * The store's cache of encrypted output in `file`, which a frozen synth may
 * read but not add to (the error says what to run); every strategy's one door to it.
 */
export function outputCache(prop: string, file: string, lockFile: string, storeDir: string, what: string): OutputCacheFile {
  return new OutputCacheFile(file, lockFile, storeDir, () => {
    const f = frozenSynth();
    if (f.frozen) {
      throw new Error(`${prop}.secretOutput: the encrypted Secret for this certificate and recipient is not in the ${what} '${storeDir}' yet, and synth is frozen (${f.why}); ${fixCommand(storeDir)}`);
    }
  });
}

export function serveServingSecret(r: ServeRequest): ServeResult {
  return r.sharedStore ? serveShared(r, r.sharedStore) : serveLocal(r);
}

function serveLocal(r: ServeRequest): ServeResult {
  const result = r.issueFromStore(r.issue);
  const clusterDir = r.issue.store._clusterDirectory(r.issue.cluster.name);
  const cache = outputCache(r.prop, path.join(clusterDir, `${r.issue.identity}.outputs.json`), r.issue.store._lockFile(), r.issue.store.directory, 'store');
  const annotations = r.annotationsOf(result.caNotAfter, result.notAfter);
  const secret = r.output._render(r.scope, {
    prop: r.prop, name: r.secretName, namespace: r.namespace, labels: r.labels, annotations, now: r.now,
    certPem: result.certPem, keySha256: sha256Hex(result.keyPem), key: () => result.keyPem, cache: cache.view(sha256Hex(result.certPem)),
  });
  return { secret, caCertPem: result.caCertPem, notAfter: result.notAfter, caNotAfter: result.caNotAfter, warnings: result.warnings };
}

/** The public record of the last serve from a shared store: what a synth without identity uses. */
interface Served {
  readonly version: number;
  readonly publicDigest: string;
  readonly requestDigest: string;
  readonly caBundlePem: string;
  readonly certPem: string;
  readonly keySha256: string;
  readonly notAfter: string;
  readonly caNotAfter: string;
  readonly renewAfter: string;
  readonly warnings: string[];
}

/** The digest of the public files a serve depends on: the cluster's and the shared CAs' (not the key ciphertexts). */
function publicDigest(shared: SharedCertificateStore, cluster: string): string {
  const h = createHash('sha256');
  for (const top of [path.join('clusters', cluster), 'shared-ca']) {
    for (const rel of listFiles(shared._path(top))) {
      const base = path.basename(rel);
      if (rel.endsWith(SEALED_KEY_SUFFIX) || base.endsWith('.served.json') || base.endsWith('.outputs.json') || base.endsWith('.checked.json')) {
        continue;
      }
      const content = readFileSync(shared._path(top, rel));
      h.update(`${top}/${rel}\0${content.length}\0`).update(content);
    }
  }
  return h.digest('hex');
}

function requestDigest(i: StoreIssueRequest): string {
  return sha256Hex(JSON.stringify({
    identity: i.identity, commonName: i.serving.commonName, dnsNames: i.serving.dnsNames,
    validity: i.serving.validity.toMilliseconds(), renewBefore: i.serving.renewBefore.toMilliseconds(),
    keyAlgorithm: i.serving.keyAlgorithm?.name ?? 'follow-ca',
    userCa: i.userCa ? sha256Hex(i.userCa.certPem) : undefined,
    dedicatedCa: i.dedicatedCa
      ? {
        cn: i.dedicatedCa.commonName, validity: i.dedicatedCa.validity.toMilliseconds(),
        key: i.dedicatedCa.keyAlgorithm.name, shared: i.dedicatedCa.sharedName ?? null,
      }
      : undefined,
  }));
}

function readServed(file: string): Served | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8'));
    return s?.version === SERVED_VERSION && typeof s.certPem === 'string' && typeof s.caBundlePem === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Why the served record cannot be used as it is now (undefined: it can). */
function staleness(served: Served | undefined, pub: string, req: string, now: Date): string | undefined {
  if (!served) {
    return 'the store has no serving certificate for this cluster and service yet';
  }
  if (served.publicDigest !== pub) {
    return 'the store changed since the last synth that issued (a CA rotation phase, a new certificate, or a hand edit)';
  }
  if (served.requestDigest !== req) {
    return "the construct's props for the certificate changed (names, validity, renewBefore or key algorithm)";
  }
  const t = now.getTime();
  if (new Date(served.caNotAfter).getTime() <= t || new Date(served.notAfter).getTime() <= t) {
    return `the certificate or its CA has expired (${served.notAfter})`;
  }
  if (new Date(served.renewAfter).getTime() <= t) {
    return `the serving certificate expires on ${served.notAfter}, inside renewBefore (renew from ${served.renewAfter} on)`;
  }
  return undefined;
}

function serveShared(r: ServeRequest, shared: SharedCertificateStore): ServeResult {
  const cluster = r.issue.cluster.name;
  const clusterDir = shared._path('clusters', cluster);
  const servedFile = path.join(clusterDir, `${r.issue.identity}.served.json`);
  const req = requestDigest(r.issue);
  let served = readServed(servedFile);
  const why = staleness(served, publicDigest(shared, cluster), req, r.now);
  let keyPem: string | undefined;
  if (why !== undefined) {
    const f = frozenSynth();
    if (f.frozen) {
      const err: any = new Error(`${r.prop}.sharedStore: ${why} in '${clusterDir}', and synth is frozen (${f.why}), so nothing is issued or renewed here; ${fixCommand(shared.directory)}`);
      err.code = 'SMS_FROZEN';
      throw err;
    }
    const issued = issueIntoShared(r, shared, req);
    served = issued.served;
    keyPem = issued.keyPem;
  }
  const s = served!;
  const keyFile = path.join(clusterDir, r.issue.identity, `tls.key${SEALED_KEY_SUFFIX}`);
  const key = () => {
    if (keyPem === undefined) {
      const { identities } = ageIdentitiesFromEnvironment();
      if (identities.length === 0) {
        throw new Error(`${r.prop}.secretOutput: the plain Secret carries the serving key, which is encrypted in '${keyFile}', and this synth has no age identity to decrypt it (SOPS_AGE_KEY_FILE and SOPS_AGE_KEY are unset, no ~/.config/sops/age/keys.txt); set SOPS_AGE_KEY_FILE to a key file of one of the store's recipients, or synthesize a SealedSecret or a SOPS Secret (SecretOutput.sealedSecret(), SecretOutput.sopsSecret()), which needs none`);
      }
      keyPem = sopsDecryptBinary(readFileSync(keyFile, 'utf8'), identities, keyFile).toString('utf8');
      if (sha256Hex(keyPem) !== s.keySha256) {
        throw new Error(`store: '${keyFile}' does not hold the key of '${path.join(clusterDir, r.issue.identity, 'tls.crt')}' (its digest differs from the served record); restore both from git ('git checkout -- ${path.relative(process.cwd(), clusterDir)}')`);
      }
    }
    return keyPem;
  };
  const cache = outputCache(r.prop, path.join(clusterDir, `${r.issue.identity}.outputs.json`), shared._path('.lock'), shared.directory, 'shared store');
  const annotations = r.annotationsOf(new Date(s.caNotAfter), new Date(s.notAfter));
  const secret = r.output._render(r.scope, {
    prop: r.prop, name: r.secretName, namespace: r.namespace, labels: r.labels, annotations, now: r.now,
    certPem: s.certPem, keySha256: s.keySha256, key, cache: cache.view(sha256Hex(s.certPem)),
  });
  return { secret, caCertPem: s.caBundlePem, notAfter: new Date(s.notAfter), caNotAfter: new Date(s.caNotAfter), warnings: [...s.warnings] };
}

/** Issues (or renews) through a decrypted working copy, under the shared store's lock, and writes back. */
function issueIntoShared(r: ServeRequest, shared: SharedCertificateStore, req: string): { served: Served; keyPem: string } {
  const recipients = shared.recipients();
  const { identities } = ageIdentitiesFromEnvironment();
  const hasKeys = listFiles(shared.directory).some(f => f.endsWith(`.key${SEALED_KEY_SUFFIX}`));
  if (identities.length === 0 && hasKeys) {
    throw new Error(`${r.prop}.sharedStore: this synth must issue or renew in '${shared.directory}', which needs the store's keys, and it has no age identity (SOPS_AGE_KEY_FILE and SOPS_AGE_KEY are unset, no ~/.config/sops/age/keys.txt); set SOPS_AGE_KEY_FILE to the key file of one of ${recipients.join(', ')}`);
  }
  let release: () => void;
  try {
    release = acquireLock(shared._path('.lock'), shared.directory);
  } catch (e: any) {
    if (e.code === undefined) {
      throw e;
    }
    throw new Error(`${r.prop}.sharedStore: cannot take the lock in '${shared.directory}' (${e.code}); this synth must write the store: make it writable, or synthesize where it is`, { cause: e });
  }
  const work = workingDirectory();
  try {
    const snapshot = materialize(shared.directory, work, identities);
    const local = CertificateStore.fromDirectory(work, { cluster: r.issue.cluster.name });
    const result = r.issueFromStore({ ...r.issue, store: local, cluster: { ...r.issue.cluster, derived: false } });
    syncBack(work, shared.directory, snapshot, recipients, r.now);
    const renewAfter = new Date(Math.max(result.notAfter.getTime() >= result.caNotAfter.getTime() ? result.caNotAfter.getTime() : 0,
      result.notAfter.getTime() - r.issue.serving.renewBefore.toMilliseconds()));
    const served: Served = {
      version: SERVED_VERSION,
      publicDigest: publicDigest(shared, r.issue.cluster.name),
      requestDigest: req,
      caBundlePem: result.caCertPem,
      certPem: result.certPem,
      keySha256: sha256Hex(result.keyPem),
      notAfter: formatDate(result.notAfter),
      caNotAfter: formatDate(result.caNotAfter),
      renewAfter: formatDate(renewAfter),
      // the store's own paths, not the working copy's
      warnings: result.warnings.map(w => w.split(work).join(shared.directory)),
    };
    const file = shared._path('clusters', r.issue.cluster.name, `${r.issue.identity}.served.json`);
    const text = JSON.stringify(served, undefined, 2) + '\n';
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== text) {
      writePublic(file, text);
    }
    return { served, keyPem: result.keyPem };
  } finally {
    removeWorkingDirectory(work);
    release();
  }
}
