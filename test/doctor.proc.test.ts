import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { Pem, ServingTls } from '../lib';
import { find, synth, tmp } from './helpers';
import { buildCli, closedPort, silentListener, expiredCert, Job, JobResult, runAsync, runJobs, startProxy, writeKubeconfig } from './sim-cluster/harness';
import { SimKubelets } from './sim-cluster/kubelets';
import { apiserverCaFile, makeSimPki, read, SimPki } from './sim-cluster/pki';
import { certManagerCrds, ScenarioInputs, SCENARIOS } from './sim-cluster/scenarios';
import { SimCluster, SimState } from './sim-cluster/server';
import { goErrorText, verifyServer } from '../lib/x509/go-text';
import { parseCertificates } from '../lib/x509/x509';

// `secure-metrics-server doctor` against a strict simulated API server on
// loopback HTTPS, with loopback TLS listeners as kubelets (certificates made by
// openssl here). client-node is ESM-only, so the command runs in a child
// process: the CLI is bundled once (as npm run build:cli does) and one child
// runs all the scenario jobs; the simulated cluster answers from this process.

const TOKEN = 'sim-token-0123456789';
const UPSTREAM = path.join(__dirname, '..', '..', 'shared', 'reference', 'metrics-server-v0.8.1-components.yaml');
// under CI=true these are never skipped: .ci/run provides go, kubectl and ../shared, or the tests fail
const CI = process.env.CI === 'true';
const haveGo = spawnSync('go', ['version']).status === 0 || CI;
const haveKubectl = spawnSync('kubectl', ['version', '--client']).status === 0 || CI;

let dir: string;
let pki: SimPki;
let sim: SimCluster;
let kubelets: SimKubelets;
let cli: string;
let inputs: ScenarioInputs;
let kubeconfig: string;
let goVerify = '';
let silent: Awaited<ReturnType<typeof silentListener>>;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let env: { [k: string]: string };

function json(r: JobResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

function ids(report: any): string[] {
  return report.findings.map((f: any) => f.ruleId);
}

function finding(report: any, id: string): any {
  const f = report.findings.find((x: any) => x.ruleId === id);
  if (!f) throw new Error(`no ${id} in ${JSON.stringify(report.findings.map((x: any) => `${x.ruleId}: ${x.message}`), null, 1)}`);
  return f;
}

/**
 * Go's crypto/tls message for a kubelet certificate, by test/go-verify (with Go 1.20+'s "tls: failed to verify certificate: " prefix,
 * as metrics-server logs it).
 */
function goSays(pair: { cert: string; key: string }, ca: string, host: string): string {
  return execFileSync(goVerify, [pair.cert, pair.key, ca, host], { encoding: 'utf8' }).trim();
}

/**
 * Every doctor job of this file runs in one child process, started once in the
 * top-level beforeAll (a process start costs more than most jobs). Describe
 * blocks register their jobs at collection time; each scenario is a state of the
 * shared simulated server that only its own bearer token sees.
 */
const batch: { key: string; build: () => Job }[] = [];
const ran = new Map<string, JobResult>();

function job(key: string, build: () => Job): void {
  batch.push({ key, build });
}

function result(key: string): JobResult {
  const r = ran.get(key);
  if (!r) throw new Error(`job ${key} did not run`);
  return r;
}

/** A kubeconfig whose token sees `state` only. */
function tokenEnv(token: string, state: SimState): { [k: string]: string } {
  sim.stateFor(token, state);
  return { ...env, KUBECONFIG: writeKubeconfig(path.join(dir, `kubeconfig-${token}`), [{ server: sim.url, caFile: apiserverCaFile(pki), token }], 'sim') };
}

beforeAll(async () => {
  const t0 = Date.now();
  const lap = (what: string) => process.env.SMS_DEBUG && process.stderr.write(`${what}: ${Date.now() - t0} ms\n`);
  dir = tmp('sms-doctor-');
  // the bundle and the Go build run in their own processes while this one makes certificates and synthesizes
  const bundling = buildCli();
  goVerify = path.join(dir, 'go-verify');
  const goBuild = haveGo ? runAsync('go', ['build', '-o', goVerify, '.'], { ...process.env }, path.join(__dirname, 'go-verify')) : undefined;
  pki = await makeSimPki(path.join(dir, 'pki'));
  lap('pki');
  const synthesized = synth({ servingTls: ServingTls.fromPem({ certificate: Pem.fromFile(pki.serving.cert), privateKey: Pem.fromFile(pki.serving.key),
    caBundle: Pem.fromFile(pki.servingCa.cert) }) }).objects;
  const upstream = fs.existsSync(UPSTREAM) ? (yaml.loadAll(fs.readFileSync(UPSTREAM, 'utf8')) as any[]).filter(Boolean) : [];
  kubelets = await SimKubelets.start([
    { cert: read(pki.kubeletIssued.cert), key: read(pki.kubeletIssued.key) },
    { cert: read(pki.kubeletSelfSigned.cert), key: read(pki.kubeletSelfSigned.key) },
    { cert: read(pki.kubeletIpOnly.cert), key: read(pki.kubeletIpOnly.key) },
  ]);
  inputs = {
    synthesized, upstream,
    clusterCaPem: read(pki.clusterCa.cert),
    otherCaPem: read(pki.otherCa.cert),
    kubeletIssuedPem: read(pki.kubeletIssued.cert),
    kubeletIpOnlyPem: read(pki.kubeletIpOnly.cert),
    expiredServingCertPem: expiredCert(path.join(dir, 'pki'), pki.clusterCa),
    ports: { issued: kubelets.port(0), selfSigned: kubelets.port(1), ipOnly: kubelets.port(2), closed: await closedPort(),
      silent: (silent = await silentListener()).port },
  };
  sim = await SimCluster.start({ cert: read(pki.apiserver.cert), key: read(pki.apiserver.key), tokens: [TOKEN, 'exec-token', 'in-cluster-token'] });
  kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), [{ server: sim.url, caFile: apiserverCaFile(pki), token: TOKEN }], 'sim');
  env = { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: kubeconfig };
  lap('synth and listeners');
  cli = await bundling;
  lap('bundle');
  const built = await goBuild;
  lap('go build');
  if (built && built.code !== 0) {
    throw new Error(`go build test/go-verify: ${built.stderr}`);
  }
  proxy = await startProxy();
  sim.setState(SCENARIOS.healthy(inputs));
  const jobs = batch.map(b => b.build());
  const out = await runJobs(cli, jobs);
  batch.forEach((b, i) => ran.set(b.key, out[i]));
  if (process.env.SMS_DEBUG) process.stderr.write(batch.map((b, i) => `${b.key}: ${(out[i] as any).ms} ms`).join('\n') + '\n');
  lap(`${jobs.length} doctor jobs in one process`);
  // read-only, and Secrets only by name: no write, no list of Secrets
  expect(sim.writes).toEqual([]);
  expect(sim.requests.filter(q => /\/secrets(\?|$)/.test(q))).toEqual([]);
  expect(sim.requests.filter(q => /\/secrets\//.test(q)).length).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  await sim?.close();
  await kubelets?.close();
  await silent?.close();
  await proxy?.close();
  if (cli) fs.rmSync(path.dirname(cli), { recursive: true, force: true });
});

describe('scenarios', () => {
  // expired-serving: the Secret's certificate is signed by the cluster CA, so the caBundle is that CA
  const expired = SCENARIOS['expired-serving'];
  SCENARIOS['expired-serving'] = inp => {
    const st = expired(inp);
    const api = st.objects.find(o => o.kind === 'APIService');
    api.spec.caBundle = Buffer.from(inp.clusterCaPem).toString('base64');
    return st;
  };
  const all = ['healthy', 'fresh-kubeadm', 'csr-pending', 'csr-mixed', 'wrong-configmap', 'cabundle-mismatch', 'expired-serving', 'cert-manager-not-ready',
    'missing-permissions', 'hostname-only', 'kubelet-unreachable', 'kubelet-silent', 'kubelets-private', ...(fs.existsSync(UPSTREAM) ? ['upstream-insecure'] : [])];
  for (const name of all) {
    job(`scenario ${name}`, () => ({
      argv: ['doctor', '--format', 'json', '--probe-kubelets', '--probe-timeout', name === 'kubelet-silent' ? '0.3' : '2', ...(name === 'kubelets-private' ? ['--probe-concurrency', '4'] : [])],
      env: tokenEnv(`token-${name}`, SCENARIOS[name](inputs)),
    }));
  }
  const results = { get: (name: string) => result(`scenario ${name}`) };

  const report = (name: string) => json(results.get(name)!);
  const code = (name: string) => results.get(name)!.code;

  test('healthy (CSRs approved and issued): exit 0, every kubelet verifies, nothing written, no private key printed', () => {
    const r = report('healthy');
    expect(code('healthy')).toBe(0);
    expect(r.hops.map((h: any) => `${h.section}:${h.status}`)).toEqual(['apiservice:ok', 'kubelet:ok', 'logs:ok']);
    expect(r.nodes.map((n: any) => [n.node, n.csr, n.issuedCertificate, n.probe])).toEqual([1, 2, 3].map(i => [`node-${i}`, 'issued', 'ok', 'ok']));
    const secret = find(inputs.synthesized, 'Secret');
    const key = Buffer.from(secret.data['tls.key'], 'base64').toString('utf8');
    const out = results.get('healthy')!.stdout;
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain(secret.data['tls.key']);
    expect(out).not.toContain(key.split('\n')[1]);
  });

  test('fresh kubeadm: kubelets self-sign, no CSRs; the probe reports Go\'s error text', () => {
    const r = report('fresh-kubeadm');
    expect(code('fresh-kubeadm')).toBe(1);
    expect(ids(r)).toEqual(expect.arrayContaining(['SMD002', 'SMD004', 'SMD011', 'SMD015', 'SMD020']));
    const expected = "tls: failed to verify certificate: x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs";
    expect(r.nodes[0].probe).toBe(expected);
    expect(r.nodes[0].selfSigned).toBe(true);
    if (haveGo) {
      expect(r.nodes[0].probe).toBe(goSays(pki.kubeletSelfSigned, pki.clusterCa.cert, '127.0.0.1'));
    }
    expect(finding(r, 'SMD020').fix).toMatch(/serverTLSBootstrap: true/);
    expect(r.hops.find((h: any) => h.section === 'kubelet').summary).toMatch(/^2 node\(s\): 0 verify, 2 fail/);
  });

  test('serverTLSBootstrap on, CSRs pending', () => {
    const r = report('csr-pending');
    expect(code('csr-pending')).toBe(1);
    expect(finding(r, 'SMD012').message).toMatch(/2 of 2 node\(s\) have a kubelet-serving CSR waiting for approval/);
    expect(ids(r)).not.toContain('SMD011');
    // the APIService condition is explained by the kubelet hop: metrics-server is not ready until it scrapes
    expect(finding(r, 'SMD002').message).toMatch(/no metrics-server pod is ready.*kubelet hop/);
  });

  (fs.existsSync(UPSTREAM) || CI ? test : test.skip)('upstream\'s insecure install: both hops unverified (object rules), exit 1', () => {
    const r = report('upstream-insecure');
    expect(code('upstream-insecure')).toBe(1);
    // upstream verifies kubelets with the service-account CA (no --kubelet-insecure-tls since v0.4) and skips the APIService hop
    expect(ids(r)).toEqual(expect.arrayContaining(['SMS002', 'SMS025', 'SMD011']));
    expect(r.hops.find((h: any) => h.section === 'apiservice').summary).toMatch(/Available=True.*not verified \(insecureSkipTLSVerify\)/);
  });

  test('CSRs approved but not issued, and denied', () => {
    const r = report('csr-mixed');
    expect(code('csr-mixed')).toBe(1);
    expect(finding(r, 'SMD013').message).toBe('2 of 3 node(s) have approved kubelet-serving CSRs without a certificate');
    expect(finding(r, 'SMD014').message).toBe('1 of 3 node(s): the newest kubelet-serving CSR was denied');
    expect(r.nodes.map((n: any) => n.csr)).toEqual(['approved', 'denied', 'approved']);
    // 603 CSRs: doctor read the second page with the continue token the first page gave
    expect(sim.requests.filter(q => /^GET \/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\?limit=500&continue=/.test(q)).length).toBeGreaterThan(0);
  });

  test('cert-manager: Certificate not Ready, caBundle not injected', () => {
    const r = report('cert-manager-not-ready');
    expect(code('cert-manager-not-ready')).toBe(1);
    expect(finding(r, 'SMD005').evidence).toBe('Ready=False (DoesNotExist): Issuing certificate as Secret does not exist');
    expect(finding(r, 'SMD006').message).toBe('the APIService has cert-manager.io/inject-ca-from: kube-system/metrics-server but no caBundle');
  });

  test('the seed\'s ConfigMap name: cluster-root-ca is missing, the pod never starts', () => {
    const r = report('wrong-configmap');
    expect(code('wrong-configmap')).toBe(1);
    expect(ids(r)).toEqual(expect.arrayContaining(['SMD004', 'SMD017']));
    expect(r.findings.some((f: any) => ['SMS022', 'SMS091'].includes(f.ruleId) && /cluster-root-ca/.test(`${f.message} ${f.evidence}`))).toBe(true);
    expect(finding(r, 'SMD004').evidence).toMatch(/ContainerCreating/);
  });

  test('caBundle does not match the serving certificate', () => {
    const r = report('cabundle-mismatch');
    expect(code('cabundle-mismatch')).toBe(1);
    expect(ids(r)).toEqual(expect.arrayContaining(['SMS010', 'SMD002', 'SMD020']));
    expect(finding(r, 'SMD002').message).toMatch(/caBundle does not verify/);
    expect(finding(r, 'SMD020').evidence).toMatch(/bad certificate/);
  });

  test('expired serving certificate', () => {
    const r = report('expired-serving');
    expect(code('expired-serving')).toBe(1);
    expect(ids(r)).toEqual(expect.arrayContaining(['SMS012', 'SMD002']));
    expect(finding(r, 'SMD002').message).toMatch(/has expired/);
  });

  test('nodes reachable only by host name, kubelet certificates without DNS SANs', () => {
    const r = report('hostname-only');
    expect(code('hostname-only')).toBe(1);
    const expected = 'tls: failed to verify certificate: x509: certificate is not valid for any names, but wanted to match localhost';
    expect(r.nodes[0]).toMatchObject({ node: 'localhost', addressType: 'Hostname', address: 'localhost', issuedCertificate: expected, probe: expected });
    if (haveGo) {
      expect(expected).toBe(goSays(pki.kubeletIpOnly, pki.clusterCa.cert, 'localhost'));
    }
    expect(finding(r, 'SMD015').fix).toMatch(/kubeletPreferredAddressTypes/);
  });

  test('missing permissions: says what it could not see, no false "missing", exit by what it saw', () => {
    const r = report('missing-permissions');
    expect(r.couldNotSee).toEqual(expect.arrayContaining([
      'get secrets kube-system/metrics-server-tls', 'list certificatesigningrequests', 'get pods/log kube-system/metrics-server-6d4c8b5f7-x2x9q']));
    expect(ids(r)).not.toContain('SMS091');
    expect(r.nodes.every((n: any) => n.csr === 'unknown' && n.probe === 'ok')).toBe(true);
    expect(code('missing-permissions')).toBe(0);
  });

  test('a kubelet that does not answer is unreachable from here, never a TLS failure', () => {
    const r = report('kubelet-unreachable');
    const n4 = r.nodes.find((n: any) => n.node === 'node-4');
    expect(n4.probe).toMatch(/^unreachable from here: ECONNREFUSED/);
    expect(finding(r, 'SMD016').severity).toBe('info');
    expect(r.findings.filter((f: any) => f.ruleId === 'SMD015')).toEqual([]);
    expect(code('kubelet-unreachable')).toBe(0);
  });

  test('no kubelet connects from here: after the first 16 dials the rest are not dialled; the issued certificates still say the hop verifies', () => {
    const r = report('kubelets-private');
    const probes: string[] = r.nodes.map((n: any) => n.probe);
    expect(probes.every(p => p.startsWith('unreachable from here: '))).toBe(true);
    const dialled = probes.filter(p => !p.includes('not dialled')).length;
    expect(dialled).toBeGreaterThanOrEqual(16);
    expect(dialled).toBeLessThanOrEqual(16 + 4);
    expect(probes[39]).toMatch(/^unreachable from here: not dialled \(the first \d+ kubelets dialled did not connect\)$/);
    expect(r.nodes.every((n: any) => n.issuedCertificate === 'ok')).toBe(true);
    expect(finding(r, 'SMD016').message).toBe('40 of 40 node(s): kubelet unreachable from here, certificate not checked');
    expect(code('kubelets-private')).toBe(0);
    expect(r.hops.find((h: any) => h.section === 'kubelet').summary).toMatch(/^40 node\(s\): 40 verify, 0 fail; probe: 0 answered, 40 unreachable from here; CA: /);
  });

  test('a kubelet port that accepts TCP and never answers: bounded by --probe-timeout, a handshake failure, not unreachable', () => {
    const r = report('kubelet-silent');
    expect(r.nodes[0].probe).toBe('handshake failed: no TLS handshake within 300 ms');
    expect(finding(r, 'SMD018').severity).toBe('medium');
    expect(ids(r)).not.toContain('SMD016');
  });
});

describe('text output and exit codes', () => {
  test('text: a summary line per hop, then findings with evidence and fix; exit 1 through the real process', async () => {
    sim.setState(SCENARIOS['csr-pending'](inputs));
    const r = await runAsync(process.execPath, [cli, 'doctor'], env as any);
    if (process.env.SMS_DOCTOR_SAMPLE) fs.writeFileSync(process.env.SMS_DOCTOR_SAMPLE, r.stdout);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PROBLEMS +APIService hop \(kube-apiserver -> metrics-server\): Available=False \(MissingEndpoints\)/m);
    expect(r.stdout).toMatch(/^PROBLEMS +kubelet hop \(metrics-server -> kubelets\): 2 node\(s\): 0 verify, 2 fail \(2 without an issued kubelet-serving certificate\)/m);
    expect(r.stdout).toMatch(/\[high\] SMD012 Node node-1: 2 of 2 node\(s\) have a kubelet-serving CSR waiting for approval[^\n]*\n\s+evidence: node-1 \(InternalIP 127\.0\.0\.1:\d+\)[^\n]*\n\s+fix: kubectl certificate approve/);
  });

  job('fail no-config', () => ({ argv: ['doctor'], env: { PATH: env.PATH, HOME: dir } }));
  job('fail bad-token', () => ({ argv: ['doctor', '--kubeconfig', writeKubeconfig(path.join(dir, 'bad-token'), [{ server: sim.url, caFile: apiserverCaFile(pki), token: 'wrong' }], 'sim')], env }));
  job('fail bad-context', () => ({ argv: ['doctor', '--context', 'nope'], env }));
  job('fail missing-kubeconfig', () => ({ argv: ['doctor'], env: { ...env, KUBECONFIG: `${path.join(dir, 'nope-1')}${path.delimiter}${path.join(dir, 'nope-2')}` } }));
  job('fail empty-preflight', () => ({ argv: ['doctor', '--preflight', fs.mkdtempSync(path.join(dir, 'empty-'))], env }));
  job('fail down', () => ({ argv: ['doctor', '--kubeconfig', writeKubeconfig(path.join(dir, 'down'), [{ server: `https://127.0.0.1:${inputs.ports.closed}`, caFile: apiserverCaFile(pki), token: TOKEN }], 'sim')], env }));

  test('could not run: exit 2 with the reason', () => {
    const [noConfig, badToken, badContext, down] = ['no-config', 'bad-token', 'bad-context', 'down'].map(k => result(`fail ${k}`));
    expect([noConfig.code, badToken.code, badContext.code, down.code]).toEqual([2, 2, 2, 2]);
    expect(noConfig.stderr).toMatch(/no kubeconfig/);
    expect(badToken.stderr).toMatch(/401 Unauthorized/);
    expect(badContext.stderr).toMatch(/--context: no context 'nope'.*known contexts: sim/);
    expect(down.stderr).toMatch(/cannot reach the API server .*ECONNREFUSED/);
    expect(result('fail missing-kubeconfig').stderr).toMatch(/could not run: KUBECONFIG: none of its files exists \(.*nope-1:.*nope-2\)/);
    const empty = result('fail empty-preflight');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--preflight .*: no Kubernetes objects found; run cdk8s synth first/);
  });
});

describe('where the cluster comes from', () => {
  const tunnelsTo = (host: string) => proxy.tunnels.filter(t => t === `${host}:${sim.port}`).length;
  let files: { [k: string]: string } | undefined;
  /** kubeconfigs, an exec plugin and a service-account directory, written once (when the jobs are built) */
  const setup = () => {
    if (files) return files;
    const ca = apiserverCaFile(pki);
    const execScript = path.join(dir, 'exec-plugin.sh');
    fs.writeFileSync(execScript, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token"}}\'\n', { mode: 0o755 });
    const sa = path.join(dir, 'serviceaccount');
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, 'token'), 'in-cluster-token');
    fs.copyFileSync(ca, path.join(sa, 'ca.crt'));
    fs.writeFileSync(path.join(sa, 'namespace'), 'kube-system');
    files = {
      sa,
      // KUBECONFIG with two files: the first names the context and holds the cluster, the second holds the user
      a: writeKubeconfig(path.join(dir, 'a.yaml'), [{ server: sim.url, caFile: ca, context: 'two', clusterOnly: true }], 'two'),
      b: writeKubeconfig(path.join(dir, 'b.yaml'), [{ server: 'https://127.0.0.1:1', caFile: ca, context: 'two', userOnly: true, token: TOKEN },
        { server: `https://127.0.0.1:${inputs.ports.closed}`, caFile: ca, context: 'other', token: TOKEN }], 'other'),
      multi: writeKubeconfig(path.join(dir, 'multi.yaml'), [
        { server: `https://127.0.0.1:${inputs.ports.closed}`, caFile: ca, context: 'broken', token: TOKEN },
        { server: sim.url, caFile: ca, context: 'good', token: TOKEN }], 'broken'),
      exec: writeKubeconfig(path.join(dir, 'exec.yaml'), [{ server: sim.url, caFile: ca, exec: execScript }], 'sim'),
      // names under sim.test resolve only through the test proxy (which sends every tunnel to 127.0.0.1)
      proxyUrl: writeKubeconfig(path.join(dir, 'proxy-url.yaml'), [{ server: `https://kube-api.sim.test:${sim.port}`, caFile: ca, token: TOKEN, proxyUrl: proxy.url }], 'sim'),
      viaEnv: writeKubeconfig(path.join(dir, 'env.yaml'), [{ server: `https://env.sim.test:${sim.port}`, caFile: ca, token: TOKEN }], 'sim'),
      bypass: writeKubeconfig(path.join(dir, 'bypass.yaml'), [{ server: `https://bypass.sim.test:${sim.port}`, caFile: ca, token: TOKEN }], 'sim'),
    };
    return files;
  };
  const quick = ['doctor', '--format', 'json', '--log-lines', '0'];
  const base = () => ({ PATH: env.PATH, HOME: path.join(dir, 'empty-home') });
  const builders: (() => Job)[] = [
    () => ({ argv: quick, env: { ...base(), KUBECONFIG: `${setup().a}${path.delimiter}${setup().b}` } }),
    () => ({ argv: [...quick, '--kubeconfig', setup().multi, '--context', 'good'], env: { ...base(), KUBECONFIG: setup().a } }),
    () => ({ argv: [...quick, '--kubeconfig', setup().exec], env: base() }),
    () => ({ argv: quick, env: { ...base(), KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(sim.port), SECURE_METRICS_SERVER_SERVICE_ACCOUNT_DIR: setup().sa } }),
    () => ({ argv: [...quick, '--kubeconfig', setup().proxyUrl], env: base() }),
    () => ({ argv: [...quick, '--kubeconfig', setup().viaEnv], env: { ...base(), HTTPS_PROXY: proxy.url } }),
    () => ({ argv: [...quick, '--kubeconfig', setup().bypass], env: { ...base(), HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,.sim.test' } }),
  ];
  builders.forEach((build, i) => job(`where ${i}`, build));
  const results = builders.map((_, i) => ({ get code() { return result(`where ${i}`).code; }, get stdout() { return result(`where ${i}`).stdout; }, get stderr() { return result(`where ${i}`).stderr; } }));

  test('KUBECONFIG with several files, --kubeconfig with --context, exec plugins, in-cluster: all reach the cluster', () => {
    expect(results.slice(0, 4).map(r => [r.code, r.stderr])).toEqual([[0, ''], [0, ''], [0, ''], [0, '']]);
    expect(results.slice(0, 4).map(r => json(r).cluster.context)).toEqual(['two', 'good', 'sim', 'loaded-context']);
    expect(json(results[3]).cluster.source).toMatch(/^in-cluster service account/);
  });

  test('proxy-url and HTTPS_PROXY go through the proxy; NO_PROXY bypasses it', () => {
    expect(results[4].code).toBe(0);
    expect(json(results[4]).cluster.proxy).toMatch(/\(proxy-url\)$/);
    expect(tunnelsTo('kube-api.sim.test')).toBeGreaterThan(0);
    expect(results[5].code).toBe(0);
    expect(json(results[5]).cluster.proxy).toMatch(/\(HTTPS_PROXY\)$/);
    expect(tunnelsTo('env.sim.test')).toBeGreaterThan(0);
    // bypass.sim.test resolves only through the proxy: NO_PROXY sends it direct, where it does not resolve
    expect(results[6].code).toBe(2);
    expect(results[6].stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(tunnelsTo('bypass.sim.test')).toBe(0);
  });
});

describe('preflight', () => {
  let rep: { [k: string]: any };
  const write = (name: string, objects: any[]) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'app.k8s.yaml'), objects.map(o => yaml.dump(o)).join('---\n'));
    return d;
  };
  /** the cluster before apply: the fresh-kubeadm nodes, no metrics-server objects, the APIService as `marks` leave it (or none) */
  const before = (token: string, marks?: { labels?: any; annotations?: any }, extra: any[] = []) => {
    const state = SCENARIOS['fresh-kubeadm'](inputs);
    const objects = state.objects.filter(o => !['Deployment', 'Service', 'Secret', 'Pod', 'EndpointSlice', 'ServiceAccount', 'APIService'].includes(o.kind));
    if (marks) {
      const api = JSON.parse(JSON.stringify(state.objects.find(o => o.kind === 'APIService')));
      api.metadata.labels = { ...api.metadata.labels, ...marks.labels };
      api.metadata.annotations = marks.annotations ?? {};
      objects.push(api);
    }
    return tokenEnv(token, { objects: [...objects, ...extra] });
  };

  let dists: { dist: string; cm: string } | undefined;
  const distDirs = () => {
    if (dists) return dists;
    // cert-manager issuance into a namespace that does not exist yet
    const moved = JSON.parse(JSON.stringify(inputs.synthesized).split('"kube-system"').join('"monitoring"'));
    dists = {
      dist: write('dist', inputs.synthesized),
      cm: write('dist-cm', [...moved,
        { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'metrics-server', namespace: 'monitoring' }, spec: { secretName: 'x', issuerRef: { kind: 'ClusterIssuer', name: 'ca-issuer' } } }]),
    };
    return dists;
  };
  const cases: [string, () => Job][] = [
    ['helm', () => ({ argv: ['doctor', '--format', 'json', '--preflight', distDirs().dist, '--probe-kubelets'], env: before('pre-helm', { labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'metrics-server' } }) })],
    ['no-cert-manager', () => ({ argv: ['doctor', '--format', 'json', '--preflight', distDirs().cm], env: before('pre-nocm') })],
    ['no-issuer', () => ({ argv: ['doctor', '--format', 'json', '--preflight', distDirs().cm], env: before('pre-noissuer', undefined, certManagerCrds()) })],
    ['addon-manager', () => ({ argv: ['doctor', '--format', 'json', '--preflight', distDirs().dist], env: before('pre-addon', { labels: { 'addonmanager.kubernetes.io/mode': 'Reconcile' } }) })],
    ['k3s', () => ({ argv: ['doctor', '--format', 'json', '--preflight', distDirs().dist], env: before('pre-k3s', { annotations: { 'objectset.rio.cattle.io/id': 'metrics-server', 'objectset.rio.cattle.io/hash': 'abc' } }) })],
    ['free', () => ({ argv: ['doctor', '--format', 'json', '--preflight', distDirs().dist], env: before('pre-free') })],
  ];
  for (const [name, build] of cases) job(`preflight ${name}`, build);
  beforeAll(() => {
    rep = Object.fromEntries(cases.map(([name]) => [name, { code: result(`preflight ${name}`).code, ...json(result(`preflight ${name}`)) }]));
  });

  test('another install owns the APIService (Helm), and every kubelet would fail, with Go\'s error', () => {
    const r = rep.helm;
    expect(r.code).toBe(1);
    expect(finding(r, 'SMD033').message).toBe("APIService v1beta1.metrics.k8s.io already exists, owned by Helm (app.kubernetes.io/managed-by), Helm release 'metrics-server'; applying would take it over");
    expect(r.nodes.map((n: any) => n.probe)).toEqual(Array(2).fill("tls: failed to verify certificate: x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"));
    expect(ids(r)).toEqual(expect.arrayContaining(['SMD011', 'SMD015']));
  });

  test('the addon manager and k3s/RKE2 as owners', () => {
    expect(finding(rep['addon-manager'], 'SMD033').message).toMatch(/the addon manager \(mode Reconcile: it reverts changes\)/);
    expect(finding(rep.k3s, 'SMD033').message).toMatch(/k3s\/RKE2 \(objectset.rio.cattle.io\/id: metrics-server\)/);
  });

  test('cert-manager: CRDs missing; with CRDs, the ClusterIssuer missing; the namespace missing', () => {
    expect(ids(rep['no-cert-manager'])).toEqual(expect.arrayContaining(['SMD030', 'SMD031']));
    expect(ids(rep['no-cert-manager'])).not.toContain('SMD032');
    expect(finding(rep['no-issuer'], 'SMD032').message).toBe('Certificate monitoring/metrics-server names ClusterIssuer ca-issuer, which does not exist');
    expect(ids(rep['no-issuer'])).not.toContain('SMD031');
    expect(finding(rep['no-issuer'], 'SMD030').message).toBe('namespace monitoring does not exist and the manifests do not create it');
  });

  test('nothing in the way: only the kubelet hop prediction', () => {
    const r = rep.free;
    expect(r.hops[0]).toEqual({ section: 'preflight', status: 'ok', summary: 'namespace kube-system: exists; APIService: free' });
    expect(ids(r)).not.toContain('SMD033');
    expect(ids(r)).toContain('SMD011');
  });
});

(haveKubectl ? describe : describe.skip)('kubectl against the simulated server', () => {
  test('kubectl top nodes: usage when healthy, "Metrics API not available" when broken', async () => {
    const cache = path.join(dir, 'kubectl-cache');
    sim.setState(SCENARIOS.healthy(inputs));
    const ok = await runAsync('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cache, 'top', 'nodes'], { PATH: env.PATH, HOME: dir });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+CPU(\(%\)|%)\s+MEMORY\(bytes\)\s+MEMORY(\(%\)|%)/);
    expect(ok.stdout).toMatch(/^node-1\s+100m\s+2%\s+512Mi\s+6%/m);
    sim.setState(SCENARIOS['fresh-kubeadm'](inputs));
    const broken = await runAsync('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cache, 'top', 'nodes'], { PATH: env.PATH, HOME: dir });
    expect(broken.code).toBe(1);
    expect(broken.stderr.trim()).toBe('error: Metrics API not available');
    const unauth = await runAsync('kubectl', ['--kubeconfig', writeKubeconfig(path.join(dir, 'kubectl-bad'), [{ server: sim.url, caFile: apiserverCaFile(pki), token: 'wrong' }], 'sim'), '--cache-dir', cache, 'get', 'nodes'], { PATH: env.PATH, HOME: dir });
    expect(unauth.stderr).toMatch(/Unauthorized|must be logged in/);
    // paging: kubectl lists one item per page and follows the continue tokens
    sim.setState(SCENARIOS.healthy(inputs));
    const paged = await runAsync('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cache, 'get', 'csr', '--chunk-size=1', '-o', 'name'], { PATH: env.PATH, HOME: dir });
    expect(paged.stdout.trim().split('\n')).toEqual(['certificatesigningrequest.certificates.k8s.io/csr-1', 'certificatesigningrequest.certificates.k8s.io/csr-2', 'certificatesigningrequest.certificates.k8s.io/csr-3']);
    expect(sim.requests.filter(r => r.startsWith('GET /apis/certificates.k8s.io/v1/certificatesigningrequests?')).length).toBe(3);
  });
});

(haveGo ? describe : describe.skip)('Go\'s verification text, worded from the one verifier (lib/x509/go-text) and checked against test/go-verify', () => {
  // the time in an expiry message is the clock's, so seconds may differ
  const ours = (pair: { cert: string }, ca: string, host: string) =>
    goErrorText(verifyServer(parseCertificates('chain', read(pair.cert), 'chain'), parseCertificates('ca', read(ca), 'ca'), host, new Date()), { tls: true }) ?? 'ok';
  const cases: [string, () => { cert: string; key: string }, () => string, string][] = [
    ['issued, by IP', () => pki.kubeletIssued, () => pki.clusterCa.cert, '127.0.0.1'],
    ['issued, by DNS name', () => pki.kubeletIssued, () => pki.clusterCa.cert, 'node-1'],
    ['issued, another IP', () => pki.kubeletIssued, () => pki.clusterCa.cert, '127.0.0.2'],
    ['issued, another name', () => pki.kubeletIssued, () => pki.clusterCa.cert, 'node-2'],
    ['issued, against another ECDSA CA with the same name (Go\'s hint)', () => pki.kubeletIssued, () => pki.otherCa.cert, '127.0.0.1'],
    ['issued, against another RSA CA with the same name (Go\'s hint)', () => pki.kubeletIssued, () => pki.otherRsaCa.cert, '127.0.0.1'],
    ['ECDSA-signed serving certificate against another ECDSA CA with its name', () => pki.serving, () => pki.otherServingCa, 'metrics-server.kube-system.svc'],
    ['self-signed kubelet, by name', () => pki.kubeletSelfSigned, () => pki.clusterCa.cert, 'node-1'],
    ['self-signed kubelet, by IP', () => pki.kubeletSelfSigned, () => pki.clusterCa.cert, '127.0.0.1'],
    ['IP SANs only, by name', () => pki.kubeletIpOnly, () => pki.clusterCa.cert, 'localhost'],
    ['serving certificate, by its service name', () => pki.serving, () => pki.servingCa.cert, 'metrics-server.kube-system.svc'],
    ['serving certificate against the cluster CA', () => pki.serving, () => pki.clusterCa.cert, 'metrics-server.kube-system.svc'],
  ];
  test.each(cases)('%s', (_name, pair, ca, host) => {
    expect(ours(pair(), ca(), host)).toBe(goSays(pair(), ca(), host));
  });
  test('an expired certificate', () => {
    const pair = { cert: path.join(pki.dir, 'expired.crt'), key: path.join(pki.dir, 'expired.key') };
    const norm = (s: string) => s.replace(/current time \S+ is/, 'current time NOW is');
    const go = goSays(pair, pki.clusterCa.cert, 'metrics-server.kube-system.svc');
    expect(go).toMatch(/^tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time \S+ is after 2026-11-29T00:00:00Z$/);
    expect(norm(ours(pair, pki.clusterCa.cert, 'metrics-server.kube-system.svc'))).toBe(norm(go));
  });
});

describe('the simulated API server is strict', () => {
  const call = (method: string, p: string, token: string | null = TOKEN) => new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = https.request(`${sim.url}${p}`, { method, ca: read(apiserverCaFile(pki)), headers: token ? { Authorization: `Bearer ${token}` } : {} }, res => {
      const chunks: Buffer[] = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any = text;
        try { body = JSON.parse(text); } catch { /* text */ }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });

  test('401 without a token, 404 for unknown paths and scopes, 405 and a record for writes, 400/410 for bad continue tokens', async () => {
    sim.setState(SCENARIOS.healthy(inputs));
    expect((await call('GET', '/api/v1/nodes', null)).status).toBe(401);
    expect((await call('GET', '/api/v1/nodes', 'wrong')).status).toBe(401);
    expect((await call('GET', '/api/v1/widgets')).status).toBe(404);
    expect((await call('GET', '/api/v1/namespaces/kube-system/nodes')).status).toBe(404);
    expect((await call('GET', '/apis/apps/v1/deployments/x/y/z')).status).toBe(404);
    expect((await call('GET', '/apis/cert-manager.io/v1/namespaces/kube-system/certificates')).status).toBe(404);
    const notFound = await call('GET', '/api/v1/namespaces/kube-system/secrets/nope');
    expect([notFound.status, notFound.body.reason, notFound.body.message]).toEqual([404, 'NotFound', 'secrets "nope" not found']);
    expect((await call('DELETE', '/api/v1/nodes/node-1')).status).toBe(405);
    expect(sim.writes).toEqual(['DELETE /api/v1/nodes/node-1']);
    const page = await call('GET', '/api/v1/nodes?limit=2');
    expect(page.body.items.map((n: any) => n.metadata.name)).toEqual(['node-1', 'node-2']);
    expect(page.body.metadata.remainingItemCount).toBe(1);
    const next = await call('GET', `/api/v1/nodes?limit=2&continue=${encodeURIComponent(page.body.metadata.continue)}`);
    expect([next.body.items.map((n: any) => n.metadata.name), next.body.metadata.continue]).toEqual([['node-3'], undefined]);
    expect((await call('GET', '/api/v1/nodes?continue=%25%25')).status).toBe(400);
    sim.setState(SCENARIOS.healthy(inputs));
    expect((await call('GET', `/api/v1/nodes?limit=2&continue=${encodeURIComponent(page.body.metadata.continue)}`)).status).toBe(410);
  });

  test('as kube-apiserver: list items without kind, lists across namespaces, the whole selector grammar, fieldSelector, container= on logs', async () => {
    const st = SCENARIOS.healthy(inputs);
    const two = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'two', namespace: 'default', labels: { app: 'x', tier: 'web' } }, spec: { nodeName: 'node-2', containers: [{ name: 'a' }, { name: 'b' }] }, status: { phase: 'Running' } };
    sim.setState({ ...st, objects: [...st.objects, two], logs: { 'default/two/b': 'from b\n', 'default/two/a': 'from a\n' } });
    const nodes = await call('GET', '/api/v1/nodes');
    expect([nodes.body.kind, nodes.body.apiVersion, nodes.body.items.map((n: any) => [n.kind, n.apiVersion])]).toEqual(['NodeList', 'v1', [[undefined, undefined], [undefined, undefined], [undefined, undefined]]]);
    const pods = await call('GET', '/api/v1/pods');
    expect([pods.status, pods.body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`)]).toEqual([200, ['kube-system/metrics-server-6d4c8b5f7-x2x9q', 'default/two']]);
    expect((await call('GET', '/api/v1/pods/two')).status).toBe(404);
    const names = async (q: string) => { const r = await call('GET', `/api/v1/pods?${q}`); return r.status === 200 ? r.body.items.map((p: any) => p.metadata.name) : r.status; };
    expect(await names(`labelSelector=${encodeURIComponent('app in (x,y),tier!=db')}`)).toEqual(['two']);
    expect(await names(`labelSelector=${encodeURIComponent('app notin (x)')}`)).toEqual(['metrics-server-6d4c8b5f7-x2x9q']);
    expect(await names(`labelSelector=${encodeURIComponent('!app')}`)).toEqual(['metrics-server-6d4c8b5f7-x2x9q']);
    expect(await names(`labelSelector=${encodeURIComponent('tier,app==x')}`)).toEqual(['two']);
    expect(await names(`labelSelector=${encodeURIComponent('app in x')}`)).toBe(400);
    expect(await names(`fieldSelector=${encodeURIComponent('spec.nodeName=node-2,metadata.namespace!=kube-system')}`)).toEqual(['two']);
    expect(await names(`fieldSelector=${encodeURIComponent('status.phase==Running')}`)).toEqual(['metrics-server-6d4c8b5f7-x2x9q', 'two']);
    const unsupported = await call('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent('spec.hostname=x')}`);
    expect([unsupported.status, unsupported.body.message]).toEqual([400, 'field label not supported: spec.hostname']);
    expect((await call('GET', '/api/v1/namespaces/default/pods/two/log?container=b')).body).toBe('from b\n');
    const none = await call('GET', '/api/v1/namespaces/default/pods/two/log');
    expect([none.status, none.body.message]).toEqual([400, 'a container name must be specified for pod two, choose one of: [a b]']);
    const wrong = await call('GET', '/api/v1/namespaces/default/pods/two/log?container=c');
    expect([wrong.status, wrong.body.message]).toEqual([400, 'container c is not valid for pod two']);
  });
});

describe('the read-only RBAC of docs/doctor.md is enough', () => {
  /** the ClusterRole and Role of docs/doctor.md, as the simulated server's RBAC */
  const documented = (dropSecrets = false): NonNullable<SimState['rbac']> => {
    const md = fs.readFileSync(path.join(__dirname, '..', 'docs', 'doctor.md'), 'utf8');
    const section = md.slice(md.indexOf('## The minimal read-only RBAC'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)![1];
    const docs = (yaml.loadAll(block) as any[]).filter(Boolean);
    const role = docs.find(d => d.kind === 'Role');
    const rules = (role.rules as any[]).filter(r => !(dropSecrets && (r.resources ?? []).includes('secrets')));
    return { cluster: docs.find(d => d.kind === 'ClusterRole').rules, namespaced: { [role.metadata.namespace]: rules } };
  };
  const withRbac = (name: string, rbac: NonNullable<SimState['rbac']>) => ({ ...SCENARIOS[name](inputs), rbac });
  job('rbac healthy', () => ({ argv: ['doctor', '--format', 'json', '--probe-kubelets'], env: tokenEnv('rbac-healthy', withRbac('healthy', documented())) }));
  job('rbac cert-manager', () => ({ argv: ['doctor', '--format', 'json'], env: tokenEnv('rbac-cm', withRbac('cert-manager-not-ready', documented())) }));
  job('rbac no secrets', () => ({ argv: ['doctor', '--format', 'json'], env: tokenEnv('rbac-nosecret', withRbac('healthy', documented(true))) }));
  job('rbac preflight', () => {
    const d = path.join(dir, 'dist-rbac');
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'app.k8s.yaml'), [...inputs.synthesized,
      { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'metrics-server', namespace: 'kube-system' }, spec: { secretName: 'x', issuerRef: { kind: 'ClusterIssuer', name: 'ca-issuer' } } }].map(o => yaml.dump(o)).join('---\n'));
    const state = SCENARIOS.healthy(inputs);
    return { argv: ['doctor', '--format', 'json', '--preflight', d], env: tokenEnv('rbac-pre', { objects: [...state.objects, ...certManagerCrds()], rbac: documented() }) };
  });

  test('doctor sees everything it reads with the documented roles, in every mode', () => {
    const reports = ['healthy', 'cert-manager', 'preflight'].map(k => json(result(`rbac ${k}`)));
    expect(reports.map(r => r.couldNotSee)).toEqual([[], [], []]);
    expect(result('rbac healthy').code).toBe(0);
    expect(ids(reports[1])).toEqual(expect.arrayContaining(['SMD005', 'SMD006']));
    expect(ids(reports[2])).toEqual(expect.arrayContaining(['SMD032']));
  });

  test('without the optional Secret rule, doctor says what it could not see and checks the rest', () => {
    const r = json(result('rbac no secrets'));
    expect(r.couldNotSee).toEqual(['get secrets kube-system/metrics-server-tls']);
    expect(result('rbac no secrets').code).toBe(0);
  });
});

describe('hostile servers and bounds: exit 2 with a message, never an internal error', () => {
  const healthy = () => SCENARIOS.healthy(inputs);
  const hostile = (h: NonNullable<SimState['hostile']>, base: () => SimState = healthy): SimState => ({ ...base(), hostile: h });
  const quick = ['doctor', '--log-lines', '0'];
  job('hostile html', () => ({ argv: [...quick, '--format', 'json'], env: tokenEnv('token-html', hostile({ html200: true })) }));
  job('hostile huge-list', () => ({ argv: [...quick, '--format', 'json'], env: tokenEnv('token-huge', hostile({ hugeList: { plural: 'nodes', items: 1_000_000 } })) }));
  job('hostile response-cap', () => ({ argv: [...quick], env: { ...tokenEnv('token-cap', healthy()), SECURE_METRICS_SERVER_DOCTOR_MAX_RESPONSE_BYTES: '3000' } }));
  job('hostile drip request', () => ({ argv: [...quick, '--request-timeout', '0.5'], env: tokenEnv('token-drip-1', hostile({ dripMs: 20 })) }));
  job('hostile drip run', () => ({ argv: [...quick, '--timeout', '1', '--request-timeout', '30'], env: tokenEnv('token-drip-2', hostile({ dripMs: 20 })) }));
  job('hostile relist', () => ({ argv: ['doctor', '--format', 'json', '--probe-kubelets', '--probe-timeout', '2'], env: tokenEnv('token-relist', hostile({ expireContinue: 2 }, () => SCENARIOS['csr-mixed'](inputs))) }));
  job('hostile relist forever', () => ({ argv: ['doctor', '--format', 'json'], env: tokenEnv('token-relist-forever', hostile({ expireContinue: 1000 }, () => SCENARIOS['csr-mixed'](inputs))) }));
  job('hostile echo text', () => ({ argv: ['doctor'], env: tokenEnv('token-echo-0123456789-text', hostile({ echoHeaders: true }, () => SCENARIOS['fresh-kubeadm'](inputs))) }));
  job('hostile echo json', () => ({ argv: ['doctor', '--format', 'json'], env: tokenEnv('token-echo-0123456789-json', hostile({ echoHeaders: true }, () => SCENARIOS['fresh-kubeadm'](inputs))) }));
  job('hostile echo cannot-run', () => ({ argv: ['doctor'], env: tokenEnv('token-echo-0123456789-fail', hostile({ echoHeaders: true, failList: { plural: 'nodes', code: 500 } })) }));

  const noInternalError = (r: JobResult) => {
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/internal error|SyntaxError|\n\s+at /);
  };

  test('a proxy\'s HTML login page with status 200: exit 2, says it is not JSON, and --format json still prints JSON', () => {
    const r = result('hostile html');
    noInternalError(r);
    expect(r.stderr).toMatch(/could not run: get version: the answer of https:\/\/127\.0\.0\.1:\d+ is not JSON \(Content-Type text\/html; charset=utf-8, begins '<!DOCTYPE html>/);
    expect(json(r)).toEqual({ error: { kind: 'cannot-run', message: expect.stringMatching(/is not JSON/) }, exitCode: 2 });
  });

  test('a list page of a million items (limit ignored): exit 2 at the item limit', () => {
    const r = result('hostile huge-list');
    noInternalError(r);
    expect(r.stderr).toMatch(/could not run: list nodes: more than 100000 items; doctor reads at most that many \(a list page of 1000000 items arrived\)/);
  });

  test('an answer larger than the response limit: exit 2, reading stops there', () => {
    const r = result('hostile response-cap');
    noInternalError(r);
    expect(r.stderr).toMatch(/is more than 3000 bytes, more than doctor reads/);
  });

  test('a server that drips bytes (never idle): the request deadline and the run deadline end it', () => {
    const one = result('hostile drip request');
    noInternalError(one);
    expect(one.stderr).toMatch(/could not run: get version: no complete answer from https:\/\/127\.0\.0\.1:\d+ within 0\.5 s \(--request-timeout\)/);
    const run = result('hostile drip run');
    noInternalError(run);
    expect(run.stderr).toMatch(/did not finish within 1 s \(--timeout\)/);
  });

  test('a continue token that expires (410): the list starts again from the first page, a bounded number of times', () => {
    const r = result('hostile relist');
    expect([r.code, r.stderr]).toEqual([result('scenario csr-mixed').code, '']);
    expect(json(r).findings.map((f: any) => f.ruleId)).toEqual(json(result('scenario csr-mixed')).findings.map((f: any) => f.ruleId));
    const csrLists = sim.seen.filter(q => q.token === 'token-relist' && q.path.startsWith('/apis/certificates.k8s.io/v1/certificatesigningrequests?'));
    // first page, 410, first page, 410, first page, second page
    expect(csrLists.map(q => q.path.includes('continue='))).toEqual([false, true, false, true, false, true]);
    const forever = result('hostile relist forever');
    noInternalError(forever);
    expect(forever.stderr).toMatch(/list certificatesigningrequests: the list changed faster than it could be read \(its continue token expired 4 times\)/);
  });

  test('a server that echoes the request headers: the token is never printed, in text, JSON or an error', () => {
    for (const [key, token] of [['text', 'token-echo-0123456789-text'], ['json', 'token-echo-0123456789-json'], ['cannot-run', 'token-echo-0123456789-fail']]) {
      const r = result(`hostile echo ${key}`);
      // the server did echo it, and doctor printed what it echoed, redacted
      expect(`${r.stdout}${r.stderr}`).toMatch(/request headers: .*\[redacted\]/);
      expect(`${r.stdout}${r.stderr}`).not.toContain(token);
    }
    expect(result('hostile echo cannot-run').code).toBe(2);
  });
});

describe('credentials and paths', () => {
  let counter = '';
  job('exec once', () => {
    counter = path.join(dir, 'exec-count');
    const script = path.join(dir, 'exec-counting.sh');
    fs.writeFileSync(script, `#!/bin/sh\necho run >> '${counter}'\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-count-token"}}'\n`, { mode: 0o755 });
    sim.stateFor('exec-count-token', SCENARIOS.healthy(inputs));
    return { argv: ['doctor', '--format', 'json'], env: { PATH: env.PATH, HOME: dir, KUBECONFIG: writeKubeconfig(path.join(dir, 'exec-count.yaml'), [{ server: sim.url, caFile: apiserverCaFile(pki), exec: script }], 'sim') } };
  });
  const evilName = '../../../../../api/v1/nodes/x?watch=1#';
  job('encoded paths', () => {
    const st = SCENARIOS.healthy(inputs);
    const api = st.objects.find(o => o.kind === 'APIService');
    api.spec.service = { ...api.spec.service, name: evilName };
    return { argv: ['doctor', '--format', 'json', '--log-lines', '0'], env: tokenEnv('token-evil-path', st) };
  });

  test('an exec credential plugin runs once per run', () => {
    const r = result('exec once');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(sim.seen.filter(q => q.token === 'exec-count-token').length).toBeGreaterThan(5);
    expect(fs.readFileSync(counter, 'utf8').trim().split('\n')).toEqual(['run']);
  });

  test('path segments from cluster objects are encoded: a Service name cannot change what is read', () => {
    const r = result('encoded paths');
    expect(r.stderr).toBe('');
    const paths = sim.seen.filter(q => q.token === 'token-evil-path').map(q => q.path);
    expect(paths).toContain(`/api/v1/namespaces/kube-system/services/${encodeURIComponent(evilName)}`);
    expect(paths.filter(p => p.startsWith('/api/v1/nodes/'))).toEqual([]);
  });

  test('the token goes only to a server verified as the kubeconfig says, even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const token = 'token-wrong-ca-0123456789';
    sim.stateFor(token, SCENARIOS.healthy(inputs));
    const wrongCa = path.join(dir, 'wrong-ca.crt');
    fs.writeFileSync(wrongCa, read(pki.otherCa.cert));
    const kc = writeKubeconfig(path.join(dir, 'wrong-ca.yaml'), [{ server: sim.url, caFile: wrongCa, token }], 'sim');
    const r = await runAsync(process.execPath, [cli, 'doctor', '--format', 'json'], { PATH: env.PATH, HOME: dir, KUBECONFIG: kc, NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/could not run: cannot reach the API server https:\/\/127\.0\.0\.1:\d+: (self-signed certificate in certificate chain|unable to verify the first certificate|unable to get local issuer certificate)/);
    expect(sim.seen.filter(q => q.token === token)).toEqual([]);
  });
});

describe('text output is safe for a terminal', () => {
  const ESC = '\u001b';
  job('terminal text', () => {
    const st = SCENARIOS['csr-pending'](inputs);
    const api = st.objects.find(o => o.kind === 'APIService');
    api.status.conditions[0].message = `${ESC}]0;owned${ESC}\\ ${ESC}[2J failing \r\u202e`;
    return { argv: ['doctor'], env: tokenEnv('token-terminal', { ...st, logs: { 'kube-system/metrics-server-6d4c8b5f7-x2x9q': `E1130 x509: certificate signed by unknown authority ${ESC}[31mred${ESC}[0m\n` } }) };
  });

  test('control characters from the cluster and its logs are escaped in doctor\'s text output', () => {
    const r = result('terminal text');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('\\x1b]0;owned');
    expect(r.stdout).toContain('\\x1b[2J failing \\r\\u202e');
    // eslint-disable-next-line no-control-regex -- the test is that no control character reaches the terminal
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  });
});

describe('--format json when doctor cannot run', () => {
  job('json no-config', () => ({ argv: ['doctor', '--format', 'json'], env: { PATH: env.PATH, HOME: dir } }));
  job('json usage', () => ({ argv: ['doctor', '-fjson', '--probe-timeout', 'soon'], env }));

  test('prints a JSON document with the error, besides the message on stderr', () => {
    const none = result('json no-config');
    expect(none.code).toBe(2);
    expect(json(none)).toEqual({ error: { kind: 'cannot-run', message: expect.stringMatching(/^no kubeconfig/) }, exitCode: 2 });
    const usage = result('json usage');
    expect(usage.code).toBe(2);
    expect(json(usage)).toEqual({ error: { kind: 'usage', message: expect.stringMatching(/--probe-timeout: 'soon'/) }, exitCode: 2 });
  });
});
