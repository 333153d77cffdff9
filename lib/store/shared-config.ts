import { readFileSync } from 'fs';
import * as path from 'path';
import { parseAgeRecipient } from './age';

/**
 * The files that make a directory a shared store, without the construct
 * API (so that the `store` command's bundle does not carry the library).
 * @internal
 */

/**
 * Parses YAML with the `yaml` package that cdk8s bundles (cdk8s's own
 * `Yaml.load` runs a child process per file). Resolved from cdk8s's
 * directory at run time, so the command's bundle does not inline it.
 */
function parseYaml(text: string): any {
  const load = require as unknown as { (id: string): any; resolve(id: string, o?: { paths: string[] }): string };
  const cdk8sDir = path.dirname(load.resolve('cdk8s/package.json'));
  const yaml = load(load.resolve('yaml', { paths: [cdk8sDir] })) as { parse(t: string): unknown };
  return yaml.parse(text);
}

/** The default directory of a shared store, relative to the working directory. */
export const SHARED_DEFAULT_DIRECTORY = '.secure-metrics-server/shared';

/** The file in a shared store that names its age recipients (SOPS's creation rules). */
export const SOPS_CONFIG_FILE = '.sops.yaml';

/** The marker file of a shared store, which says what the directory is. */
export const SHARED_MARKER = 'store.json';

/** The recipients of the `.sops.yaml` in `dir`; throws naming the file and the fix. */
export function readRecipients(dir: string): string[] {
  const file = path.join(dir, SOPS_CONFIG_FILE);
  let docs: any[];
  try {
    docs = [parseYaml(readFileSync(file, 'utf8'))];
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
