import { CannotRun, ClientLimits, ClusterClient } from '../cluster/client';
import { checkApiServiceHop } from '../cluster/apiservice-hop';
import { exitCodeOf, Findings } from '../cluster/findings';
import { auditInstall, readInstall } from '../cluster/install';
import { checkKubeletHop } from '../cluster/kubelet-hop';
import { checkLogs } from '../cluster/logs';
import { loadKubeconfig, redactUrl } from '../cluster/kubeconfig';
import { preflight } from '../cluster/preflight';
import { DoctorOptions, DoctorReport, HopStatus, HopSummary, NodeReport, Section } from '../cluster/report';
import { DoctorRules } from '../rules/doctor-rules';
import { loadManifests } from '../manifests/load';
import { formatDoctorError, formatDoctorJson, formatDoctorText } from './doctor-format';
import { CommandSpec, isoDate, oneOf, parseCommandArgs, UsageError, wholeNumber } from './args';
import { CliIo, ExitCode, Subcommand } from './io';
import { COMMAND_SUMMARIES } from './commands';
import { terminalText } from './terminal-text';

const HELP = `usage: secure-metrics-server doctor [options]

Reads a live cluster (GET only, nothing is ever written) and explains, hop by
hop, why kubectl top fails: the APIService hop (kube-apiserver -> metrics-server)
and the kubelet hop (metrics-server -> every kubelet), with recent metrics-server
log lines matched against known errors.

options:
      --kubeconfig FILE         use this kubeconfig only (default: KUBECONFIG, which may
                                list several files, then ~/.kube/config, then the pod's
                                service account)
      --context NAME            use this context instead of current-context
  -n, --namespace NS            where metrics-server is when the APIService does not say
                                (default: kube-system)
      --probe-kubelets          dial every kubelet's port with TLS and verify the
                                certificate it serves, as metrics-server would
      --probe-concurrency N     kubelets dialled at once (default: 64)
      --probe-timeout SECONDS   per kubelet (default: 3)
      --log-lines N             log lines read per pod (default: 300; 0 skips logs)
      --preflight DIR           before applying: check the synthesized manifests in DIR
                                against the live cluster instead of the installed objects
      --now ISO-DATE            the clock for certificate validity (default: now)
      --timeout SECONDS         the whole run, reads and kubelet probes (default: 300)
      --request-timeout SECONDS one read of the API server, first byte to last (default: 30)
  -f, --format text|json        output format (default: text)
  -h, --help                    this text

Proxies: the kubeconfig's proxy-url, else HTTPS_PROXY/NO_PROXY (as kubectl).
Exit codes: 0 healthy; 1 problems found; 2 could not run (no kubeconfig, cluster
unreachable, credentials refused, an answer that is not the API server's, a
limit reached, bad usage; with --format json a JSON document with "error"). Missing read permissions are
reported ("could not see"), not fatal. Guide and minimal ClusterRole: docs/doctor.md.
`;

interface DoctorArgs {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  probeKubelets: boolean;
  probeConcurrency: number;
  probeTimeoutMs: number;
  logLines: number;
  preflight?: string;
  format: 'text' | 'json';
  help: boolean;
  now?: Date;
  timeoutMs: number;
  requestTimeoutMs: number;
}

const SPEC: CommandSpec = {
  command: 'doctor',
  positionals: false,
  options: {
    'kubeconfig': { type: 'string' },
    'context': { type: 'string' },
    'namespace': { type: 'string', short: 'n' },
    'probe-kubelets': { type: 'boolean' },
    'probe-concurrency': { type: 'string' },
    'probe-timeout': { type: 'string' },
    'log-lines': { type: 'string' },
    'preflight': { type: 'string' },
    'now': { type: 'string' },
    'format': { type: 'string', short: 'f' },
    'timeout': { type: 'string' },
    'request-timeout': { type: 'string' },
  },
};

/** Parses doctor's arguments; throws a usage message. @internal */
export function parseDoctorArgs(argv: string[]): DoctorArgs {
  const a = parseCommandArgs(SPEC, argv);
  const args: DoctorArgs = {
    kubeconfig: a.string('kubeconfig'), context: a.string('context'), namespace: a.string('namespace'), preflight: a.string('preflight'),
    probeKubelets: a.flag('probe-kubelets') ?? false, probeConcurrency: 64, probeTimeoutMs: 3000, logLines: 300, format: 'text', help: a.help,
    timeoutMs: 300_000, requestTimeoutMs: 30_000,
  };
  if (args.help) {
    return args;
  }
  const concurrency = a.string('probe-concurrency');
  if (concurrency !== undefined) {
    args.probeConcurrency = wholeNumber('--probe-concurrency', concurrency, 1);
  }
  const probeTimeout = a.string('probe-timeout');
  if (probeTimeout !== undefined) {
    args.probeTimeoutMs = seconds('--probe-timeout', probeTimeout, 600);
  }
  const timeout = a.string('timeout');
  if (timeout !== undefined) {
    args.timeoutMs = seconds('--timeout', timeout, 3600);
  }
  const requestTimeout = a.string('request-timeout');
  if (requestTimeout !== undefined) {
    args.requestTimeoutMs = seconds('--request-timeout', requestTimeout, 600);
  }
  const logLines = a.string('log-lines');
  if (logLines !== undefined) {
    args.logLines = wholeNumber('--log-lines', logLines, 0);
  }
  const now = a.string('now');
  if (now !== undefined) {
    args.now = isoDate('--now', now);
  }
  const format = a.string('format');
  if (format !== undefined) {
    args.format = oneOf('--format', format, ['text', 'json'] as const, 'format');
  }
  return args;
}

function seconds(flag: string, value: string, max: number): number {
  const s = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(s > 0) || s > max) {
    throw new UsageError(`${flag}: '${value}' is not a number of seconds between 0 and ${max}`);
  }
  return Math.round(s * 1000);
}

/**
 * The read limits: the deadlines of the arguments, and the size limits of the
 * environment (SECURE_METRICS_SERVER_DOCTOR_MAX_RESPONSE_BYTES, ..._MAX_LIST_ITEMS),
 * which a cluster larger than the defaults allow (or a test) may raise or lower.
 */
function limitsOf(args: DoctorArgs, env: CliIo['env']): Partial<ClientLimits> {
  const fromEnv = (name: string): number | undefined => {
    const v = env[`SECURE_METRICS_SERVER_DOCTOR_${name}`];
    return v === undefined || v === '' ? undefined : wholeNumber(`SECURE_METRICS_SERVER_DOCTOR_${name}`, v, 1);
  };
  return {
    runMs: args.timeoutMs,
    requestMs: args.requestTimeoutMs,
    ...(fromEnv('MAX_RESPONSE_BYTES') !== undefined ? { maxResponseBytes: fromEnv('MAX_RESPONSE_BYTES') } : {}),
    ...(fromEnv('MAX_LIST_ITEMS') !== undefined ? { maxListItems: fromEnv('MAX_LIST_ITEMS') } : {}),
  };
}

/** Runs doctor and returns the report; throws CannotRun when the cluster cannot be asked. @internal */
export async function runDoctor(args: DoctorArgs, io: CliIo, made?: (client: ClusterClient) => void): Promise<DoctorReport> {
  let config: ReturnType<typeof loadKubeconfig>;
  try {
    config = loadKubeconfig({ kubeconfig: args.kubeconfig, context: args.context, env: io.env });
  } catch (e: any) {
    throw new CannotRun(e.message);
  }
  const client = new ClusterClient(config, limitsOf(args, io.env));
  made?.(client);
  // the run's deadline holds for the kubelet probes too, not only for the reads of the API server
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CannotRun(`doctor did not finish within ${args.timeoutMs / 1000} s (--timeout)`)), args.timeoutMs);
  });
  try {
    return await Promise.race([diagnose(args, client, config), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function diagnose(args: DoctorArgs, client: ClusterClient, config: ReturnType<typeof loadKubeconfig>): Promise<DoctorReport> {
  const findings = new Findings();
  const hops: HopSummary[] = [];
  const options: DoctorOptions = {
    namespace: args.namespace, probeKubelets: args.probeKubelets, probeConcurrency: args.probeConcurrency,
    probeTimeoutMs: args.probeTimeoutMs, logLines: args.logLines, now: args.now,
  };
  // one cheap read first, so that an unreachable server or refused credentials stop here (exit 2)
  await client.get('/version', 'version');
  let nodes: NodeReport[];
  if (args.preflight !== undefined) {
    const loaded = await loadManifests([args.preflight], () => Promise.resolve(Buffer.alloc(0)));
    if (loaded.errors.length || loaded.objects.length === 0) {
      const why = loaded.errors.map(e => `${e.file}: ${e.message}`).join('; ') || 'no Kubernetes objects found';
      throw new UsageError(`--preflight ${args.preflight}: ${why}; run cdk8s synth first`);
    }
    const pre = await preflight(client, loaded.objects, findings);
    hops.push(pre.summary);
    const kubelet = await checkKubeletHop(client, pre.state, findings, options);
    hops.push(kubelet.summary);
    nodes = kubelet.nodes;
  } else {
    const state = await readInstall(client, options);
    auditInstall(state, findings, args.now ?? new Date());
    hops.push(await checkApiServiceHop(client, state, findings));
    const kubelet = await checkKubeletHop(client, state, findings, options);
    hops.push(kubelet.summary);
    nodes = kubelet.nodes;
    if (args.logLines > 0) {
      hops.push(await checkLogs(client, state, findings, args.logLines));
    } else {
      hops.push({ section: Section.LOGS, status: HopStatus.SKIPPED, summary: '--log-lines 0' });
    }
  }
  for (const denied of client.denied) {
    findings.add(Section.ACCESS, DoctorRules.NOT_VISIBLE, { kind: 'Access', name: denied }, `could not ${denied}`);
  }
  return {
    cluster: { server: redactUrl(config.server), context: config.context, source: config.source, proxy: config.proxy },
    hops,
    findings: findings.list,
    couldNotSee: [...client.denied],
    nodes,
    exitCode: exitCodeOf(findings.list),
  };
}

export const doctorCommand: Subcommand = {
  summary: COMMAND_SUMMARIES.doctor,
  async run(argv: string[], io: CliIo): Promise<number> {
    let args: DoctorArgs;
    try {
      args = parseDoctorArgs(argv);
    } catch (e: any) {
      io.stderr.write(`secure-metrics-server doctor: ${terminalText(e.message)}\n`);
      if (wantsJson(argv)) io.stdout.write(formatDoctorError('usage', e.message));
      return ExitCode.INPUT_ERROR;
    }
    if (args.help) {
      io.stdout.write(HELP);
      return ExitCode.OK;
    }
    let client: ClusterClient | undefined;
    // nothing reaches the output before the credentials are taken out of it
    const redact = (s: string) => client ? client.redact(s) : s;
    try {
      const report = await runDoctor(args, io, c => { client = c; });
      io.stdout.write(redact(args.format === 'json' ? formatDoctorJson(report) : formatDoctorText(report)));
      return report.exitCode;
    } catch (e: any) {
      if (e instanceof CannotRun || e instanceof UsageError) {
        const message = redact(e.message);
        io.stderr.write(`secure-metrics-server doctor: could not run: ${terminalText(message)}\n`);
        if (args.format === 'json') io.stdout.write(formatDoctorError(e instanceof UsageError ? 'usage' : 'cannot-run', message));
        return ExitCode.INPUT_ERROR;
      }
      throw e;
    }
  },
};

/** `--format json` (or -f json, -fjson, --format=json) among arguments that did not parse. */
function wantsJson(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return false;
    if (a === '--format=json' || a === '-fjson' || ((a === '--format' || a === '-f') && argv[i + 1] === 'json')) return true;
  }
  return false;
}
