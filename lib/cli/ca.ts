import * as path from 'path';
import { notRotatable, PruneOutcome, pruneRetired, REFUSED, rotateCa, RotateOutcome } from '../store/ca-rotation';
import { CertStatus, clustersInStore, ClusterStatus, describeClusters, describeStore, storeStatus } from '../store/ca-status';
import { clustersWithCa, DEFAULT_MIN_WAIT_MINUTES, sharedCas } from '../store/rotation-state';
import { CommandSpec, isoDate, oneOf, parseCommandArgs, UsageError } from './args';
import { CliIo, ExitCode, Subcommand } from './io';
import { isDirectoryName } from '../store/store-paths';
import { COMMAND_SUMMARIES } from './commands';
import { terminalText } from './terminal-text';

const HELP = `usage: secure-metrics-server ca status [--store DIR] [--cluster NAME] [--format text|json] [--fail-within DURATION]
       secure-metrics-server ca rotate [--store DIR] [--cluster NAME] [--abort] [--force] [--min-wait DUR] [--skip-reissue-check]
       secure-metrics-server ca prune [--store DIR] [--cluster NAME]

The CAs and serving certificates in the certificate store.

  status   everything of the store that has a date: every cluster's dedicated CA,
           rotation phase and serving certificates (also those of fromCa, whose
           CA is outside the store), and every shared CA with the clusters it
           signed for (every cluster of the store unless --cluster). With
           --fail-within, exit 1 when a CA or serving certificate expires within
           the window (e.g. 30d, 12h): a check for a scheduled CI job.
  rotate   runs the next phase of a staged rotation of a cluster's dedicated CA
           (ServingTls.fromDedicatedCa(); not a shared CA), one per call:
             stage   a new CA beside the old one; the caBundle holds both
             switch  the serving certificate is reissued by the new CA (next synth)
             finish  the old CA is retired (kept in ca-retired/); the caBundle holds the new CA
           After each phase: synthesize, apply, and wait. A phase runs at the
           earliest ${DEFAULT_MIN_WAIT_MINUTES} minutes after the previous one; --abort returns to
           the old CA after 'stage', while no serving certificate is the new CA's.
  prune    deletes the retired CAs of a cluster (ca-retired/, with their private
           keys): no synth uses them and no caBundle holds them. Nothing to apply.

options:
      --store DIR          the certificate store (default: $SECURE_METRICS_SERVER_STORE,
                           else .secure-metrics-server/pki in the working directory)
      --cluster NAME       the cluster (clusters/NAME); needed when the store holds several
  -f, --format text|json   status output (default: text)
      --fail-within DUR    status: exit 1 when something expires within DUR (Nd, Nh, Nm)
      --abort              rotate: undo 'stage' (the new CA is kept aside, unused)
      --force              rotate: skip the minimum wait, once you have checked the cluster
                           (never the order, never the reissue check below)
      --skip-reissue-check rotate: 'finish' without checking that a synth reissued every
                           stored serving certificate (an identity no longer deployed)
      --min-wait DUR       rotate: the minimum wait between phases (default and floor: ${DEFAULT_MIN_WAIT_MINUTES}m;
                           a longer one for slow pipelines)
      --now ISO-DATE       the clock (default: now)
  -h, --help               this text

Exit codes: 0 done (status: nothing expires within the window); 1 refused, or
something expires within the window; 2 bad usage, an unusable store, or (status)
a store that holds no certificate.
Guide: docs/rotation.md.
`;

interface CaArgs {
  action?: 'status' | 'rotate' | 'prune';
  store?: string;
  cluster?: string;
  format: 'text' | 'json';
  failWithinMs?: number;
  abort: boolean;
  force: boolean;
  skipReissueCheck: boolean;
  minWaitMs: number;
  now?: Date;
  help: boolean;
}

/** Parses `30d`, `12h`, `90m`, `45s`; throws a usage message. @internal */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+)([dhms])$/.exec(text.trim());
  if (!m) {
    throw new UsageError(`${flag}: '${text}' is not a duration; use a number and a unit, e.g. 30d, 12h, 10m`);
  }
  return Number(m[1]) * { d: 86400000, h: 3600000, m: 60000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'];
}

const SPEC: CommandSpec = {
  command: 'ca',
  positionals: true,
  options: {
    'store': { type: 'string' },
    'cluster': { type: 'string' },
    'format': { type: 'string', short: 'f' },
    'fail-within': { type: 'string' },
    'min-wait': { type: 'string' },
    'abort': { type: 'boolean' },
    'force': { type: 'boolean' },
    'skip-reissue-check': { type: 'boolean' },
    'now': { type: 'string' },
  },
};

/** Parses ca's arguments; throws a usage message. @internal */
export function parseCaArgs(argv: string[]): CaArgs {
  const a = parseCommandArgs(SPEC, argv);
  const args: CaArgs = {
    store: a.string('store'), cluster: a.string('cluster'), format: 'text',
    abort: a.flag('abort') ?? false, force: a.flag('force') ?? false,
    skipReissueCheck: a.flag('skip-reissue-check') ?? false, minWaitMs: DEFAULT_MIN_WAIT_MINUTES * 60000, help: a.help,
  };
  if (args.help) {
    return args;
  }
  const [action, extra] = a.positionals;
  if (action !== undefined) {
    if (action !== 'status' && action !== 'rotate' && action !== 'prune') {
      throw new UsageError(`unknown action '${action}'; use status, rotate or prune`);
    }
    args.action = action;
  }
  if (extra !== undefined) {
    throw new UsageError(`unexpected argument '${extra}'; one action: status, rotate or prune`);
  }
  const format = a.string('format');
  if (format !== undefined) {
    args.format = oneOf('--format', format, ['text', 'json'] as const, 'format');
  }
  const failWithin = a.string('fail-within');
  if (failWithin !== undefined) {
    args.failWithinMs = parseDuration('--fail-within', failWithin);
  }
  const minWait = a.string('min-wait');
  if (minWait !== undefined) {
    args.minWaitMs = parseDuration('--min-wait', minWait);
    if (args.minWaitMs < DEFAULT_MIN_WAIT_MINUTES * 60000) {
      // the documented floor (docs/rotation.md): it covers a deploy; --force is the checked way past it
      throw new UsageError(`--min-wait: '${minWait}' is below the floor of ${DEFAULT_MIN_WAIT_MINUTES} minutes between phases (docs/rotation.md#the-dedicated-ca-ca-rotate); pass ${DEFAULT_MIN_WAIT_MINUTES}m or more (e.g. --min-wait 30m for a slow pipeline), or --force to skip the wait once you have checked the cluster`);
    }
  }
  const now = a.string('now');
  if (now !== undefined) {
    args.now = isoDate('--now', now);
  }
  if (args.action === undefined) {
    throw new UsageError('an action is needed: status, rotate or prune');
  }
  if (args.cluster !== undefined && !isDirectoryName(args.cluster)) {
    // the name becomes clusters/NAME: nothing may lead out of the store
    throw new UsageError(`--cluster: ${JSON.stringify(args.cluster)} is not a cluster directory name of the store (clusters/NAME); use 1 to 100 letters, digits, '-', '_' and '.', not starting with '.' (no '/', '..' or NUL), e.g. --cluster cluster-a; 'ca status' lists the clusters`);
  }
  const rotateOnly = args.abort ? '--abort' : args.force ? '--force' : args.skipReissueCheck ? '--skip-reissue-check' : minWait !== undefined ? '--min-wait' : undefined;
  if (args.action !== 'rotate' && rotateOnly !== undefined) {
    throw new UsageError(`${rotateOnly} is an option of 'ca rotate', not of 'ca ${args.action}'`);
  }
  if (args.action !== 'status' && (args.failWithinMs !== undefined || args.format !== 'text')) {
    throw new UsageError(`${args.failWithinMs !== undefined ? '--fail-within' : '--format'} is an option of 'ca status', not of 'ca ${args.action}'`);
  }
  return args;
}

function storeDirOf(args: CaArgs, io: CliIo): string {
  const fromEnv = io.env.SECURE_METRICS_SERVER_STORE;
  const dir = args.store ?? (fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : '.secure-metrics-server/pki');
  return path.resolve(io.cwd, dir);
}

/** The cluster `rotate` works on: --cluster, or the store's only one. */
function clusterOf(args: CaArgs, storeDir: string): string {
  if (args.cluster !== undefined) {
    return args.cluster;
  }
  const names = clustersWithCa(storeDir);
  if (names.length === 1) {
    return names[0];
  }
  if (names.length === 0) {
    // a store of shared CAs or fromCa certificates only: say why ca rotate does not apply
    const refusal = clustersInStore(storeDir).map(c => notRotatable(storeDir, c)).find(e => e !== undefined);
    if (refusal) {
      throw refusal;
    }
    if (sharedCas(storeDir).length > 0) {
      throw new Error(`--store: ${describeStore(storeDir)}, and no cluster uses a shared CA yet; 'ca rotate' rotates a cluster's dedicated CA only (docs/rotation.md#a-shared-ca)`);
    }
  }
  throw new Error(`--cluster: ${names.length === 0 ? '' : 'the store holds several clusters, so --cluster is needed; '}${describeClusters(storeDir)}`);
}

function issuerText(c: CertStatus): string {
  switch (c.issuedBy) {
    case 'shared': return `issued by the shared CA '${c.sharedCa}'`;
    case 'outside': return `issued by a CA outside the store: ${c.issuer}`;
    default: return `issued by the ${c.issuedBy} CA`;
  }
}

function line(c: CertStatus): string {
  const what = c.role === 'serving' ? `serving ${c.identity} (${issuerText(c)})`
    : c.role === 'shared' ? `shared CA '${c.name}' ${c.subject} (signed for ${c.clusters!.length ? c.clusters!.map(n => `'${n}'`).join(', ') : 'no cluster of the store'})`
      : `${c.role} CA ${c.subject}`;
  const flags = [c.signing ? 'signs' : '', c.inBundle ? 'in caBundle' : ''].filter(Boolean).join(', ');
  return `  ${what}: expires ${c.notAfter}${flags ? ` [${flags}]` : ''}, sha256 ${c.sha256.slice(0, 16)}`;
}

function clusterHeading(c: ClusterStatus): string {
  if (!c.dedicatedCa) {
    const shared = [...new Set(c.certificates.map(x => x.sharedCa).filter((n): n is string => n !== undefined))];
    return `cluster ${c.cluster}: no dedicated CA${shared.length ? ` (uses the shared CA ${shared.map(n => `'${n}'`).join(', ')})` : ''}; 'ca rotate' does not apply`;
  }
  const phase = c.phase === 'none' ? 'no rotation in progress' : `rotation phase '${c.phase}'${c.phase === 'staged' ? ` since ${c.stagedAt}` : c.phase === 'switched' ? ` since ${c.switchedAt}` : ''}`;
  return `cluster ${c.cluster}: ${phase}; next: ${c.nextStep}${c.nextStepAfter ? ` (not before ${c.nextStepAfter})` : ''}`;
}

function statusText(clusters: ClusterStatus[], shared: CertStatus[]): string {
  const out: string[] = [];
  for (const c of clusters) {
    out.push(clusterHeading(c), ...c.certificates.map(line));
  }
  if (shared.length) {
    out.push('shared CAs:', ...shared.map(line));
  }
  return out.join('\n') + '\n';
}

function status(args: CaArgs, io: CliIo, storeDir: string, now: Date): number {
  const { clusters, sharedCas: shared } = storeStatus(storeDir, args.minWaitMs, args.cluster);
  if (clusters.length === 0 && shared.length === 0) {
    throw new Error(`--store: ${describeStore(storeDir)}`);
  }
  const expiring: string[] = [];
  if (args.failWithinMs !== undefined) {
    const limit = now.getTime() + args.failWithinMs;
    for (const c of [...clusters.flatMap(x => x.certificates), ...shared]) {
      if (c.role !== 'retired' && Date.parse(c.notAfter) <= limit) {
        expiring.push(`${c.file} (${c.role === 'serving' ? 'serving certificate' : `${c.role} CA`}) expires ${c.notAfter}`);
      }
    }
  }
  if (args.format === 'json') {
    io.stdout.write(JSON.stringify({ store: storeDir, now: now.toISOString(), clusters, sharedCas: shared, ...(args.failWithinMs !== undefined ? { expiringWithinWindow: expiring } : {}) }, undefined, 2) + '\n');
  } else {
    io.stdout.write(statusText(clusters, shared));
    for (const e of expiring) {
      io.stdout.write(`EXPIRES WITHIN THE WINDOW: ${e}\n`);
    }
  }
  if (expiring.length > 0) {
    io.stderr.write(`ca status: ${expiring.length} certificate(s) expire within the window; renew: the serving certificate renews itself on synth within renewBefore; a dedicated CA is rotated with 'secure-metrics-server ca rotate', a shared CA or a CA outside the store by hand (docs/rotation.md)\n`);
    return ExitCode.FINDINGS;
  }
  return ExitCode.OK;
}

/** A word for a shell, quoted when it needs it. */
function shellWord(w: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

/** The command line of a `ca` action on this store and cluster, as it can be pasted. */
function caCommandLine(action: string, storeDir: string, cluster: string): string {
  return ['secure-metrics-server', 'ca', action, '--store', storeDir, '--cluster', cluster].map(shellWord).join(' ');
}

function rotateText(o: RotateOutcome, cluster: string, storeDir: string): string {
  const cas = o.bundle.map(c => `${c.subject} (sha256 ${c.sha256.slice(0, 16)}, expires ${c.notAfter})`).join(' and ');
  const lines: string[] = [];
  switch (o.step) {
    case 'staged':
      lines.push(`cluster ${cluster}: phase 'stage' done: a new CA is beside the old one; the caBundle now holds both (${cas}); the serving certificate is unchanged.`,
        'Now: synthesize and apply (the APIService caBundle changes; the Secret does not).',
        'Wait: until the APIService shows Available=True with the new caBundle (kubectl get apiservice v1beta1.metrics.k8s.io), i.e. it is applied everywhere.');
      break;
    case 'switched':
      lines.push(`cluster ${cluster}: phase 'switch' done: the next synth reissues the serving certificate with the new CA; the caBundle still holds both (${cas}).`,
        'Now: synthesize and apply (the Secret changes; the caBundle does not).',
        'Wait: until every metrics-server pod serves the new certificate: the kubelet refreshes the mounted Secret within about a minute or two and metrics-server reloads it; kubectl top nodes keeps working throughout.');
      break;
    case 'finished':
      lines.push(`cluster ${cluster}: phase 'finish' done: the old CA is retired (kept in ca-retired/, with its private key); the caBundle now holds the new CA only (${cas}).`,
        'Now: synthesize and apply (the caBundle changes; the Secret does not). The rotation is complete.',
        `Later: delete the retired CA's key once you no longer want it (no synth uses it): ${caCommandLine('prune', storeDir, cluster)}`);
      break;
    default:
      lines.push(`cluster ${cluster}: rotation aborted: the new CA is kept aside (ca-retired/, unused); the caBundle holds the old CA only (${cas}).`,
        'Now: synthesize and apply (the caBundle changes back; the Secret does not).');
  }
  if (o.nextStepAfter) {
    lines.push(`Then: run ${caCommandLine('rotate', storeDir, cluster)} again, not before ${o.nextStepAfter}.`);
  }
  return lines.join('\n') + '\n';
}

function pruneText(o: PruneOutcome, cluster: string): string {
  const lines = o.removed.map(r => `removed ${r.subject ? `the retired CA ${r.subject} (sha256 ${r.sha256!.slice(0, 16)}, expires ${r.notAfter})` : 'an unreadable retired CA'} and its key: '${r.directory}'`);
  lines.push(...o.kept.map(k => `kept '${k.directory}': ${k.reason}`));
  lines.push(o.removed.length === 0 && o.kept.length === 0
    ? `cluster ${cluster}: no retired CA to prune.`
    : `cluster ${cluster}: ${o.removed.length} retired CA(s) removed. Nothing to apply: the caBundle and the Secret do not change.`);
  return lines.join('\n') + '\n';
}

/**
 * `io` whose text reaches a terminal escaped: a CA's name, a store path or a
 * cluster name in the store can carry control characters. Line feeds of the
 * text itself are kept; JSON output (`--format json`) is written as it is,
 * JSON.stringify having escaped it.
 */
function terminalIo(io: CliIo): CliIo {
  const safe = (s: { write(s: string): unknown; readonly isTTY?: boolean }) =>
    ({ isTTY: s.isTTY, write: (text: string) => s.write(terminalText(text, { keepNewlines: true })) });
  return { ...io, readStdin: io.readStdin, stdout: safe(io.stdout), stderr: safe(io.stderr) };
}

async function run(argv: string[], rawIo: CliIo): Promise<number> {
  let io = terminalIo(rawIo);
  let args: CaArgs;
  try {
    args = parseCaArgs(argv);
  } catch (e: any) {
    io.stderr.write(`ca: ${e.message}\n`);
    return ExitCode.INPUT_ERROR;
  }
  if (args.format === 'json') {
    io = { ...io, stdout: rawIo.stdout };
  }
  if (args.help) {
    io.stdout.write(HELP);
    return ExitCode.OK;
  }
  const storeDir = storeDirOf(args, io);
  const now = args.now ?? new Date();
  try {
    if (args.action === 'status') {
      return status(args, io, storeDir, now);
    }
    const cluster = clusterOf(args, storeDir);
    if (args.action === 'prune') {
      io.stdout.write(pruneText(pruneRetired(storeDir, cluster), cluster));
      return ExitCode.OK;
    }
    const outcome = rotateCa({ storeDir, cluster, now, abort: args.abort, force: args.force, skipReissueCheck: args.skipReissueCheck,
      minWaitMs: args.minWaitMs });
    io.stdout.write(rotateText(outcome, cluster, storeDir));
    return ExitCode.OK;
  } catch (e: any) {
    if (e?.code === REFUSED) {
      io.stderr.write(`${e.message}\n`);
      return ExitCode.FINDINGS;
    }
    io.stderr.write(`ca ${args.action}: ${e.message}\n`);
    return ExitCode.INPUT_ERROR;
  }
}

/** `secure-metrics-server ca`: the dedicated CA's status and staged rotation. */
export const caCommand: Subcommand = {
  summary: COMMAND_SUMMARIES.ca,
  run,
};
