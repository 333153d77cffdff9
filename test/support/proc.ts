/**
 * Helpers of the process-spawning store tests and of the stress script:
 * plain functions (no jest), so that test/stress/ can use them too.
 */
import { execFileSync, spawn } from 'child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'synth-child.ts');

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const bundled = new Map<string, string[]>();

/**
 * How to start a child script: the script and the library bundled into one
 * JavaScript file by esbuild (tsx's own transpiler; node_modules stay
 * external), which starts in a third of the time `node -r tsx/cjs` takes; or
 * `node -r tsx/cjs` where esbuild cannot be found.
 */
export function bundledChild(entry: string): string[] {
  const known = bundled.get(entry);
  if (known) {
    return known;
  }
  let args: string[];
  try {
    const esbuild = require(require.resolve('esbuild', { paths: [path.dirname(require.resolve('tsx/package.json'))] }));
    // inside the repository, so that the external packages resolve from its node_modules
    const dir = path.join(REPO, 'node_modules', '.cache', 'secure-metrics-server-tests');
    mkdirSync(dir, { recursive: true });
    const out = path.join(dir, `${path.basename(entry, '.ts')}-${process.pid}.js`);
    esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', outfile: out, logLevel: 'error' });
    process.on('exit', () => {
      try {
        unlinkSync(out);
      } catch {
        // already gone
      }
    });
    args = [out];
  } catch {
    args = ['-r', require.resolve('tsx/cjs'), entry];
  }
  bundled.set(entry, args);
  return args;
}

function childCommand(): string[] {
  return bundledChild(CHILD);
}

/** Runs one synth in a child process, resolving when it ends. */
export function spawnSynth(env: { [name: string]: string | undefined }, cwd = REPO): Promise<ChildResult> {
  return spawnNode(childCommand(), env, cwd);
}

/** Runs node with `args` and the environment plus `env`, and collects what it printed. */
export function spawnNode(args: string[], env: { [name: string]: string | undefined }, cwd = REPO): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', d => out.push(d));
    child.stderr.on('data', d => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

/** Runs `n` synths at once. */
export function spawnMany(n: number, env: { [name: string]: string | undefined }, cwd?: string): Promise<ChildResult[]> {
  return Promise.all(Array.from({ length: n }, () => spawnSynth(env, cwd)));
}

/** Runs tasks with at most `limit` at a time, in order of the results. */
export async function limited<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** The PEM in a synthesized YAML: the APIService caBundle and the Secret's tls.crt of each document, in order. */
export function materialOf(yaml: string): { caBundle: string[]; tlsCrt: string[]; tlsKey: string[] } {
  const pick = (re: RegExp) => [...yaml.matchAll(re)].map(m => Buffer.from(m[1], 'base64').toString('utf8'));
  return {
    caBundle: pick(/caBundle: (\S+)/g),
    tlsCrt: pick(/tls\.crt: (\S+)/g),
    tlsKey: pick(/tls\.key: (\S+)/g),
  };
}

/** Whether `openssl verify` accepts the certificate file against the CA file. */
export function opensslVerifies(caFile: string, certFile: string): boolean {
  try {
    return /: OK$/.test(execFileSync('openssl', ['verify', '-CAfile', caFile, certFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
  } catch {
    return false;
  }
}

/** Every file under `dir` with its bytes and mtime, for "nothing was written" checks. */
export function treeState(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out.push(`${p}/ ${statSync(p).mtimeMs}`);
        walk(p);
      } else {
        out.push(`${p} ${statSync(p).mtimeMs} ${readFileSync(p, 'base64')}`);
      }
    }
  };
  walk(dir);
  return out.join('\n');
}

/** Files a crash may leave behind that must not survive the next synth. */
export function leftovers(files: string[]): string[] {
  return files.filter(f => /\.(new|old)-|\.tmp$|(^|\/)\.lock/.test(f));
}

/**
 * The checks of one round of concurrent synths against one store (cluster
 * 'metrics-server', default identity): every process succeeded with the same
 * YAML, whose caBundle and serving certificate are the store's, and
 * `openssl verify` accepts the certificate against the CA. Returns problems.
 */
export function checkRound(results: ChildResult[], storeDir: string): string[] {
  const problems: string[] = [];
  results.forEach((r, i) => {
    if (r.code !== 0) {
      problems.push(`synth ${i} exited with ${r.code ?? r.signal}: ${r.stderr.trim()}`);
    }
  });
  if (problems.length) {
    return problems;
  }
  const distinct = new Set(results.map(r => r.stdout));
  if (distinct.size !== 1) {
    problems.push(`${distinct.size} different outputs from ${results.length} synths`);
  }
  const cluster = path.join(storeDir, 'clusters', 'metrics-server');
  const caFile = path.join(cluster, 'ca', 'ca.crt');
  const certFile = path.join(cluster, 'metrics-server.kube-system.svc.cluster.local', 'tls.crt');
  const m = materialOf(results[0].stdout);
  if (m.caBundle[0] !== readFileSync(caFile, 'utf8')) {
    problems.push('the caBundle is not the store\'s CA');
  }
  if (m.tlsCrt[0] !== readFileSync(certFile, 'utf8')) {
    problems.push('the Secret\'s tls.crt is not the store\'s');
  }
  if (!opensslVerifies(caFile, certFile)) {
    problems.push('openssl verify refuses the store\'s tls.crt against its ca.crt');
  }
  return problems;
}
