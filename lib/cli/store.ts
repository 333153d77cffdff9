import { COMMAND_SUMMARIES } from './commands';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { CommandSpec, parseCommandArgs, UsageError } from './args';
import { CliIo, ExitCode, Subcommand } from './io';
import { terminalText } from './terminal-text';
import { generateAgeIdentity, ageKeyFile, parseAgeRecipient } from '../store/age';
import { readRecipients, SHARED_DEFAULT_DIRECTORY, SHARED_MARKER, SOPS_CONFIG_FILE, sopsConfigText } from '../store/shared-config';
import { isDirectory, listFiles, materialize, reencryptAll, removeWorkingDirectory, SEALED_KEY_SUFFIX, syncBack, workingDirectory, writePublic } from '../store/shared-sync';
import { ageIdentitiesFromEnvironment } from '../store/sops';
import { makeDirectory, writeAtomic } from '../store/store-files';
import { acquireLock } from '../store/store-lock';

const load: (id: string) => unknown = require;

const HELP = `usage: secure-metrics-server store init [--store DIR] --age-recipient AGE1... [--age-recipient ...]
       secure-metrics-server store init [--store DIR] --new-identity FILE
       secure-metrics-server store import --from LOCAL_DIR [--store DIR] [--cluster NAME] [--identity NAME]
       secure-metrics-server store recipients list|add|remove [AGE1...] [--store DIR]
       secure-metrics-server store ca [--store DIR] -- <ca arguments>

A certificate store shared through git (docs/gitops.md): every private key
SOPS-encrypted to the age recipients of its .sops.yaml, everything public in
clear. Commit the directory.

  init        creates an empty shared store for these recipients (--new-identity
              FILE also makes an age identity in age's key-file format, 0600: keep
              it out of git, e.g. in ~/.config/sops/age/keys.txt)
  import      copies a local store (the current layout, or 0.1's flat
              ca.crt/ca.key/tls.crt/tls.key, which needs --cluster) into the
              shared store, encrypting its keys: the same CA, no new caBundle
  recipients  list, add or remove age recipients; add and remove re-encrypt
              every key (needs an identity: SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)
  ca          runs 'secure-metrics-server ca <arguments>' (status, rotate) on a
              decrypted working copy of the shared store and encrypts back what
              changed: each rotation phase is then one commit

options:
      --store DIR          the shared store (default: .secure-metrics-server/shared)
      --age-recipient R    init: an age recipient (repeatable)
      --new-identity FILE  init: make a new age identity in FILE and use its recipient
      --from DIR           import: the local store to import
      --cluster NAME       import of a 0.1 store: the cluster it becomes (clusters/NAME)
      --identity NAME      import of a 0.1 store: the service identity
                           (default: metrics-server.kube-system.svc.cluster.local)
  -h, --help               this text

Exit codes: 0 done; 1 refused (nothing changed); 2 bad usage.
`;

const SPEC: CommandSpec = {
  command: 'store',
  positionals: true,
  options: {
    'store': { type: 'string' },
    'age-recipient': { type: 'string', multiple: true },
    'new-identity': { type: 'string' },
    'from': { type: 'string' },
    'cluster': { type: 'string' },
    'identity': { type: 'string' },
  },
};

function say(io: CliIo, text: string): void {
  io.stdout.write(terminalText(text) + '\n');
}

function resolveIn(io: CliIo, p: string): string {
  return path.resolve(io.cwd, p);
}

/** `dir` as the user would type it here: relative when under the working directory. */
function shown(io: CliIo, dir: string): string {
  const rel = path.relative(io.cwd, dir);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
}

function lock<T>(dir: string, fn: () => T): T {
  const release = acquireLock(path.join(dir, '.lock'), dir);
  try {
    return fn();
  } finally {
    release();
  }
}

function assertShared(dir: string): void {
  if (!existsSync(path.join(dir, SHARED_MARKER))) {
    throw new UsageError(`store: '${dir}' is not a shared store (no ${SHARED_MARKER}); make one with 'secure-metrics-server store init --store ${dir} --age-recipient age1...'`);
  }
}

function identities(io: CliIo) {
  const found = ageIdentitiesFromEnvironment(io.env as NodeJS.ProcessEnv);
  if (found.identities.length === 0) {
    throw new UsageError('store: this needs an age identity of the store (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or ~/.config/sops/age/keys.txt), and none is set');
  }
  return found.identities;
}

function init(io: CliIo, dir: string, recipients: string[], newIdentity: string | undefined): number {
  if (existsSync(path.join(dir, SHARED_MARKER))) {
    throw new UsageError(`store: '${dir}' is a shared store already; change its recipients with 'store recipients add|remove'`);
  }
  if (isDirectory(dir) && listFiles(dir).length > 0) {
    throw new UsageError(`store: '${dir}' is not empty; to turn a local store into a shared one, use 'store import --from ${dir} --store <new dir>'`);
  }
  const all = [...recipients];
  if (newIdentity !== undefined) {
    const file = resolveIn(io, newIdentity);
    if (existsSync(file)) {
      throw new UsageError(`store: --new-identity '${file}' exists; it is never overwritten (pass its recipient with --age-recipient, from 'age-keygen -y ${file}')`);
    }
    const id = generateAgeIdentity();
    makeDirectory(path.dirname(file));
    writeAtomic(file, ageKeyFile(id, new Date()));
    all.push(id.recipient);
    say(io, `wrote a new age identity to ${file} (0600; keep it out of git), recipient ${id.recipient}`);
  }
  if (all.length === 0) {
    throw new UsageError('store init: give at least one --age-recipient (age1...) or --new-identity FILE');
  }
  all.forEach(r => parseAgeRecipient(r, '--age-recipient'));
  makeDirectory(dir);
  writePublic(path.join(dir, SOPS_CONFIG_FILE), sopsConfigText([...new Set(all)]));
  writePublic(path.join(dir, '.gitignore'), '# written by secure-metrics-server: this store is committed; only its lock stays out of git\n.lock\n.*.tmp\n');
  writePublic(path.join(dir, SHARED_MARKER), JSON.stringify({ kind: 'secure-metrics-server shared certificate store', version: 1, keys: 'SOPS (age), *.key.sops' }, undefined, 2) + '\n');
  say(io, `created the shared store ${dir} for ${[...new Set(all)].join(', ')}; commit it: git add ${shown(io, dir)}`);
  const ignoredBy = gitIgnoreRule(path.join(dir, SHARED_MARKER));
  if (ignoredBy) {
    io.stderr.write(terminalText(`warning: git ignores this directory (${ignoredBy}); a shared store must be committed: ignore only the local store instead (e.g. '.secure-metrics-server/pki/' rather than '.secure-metrics-server/')`) + '\n');
  }
  return ExitCode.OK;
}

/** The .gitignore rule that ignores `file`, when it is in a git work tree that ignores it (bounded: 5 s). */
function gitIgnoreRule(file: string): string | undefined {
  const { spawnSync } = require('child_process') as typeof import('child_process');
  const r = spawnSync('git', ['check-ignore', '-v', '--no-index', file], { cwd: path.dirname(file), encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && r.stdout ? r.stdout.trim().split('\t')[0] : undefined;
}

function importStore(io: CliIo, dir: string, from: string, cluster: string | undefined, identity: string): number {
  assertShared(dir);
  const recipients = readRecipients(dir);
  if (!isDirectory(from)) {
    throw new UsageError(`store import: --from '${from}' is not a directory`);
  }
  const flat = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].filter(n => existsSync(path.join(from, n)));
  const work = workingDirectory();
  try {
    // the local store's files in the local layout; 0.1's flat files moved to where this release keeps them
    for (const rel of listFiles(from)) {
      const base = path.basename(rel);
      if (base.endsWith('.checked.json') || base === 'checked.json' || base.startsWith('.') || flat.includes(rel)) {
        continue;
      }
      makeDirectory(path.join(work, path.dirname(rel)));
      writeAtomic(path.join(work, rel), readFileSync(path.join(from, rel), 'utf8'));
    }
    if (flat.length > 0) {
      if (cluster === undefined) {
        throw new UsageError(`store import: '${from}' is a store of release 0.1 (flat ${flat.join(', ')}); say which cluster it becomes with --cluster NAME (the chart's id, e.g. 'metrics-server')`);
      }
      const to: { [n: string]: string } = { 'ca.crt': `clusters/${cluster}/ca/ca.crt`, 'ca.key': `clusters/${cluster}/ca/ca.key`, 'tls.crt': `clusters/${cluster}/${identity}/tls.crt`, 'tls.key': `clusters/${cluster}/${identity}/tls.key` };
      for (const n of flat) {
        makeDirectory(path.join(work, path.dirname(to[n])));
        writeAtomic(path.join(work, to[n]), readFileSync(path.join(from, n), 'utf8'));
      }
    }
    const clash = listFiles(work).filter(rel => existsSync(path.join(dir, rel)) || existsSync(path.join(dir, rel + SEALED_KEY_SUFFIX)));
    if (clash.length > 0) {
      throw new UsageError(`store import: the shared store holds ${clash.slice(0, 3).join(', ')}${clash.length > 3 ? ', ...' : ''} already; nothing was imported (import into an empty store, or remove those first)`);
    }
    const written = lock(dir, () => syncBack(work, dir, new Map(), recipients, new Date()));
    say(io, `imported ${written.length} files from ${from} into ${dir} (keys encrypted to ${recipients.join(', ')}); the next synth with SharedCertificateStore.fromDirectory('${shown(io, dir)}') gives the same caBundle. Commit it, then delete the local store (it holds plaintext keys)`);
    return ExitCode.OK;
  } finally {
    removeWorkingDirectory(work);
  }
}

function recipientsCommand(io: CliIo, dir: string, action: string | undefined, given: string[]): number {
  assertShared(dir);
  const current = readRecipients(dir);
  if (action === 'list' || action === undefined) {
    current.forEach(r => say(io, r));
    return ExitCode.OK;
  }
  if (action !== 'add' && action !== 'remove') {
    throw new UsageError(`store recipients: '${action}' is not an action; use list, add or remove`);
  }
  if (given.length === 0) {
    throw new UsageError(`store recipients ${action}: name the recipient(s), e.g. age1...`);
  }
  given.forEach(r => parseAgeRecipient(r, `store recipients ${action}`));
  const next = action === 'add' ? [...new Set([...current, ...given])] : current.filter(r => !given.includes(r));
  if (next.length === 0) {
    throw new UsageError('store recipients remove: that would leave no recipient, and no one could decrypt the keys; add the new one first');
  }
  const missing = action === 'remove' ? given.filter(r => !current.includes(r)) : [];
  if (missing.length > 0) {
    throw new UsageError(`store recipients remove: ${missing.join(', ')} is not a recipient of ${dir}`);
  }
  const ids = identities(io);
  const written = lock(dir, () => {
    const files = reencryptAll(dir, ids, next, new Date());
    writePublic(path.join(dir, SOPS_CONFIG_FILE), sopsConfigText(next));
    return files;
  });
  say(io, `re-encrypted ${written.length} keys to ${next.join(', ')}; commit ${shown(io, dir)}.${action === 'remove' ? ' A removed recipient can still decrypt the keys of earlier commits: rotate the CA (store ca -- rotate) if that identity leaked' : ''}`);
  return ExitCode.OK;
}

async function caOnShared(io: CliIo, dir: string, caArgs: string[]): Promise<number> {
  assertShared(dir);
  if (caArgs.some(a => a === '--store' || a.startsWith('--store='))) {
    throw new UsageError('store ca: --store is the shared store, given before --');
  }
  const recipients = readRecipients(dir);
  const ids = identities(io);
  const release = acquireLock(path.join(dir, '.lock'), dir);
  const work = workingDirectory();
  try {
    const snapshot = materialize(dir, work, ids);
    // loaded as main.ts loads commands: its own bundle (build/cli/ca.js), not inlined here
    const { caCommand } = load('./ca') as typeof import('./ca');
    const code = await caCommand.run([...caArgs, '--store', work], {
      ...io,
      stdout: { write: (s: string) => io.stdout.write(s.split(work).join(dir)) },
      stderr: { write: (s: string) => io.stderr.write(s.split(work).join(dir)) },
    });
    const written = syncBack(work, dir, snapshot, recipients, new Date());
    if (written.length > 0) {
      say(io, `updated ${written.length} files in ${dir}; commit them (each rotation phase is one commit)`);
    }
    return code;
  } finally {
    removeWorkingDirectory(work);
    release();
  }
}

/** `secure-metrics-server store`. */
export const storeCommand: Subcommand = {
  summary: COMMAND_SUMMARIES.store,
  async run(argv: string[], io: CliIo): Promise<number> {
    const dash = argv.indexOf('--');
    const own = dash >= 0 ? argv.slice(0, dash) : argv;
    const rest = dash >= 0 ? argv.slice(dash + 1) : [];
    try {
      const args = parseCommandArgs(SPEC, own);
      if (args.help) {
        io.stdout.write(HELP);
        return ExitCode.OK;
      }
      const [action, ...positionals] = args.positionals;
      const dir = resolveIn(io, args.string('store') ?? SHARED_DEFAULT_DIRECTORY);
      switch (action) {
        case 'init':
          return init(io, dir, args.strings('age-recipient'), args.string('new-identity'));
        case 'import': {
          const from = args.string('from');
          if (from === undefined) {
            throw new UsageError('store import: name the local store with --from DIR (e.g. .secure-metrics-server/pki)');
          }
          return importStore(io, dir, resolveIn(io, from), args.string('cluster'), args.string('identity') ?? 'metrics-server.kube-system.svc.cluster.local');
        }
        case 'recipients':
          return recipientsCommand(io, dir, positionals[0], positionals.slice(1));
        case 'ca':
          return await caOnShared(io, dir, rest);
        default:
          throw new UsageError(`store: ${action === undefined ? 'no action' : `'${action}' is not an action`}; use init, import, recipients or ca (--help)`);
      }
    } catch (e: any) {
      if (e instanceof UsageError) {
        io.stderr.write(terminalText(`secure-metrics-server ${e.message}`) + '\n');
        return ExitCode.INPUT_ERROR;
      }
      io.stderr.write(terminalText(`secure-metrics-server store: ${e.message}`) + '\n');
      return ExitCode.FINDINGS;
    }
  },
};
