import { execFile, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import * as yaml from 'js-yaml';

const ROOT = path.join(__dirname, '..', '..');

/**
 * Bundles the CLI as `npm run build:cli` does (main plus one bundle per
 * command, which main loads lazily), into node_modules/.cache so that the
 * external node-forge resolves. Returns the path of main.js.
 */
export async function buildCli(): Promise<string> {
  const outdir = path.join(ROOT, 'node_modules', '.cache', 'sms-doctor-test', String(process.pid));
  const esbuild = require('esbuild');
  // asynchronous: esbuild works in its own process while the caller makes certificates
  await esbuild.build({
    entryPoints: ['main', 'doctor'].map(n => path.join(ROOT, 'lib', 'cli', `${n}.ts`)), bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    external: ['node-forge'], define: { SMS_VERSION: '"test"' }, outdir, logLevel: 'silent',
  });
  return path.join(outdir, 'main.js');
}

export interface Job {
  readonly argv: string[];
  readonly env: { [k: string]: string };
}

export interface JobResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs doctor jobs in one child process (asynchronously: the simulated server lives in this process). */
export function runJobs(cli: string, jobs: Job[]): Promise<JobResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'run-jobs.js'), cli], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', c => out.push(c));
    child.stderr.on('data', c => err.push(c));
    child.on('close', code => {
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
      } catch {
        reject(new Error(`run-jobs exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
      }
    });
    child.stdin.end(JSON.stringify(jobs));
  });
}

/** Runs a program asynchronously; resolves with its exit code and output. */
export function runAsync(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<JobResult> {
  return new Promise(resolve => {
    execFile(file, args, { env, cwd, encoding: 'utf8', timeout: 120_000 }, (e: any, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

export interface KubeconfigSpec {
  readonly server: string;
  readonly caFile: string;
  readonly token?: string;
  readonly exec?: string;
  readonly proxyUrl?: string;
  readonly context?: string;
  readonly currentContext?: boolean;
  readonly clusterOnly?: boolean;
  readonly userOnly?: boolean;
}

/** Writes a kubeconfig file. */
export function writeKubeconfig(file: string, specs: KubeconfigSpec[], current?: string): string {
  const doc: any = { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], 'current-context': current ?? '' };
  for (const s of specs) {
    const name = s.context ?? 'sim';
    if (!s.userOnly) {
      doc.clusters.push({ name, cluster: { server: s.server, 'certificate-authority': s.caFile, ...(s.proxyUrl ? { 'proxy-url': s.proxyUrl } : {}) } });
      doc.contexts.push({ name, context: { cluster: name, user: name } });
    }
    if (!s.clusterOnly) {
      doc.users.push({ name, user: s.exec
        ? { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: s.exec, interactiveMode: 'Never' } }
        : { token: s.token } });
    }
  }
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}

/** A CONNECT proxy that sends every tunnel to 127.0.0.1 (so that names like kube-api.sim.test work only through it). */
export async function startProxy(): Promise<{ url: string; tunnels: string[]; close: () => Promise<void> }> {
  const tunnels: string[] = [];
  const open = new Set<net.Socket>();
  const server = http.createServer((_req, res) => { res.writeHead(405); res.end(); });
  server.on('connect', (req, socket: net.Socket, head) => {
    tunnels.push(req.url ?? '');
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    const port = Number((req.url ?? '').split(':').pop());
    const upstream = net.connect(port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () => {
      for (const s of open) s.destroy();
      server.closeAllConnections();
      return new Promise(resolve => server.close(() => resolve()));
    },
  };
}

/** A TCP listener that accepts connections and never says anything. */
export async function silentListener(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer(socket => { sockets.add(socket); socket.on('error', () => undefined); socket.on('close', () => sockets.delete(socket)); });
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve));
  return {
    port: (s.address() as net.AddressInfo).port,
    close: () => { for (const x of sockets) x.destroy(); return new Promise<void>(resolve => s.close(() => resolve())); },
  };
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>(resolve => s.close(() => resolve()));
  return port;
}

/** An expired serving certificate for metrics-server.kube-system.svc, signed by `ca` with openssl ca (which takes explicit dates). */
export function expiredCert(dir: string, ca: { cert: string; key: string }): string {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n');
  fs.writeFileSync(path.join(dir, 'expired.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:metrics-server.kube-system.svc\n');
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=metrics-server.kube-system.svc']);
  run(['ca', '-batch', '-config', 'ca.cnf', '-cert', ca.cert, '-keyfile', ca.key, '-in', 'expired.csr', '-out', 'expired.crt', '-startdate', '20261101000000Z', '-enddate', '20261129000000Z', '-extfile', 'expired.ext', '-notext']);
  return fs.readFileSync(path.join(dir, 'expired.crt'), 'utf8');
}
