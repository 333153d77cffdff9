/**
 * Start-up of the bundled command: `secure-metrics-server --help`,
 * `audit --help`, `ca --help` and `doctor --help` as users run them (node
 * bin/secure-metrics-server.js, each a new process), with `node -e 0` as the
 * floor of the machine. Wall time around each process, peak RSS from the
 * process itself, and its CPU time (user + system: on a shared machine it moves
 * far less than wall time), both from process.resourceUsage() written by a
 * preload at exit; the commands are run round-robin so that a busy moment of a shared
 * machine falls on all of them alike. Also the size of each bundle.
 *
 * By default the package is built here (`build:cli`, as test/audit.proc.test.ts
 * does); `--bin FILE` measures another build, e.g. an older checkout's
 * bin/secure-metrics-server.js, for a before/after comparison.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installPackage } from './audit';
import { median, timeMs } from './bench';

/**
 * Targets the figures are held to (by `npm run bench`, never by a pass/fail
 * test): CPU time over that of `node -e 0`, medians, because wall time on a
 * shared machine says more about the neighbours than about the command.
 */
export const STARTUP_TARGETS = {
  /** `audit --help` CPU time over `node -e 0`'s, at most (ms) */
  auditHelpCpuOverNodeMs: 60,
  /** `--help` CPU time over `node -e 0`'s, at most (ms) */
  helpCpuOverNodeMs: 40,
};

export interface StartupBenchOptions {
  /** timed runs of each command @default 20 */
  readonly reps?: number;
  /** untimed runs of each command first @default 2 */
  readonly warmup?: number;
  /** the bin to run; by default the package is built into a temporary directory */
  readonly bin?: string;
  readonly log?: (line: string) => void;
}

export interface StartupFigure {
  /** the arguments after the bin; `node -e 0` for the floor */
  readonly command: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** median of the runs' CPU time (user + system) */
  readonly cpuMs: number;
  /** median of the runs' peak RSS */
  readonly maxRssMb: number;
  readonly runs: number;
}

export interface StartupBenchResult {
  readonly cpus: number;
  readonly loadavg: number[];
  readonly bundles: { readonly [file: string]: number };
  readonly figures: StartupFigure[];
  /** every run exited 0 and wrote its usage to standard output */
  readonly allRan: boolean;
  readonly meetsTargets: boolean;
}

const COMMANDS: string[][] = [['--help'], ['audit', '--help'], ['ca', '--help'], ['doctor', '--help']];
const FLOOR = 'node -e 0';

export function runStartupBenchmark(options: StartupBenchOptions = {}): StartupBenchResult {
  const reps = options.reps ?? 20;
  const warmup = options.warmup ?? 2;
  const log = options.log ?? (() => undefined);
  if (!Number.isInteger(reps) || reps < 1) {
    throw new Error(`reps: ${reps} must be a whole number of at least 1`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sms-bench-startup-'));
  try {
    let bin = options.bin;
    if (!bin) {
      log('building the command (build:cli)');
      bin = installPackage(path.join(dir, 'package'));
    }
    const cli = path.join(path.dirname(path.dirname(bin)), 'build', 'cli');
    const bundles = Object.fromEntries(readdirSync(cli).filter(f => f.endsWith('.js')).sort().map(f => [f, statSync(path.join(cli, f)).size]));
    const preload = path.join(dir, 'rss.js');
    writeFileSync(preload, 'process.on(\'exit\', () => { const u = process.resourceUsage(); process.stderr.write(`\\nSMS_USAGE ${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}\\n`); });\n');
    const cases = [{ name: FLOOR, argv: ['-r', preload, '-e', '0'] }, ...COMMANDS.map(c => ({ name: c.join(' '), argv: ['-r', preload, bin!, ...c] }))];
    const samples = new Map<string, { ms: number[]; rssKb: number[]; cpuUs: number[] }>(cases.map(c => [c.name, { ms: [], rssKb: [], cpuUs: [] }]));
    let allRan = true;
    for (let r = 0; r < warmup + reps; r++) {
      if (r === warmup) {
        log(`${reps} timed rounds of ${cases.length} processes`);
      }
      for (const c of cases) {
        let res: ReturnType<typeof spawnSync> | undefined;
        const ms = timeMs(() => {
          res = spawnSync(process.execPath, c.argv, { encoding: 'utf8', env: { PATH: process.env.PATH } });
        });
        const rss = /SMS_USAGE (\d+) (\d+)/.exec(String(res!.stderr));
        const ran = res!.status === 0 && rss !== null && (c.name === FLOOR || /^usage: secure-metrics-server/.test(String(res!.stdout)));
        allRan = allRan && ran;
        if (r >= warmup && rss) {
          samples.get(c.name)!.ms.push(ms);
          samples.get(c.name)!.rssKb.push(Number(rss[1]));
          samples.get(c.name)!.cpuUs.push(Number(rss[2]));
        }
      }
    }
    const figures = cases.map(c => {
      const s = samples.get(c.name)!;
      return {
        command: c.name,
        medianMs: s.ms.length ? median(s.ms) : NaN,
        minMs: Math.min(...s.ms),
        maxMs: Math.max(...s.ms),
        cpuMs: s.cpuUs.length ? median(s.cpuUs) / 1000 : NaN,
        maxRssMb: s.rssKb.length ? median(s.rssKb) / 1024 : NaN,
        runs: s.ms.length,
      };
    });
    const over = (name: string) => figures.find(f => f.command === name)!.cpuMs - figures[0].cpuMs;
    const meetsTargets = allRan && over('audit --help') <= STARTUP_TARGETS.auditHelpCpuOverNodeMs && over('--help') <= STARTUP_TARGETS.helpCpuOverNodeMs;
    return { cpus: os.cpus().length, loadavg: os.loadavg(), bundles, figures, allRan, meetsTargets };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function brokenStartupInvariants(r: StartupBenchResult): string[] {
  return r.allRan ? [] : ['start-up: a command exited non-zero or printed no usage'];
}

export function formatStartupReport(r: StartupBenchResult): string {
  const floor = r.figures[0];
  const lines: string[] = [];
  lines.push(`start-up: each a new process, node bin/secure-metrics-server.js (${r.cpus} CPUs, load average ${r.loadavg.map(l => l.toFixed(2)).join(' ')})`);
  lines.push(`  bundles: ${Object.entries(r.bundles).map(([f, b]) => `${f} ${(b / 1024 / 1024).toFixed(2)} MB`).join(', ')}`);
  for (const f of r.figures) {
    const extra = f === floor ? '' : ` (+${(f.cpuMs - floor.cpuMs).toFixed(0)} ms)`;
    lines.push(`  ${f.command.padEnd(14)} CPU ${f.cpuMs.toFixed(0).padStart(4)} ms${extra.padEnd(9)} wall median ${f.medianMs.toFixed(0).padStart(4)} ms `
      + `(min ${f.minMs.toFixed(0)}, max ${f.maxMs.toFixed(0)}), peak RSS ${f.maxRssMb.toFixed(0)} MB, ${f.runs} runs`);
  }
  lines.push(`  targets (CPU time over ${FLOOR}, medians): audit --help <= ${STARTUP_TARGETS.auditHelpCpuOverNodeMs} ms, --help <= ${STARTUP_TARGETS.helpCpuOverNodeMs} ms`);
  lines.push(`  meets targets: ${r.meetsTargets ? 'yes' : 'NO'}`);
  return lines.join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt: { -readonly [K in keyof StartupBenchOptions]: StartupBenchOptions[K] } = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') {
      json = true;
    } else if ((a === '--reps' || a === '--warmup') && /^\d+$/.test(argv[i + 1] ?? '')) {
      opt[a === '--reps' ? 'reps' : 'warmup'] = Number(argv[++i]);
    } else if (a === '--bin' && argv[i + 1] !== undefined) {
      opt.bin = path.resolve(argv[++i]);
    } else {
      process.stderr.write(`error: unknown argument '${a}'; flags: --reps N, --warmup N, --bin FILE, --json\n`);
      process.exit(1);
    }
  }
  const r = runStartupBenchmark({ ...opt, log: line => process.stderr.write(`[bench:startup] ${line}\n`) });
  process.stdout.write(json ? `${JSON.stringify(r, undefined, 2)}\n` : `${formatStartupReport(r)}\n`);
}
