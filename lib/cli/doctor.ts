import { CannotRun, ClusterClient } from '../cluster/client';
import { checkApiServiceHop } from '../cluster/apiservice-hop';
import { exitCodeOf, Findings } from '../cluster/findings';
import { auditInstall, readInstall } from '../cluster/install';
import { checkKubeletHop } from '../cluster/kubelet-hop';
import { checkLogs } from '../cluster/logs';
import { loadKubeconfig } from '../cluster/kubeconfig';
import { preflight } from '../cluster/preflight';
import { DoctorOptions, DoctorReport, HopStatus, HopSummary, NodeReport, Section } from '../cluster/report';
import { DoctorRules } from '../rules/doctor-rules';
import { loadManifests } from '../manifests/load';
import { formatDoctorJson, formatDoctorText } from './doctor-format';
import { CommandSpec, isoDate, oneOf, parseCommandArgs, UsageError, wholeNumber } from './args';
import { CliIo, ExitCode, Subcommand } from './io';

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
  -f, --format text|json        output format (default: text)
  -h, --help                    this text

Proxies: the kubeconfig's proxy-url, else HTTPS_PROXY/NO_PROXY (as kubectl).
Exit codes: 0 healthy; 1 problems found; 2 could not run (no kubeconfig, cluster
unreachable, credentials refused, bad usage). Missing read permissions are
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
  },
};

/** Parses doctor's arguments; throws a usage message. @internal */
export function parseDoctorArgs(argv: string[]): DoctorArgs {
  const a = parseCommandArgs(SPEC, argv);
  const args: DoctorArgs = {
    kubeconfig: a.string('kubeconfig'), context: a.string('context'), namespace: a.string('namespace'), preflight: a.string('preflight'),
    probeKubelets: a.flag('probe-kubelets') ?? false, probeConcurrency: 64, probeTimeoutMs: 3000, logLines: 300, format: 'text', help: a.help,
  };
  if (args.help) {
    return args;
  }
  const concurrency = a.string('probe-concurrency');
  if (concurrency !== undefined) {
    args.probeConcurrency = wholeNumber('--probe-concurrency', concurrency, 1);
  }
  const timeout = a.string('probe-timeout');
  if (timeout !== undefined) {
    const s = Number(timeout);
    if (!(s > 0) || s > 600) {
      throw new UsageError(`--probe-timeout: '${timeout}' is not a number of seconds between 0 and 600`);
    }
    args.probeTimeoutMs = Math.round(s * 1000);
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

/** Runs doctor and returns the report; throws CannotRun when the cluster cannot be asked. @internal */
export async function runDoctor(args: DoctorArgs, io: CliIo): Promise<DoctorReport> {
  let config: ReturnType<typeof loadKubeconfig>;
  try {
    config = loadKubeconfig({ kubeconfig: args.kubeconfig, context: args.context, env: io.env });
  } catch (e: any) {
    throw new CannotRun(e.message);
  }
  const client = new ClusterClient(config);
  const findings = new Findings();
  const hops: HopSummary[] = [];
  const options: DoctorOptions = {
    namespace: args.namespace, probeKubelets: args.probeKubelets, probeConcurrency: args.probeConcurrency,
    probeTimeoutMs: args.probeTimeoutMs, logLines: args.logLines, now: args.now,
  };
  // one cheap read first, so that an unreachable server or refused credentials stop here (exit 2)
  await client.get('/version', 'version');
  let nodes: NodeReport[] = [];
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
    cluster: { server: config.server, context: config.context, source: config.source, proxy: config.proxy },
    hops,
    findings: findings.list,
    couldNotSee: [...client.denied],
    nodes,
    exitCode: exitCodeOf(findings.list),
  };
}

export const doctorCommand: Subcommand = {
  summary: 'read a live cluster and explain, hop by hop, why kubectl top fails (read-only)',
  async run(argv: string[], io: CliIo): Promise<number> {
    let args: DoctorArgs;
    try {
      args = parseDoctorArgs(argv);
    } catch (e: any) {
      io.stderr.write(`secure-metrics-server doctor: ${e.message}\n`);
      return ExitCode.INPUT_ERROR;
    }
    if (args.help) {
      io.stdout.write(HELP);
      return ExitCode.OK;
    }
    try {
      const report = await runDoctor(args, io);
      io.stdout.write(args.format === 'json' ? formatDoctorJson(report) : formatDoctorText(report));
      return report.exitCode;
    } catch (e: any) {
      if (e instanceof CannotRun || e instanceof UsageError) {
        io.stderr.write(`secure-metrics-server doctor: could not run: ${e.message}\n`);
        return ExitCode.INPUT_ERROR;
      }
      throw e;
    }
  },
};
