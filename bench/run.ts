/**
 * `npm run bench`: prints the benchmark report (or JSON with --json).
 *
 * Flags (each also as an environment variable, e.g. BENCH_SYNTH_REPS=20):
 *   --synth-reps N     warm in-process synths per side
 *   --cold-reps N      cold synths (two keys each)
 *   --clusters A,B,C   cluster counts of the scale comparison
 *   --scale-reps N     repetitions of each cluster count
 *   --keygen-reps N    keys per native key generation path
 *   --pure-js-reps N   keys on node-forge's pure-JavaScript path
 *   --process-reps N   whole-process runs per side (0 skips them)
 *   --warmup N         untimed runs before timing
 *   --quick            a small configuration that runs in seconds
 *   --json             print the result as JSON
 *   --no-audit         skip the audit benchmark (bench/audit.ts; also BENCH_AUDIT=0)
 *   --no-doctor        skip the doctor benchmark (bench/doctor.ts; also BENCH_DOCTOR=0)
 *   --no-startup       skip the command's start-up benchmark (bench/startup.ts; also BENCH_STARTUP=0)
 *   --no-gitops        skip the shared-store benchmark (bench/gitops.ts; also BENCH_GITOPS=0)
 */
import { brokenAuditInvariants, formatAuditReport, runAuditBenchmark } from './audit';
import { BenchOptions, brokenInvariants, formatReport, runBenchmark } from './bench';
import { formatDoctorReport, runDoctorBenchmark } from './doctor';
import { brokenStartupInvariants, formatStartupReport, runStartupBenchmark } from './startup';
import { formatGitopsReport, runGitopsBenchmark } from './gitops';

const QUICK: Partial<BenchOptions> = {
  synthReps: 10, coldReps: 1, clusters: [1, 5], scaleReps: 2, keygenReps: 2, pureJsReps: 1, processReps: 1, warmup: 1,
};

const NUMERIC: { [flag: string]: keyof BenchOptions } = {
  'synth-reps': 'synthReps',
  'cold-reps': 'coldReps',
  'scale-reps': 'scaleReps',
  'keygen-reps': 'keygenReps',
  'pure-js-reps': 'pureJsReps',
  'process-reps': 'processReps',
  'warmup': 'warmup',
};

function parseNumber(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) {
    throw new Error(`${name}: '${v}' is not a whole number`);
  }
  return n;
}

function parseClusters(name: string, v: string): number[] {
  return v.split(',').map(x => parseNumber(name, x));
}

function envName(flag: string): string {
  return `BENCH_${flag.replace(/-/g, '_').toUpperCase()}`;
}

function parse(argv: string[], env: NodeJS.ProcessEnv): { options: Partial<BenchOptions>; json: boolean } {
  let json = env.BENCH_JSON === '1';
  let options: { [key: string]: unknown } = env.BENCH_QUICK === '1' ? { ...QUICK } : {};
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const v = env[envName(flag)];
    if (v !== undefined) {
      options[key] = parseNumber(envName(flag), v);
    }
  }
  if (env.BENCH_CLUSTERS !== undefined) {
    options.clusters = parseClusters('BENCH_CLUSTERS', env.BENCH_CLUSTERS);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.replace(/^--/, '').split('=', 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) {
        throw new Error(`${arg} needs a value`);
      }
      return v;
    };
    if (arg === '--json') {
      json = true;
    } else if (arg === '--quick') {
      options = { ...QUICK, ...options };
    } else if (arg.startsWith('--') && flag in NUMERIC) {
      options[NUMERIC[flag]] = parseNumber(`--${flag}`, value());
    } else if (arg.startsWith('--') && flag === 'clusters') {
      options.clusters = parseClusters('--clusters', value());
    } else {
      throw new Error(`unknown argument '${arg}'; see the flags at the top of bench/run.ts`);
    }
  }
  return { options: options as Partial<BenchOptions>, json };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const audit = !args.includes('--no-audit') && process.env.BENCH_AUDIT !== '0';
  const doctor = !args.includes('--no-doctor') && process.env.BENCH_DOCTOR !== '0';
  const startup = !args.includes('--no-startup') && process.env.BENCH_STARTUP !== '0';
  const gitops = !args.includes('--no-gitops') && process.env.BENCH_GITOPS !== '0';
  const { options, json } = parse(args.filter(a => !['--no-audit', '--no-doctor', '--no-startup', '--no-gitops'].includes(a)), process.env);
  const result = runBenchmark({ ...options, log: line => process.stderr.write(`[bench] ${line}\n`) });
  const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
  const auditResult = audit ? runAuditBenchmark({ reps: quick ? 1 : 3, parsers: !quick, log: line => process.stderr.write(`[bench:audit] ${line}\n`) }) : undefined;
  const doctorResult = doctor ? await runDoctorBenchmark({ reps: quick ? 1 : 3, log: line => process.stderr.write(`[bench:doctor] ${line}\n`) }) : undefined;
  const startupResult = startup ? runStartupBenchmark({ reps: quick ? 3 : 20, log: line => process.stderr.write(`[bench:startup] ${line}\n`) }) : undefined;
  const gitopsResult = gitops ? await runGitopsBenchmark({ reps: quick ? 5 : 20, log: line => process.stderr.write(`[bench:gitops] ${line}\n`) }) : undefined;
  process.stdout.write(json
    ? `${JSON.stringify({
      ...result, ...(auditResult ? { audit: auditResult } : {}), ...(doctorResult ? { doctor: doctorResult } : {}),
      ...(startupResult ? { startup: startupResult } : {}), ...(gitopsResult ? { gitops: gitopsResult } : {}),
    }, undefined, 2)}\n`
    : `${formatReport(result)}\n${auditResult ? `\n${formatAuditReport(auditResult)}\n` : ''}${doctorResult ? `\n${formatDoctorReport(doctorResult)}\n` : ''}`
      + `${startupResult ? `\n${formatStartupReport(startupResult)}\n` : ''}${gitopsResult ? `\n${formatGitopsReport(gitopsResult)}\n` : ''}`);
  // the figures compare like with like only if these hold: a broken one fails the run
  const broken = [...brokenInvariants(result), ...(auditResult ? brokenAuditInvariants(auditResult) : []),
    ...(startupResult ? brokenStartupInvariants(startupResult) : [])];
  if (broken.length > 0) {
    process.stderr.write(`error: the benchmark's invariants do not hold:\n${broken.map(b => `  - ${b}\n`).join('')}`);
    process.exitCode = 1;
  }
}

main().catch((e: any) => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(1);
});
