/**
 * Synthesizes every example (examples/NAME/main.ts) and the example app
 * (main.ts) in each of its modes into one directory, from a fixed seed: the
 * PEM files the examples read and a copy of every certificate store, so that
 * two runs (before and after a refactoring) can be compared byte for byte.
 *
 *   node -r tsx/cjs scripts/synth-all.ts OUT_DIR SEED_DIR
 *
 * A SEED_DIR that does not exist yet is made: PEM files by openssl, and the
 * stores as the first run leaves them (they hold private keys: keep the seed
 * out of git). Every later run copies the stores from the seed, so it issues
 * nothing and writes the same bytes. It prints the sha256 of every manifest
 * and of what each case wrote on stderr (the working directory replaced by
 * <cwd>), and writes the list to OUT_DIR/SHA256SUMS. scripts/synth-all.sh
 * runs it twice and compares.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const [outArg, seedArg] = process.argv.slice(2);
if (!outArg || !seedArg) {
  process.stderr.write('usage: node -r tsx/cjs scripts/synth-all.ts OUT_DIR SEED_DIR\n');
  process.exit(2);
}
const OUT = path.resolve(outArg);
const SEED = path.resolve(seedArg);

// the examples import the package by its name: lib/ here
const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request: string, ...rest: unknown[]) {
  return resolve.call(this, request === 'secure-metrics-server' ? path.join(ROOT, 'lib', 'index.ts') : request, ...rest);
};

const pemDir = path.join(SEED, 'pem');
const pemFile = (name: string) => path.join(pemDir, name);
if (!existsSync(pemDir)) {
  mkdirSync(pemDir, { recursive: true });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ca = (name: string, subject: string, keyArgs: string[]) => openssl('req', '-x509', '-new', '-nodes', ...keyArgs,
    '-keyout', pemFile(`${name}.key`), '-out', pemFile(`${name}.crt`), '-days', '3650', '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign');
  ca('cluster-ca', '/CN=kubernetes', ['-newkey', 'rsa:2048']);
  ca('ecdsa-ca', '/CN=k3s-server-ca', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  ca('own-ca', '/CN=own-ca', ['-newkey', 'rsa:2048']);
  openssl('req', '-new', '-nodes', '-newkey', 'rsa:2048', '-keyout', pemFile('tls.key'), '-out', pemFile('tls.csr'),
    '-subj', '/CN=metrics-server.kube-system.svc');
  const ext = pemFile('tls.ext');
  writeFileSync(ext, 'subjectAltName=DNS:metrics-server,DNS:metrics-server.kube-system,DNS:metrics-server.kube-system.svc,'
    + 'DNS:metrics-server.kube-system.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  openssl('x509', '-req', '-in', pemFile('tls.csr'), '-CA', pemFile('own-ca.crt'), '-CAkey', pemFile('own-ca.key'),
    '-CAcreateserial', '-out', pemFile('tls.crt'), '-days', '365', '-extfile', ext);
}

const EXAMPLE_ENV = {
  CLUSTER_CA_CERT: pemFile('cluster-ca.crt'), CLUSTER_CA_KEY: pemFile('cluster-ca.key'),
  SERVER_CA_CERT: pemFile('ecdsa-ca.crt'), SERVER_CA_KEY: pemFile('ecdsa-ca.key'),
  TLS_CERT: pemFile('tls.crt'), TLS_KEY: pemFile('tls.key'), TLS_CA: pemFile('own-ca.crt'),
};

/** The example app's modes (docs/examples.md, "The example app"). */
const MAIN_MODES: { [name: string]: { [variable: string]: string } } = {
  'verified': {},
  'verified-pki-dir': { PKI_DIR: 'pki' },
  'insecure-test': { METRICS_SERVER_TLS: 'insecure-test' },
  'cert-manager': { METRICS_SERVER_TLS: 'cert-manager' },
  'cert-manager-cluster-issuer': { METRICS_SERVER_TLS: 'cert-manager', CERT_MANAGER_ISSUER: 'ClusterIssuer/cluster-ca' },
  'cert-manager-issuer': { METRICS_SERVER_TLS: 'cert-manager', CERT_MANAGER_ISSUER: 'Issuer/ca' },
  'cluster-ca': { CLUSTER_CA_CERT: EXAMPLE_ENV.CLUSTER_CA_CERT, CLUSTER_CA_KEY: EXAMPLE_ENV.CLUSTER_CA_KEY, PKI_DIR: 'pki' },
  'ecdsa-cluster-ca': { CLUSTER_CA_CERT: EXAMPLE_ENV.SERVER_CA_CERT, CLUSTER_CA_KEY: EXAMPLE_ENV.SERVER_CA_KEY },
  'pem': { TLS_CERT: EXAMPLE_ENV.TLS_CERT, TLS_KEY: EXAMPLE_ENV.TLS_KEY, TLS_CA: EXAMPLE_ENV.TLS_CA },
  'existing-secret': { EXISTING_TLS_SECRET: 'metrics-server-tls', TLS_CA: EXAMPLE_ENV.TLS_CA },
  'kubelet-configmap': { KUBELET_CA: 'configmap:kubelet-ca/ca.crt' },
  'kubelet-secret': { KUBELET_CA: 'secret:kubelet-ca/ca.crt' },
  'kubelet-insecure': { KUBELET_CA: 'insecure' },
  'approver': {
    KUBELET_CSR_APPROVER_REGEX: '^node-[0-9]+\\.example\\.com$',
    KUBELET_CSR_APPROVER_IP_PREFIXES: '10.0.0.0/8,fd00::/8', KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION: 'true',
  },
  'production': { NAMESPACE: 'monitoring', REPLICAS: '2', SECURE_PORT: '4443', NETWORK_POLICY: 'true', HOST_NETWORK: 'true' },
  'image': { IMAGE: 'registry.example.com/metrics-server/metrics-server:v0.8.0' },
};

interface Case { readonly name: string; readonly run: (cwd: string) => void }
const cases: Case[] = [
  ...readdirSync(path.join(ROOT, 'examples')).sort().map(name => ({
    name: `example-${name}`,
    run: () => {
      Object.assign(process.env, EXAMPLE_ENV);
      require(path.join(ROOT, 'examples', name, 'main.ts'));
    },
  })),
  ...Object.entries(MAIN_MODES).map(([mode, env]) => ({
    name: `main-${mode}`,
    run: (cwd: string) => {
            const { buildApp } = require(path.join(ROOT, 'main.ts'));
      buildApp(env, path.join(cwd, 'dist')).synth();
    },
  })),
];

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const work = path.join(OUT, '.work');
const sums: string[] = [];
delete process.env.SECURE_METRICS_SERVER_SILENCE_WARNINGS;
for (const c of cases) {
  const cwd = path.join(work, c.name);
  const seedStore = path.join(SEED, 'stores', c.name);
  mkdirSync(cwd, { recursive: true });
  if (existsSync(seedStore)) {
    cpSync(seedStore, cwd, { recursive: true });
  }
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: unknown) => { chunks.push(String(chunk)); return true; }) as typeof process.stderr.write;
  const before = process.cwd();
  try {
    process.chdir(cwd);
    c.run(cwd);
  } catch (e) {
    chunks.push(`THROWN: ${(e as Error).message}\n`);
  } finally {
    process.chdir(before);
    process.stderr.write = write;
  }
  if (!existsSync(seedStore)) {
    // the first run: keep the stores it made (everything but the manifests)
    mkdirSync(seedStore, { recursive: true });
    for (const entry of readdirSync(cwd)) {
      if (entry !== 'dist') {
        cpSync(path.join(cwd, entry), path.join(seedStore, entry), { recursive: true });
      }
    }
  }
  const dest = path.join(OUT, c.name);
  mkdirSync(dest, { recursive: true });
  const dist = path.join(cwd, 'dist');
  for (const file of existsSync(dist) ? readdirSync(dist).sort() : []) {
    const data = readFileSync(path.join(dist, file));
    writeFileSync(path.join(dest, file), data);
    sums.push(`${sha(data)}  ${c.name}/${file}`);
  }
  const stderr = chunks.join('').split(cwd).join('<cwd>').split(SEED).join('<seed>');
  writeFileSync(path.join(dest, 'stderr.txt'), stderr);
  sums.push(`${sha(stderr)}  ${c.name}/stderr.txt`);
}
rmSync(work, { recursive: true, force: true });
const list = sums.join('\n') + '\n';
writeFileSync(path.join(OUT, 'SHA256SUMS'), list);
process.stdout.write(list);
process.stdout.write(`${sha(list)}  (all)\n`);
