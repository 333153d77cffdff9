import * as path from 'path';
import { readRecipients, SHARED_DEFAULT_DIRECTORY, SOPS_CONFIG_FILE } from './shared-config';
import { checkPropTypes, Schema, T } from '../k8s/prop-types';
import { isDirectoryName } from './store-paths';

/**
 * Options for `SharedCertificateStore.fromDirectory()`.
 */
export interface SharedCertificateStoreOptions {
  /**
   * The cluster whose certificates this store holds for every
   * SecureMetricsServer that uses it (`clusters/<cluster>/`).
   * @default - derived from the path of the enclosing Chart (its id, e.g. 'cluster-a')
   */
  readonly cluster?: string;
}

/** The runtime check of SharedCertificateStoreOptions (test/prop-types.test.ts). */
const OPTIONS_SCHEMA: Schema = { cluster: T.string("'cluster-a'") };

/**
 * A certificate store that the team shares through git: committed in the
 * application repository, every private key encrypted with SOPS to the age
 * recipients of its `.sops.yaml`, every public part (certificates, CA
 * parameters, the served record, the cached encrypted Secrets) in clear.
 *
 * Layout (docs/gitops.md): the layout of `CertificateStore`, with each
 * `*.key` kept as `*.key.sops` (SOPS's binary format: `sops -d ca.key.sops`
 * prints the PEM), plus `<identity>.served.json` and
 * `<identity>.outputs.json` beside each serving certificate.
 *
 * Create one with `secure-metrics-server store init`, or from a local store
 * with `store import`. A synth that issues or renews needs an age identity
 * (`SOPS_AGE_KEY_FILE` or `SOPS_AGE_KEY`); a synth from a complete store
 * with sealed or SOPS output needs none (nothing is decrypted).
 */
export class SharedCertificateStore {
  /** The default directory of a shared store, relative to the working directory. */
  public static readonly DEFAULT_DIRECTORY = SHARED_DEFAULT_DIRECTORY;

  /** The file in a shared store that names its age recipients (SOPS's creation rules). */
  public static readonly SOPS_CONFIG_FILE = SOPS_CONFIG_FILE;

  /**
   * A shared store in `directory` (absolute, or relative to the working
   * directory). It must exist (made by `secure-metrics-server store init`).
   */
  public static fromDirectory(directory: string, options: SharedCertificateStoreOptions = {}): SharedCertificateStore {
    if (typeof directory !== 'string' || directory.trim() === '') {
      throw new Error(`SharedCertificateStore.fromDirectory: the directory is empty; pass the path of a store made by 'secure-metrics-server store init', e.g. '${SharedCertificateStore.DEFAULT_DIRECTORY}'`);
    }
    checkPropTypes('SharedCertificateStore.fromDirectory', options, OPTIONS_SCHEMA, 'SharedCertificateStoreOptions');
    if (options.cluster !== undefined && !isDirectoryName(options.cluster)) {
      throw new Error(`SharedCertificateStore.fromDirectory: cluster '${options.cluster}' is not a usable directory name; use 1 to 100 letters, digits, '-', '_' and '.', not starting with '.', e.g. 'cluster-a'`);
    }
    return new SharedCertificateStore(directory, options.cluster);
  }

  /** The store directory, resolved against the working directory. */
  public readonly directory: string;

  /** The cluster given to `fromDirectory()`, if any. */
  public readonly cluster?: string;

  private constructor(directory: string, cluster?: string) {
    this.directory = path.resolve(directory);
    this.cluster = cluster;
  }

  /**
   * The age recipients every key of the store is encrypted to, from the
   * store's `.sops.yaml` (the first creation rule whose `path_regex`
   * matches `.key.sops`, or has none; `age:` as a comma-separated string or
   * a list, and `key_groups[].age`).
   */
  public recipients(): string[] {
    return readRecipients(this.directory);
  }

  /** @internal */
  public _path(...parts: string[]): string {
    return path.join(this.directory, ...parts);
  }
}
