import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { KubeletTls, Pem, SecureMetricsServer, SecureMetricsServerProps, ServingTls } from '../lib';
import { parseManifests } from '../lib/manifests/load';
import { auditObjects } from '../lib/rules';
import { describeWithUpstream, FIXTURES, PKI, ROOT, runCli, summary, UPSTREAM, upstreamText } from './audit-helpers';
import { fixtureStore, quietApp, tmp, tmpStore, warningsOf } from './helpers';

const SEED = path.join(FIXTURES, 'seed');
const fixturePem = (name: string) => Pem.fromFile(path.join(PKI, name));
const rel = (p: string) => path.relative(ROOT, p);

async function json(argv: string[], stdin?: string) {
  const run = await runCli(['audit', ...argv, '--format', 'json'], { stdin });
  return { ...run, report: JSON.parse(run.stdout) };
}
const ruleIds = (report: any) => report.findings.map((f: any) => `${f.ruleId} ${f.severity}`);

describeWithUpstream('upstream v0.8.1 components.yaml', () => {
  test('the APIService finding with the runtime localhost certificate, at most info on the kubelet hop, nothing else; exit 1', async () => {
    const { code, report } = await json([rel(UPSTREAM)]);
    expect(code).toBe(1);
    expect(report.installs).toHaveLength(1);
    expect(ruleIds(report)).toEqual(['SMS002 high', 'SMS025 info']);
    const api = report.findings[0];
    expect(api.object).toMatchObject({ kind: 'APIService', name: 'v1beta1.metrics.k8s.io', file: rel(UPSTREAM), documentIndex: 8 });
    expect(api.message).toMatch(/self-signed 'localhost' certificate/);
    expect(readFileSync(UPSTREAM, 'utf8').split('\n')[api.object.line - 1]).toBe('apiVersion: apiregistration.k8s.io/v1');
  });

  test('text output groups by install and has no colour off a terminal; colour on one', async () => {
    const plain = await runCli(['audit', rel(UPSTREAM)]);
    expect(plain.stdout).toMatch(/^install kube-system\/metrics-server {2}\(APIService v1beta1\.metrics\.k8s\.io -> Service kube-system\/metrics-server -> Deployment kube-system\/metrics-server\)\n/);
    expect(plain.stdout).not.toContain('\x1b[');
    expect(plain.stdout).toMatch(/1 install\(s\), 2 finding\(s\) \(1 high, 1 info\); 1 at or above high; exit 1\n$/);
    const tty = await runCli(['audit', rel(UPSTREAM)], { tty: true });
    expect(tty.stdout).toContain('\x1b[1;31mHIGH');
    expect((await runCli(['audit', rel(UPSTREAM)], { tty: true, env: { NO_COLOR: '1' } })).stdout).not.toContain('\x1b[');
  });

  test('--fail-on and --ignore decide the exit code', async () => {
    expect((await runCli(['audit', '--fail-on', 'critical', rel(UPSTREAM)])).code).toBe(0);
    expect((await runCli(['audit', '--fail-on=info', '--ignore', 'SMS002', rel(UPSTREAM)])).code).toBe(1);
    expect((await runCli(['audit', '--ignore', 'SMS002,SMS025', rel(UPSTREAM)])).code).toBe(0);
    expect((await runCli(['audit', '--fail-on', 'none', rel(UPSTREAM)])).code).toBe(0);
  });
});

describe('the seed article, by section', () => {
  test('§1: both insecure settings', async () => {
    const { code, report } = await json([rel(path.join(SEED, 's1-quick-install.yaml'))]);
    expect(code).toBe(1);
    expect(report.findings.map((f: any) => `${f.ruleId} ${f.object.kind}`)).toEqual(['SMS001 Deployment', 'SMS002 APIService']);
  });

  test('§3.2: the ConfigMap cluster-root-ca and --secure-port=4443', async () => {
    const { report } = await json([rel(path.join(SEED, 's3.2-kubelet-ca.yaml'))]);
    expect(ruleIds(report)).toEqual(['SMS002 high', 'SMS022 high', 'SMS030 high']);
    expect(report.findings[1].message).toMatch(/ConfigMap 'cluster-root-ca'.*'kube-root-ca\.crt'/);
    expect(report.findings[2].message).toBe('metrics-server listens on --secure-port=4443, but containerPort 10250, livenessProbe port https (10250), readinessProbe port https (10250)');
  });

  test('§4.2: insecureSkipTLSVerify: false written out, a caBundle that is not base64 of a PEM certificate', async () => {
    const { report } = await json([rel(path.join(SEED, 's4.2-apiservice-ca.yaml'))]);
    expect(ruleIds(report)).toEqual(['SMS007 high', 'SMS005 low', 'SMS090 info']);
    expect(report.findings[2].message).toMatch(/Secret kube-system\/metrics-server-tls, which is not in the input/);
  });
});

describe('the construct\'s own output', () => {
  function synthYaml(props: SecureMetricsServerProps): string {
    const app = quietApp({ outdir: tmp() });
    new SecureMetricsServer(new Chart(app, 'metrics-server'), 'MetricsServer', props);
    return app.synthYaml();
  }
  const auditYaml = (yaml: string) => {
    const { objects, errors } = parseManifests(yaml, 'synth.yaml');
    expect(errors).toEqual([]);
    return auditObjects(objects);
  };
  const PEM_SOURCES: { [mode: string]: () => ServingTls } = {
    'fromPem': () => ServingTls.fromPem({ certificate: fixturePem('serving.crt'), privateKey: fixturePem('serving.key'), caBundle: fixturePem('ca.crt') }),
    'fromCa': () => ServingTls.fromCa({ caCertificate: fixturePem('other-ca.crt'), caKey: fixturePem('other.key'), store: tmpStore() }),
    'fromDedicatedCa': () => ServingTls.fromDedicatedCa({ store: fixtureStore() }),
  };
  const NO_KEY_SOURCES: { [mode: string]: () => ServingTls } = {
    'fromExistingSecret': () => ServingTls.fromExistingSecret({ secretName: 'metrics-server-cert', caBundle: fixturePem('ca.crt') }),
    'fromCertManager': () => ServingTls.fromCertManager(),
  };
  const KUBELET: { [mode: string]: () => KubeletTls } = {
    'fromKubeRootCa': () => KubeletTls.fromKubeRootCa(),
    'fromConfigMap': () => KubeletTls.fromConfigMap('kubelet-ca', 'ca.pem'),
    'fromSecret': () => KubeletTls.fromSecret('kubelet-ca'),
  };

  test.each(Object.keys(PEM_SOURCES))('%s: exit 0, nothing above info but the key in the Secret (medium)', mode => {
    const r = auditYaml(synthYaml({ servingTls: PEM_SOURCES[mode]() }));
    expect(r.installs).toHaveLength(1);
    expect(summary(r)).toEqual(['SMS015 medium Secret/metrics-server-tls']);
  });

  test.each(Object.keys(NO_KEY_SOURCES))('%s: no finding above info', mode => {
    const r = auditYaml(synthYaml({ servingTls: NO_KEY_SOURCES[mode]() }));
    expect(r.installs).toHaveLength(1);
    expect(r.findings.length).toBeGreaterThan(0);
    expect(r.findings.filter(f => f.severity !== 'info')).toEqual([]);
    expect(r.findings.every(f => f.ruleId === 'SMS090')).toBe(true);
  });

  test.each(Object.keys(KUBELET))('kubelet %s with cert-manager: no finding above info', mode => {
    const r = auditYaml(synthYaml({ servingTls: ServingTls.fromCertManager(), kubeletTls: KUBELET[mode]() }));
    expect(r.findings.filter(f => f.severity !== 'info')).toEqual([]);
  });

  test.each([
    ['fromConfigMap', 'cluster-root-ca'], ['fromConfigMap', 'kube-root-ca'], ['fromConfigMap', 'kubelet-ca'],
    ['fromSecret', 'kube-root-ca.crt'], ['fromSecret', 'kubelet-ca'],
  ] as const)('kubelet CA %s(%s): the construct warns exactly when the audit of its output reports SMS022', (factory, name) => {
    const app = quietApp({ outdir: tmp() });
    const construct = new SecureMetricsServer(new Chart(app, 'metrics-server'), 'MetricsServer', {
      servingTls: ServingTls.fromCertManager(), kubeletTls: KubeletTls[factory](name, 'ca.crt'),
    });
    const kubeletWarnings = warningsOf(construct).filter(w => w.startsWith('kubeletTls: '));
    const sms022 = auditYaml(app.synthYaml()).findings.filter(f => f.ruleId === 'SMS022');
    const mistake = name !== 'kubelet-ca';
    expect({ warned: kubeletWarnings.length, audited: sms022.length }).toEqual({ warned: mistake ? 1 : 0, audited: mistake ? 1 : 0 });
    if (mistake) {
      expect(kubeletWarnings[0]).toMatch(new RegExp(`^kubeletTls: KubeletTls\\.${factory}\\('${name.replace(/\./g, '\\.')}', 'ca\\.crt'\\) mounts .*; use KubeletTls\\.fromKubeRootCa\\(\\) for the cluster CA$`));
    }
  });

  test('KubeletTls.fromConfigMap(\'kube-root-ca.crt\', key) with another key than ca.crt is refused (SMS021 in an audit)', () => {
    expect(() => synthYaml({ servingTls: ServingTls.fromCertManager(), kubeletTls: KubeletTls.fromConfigMap('kube-root-ca.crt', 'ca.pem') }))
      .toThrow("kubeletTls: KubeletTls.fromConfigMap('kube-root-ca.crt', 'ca.pem') reads key 'ca.pem', but kube-controller-manager keeps only the key 'ca.crt' in ConfigMap kube-root-ca.crt, so the pod would never start; use KubeletTls.fromKubeRootCa()");
    expect(synthYaml({ servingTls: ServingTls.fromCertManager(), kubeletTls: KubeletTls.fromConfigMap('kube-root-ca.crt', 'ca.crt') })).toContain('kube-root-ca.crt');
  });

  test('production settings and the kubelet serving CSR approver add no finding', () => {
    const r = auditYaml(synthYaml({
      servingTls: NO_KEY_SOURCES.fromExistingSecret(), replicas: 2,
      kubeletServingCertApprover: { providerRegex: '^node-[0-9]+$' },
    } as SecureMetricsServerProps));
    expect(r.installs.map(i => i.id)).toEqual(['kube-system/metrics-server']);
    expect(summary(r)).toEqual(['SMS090 info Deployment/metrics-server']);
  });

  test('one hop insecure, the other verified: exactly that hop\'s finding', () => {
    expect(summary(auditYaml(synthYaml({ servingTls: NO_KEY_SOURCES.fromExistingSecret(), kubeletTls: KubeletTls.insecure() }))))
      .toEqual(['SMS001 high Deployment/metrics-server', 'SMS090 info Deployment/metrics-server']);
    expect(summary(auditYaml(synthYaml({ servingTls: ServingTls.insecure(), kubeletTls: KUBELET.fromConfigMap() }))))
      .toEqual(['SMS002 high APIService/v1beta1.metrics.k8s.io', 'SMS090 info Deployment/metrics-server']);
  });

  test('insecure test mode: exactly its two insecure findings', () => {
    const r = auditYaml(synthYaml({ servingTls: ServingTls.insecure(), kubeletTls: KubeletTls.insecure() }));
    expect(summary(r)).toEqual(['SMS001 high Deployment/metrics-server', 'SMS002 high APIService/v1beta1.metrics.k8s.io']);
  });

  test('through the command: a verified mode exits 0, the insecure mode 1', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'verified.yaml'), synthYaml({ servingTls: PEM_SOURCES.fromPem() }));
    expect((await runCli(['audit', path.join(dir, 'verified.yaml')])).code).toBe(0);
    writeFileSync(path.join(dir, 'insecure.yaml'), synthYaml({ servingTls: ServingTls.insecure(), kubeletTls: KubeletTls.insecure() }));
    expect((await runCli(['audit', path.join(dir, 'insecure.yaml')])).code).toBe(1);
  });
});

describeWithUpstream('input', () => {
  const UP = upstreamText();

  test('stdin, directories (recursive, *.yaml/*.yml/*.json) and JSON Lists', async () => {
    const dir = tmp();
    const objects = parseManifests(UP, 'u').objects.map(o => o.object);
    require('fs').mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'list.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a manifest: {');
    const fromDir = await json([dir]);
    expect(fromDir.code).toBe(1);
    expect(ruleIds(fromDir.report)).toEqual(['SMS002 high', 'SMS025 info']);
    expect(fromDir.report.findings[0].object.file).toBe(path.join(dir, 'sub', 'list.json'));
    // `-` twice reads stdin once and audits its text twice: two installs, reported separately
    const fromStdin = await json(['-', '-'], UP);
    expect(fromStdin.report.installs.map((i: any) => i.id)).toEqual(['kube-system/metrics-server', 'kube-system/metrics-server#2']);
    expect(ruleIds(fromStdin.report)).toEqual(['SMS002 high', 'SMS025 info', 'SMS002 high', 'SMS025 info']);
    expect(fromStdin.report.findings[0].object.file).toBe('-');
  });

  test('a document that does not parse: exit 2 naming file, document and line; the rest is still audited', async () => {
    const docs = UP.split(/^---\n/m);
    docs[2] = docs[2].replace('kind: ClusterRole', 'kind: ClusterRole\n  bad: [unclosed');
    const run = await json(['-'], docs.join('---\n'));
    expect(run.code).toBe(2);
    expect(run.report.errors).toEqual([expect.objectContaining({ file: '-', documentIndex: 2 })]);
    expect(run.report.errors[0].line).toBeGreaterThan(20);
    expect(run.stderr).toMatch(/^secure-metrics-server audit: -, doc 2, line \d+: document 2 does not parse: /);
    expect(ruleIds(run.report)).toEqual(['SMS002 high', 'SMS025 info']);
  });

  test('the line of a parse error is the line in the file', () => {
    const text = 'a: 1\n---\nkind: Service\nmetadata:\n  name: x\n  bad: [\n';
    const { errors } = parseManifests(text, 'f.yaml');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'f.yaml', documentIndex: 1 });
    expect(errors[0].line).toBeGreaterThanOrEqual(6);
  });

  test('unreadable input: exit 2, the other files still audited', async () => {
    const run = await json([path.join(tmp(), 'missing.yaml'), rel(UPSTREAM)]);
    expect(run.code).toBe(2);
    expect(run.report.errors[0].message).toMatch(/no such file or directory/);
    expect(run.report.installs).toHaveLength(1);
  });

  test('a YAML alias bomb is refused as that document only, fast', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const bomb = lines.join('\n');
    const start = Date.now();
    const { objects, errors } = parseManifests(`${bomb}\n---\n${UP}`, 'bomb.yaml');
    expect(Date.now() - start).toBeLessThan(10_000);
    expect(errors).toEqual([expect.objectContaining({ documentIndex: 0, line: 1, message: expect.stringMatching(/alias bomb/) })]);
    expect(objects.length).toBeGreaterThan(5);
  });

  test('a self-referencing anchor, duplicate keys, scalars, unknown kinds and binary junk never crash', async () => {
    const junk = ['a: &x [*x]', 'kind: Service\nkind: Service', '42', 'kind: Gizmo\nspec: {a: 1}', '\u0000\u0001\u0002{{{', '- [1, 2]', ''].join('\n---\n');
    const run = await json(['-'], junk);
    expect(run.code).toBe(2);
    expect(run.report.installs).toEqual([]);
    expect(run.report.errors.length).toBeGreaterThanOrEqual(3);
  });

  test('deep nesting is a parse error of its document, a too-large file an error of its own', async () => {
    const deep = parseManifests(`a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n---\n${UP}`, 'deep.yaml');
    expect(deep.errors).toEqual([expect.objectContaining({ documentIndex: 0, message: expect.stringMatching(/does not parse/) })]);
    expect(deep.objects.length).toBeGreaterThan(5);
    const dir = tmp();
    writeFileSync(path.join(dir, 'big.yaml'), UP);
    const { loadManifests } = await import('../lib/manifests/load');
    const r = await loadManifests([path.join(dir, 'big.yaml'), UPSTREAM], async () => Buffer.alloc(0), { maxFileBytes: 1000 });
    expect(r.errors).toHaveLength(2);
    expect(r.errors[0].message).toMatch(/more than the limit of 1000/);
  });

  test('bad usage exits 2 with a message', async () => {
    expect((await runCli(['audit'])).code).toBe(2);
    expect((await runCli(['audit', '--format', 'xml', 'x'])).stderr).toMatch(/--format: 'xml' is not a format; use text, json or sarif/);
    expect((await runCli(['audit', '--fail-on', 'severe', 'x'])).code).toBe(2);
    expect((await runCli(['nope'])).stderr).toMatch(/unknown command 'nope'; one of: audit/);
    expect((await runCli(['audit', '--help'])).stdout).toMatch(/^usage: secure-metrics-server audit/);
    expect((await runCli([])).code).toBe(2);
  });
});
