import { createPrivateKey } from 'crypto';
import { mkdtempSync, rmSync, statSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkPropTypes, Schema, T } from '../k8s/prop-types';
import { mentionsPrivateKey } from '../x509/pem-decode';
import { exists, makeDirectory, writeAtomic } from './store-files';
import { isDirectoryName } from './store-paths';

/** The directories of `CertificateStore.temporary()`, deleted when the process exits. */
const temporaries = new Set<string>();

function removeTemporaries(): void {
  for (const dir of temporaries) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // the OS cleans its temporary directory
    }
  }
  temporaries.clear();
}

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

/** The runtime type checks of `CertificateStoreOptions` (lib/k8s/prop-types.ts). */
const OPTIONS_SCHEMA: Schema = { cluster: T.string("'cluster-a'") };

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
    checkPropTypes('CertificateStore.fromDirectory', options, OPTIONS_SCHEMA, 'CertificateStoreOptions');
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
   * A store in a new temporary directory, deleted when the process exits.
   * @deprecated use `SecureMetricsServerTesting.temporaryStore()`
   */
  public static temporary(): CertificateStore {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secure-metrics-server-'));
    temporaries.add(dir);
    if (temporaries.size === 1) {
      process.once('exit', removeTemporaries);
    }
    return new CertificateStore(dir);
  }

  /**
   * A copy of synthesized manifests that is safe to snapshot.
   * @param manifests plain Kubernetes objects
   * @deprecated use `SecureMetricsServerTesting.redactForSnapshot()`
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

/** PEM armor of any private key: PKCS#1/#8/SEC1, encrypted PKCS#8, OpenSSH, PGP. */
const PRIVATE_PEM = /-----(BEGIN|END) [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;

/** Whether bytes are a DER private key (PKCS#8, PKCS#1 RSA, SEC1 EC) that Node can parse. */
function isDerPrivateKey(der: Buffer): boolean {
  if (der.length < 32 || der[0] !== 0x30) {
    return false;
  }
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this encoding
    }
  }
  return false;
}

/** The bytes of a base64 string (whitespace allowed), or undefined when it is not base64. */
function base64Bytes(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length < 16 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    return undefined;
  }
  return Buffer.from(compact, 'base64');
}

/** Whether a string holds a private key: PEM anywhere in it, or base64 of PEM or DER, or DER read as latin1. */
function holdsPrivateKey(text: string): boolean {
  if (PRIVATE_PEM.test(text) || mentionsPrivateKey(text)) {
    return true;
  }
  const bytes = base64Bytes(text);
  if (bytes && (PRIVATE_PEM.test(bytes.toString('latin1')) || isDerPrivateKey(bytes))) {
    return true;
  }
  return text.length >= 32 && text.charCodeAt(0) === 0x30 && isDerPrivateKey(Buffer.from(text, 'latin1'));
}

function holdsCertificate(text: string): boolean {
  const bytes = base64Bytes(text);
  return text.includes('-----BEGIN CERTIFICATE-----') || (bytes !== undefined && bytes.toString('latin1').includes('-----BEGIN CERTIFICATE-----'));
}

function redact(o: any): any {
  return redactValue(JSON.parse(JSON.stringify(o)));
}

/**
 * Walks every value (objects, arrays such as a List's items, nested
 * manifests): any string that holds a private key becomes a placeholder,
 * whatever its field; then the rules of the object's kind.
 */
function redactValue(v: any): any {
  if (typeof v === 'string') {
    return holdsPrivateKey(v) ? '<private key redacted>' : v;
  }
  if (Array.isArray(v)) {
    return v.map(redactValue);
  }
  if (v === null || typeof v !== 'object') {
    return v;
  }
  for (const k of Object.keys(v)) {
    v[k] = redactValue(v[k]);
  }
  if (v.kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const values = v[field];
      if (values && typeof values === 'object') {
        for (const k of Object.keys(values)) {
          if (typeof values[k] === 'string' && values[k] !== '<private key redacted>' && holdsCertificate(values[k])) {
            values[k] = '<certificate redacted>';
          }
        }
      }
    }
  }
  if (v.kind === 'APIService' && v.spec?.caBundle !== undefined) {
    v.spec.caBundle = '<caBundle redacted>';
  }
  // the expiry annotations: dates of the generated material (CA rotation)
  const annotations = v.metadata?.annotations;
  if (annotations && typeof annotations === 'object') {
    for (const k of Object.keys(annotations)) {
      if (/^secure-metrics-server\.io\/(ca|serving)-not-after$/.test(k)) {
        annotations[k] = '<date redacted>';
      }
    }
  }
  return v;
}
