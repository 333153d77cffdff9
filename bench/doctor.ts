/**
 * Benchmark of `secure-metrics-server doctor --probe-kubelets` on a simulated
 * 1,000-node cluster: the simulated API server and one loopback TLS listener
 * per node live in this process; doctor runs as its own process (the CLI
 * bundle, as users run it), so its wall time and peak RSS are its own.
 *
 * Nodes: 90% serve a certificate issued by the cluster CA (verifies), 5% the
 * kubelet's self-signed pair (fails verification), 5% a port nothing listens
 * on (unreachable from here). CSRs: one issued per verifying node.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pem, ServingTls } from '../lib';
import { buildCli, closedPort, writeKubeconfig } from '../test/sim-cluster/harness';
import { SimKubelets } from '../test/sim-cluster/kubelets';
import { apiserverCaFile, makeSimPki, read } from '../test/sim-cluster/pki';
import { csr, node, SCENARIOS } from '../test/sim-cluster/scenarios';
import { SimCluster } from '../test/sim-cluster/server';

export interface DoctorBenchOptions {
  /** @default 1000 */
  readonly nodes?: number;
  /** runs of the whole diagnosis @default 3 */
  readonly reps?: number;
  /** --probe-concurrency @default 64 */
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

export interface DoctorBenchRun {
  readonly wallMs: number;
  readonly maxRssMb: number;
  readonly exitCode: number;
  readonly verified: number;
  readonly failing: number;
  readonly unreachable: number;
  readonly apiRequests: number;
}

export interface DoctorBenchResult {
  readonly nodes: number;
  readonly concurrency: number;
  readonly listeners: number;
  readonly runs: DoctorBenchRun[];
  readonly cpus: number;
}

const CHILD = `
const { main } = require(process.argv[1]);
const t = process.hrtime.bigint();
const out = [];
main(process.argv.slice(2), { stdout: { write: s => out.push(s) }, stderr: process.stderr, env: process.env, cwd: process.cwd(), readStdin: async () => Buffer.alloc(0) })
  .then(code => {
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    process.stdout.write(JSON.stringify({ code, ms, maxRssKb: process.resourceUsage().maxRSS, report: JSON.parse(out.join('')) }));
  });
`;

export async function runDoctorBenchmark(options: DoctorBenchOptions = {}): Promise<DoctorBenchResult> {
  const n = options.nodes ?? 1000;
  const reps = options.reps ?? 3;
  const concurrency = options.concurrency ?? 64;
  const log = options.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-bench-doctor-'));
  const bundling = buildCli();
  const pki = await makeSimPki(path.join(dir, 'pki'));
  const issued = { cert: read(pki.kubeletIssued.cert), key: read(pki.kubeletIssued.key) };
  const self = { cert: read(pki.kubeletSelfSigned.cert), key: read(pki.kubeletSelfSigned.key) };
  const failing = Math.floor(n * 0.05);
  const unreachable = Math.floor(n * 0.05);
  const good = n - failing - unreachable;
  const kubelets = await SimKubelets.start([...Array(good).fill(issued), ...Array(failing).fill(self)]);
  const closed = await closedPort();
  // a verified install as the construct synthesizes it
  const { synth } = require('../test/helpers');
  const synthesized = synth({ servingTls: ServingTls.fromPem({ certificate: Pem.fromFile(pki.serving.cert), privateKey: Pem.fromFile(pki.serving.key),
    caBundle: Pem.fromFile(pki.servingCa.cert) }) }).objects;
  const base = SCENARIOS.healthy({
    synthesized, upstream: [], clusterCaPem: read(pki.clusterCa.cert), otherCaPem: read(pki.otherCa.cert),
    kubeletIssuedPem: issued.cert, kubeletIpOnlyPem: read(pki.kubeletIpOnly.cert), expiredServingCertPem: '',
    ports: { issued: kubelets.port(0), selfSigned: 0, ipOnly: 0, closed },
  });
  const objects = base.objects.filter(o => o.kind !== 'Node' && o.kind !== 'CertificateSigningRequest');
  for (let i = 0; i < n; i++) {
    const name = `node-${String(i + 1).padStart(4, '0')}`;
    const port = i < good + failing ? kubelets.port(i) : closed;
    objects.push(node(name, [['InternalIP', '127.0.0.1'], ['Hostname', name]], port));
    if (i < good) {
      objects.push(csr(`csr-${name}`, name, 'issued', issued.cert));
    }
  }
  const sim = await SimCluster.start({ cert: read(pki.apiserver.cert), key: read(pki.apiserver.key), tokens: ['bench-token'] });
  sim.setState({ ...base, objects });
  const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), [{ server: sim.url, caFile: apiserverCaFile(pki), token: 'bench-token' }], 'sim');
  const cli = await bundling;
  log(`${n} nodes (${good} verify, ${failing} self-signed, ${unreachable} unreachable), ${good + failing} kubelet listeners; ${reps} run(s)`);
  const runs: DoctorBenchRun[] = [];
  try {
    for (let r = 0; r < reps; r++) {
      sim.requests.length = 0;
      const t0 = Date.now();
      const res = await new Promise<any>((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', CHILD, cli, 'doctor', '--format', 'json', '--probe-kubelets', '--probe-concurrency', String(concurrency)], {
          env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'inherit'],
        });
        const out: Buffer[] = [];
        child.stdout.on('data', c => out.push(c));
        child.on('close', code => {
          try {
            resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
          } catch {
            reject(new Error(`doctor exited ${code} without a report`));
          }
        });
      });
      const wall = Date.now() - t0;
      const nodes: any[] = res.report.nodes;
      const run: DoctorBenchRun = {
        wallMs: wall,
        maxRssMb: Math.round(res.maxRssKb / 1024),
        exitCode: res.code,
        verified: nodes.filter(x => x.probe === 'ok').length,
        failing: nodes.filter(x => x.probe && x.probe !== 'ok' && !x.probe.startsWith('unreachable')).length,
        unreachable: nodes.filter(x => x.probe?.startsWith('unreachable')).length,
        apiRequests: sim.requests.length,
      };
      if (run.verified !== good || run.failing !== failing || run.unreachable !== unreachable) {
        throw new Error(`doctor saw ${run.verified}/${run.failing}/${run.unreachable}, expected ${good}/${failing}/${unreachable}`);
      }
      log(`run ${r + 1}: ${wall} ms wall (process), peak RSS ${run.maxRssMb} MB, ${run.apiRequests} API requests, exit ${run.exitCode}`);
      runs.push(run);
    }
  } finally {
    await sim.close();
    await kubelets.close();
    fs.rmSync(path.dirname(cli), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { nodes: n, concurrency, listeners: good + failing, runs, cpus: os.cpus().length };
}

export function formatDoctorReport(r: DoctorBenchResult): string {
  const walls = r.runs.map(x => x.wallMs).sort((a, b) => a - b);
  const rss = r.runs.map(x => x.maxRssMb);
  return [
    `doctor --probe-kubelets on a simulated ${r.nodes}-node cluster (${r.listeners} loopback kubelet listeners, concurrency ${r.concurrency}, ${r.cpus} CPUs):`,
    `  wall time of the doctor process: median ${walls[Math.floor(walls.length / 2)]} ms, max ${walls[walls.length - 1]} ms (target: 20 s)`,
    `  peak RSS of the doctor process: max ${Math.max(...rss)} MB (target: 300 MB)`,
    `  API requests per run: ${r.runs[0]?.apiRequests}`,
  ].join('\n');
}

if (require.main === module) {
  runDoctorBenchmark({ log: l => process.stderr.write(`[bench:doctor] ${l}\n`), nodes: Number(process.env.BENCH_DOCTOR_NODES ?? 1000), reps: Number(process.env.BENCH_DOCTOR_REPS ?? 3) })
    .then(r => process.stdout.write(`${process.argv.includes('--json') ? JSON.stringify(r, undefined, 2) : formatDoctorReport(r)}\n`))
    .catch(e => { process.stderr.write(`error: ${e.message}\n`); process.exit(1); });
}
