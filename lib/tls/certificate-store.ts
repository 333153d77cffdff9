import { mkdtempSync, statSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { schemaOf } from '../prop-schemas';
import { checkPropTypes } from '../prop-types';
import { mentionsPrivateKey } from './pem-decode';
import { exists, isDirectoryName, makeDirectory, writeAtomic } from './store-files';

/** Environment variable that moves the default store (e.g. out of the working directory in unit tests). */
const STORE_ENV = 'SECURE_METRICS_SERVER_STORE';

/**
 * Options for `CertificateStore.fromDirectory()`.
 */
export interface CertificateStoreOptions {
  /**
   * The cluster whose certificates this store holds for every
   * SecureMetricsServer that uses it: its dedicated CA and serving keys are
   * kept under `clusters/<cluster>/`. Setting it turns off the rename check
   * (the name is yours, not derived from a chart).
   * @default - derived from the path of the enclosing Chart (its id, e.g. 'cluster-a')
   */
  readonly cluster?: string;
}

/**
 * A directory that keeps the keys and certificates issued at synth time, so
 * that the next synth reuses them and the YAML stays byte-identical.
 *
 * Layout (see docs/store.md):
 *
 * - `clusters/<cluster>/ca/{ca.crt,ca.key}`: a cluster's dedicated CA;
 * - `clusters/<cluster>/<name>.<namespace>.svc.<domain>/{tls.crt,tls.key}`:
 *   a serving certificate, one per service identity;
 * - `clusters/<cluster>/<identity>.checked.json`: the check record (a cache);
 * - `shared-ca/<name>/{ca.crt,ca.key}`: a CA several clusters share on request;
 * - `.gitignore` (`*`), and `.lock` while a synth writes.
 *
 * Every write happens under a cross-process lock and replaces a certificate
 * and its key together atomically. A synth that finds valid material takes
 * no lock and writes nothing. A store inside the app's output directory
 * (`dist/` by default), which `cdk8s synth` empties, is refused.
 */
export class CertificateStore {
  /**
   * The default certificate store directory, relative to the working directory.
   */
  public static readonly DEFAULT_DIRECTORY = '.secure-metrics-server/pki';

  /**
   * A store in the given directory (created on first use).
   *
   * @param directory absolute, or relative to the working directory
   * @param options which cluster the store serves
   */
  public static fromDirectory(directory: string, options: CertificateStoreOptions = {}): CertificateStore {
    if (typeof directory !== 'string' || directory.trim() === '') {
      throw new Error(`CertificateStore.fromDirectory: the directory is empty; pass a path such as '${CertificateStore.DEFAULT_DIRECTORY}'`);
    }
    checkPropTypes('CertificateStore.fromDirectory', options, schemaOf('CertificateStoreOptions'), 'CertificateStoreOptions');
    if (options.cluster !== undefined && !isDirectoryName(options.cluster)) {
      throw new Error(`CertificateStore.fromDirectory: cluster '${options.cluster}' is not a usable directory name; use 1 to 100 letters, digits, '-', '_' and '.', not starting with '.', e.g. 'cluster-a'`);
    }
    return new CertificateStore(directory, options.cluster);
  }

  /**
   * The store in `.secure-metrics-server/pki` (`DEFAULT_DIRECTORY`) under the
   * working directory, or in `$SECURE_METRICS_SERVER_STORE` when that is set.
   */
  public static fromDefaultDirectory(): CertificateStore {
    const fromEnv = process.env[STORE_ENV];
    return new CertificateStore(fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : CertificateStore.DEFAULT_DIRECTORY);
  }

  /**
   * A store in a new temporary directory: for unit tests that must not write
   * keys into the working directory. Every call makes a new, empty store,
   * so the CA and keys differ on every run: snapshot with
   * `CertificateStore.redactForSnapshot()`.
   */
  public static temporary(): CertificateStore {
    return new CertificateStore(mkdtempSync(path.join(os.tmpdir(), 'secure-metrics-server-')));
  }

  /**
   * Returns a copy of synthesized manifests (e.g. `Testing.synth(chart)`)
   * that is safe to snapshot: the private keys and certificates in Secrets
   * and the APIService's `caBundle` are replaced by placeholders, so the
   * snapshot holds no private key and passes on a fresh checkout (new CA).
 * The expiry annotations (`ServingTls.CA_NOT_AFTER_ANNOTATION`...) become
 * placeholders too.
   *
   * @param manifests plain Kubernetes objects
   */
  public static redactForSnapshot(manifests: any[]): any[] {
    return manifests.map(m => redact(m));
  }

  /**
   * The store directory, resolved against the working directory.
   */
  public readonly directory: string;

  /**
   * The cluster given to `fromDirectory()`, if any.
   */
  public readonly cluster?: string;

  private constructor(directory: string, cluster?: string) {
    this.directory = path.resolve(directory);
    this.cluster = cluster;
  }

  /**
   * A path in the store.
   * @internal
   */
  public _path(...parts: string[]): string {
    return path.join(this.directory, ...parts);
  }

  /**
   * The directory of a cluster.
   * @internal
   */
  public _clusterDirectory(cluster: string): string {
    return this._path('clusters', cluster);
  }

  /**
   * The lock file.
   * @internal
   */
  public _lockFile(): string {
    return this._path('.lock');
  }

  /**
   * Fails clearly when the store path is a file.
   * @internal
   */
  public _assertNotFile(): void {
    let isDirectory = true;
    try {
      isDirectory = statSync(this.directory).isDirectory();
    } catch {
      // does not exist yet
    }
    if (!isDirectory) {
      throw new Error(`store: '${this.directory}' is a file, not a directory; pass a directory to CertificateStore.fromDirectory() (it is created on first synth)`);
    }
  }

  /**
   * Creates the store directory (0700) with a `.gitignore` that keeps all of
   * it out of git.
   * @internal
   */
  public _ensureDirectory(): void {
    this._assertNotFile();
    makeDirectory(this.directory);
    const ignore = this._path('.gitignore');
    if (!exists(ignore)) {
      writeAtomic(ignore, '# written by secure-metrics-server: this directory holds private keys\n*\n');
    }
  }
}

function redact(o: any): any {
  const copy = JSON.parse(JSON.stringify(o));
  if (copy?.kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const values = copy[field];
      if (values && typeof values === 'object') {
        for (const k of Object.keys(values)) {
          const text = field === 'data' ? Buffer.from(String(values[k]), 'base64').toString('utf8') : String(values[k]);
          if (mentionsPrivateKey(text)) {
            values[k] = '<private key redacted>';
          } else if (text.includes('-----BEGIN CERTIFICATE-----')) {
            values[k] = '<certificate redacted>';
          }
        }
      }
    }
  }
  if (copy?.kind === 'APIService' && copy.spec?.caBundle !== undefined) {
    copy.spec.caBundle = '<caBundle redacted>';
  }
  // the expiry annotations: dates of the generated material (CA rotation, issue 14)
  const annotations = copy?.metadata?.annotations;
  if (annotations && typeof annotations === 'object') {
    for (const k of Object.keys(annotations)) {
      if (/^secure-metrics-server\.io\/(ca|serving)-not-after$/.test(k)) {
        annotations[k] = '<date redacted>';
      }
    }
  }
  return copy;
}
