import { readFileSync } from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { parseAgeRecipient } from './age';
import { schemaOf } from '../prop-schemas';
import { checkPropTypes } from '../prop-types';
import { isDirectoryName } from '../tls/store-files';

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
  public static readonly DEFAULT_DIRECTORY = '.secure-metrics-server/shared';

  /** The file in a shared store that names its age recipients (SOPS's creation rules). */
  public static readonly SOPS_CONFIG_FILE = '.sops.yaml';

  /**
   * A shared store in `directory` (absolute, or relative to the working
   * directory). It must exist (made by `secure-metrics-server store init`).
   */
  public static fromDirectory(directory: string, options: SharedCertificateStoreOptions = {}): SharedCertificateStore {
    if (typeof directory !== 'string' || directory.trim() === '') {
      throw new Error(`SharedCertificateStore.fromDirectory: the directory is empty; pass the path of a store made by 'secure-metrics-server store init', e.g. '${SharedCertificateStore.DEFAULT_DIRECTORY}'`);
    }
    checkPropTypes('SharedCertificateStore.fromDirectory', options, schemaOf('SharedCertificateStoreOptions'), 'SharedCertificateStoreOptions');
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

/** The marker file of a shared store, which says what the directory is. */
export const SHARED_MARKER = 'store.json';

/** The recipients of the `.sops.yaml` in `dir`; throws naming the file and the fix. */
export function readRecipients(dir: string): string[] {
  const file = path.join(dir, SharedCertificateStore.SOPS_CONFIG_FILE);
  let docs: any[];
  try {
    readFileSync(file);
    docs = Yaml.load(file);
  } catch (e: any) {
    throw new Error(`store: cannot read '${file}' (${e.code ?? e.message}); is '${dir}' a shared store? Make one with 'secure-metrics-server store init --store ${dir} --age-recipient age1...'`, { cause: e });
  }
  const rules: any[] = Array.isArray(docs[0]?.creation_rules) ? docs[0].creation_rules : [];
  const rule = rules.find(r => typeof r?.path_regex !== 'string' || new RegExp(r.path_regex).test('clusters/c/ca/ca.key.sops'));
  if (!rule) {
    throw new Error(`store: '${file}' has no creation rule for the store's key files (path_regex matching '.key.sops'); add one with the team's age recipients`);
  }
  const out: string[] = [];
  const add = (v: any) => {
    const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [];
    for (const r of list) {
      const t = String(r).trim();
      if (t !== '') {
        parseAgeRecipient(t, `store: '${file}'`);
        out.push(t);
      }
    }
  };
  add(rule.age);
  for (const g of Array.isArray(rule.key_groups) ? rule.key_groups : []) {
    add(g?.age);
  }
  if (out.length === 0) {
    throw new Error(`store: '${file}' names no age recipient; add the team's with 'secure-metrics-server store recipients add age1...'`);
  }
  return [...new Set(out)];
}

/** The `.sops.yaml` text of a store with these recipients. */
export function sopsConfigText(recipients: string[]): string {
  return [
    '# written by secure-metrics-server: who can decrypt the private keys of this certificate store.',
    "# Change it with 'secure-metrics-server store recipients add|remove' (which re-encrypts every key).",
    'creation_rules:',
    '  - path_regex: \\.key\\.sops$',
    `    age: ${recipients.join(',')}`,
    '',
  ].join('\n');
}
