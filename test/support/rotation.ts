/**
 * Helpers of the CA rotation tests (test/rotation*.test.ts): the `ca`
 * command run in this process, and a synth whose PEM is picked apart.
 */
import { X509Certificate } from 'crypto';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { CertificateStore, SecureMetricsServer, ServingTls } from '../../lib';
import { caCommand } from '../../lib/cli/ca';

export interface CaRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `secure-metrics-server ca ...` in this process. */
export async function runCa(args: string[], env: { [k: string]: string | undefined } = {}): Promise<CaRun> {
  let stdout = '';
  let stderr = '';
  const code = await caCommand.run(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    readStdin: async () => Buffer.alloc(0),
    env,
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}

/** What one synth gave: the YAML and the PEM of the caBundle and the Secret. */
export interface Phase {
  readonly yaml: string;
  /** the caBundle, one PEM per certificate */
  readonly bundle: string[];
  readonly bundlePem: string;
  readonly cert: string;
  readonly key: string;
  readonly annotations: { [k: string]: string };
  /** the construct's warnings */
  readonly warnings: string[];
}

export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** A synth of chart `cluster` with the dedicated CA in `storeDir`, in this process. */
export function synthPhase(storeDir: string, cluster: string): Phase {
  const app = new App({ outdir: path.join(storeDir, '..', 'dist') });
  app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
  const chart = new Chart(app, cluster);
  const construct = new SecureMetricsServer(chart, 'MetricsServer', { servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(storeDir, { cluster }) }) });
  const yaml = app.synthYaml();
  const objects: any[] = chart.toJson();
  const secret = objects.find(o => o.kind === 'Secret');
  const api = objects.find(o => o.kind === 'APIService');
  const bundlePem = Buffer.from(api.spec.caBundle, 'base64').toString('utf8');
  return {
    yaml,
    bundle: splitPem(bundlePem),
    bundlePem,
    cert: Buffer.from(secret.data['tls.crt'], 'base64').toString('utf8'),
    key: Buffer.from(secret.data['tls.key'], 'base64').toString('utf8'),
    annotations: api.metadata.annotations ?? {},
    warnings: construct.warnings,
  };
}

/** Whether `certPem` is signed by one of the CAs of `bundle` (Node's check, the quick one; Go is the judge in rotation.proc.test.ts). */
export function signedByOneOf(certPem: string, bundle: string[]): boolean {
  const cert = new X509Certificate(certPem);
  return bundle.some(ca => {
    const c = new X509Certificate(ca);
    return cert.checkIssued(c) && cert.verify(c.publicKey);
  });
}

/** The four synths of a whole rotation: before, staged, switched, finished (each synthesized twice: they must agree). */
export async function rotateThroughAllPhases(storeDir: string, cluster: string, now: number): Promise<{ phases: Phase[]; unstable: string[]; runs: CaRun[] }> {
  const phases: Phase[] = [];
  const unstable: string[] = [];
  const runs: CaRun[] = [];
  const step = (name: string) => {
    const one = synthPhase(storeDir, cluster);
    if (synthPhase(storeDir, cluster).yaml !== one.yaml) {
      unstable.push(name);
    }
    phases.push(one);
  };
  const at = (minutes: number) => new Date(now + minutes * 60000).toISOString();
  step('before');
  runs.push(await runCa(['rotate', '--store', storeDir, '--cluster', cluster, '--now', at(0)]));
  step('staged');
  runs.push(await runCa(['rotate', '--store', storeDir, '--cluster', cluster, '--now', at(11)]));
  step('switched');
  runs.push(await runCa(['rotate', '--store', storeDir, '--cluster', cluster, '--now', at(22)]));
  step('finished');
  return { phases, unstable, runs };
}

/** Sets the settings the store records for a cluster's CA (ECDSA P-256 makes the next CA fast to create). */
export function setCaParams(storeDir: string, cluster: string, params: { commonName: string; validityDays: number; keyAlgorithm: string }): void {
  writeFileSync(path.join(storeDir, 'clusters', cluster, 'ca', 'params.json'), JSON.stringify({ version: 1, ...params }), { mode: 0o600 });
}
