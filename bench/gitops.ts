/**
 * The gitops benchmark (part of `npm run bench`; alone: `node -r tsx/cjs bench/gitops.ts`):
 * the warm synth from a complete shared store (SealedSecret output, no age
 * identity, frozen as in CI or Argo CD) against the warm synth from a local
 * store with the same output (the cost of the store: the target, within
 * 1.3x) and with the default plain Secret (for information: a SealedSecret's
 * YAML is longer to write). No SOPS decryption on the shared path (counted,
 * and impossible anyway: there is no identity).
 */
import { mkdtempSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { median, timeMs } from './bench';
import { CertificateStore, Pem, SecretOutput, SecureMetricsServer, ServingTls, SharedCertificateStore } from '../lib';
import { storeCommand } from '../lib/cli/store';
import { sopsDecryptionCount } from '../lib/store/sops';

export const GITOPS_TARGET_RATIO = 1.3;

export interface GitopsBenchResult {
  readonly reps: number;
  /** the local store, the default plain Secret */
  readonly localPlainMs: number;
  /** the local store, the same SealedSecret output as the shared side */
  readonly localWarmMs: number;
  readonly sharedWarmMs: number;
  /** shared / local with the same output: the cost of the store (the target) */
  readonly ratio: number;
  /** shared (sealed) / local (plain): the store and the larger SealedSecret YAML together */
  readonly ratioToPlain: number;
  readonly decryptionsOnSharedPath: number;
  readonly stable: boolean;
  readonly pass: boolean;
}

function withEnv<T>(vars: { [k: string]: string | undefined }, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map(k => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
}

function synth(servingTls: ServingTls): string {
  const app = new App({ outdir: mkdtempSync(path.join(os.tmpdir(), 'sms-bench-out-')) });
  app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
  new SecureMetricsServer(new Chart(app, 'cluster-a'), 'MetricsServer', { servingTls });
  return app.synthYaml();
}

export async function runGitopsBenchmark(o: { reps: number; log: (line: string) => void }): Promise<GitopsBenchResult> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sms-bench-gitops-'));
  const keyFile = path.join(root, 'keys.txt');
  const io = {
    stdout: { write: () => true }, stderr: { write: (s: string) => process.stderr.write(s) },
    readStdin: async () => Buffer.alloc(0), env: {}, cwd: root,
  };
  await storeCommand.run(['init', '--store', 'shared', '--new-identity', keyFile], io);
  const { execFileSync } = require('child_process') as typeof import('child_process');
  const controller = execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:4096', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=sealed-secret', '-days', '30'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const sealed = SecretOutput.sealedSecret({ controllerCertificate: Pem.fromString(controller) });
  const localPlain = ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(path.join(root, 'pki')) });
  const local = ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(path.join(root, 'pki')), secretOutput: sealed });
  const shared = ServingTls.fromDedicatedCa({ sharedStore: SharedCertificateStore.fromDirectory(path.join(root, 'shared')), secretOutput: sealed });
  const env = { CI: undefined, SECURE_METRICS_SERVER_FROZEN: '0', SOPS_AGE_KEY_FILE: keyFile, SOPS_AGE_KEY: undefined };
  o.log('issuing into both stores (untimed)');
  withEnv(env, () => { synth(localPlain); synth(local); synth(shared); });
  const frozen = { CI: 'true', SECURE_METRICS_SERVER_FROZEN: undefined, SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined, XDG_CONFIG_HOME: path.join(root, 'no-config') };
  const first = withEnv(frozen, () => synth(shared));
  const plainMs: number[] = [];
  const localMs: number[] = [];
  const sharedMs: number[] = [];
  let stable = true;
  const before = sopsDecryptionCount();
  for (let i = 0; i < o.reps; i++) {
    // alternating, so that load on the machine hits every side alike
    plainMs.push(timeMs(() => withEnv(frozen, () => synth(localPlain))));
    localMs.push(timeMs(() => withEnv(frozen, () => synth(local))));
    sharedMs.push(timeMs(() => withEnv(frozen, () => { stable = synth(shared) === first && stable; })));
  }
  const decryptions = sopsDecryptionCount() - before;
  const localWarmMs = median(localMs);
  const sharedWarmMs = median(sharedMs);
  const localPlainMs = median(plainMs);
  const ratio = sharedWarmMs / localWarmMs;
  o.log(`local plain ${localPlainMs.toFixed(1)} ms, local sealed ${localWarmMs.toFixed(1)} ms, shared sealed ${sharedWarmMs.toFixed(1)} ms`);
  return {
    reps: o.reps, localPlainMs, localWarmMs, sharedWarmMs, ratio, ratioToPlain: sharedWarmMs / localPlainMs,
    decryptionsOnSharedPath: decryptions, stable, pass: ratio <= GITOPS_TARGET_RATIO && decryptions === 0 && stable,
  };
}

export function formatGitopsReport(r: GitopsBenchResult): string {
  return [
    'gitops: warm synth from a complete shared store (SealedSecret, no identity, frozen) vs the local store (medians of ' + r.reps + ', alternating)',
    `  local store, plain Secret     ${r.localPlainMs.toFixed(1)} ms`,
    `  local store, SealedSecret     ${r.localWarmMs.toFixed(1)} ms`,
    `  shared store, SealedSecret    ${r.sharedWarmMs.toFixed(1)} ms: ${r.ratio.toFixed(2)}x the local store with the same output (target <= ${GITOPS_TARGET_RATIO}x), ${r.ratioToPlain.toFixed(2)}x the plain Secret's`,
    `  SOPS decryptions on the shared path: ${r.decryptionsOnSharedPath}, output stable: ${r.stable}`,
    `  ${r.pass ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}

if (require.main === module) {
  runGitopsBenchmark({ reps: Number(process.env.BENCH_GITOPS_REPS ?? 20), log: line => process.stderr.write(`[bench:gitops] ${line}\n`) })
    .then(r => process.stdout.write(`${formatGitopsReport(r)}\n`), e => { process.stderr.write(`error: ${e.message}\n`); process.exit(1); });
}
