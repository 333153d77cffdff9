/**
 * The audit benchmark: a generated manifest of at least 50 MB, 10,000+
 * documents and 100+ metrics-server installs whose serving Secrets are in the
 * input (so every certificate is parsed, verified against its caBundle and
 * matched with its key), audited by the bundled command in its own process.
 * Targets: under 5 s, peak RSS at most 512 MB.
 *
 * `npm run bench:audit` runs it alone (flags: --reps N, --mb N, --installs N,
 * --no-parsers, --json); `npm run bench` runs it after the synth benchmark.
 */
import { spawnSync } from 'child_process';
import { generateKeyPairSync } from 'crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import * as forge from 'node-forge';
import { parseManifests } from '../lib/manifests/load';
import { median, timeMs } from './bench';

const ROOT = path.resolve(__dirname, '..');

export const AUDIT_TARGETS = { seconds: 5, rssMb: 512, minMb: 50, minDocs: 10_000, minInstalls: 100 };

export interface AuditBenchOptions {
  /** whole-process runs of the command */
  readonly reps: number;
  /** size of the generated manifest in MB (10^6 bytes), at least */
  readonly mb: number;
  readonly installs: number;
  /** documents, at least @default 10,000 */
  readonly minDocs: number;
  /** also compare parsers in-process on a slice */
  readonly parsers: boolean;
  readonly log?: (line: string) => void;
}

export const DEFAULT_AUDIT_OPTIONS: AuditBenchOptions = { reps: 3, mb: 50, installs: 120, minDocs: AUDIT_TARGETS.minDocs, parsers: true };

export interface AuditBenchResult {
  readonly options: AuditBenchOptions;
  readonly input: { readonly bytes: number; readonly documents: number; readonly installs: number; readonly secrets: number };
  /** whole-process runs: wall time and peak RSS of each */
  readonly runs: { readonly ms: number; readonly maxRssMb: number }[];
  readonly medianMs: number;
  readonly maxRssMb: number;
  /** what the command reported (checks that the Secrets were really checked) */
  readonly reported: { readonly installs: number; readonly keyInManifest: number; readonly secretAbsent: number; readonly exitCode: number };
  readonly parsers?: { readonly sliceBytes: number; readonly rows: { readonly name: string; readonly ms: number; readonly mbPerS: number }[] };
  readonly meetsTargets: boolean;
}

/**
 * The package as a user installs it, in `dir`: the bundles made by the
 * `build:cli` script of package.json (pointed at `dir/build` instead of
 * `build`, so parallel runs never share files), bin/ and plugin/, and
 * node_modules with only the runtime dependencies the bundles leave external
 * (node-forge). Returns the bin script.
 */
export function installPackage(dir: string): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const script = String(pkg.scripts['build:cli']).replace(/(^|[ =])build\//g, `$1${dir}/build/`);
  if (!script.includes(dir)) {
    throw new Error(`build:cli does not write to build/: ${pkg.scripts['build:cli']}`);
  }
  const r = spawnSync('sh', ['-c', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` } });
  if (r.status !== 0 || r.stderr) {
    throw new Error(`build:cli failed (${r.status}): ${r.stderr}`);
  }
  for (const f of ['bin/secure-metrics-server.js', 'plugin/index.js']) {
    mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules', 'node-forge'), path.join(dir, 'node_modules', 'node-forge'));
  return path.join(dir, 'bin', 'secure-metrics-server.js');
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

/** One CA, one serving key and one certificate naming every install's Service. */
function pki(installs: number): { ca: string; cert: string; key: string } {
  const toForge = () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const priv = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
    return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
  };
  const make = (cn: string, key: forge.pki.rsa.KeyPair, signer: forge.pki.rsa.KeyPair, issuer: string, ca: boolean, dns: string[]) => {
    const c = forge.pki.createCertificate();
    c.publicKey = key.publicKey;
    c.serialNumber = ca ? '01' : '02';
    c.validity.notBefore = new Date(Date.now() - 86400_000);
    c.validity.notAfter = new Date(Date.now() + 3650 * 86400_000);
    c.setSubject([{ name: 'commonName', value: cn }]);
    c.setIssuer([{ name: 'commonName', value: issuer }]);
    c.setExtensions([
      { name: 'basicConstraints', cA: ca, critical: true },
      ca ? { name: 'keyUsage', keyCertSign: true, critical: true } : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      ...(ca ? [] : [{ name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames: dns.map(value => ({ type: 2, value })) }]),
    ]);
    c.sign(signer.privateKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(c);
  };
  const caKey = toForge();
  const leafKey = toForge();
  const names = Array.from({ length: installs }, (_, i) => `metrics-server.tenant-${i}.svc`);
  return { ca: make('bench-ca', caKey, caKey, 'bench-ca', true, []), cert: make('metrics-server', leafKey, caKey, 'bench-ca', false, names), key: forge.pki.privateKeyToPem(leafKey.privateKey) };
}

function install(i: number, p: { ca: string; cert: string; key: string }): object[] {
  const ns = `tenant-${i}`;
  const labels = { 'k8s-app': 'metrics-server' };
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'metrics-server', namespace: ns, labels }, spec: { selector: labels, ports: [{ name: 'https', port: 443, targetPort: 'https' }] } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'metrics-server', namespace: ns, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'metrics-server', image: 'registry.k8s.io/metrics-server/metrics-server:v0.8.1',
              args: ['--secure-port=10250', '--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt', '--tls-cert-file=/etc/tls/tls.crt', '--tls-private-key-file=/etc/tls/tls.key'],
              ports: [{ name: 'https', containerPort: 10250 }],
              securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
              volumeMounts: [{ name: 'kubelet-ca', mountPath: '/etc/kubelet-ca' }, { name: 'tls', mountPath: '/etc/tls' }],
            }],
            volumes: [{ name: 'kubelet-ca', configMap: { name: 'kube-root-ca.crt' } }, { name: 'tls', secret: { secretName: 'metrics-server-tls' } }],
          },
        },
      },
    },
    { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100, service: { name: 'metrics-server', namespace: ns }, caBundle: b64(p.ca) } },
    { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'metrics-server-tls', namespace: ns }, data: { 'tls.crt': b64(p.cert), 'tls.key': b64(p.key) } },
  ];
}

/** Other workloads: Deployments, ConfigMaps with configuration text, Services. */
function filler(j: number): object {
  const ns = `team-${j % 97}`;
  const name = `app-${j}`;
  const labels = { app: name, tier: j % 2 ? 'web' : 'worker' };
  switch (j % 3) {
    case 0:
      return {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns, labels, annotations: { 'example.com/owner': `team-${j % 97}@example.com` } },
        spec: {
          replicas: 2, selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [0, 1].map(c => ({
                name: `c${c}`, image: `registry.example.com/${name}:${j}.${c}`, args: ['--port=8080', `--name=${name}`],
                env: Array.from({ length: 25 }, (_, e) => ({ name: `VAR_${e}`, value: `value-${j}-${e}-${'x'.repeat(20)}` })),
                ports: [{ containerPort: 8080, name: 'http' }],
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
              })),
            },
          },
        },
      };
    case 1:
      return {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels },
        data: { 'app.properties': Array.from({ length: 120 }, (_, l) => `section.${j}.key${l} = some configuration value number ${l} for ${name}`).join('\n') + '\n' },
      };
    default:
      return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels }, spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
  }
}

/** Writes the manifest; returns its size and counts. */
export function generateManifest(file: string, mb: number, installs: number, minDocs: number = AUDIT_TARGETS.minDocs): AuditBenchResult['input'] {
  const p = pki(installs);
  const chunks: string[] = [];
  let bytes = 0;
  let documents = 0;
  const add = (o: object) => {
    const text = `---\n${yaml.dump(o, { lineWidth: -1, noRefs: true })}`;
    chunks.push(text);
    bytes += Buffer.byteLength(text);
    documents++;
  };
  const every = 40;
  let j = 0;
  for (let i = 0; i < installs; i++) {
    install(i, p).forEach(add);
    for (let k = 0; k < every; k++) {
      add(filler(j++));
    }
  }
  while (bytes < mb * 1e6 || documents < minDocs) {
    add(filler(j++));
  }
  writeFileSync(file, chunks.join(''));
  return { bytes, documents, installs, secrets: installs };
}

/**
 * What an audit benchmark run rests on besides its timings: the command
 * checked every Secret it was given and every run was measured. Returns what
 * is broken, empty when all hold; `npm run bench` exits 1 otherwise.
 */
export function brokenAuditInvariants(r: AuditBenchResult): string[] {
  const broken: string[] = [];
  if (r.reported.installs !== r.input.installs) {
    broken.push(`audit reported ${r.reported.installs} installs of the ${r.input.installs} generated`);
  }
  if (r.reported.keyInManifest !== r.input.secrets) {
    broken.push(`audit found the serving key in ${r.reported.keyInManifest} of the ${r.input.secrets} Secrets (SMS015)`);
  }
  if (r.reported.secretAbsent !== 0) {
    broken.push(`audit reported ${r.reported.secretAbsent} Secrets as absent (SMS090)`);
  }
  if (r.runs.length === 0 || r.runs.some(run => !(run.ms > 0) || !(run.maxRssMb > 0))) {
    broken.push('an audit run was not measured');
  }
  return broken;
}

export function runAuditBenchmark(options: Partial<AuditBenchOptions> = {}): AuditBenchResult {
  const o = { ...DEFAULT_AUDIT_OPTIONS, ...options };
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sms-audit-bench-'));
  try {
    log('building the command bundle (the build:cli script) into a temporary package');
    const bin = installPackage(path.join(dir, 'package'));
    const file = path.join(dir, 'cluster.yaml');
    log(`generating ${o.mb} MB with ${o.installs} installs`);
    const input = generateManifest(file, o.mb, o.installs, o.minDocs);
    const preload = path.join(dir, 'rss.js');
    writeFileSync(preload, 'process.on(\'exit\', () => process.stderr.write(`\\nSMS_MAXRSS_KB ${process.resourceUsage().maxRSS}\\n`));\n');
    const runs: { ms: number; maxRssMb: number }[] = [];
    let reported: AuditBenchResult['reported'] = { installs: 0, keyInManifest: 0, secretAbsent: 0, exitCode: -1 };
    for (let r = 0; r < o.reps; r++) {
      log(`audit run ${r + 1}/${o.reps}`);
      let res: ReturnType<typeof spawnSync> | undefined;
      const ms = timeMs(() => {
        res = spawnSync(process.execPath, ['-r', preload, bin, 'audit', '--format', 'json', '--fail-on', 'none', file],
          { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
      });
      const stderr = String(res!.stderr);
      const rss = /SMS_MAXRSS_KB (\d+)/.exec(stderr);
      if (res!.status !== 0 || !rss) {
        throw new Error(`audit exited ${res!.status}: ${stderr.slice(0, 2000)}`);
      }
      runs.push({ ms, maxRssMb: Number(rss[1]) / 1024 });
      const report = JSON.parse(String(res!.stdout));
      reported = {
        installs: report.installs.length,
        keyInManifest: report.findings.filter((f: any) => f.ruleId === 'SMS015').length,
        secretAbsent: report.findings.filter((f: any) => f.ruleId === 'SMS090').length,
        exitCode: res!.status!,
      };
    }
    let parsers: AuditBenchResult['parsers'];
    if (o.parsers) {
      const text = readFileSync(file, 'utf8');
      const slice = text.slice(0, text.indexOf('\n---\n', 5e6) + 1);
      const sliceBytes = Buffer.byteLength(slice);
      log(`comparing parsers on a ${(sliceBytes / 1e6).toFixed(1)} MB slice`);
      const eemeli = require('yaml');
      const asJson = JSON.stringify(parseManifests(slice, 's').objects.map(x => x.object));
      const rows = [
        { name: 'js-yaml 4 (per document, as the command does)', ms: timeMs(() => parseManifests(slice, 's')) },
        { name: 'yaml 2 (cdk8s\'s parser) parseAllDocuments', ms: timeMs(() => eemeli.parseAllDocuments(slice).map((d: any) => d.toJS())) },
        { name: 'JSON.parse of the same objects (floor)', ms: timeMs(() => JSON.parse(asJson)) },
      ];
      parsers = { sliceBytes, rows: rows.map(r => ({ ...r, mbPerS: sliceBytes / 1e6 / (r.ms / 1000) })) };
    }
    const medianMs = median(runs.map(r => r.ms));
    const maxRssMb = Math.max(...runs.map(r => r.maxRssMb));
    const meetsTargets = medianMs < AUDIT_TARGETS.seconds * 1000 && maxRssMb <= AUDIT_TARGETS.rssMb
      && input.bytes >= AUDIT_TARGETS.minMb * 1e6 && input.documents >= AUDIT_TARGETS.minDocs && reported.installs >= AUDIT_TARGETS.minInstalls
      && reported.keyInManifest === input.secrets && reported.secretAbsent === 0;
    return { options: { ...o, log: undefined }, input, runs, medianMs, maxRssMb, reported, parsers, meetsTargets };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatAuditReport(r: AuditBenchResult): string {
  const lines: string[] = [];
  lines.push('audit: one generated manifest, the bundled command in its own process (secure-metrics-server audit --format json)');
  lines.push(`  input: ${(r.input.bytes / 1e6).toFixed(1)} MB, ${r.input.documents} documents, ${r.input.installs} installs with their serving Secrets`);
  lines.push(`  runs: ${r.runs.map(x => `${(x.ms / 1000).toFixed(2)} s / ${x.maxRssMb.toFixed(0)} MB`).join(', ')}`);
  lines.push(`  median ${(r.medianMs / 1000).toFixed(2)} s (target < ${AUDIT_TARGETS.seconds} s), peak RSS ${r.maxRssMb.toFixed(0)} MB (target <= ${AUDIT_TARGETS.rssMb} MB)`);
  lines.push(`  reported: ${r.reported.installs} installs, ${r.reported.keyInManifest} serving keys found in Secrets (SMS015), ${r.reported.secretAbsent} Secrets not found (SMS090)`);
  if (r.parsers) {
    lines.push(`  parsers on a ${(r.parsers.sliceBytes / 1e6).toFixed(1)} MB slice of the same file (in-process, one run each):`);
    for (const p of r.parsers.rows) {
      lines.push(`    ${p.name.padEnd(50)} ${(p.ms / 1000).toFixed(2).padStart(6)} s  ${p.mbPerS.toFixed(1).padStart(6)} MB/s`);
    }
  }
  lines.push(`  meets targets: ${r.meetsTargets ? 'yes' : 'NO'}`);
  return lines.join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt: { [k: string]: unknown } = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') {
      json = true;
    } else if (a === '--no-parsers') {
      opt.parsers = false;
    } else if (['--reps', '--mb', '--installs'].includes(a) && /^\d+$/.test(argv[i + 1] ?? '')) {
      opt[a.slice(2)] = Number(argv[++i]);
    } else {
      process.stderr.write(`error: unknown argument '${a}'; flags: --reps N, --mb N, --installs N, --no-parsers, --json\n`);
      process.exit(1);
    }
  }
  const r = runAuditBenchmark({ ...opt, log: line => process.stderr.write(`[bench:audit] ${line}\n`) });
  process.stdout.write(json ? `${JSON.stringify(r, undefined, 2)}\n` : `${formatAuditReport(r)}\n`);
}
