import { readFileSync, writeFileSync, mkdirSync } from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { Pem, SecureMetricsServer, ServingTls } from '../lib';
import { SecureMetricsServerValidation, ValidationContextLike } from '../lib/validation-plugin';
import { auditScopes } from '../lib/rules/audit';
import { parseManifests } from '../lib/manifests/load';
import { PKI, ROOT, runCli, UPSTREAM, upstreamText, describeWithUpstream } from './audit-helpers';
import { quietApp, tmp } from './helpers';

// Issue 18 item 2: a fleet (one file per cluster) is audited cluster by cluster; one install
// split over several files is still matched together.

const pem = (name: string) => Pem.fromFile(path.join(PKI, name));

/** A cdk8s fleet as docs/store.md builds it: one Chart per cluster, one CA per cluster (here fromPem, no key generated). */
function synthFleet(): { dist: string; files: string[] } {
  const dist = tmp();
  const app = quietApp({ outdir: dist });
  const tls: [string, string, string][] = [
    ['cluster-a', 'serving.crt', 'ca.crt'],
    ['cluster-b', 'serving-other-ca.crt', 'other-ca.crt'],
    ['cluster-c', 'serving-other-ca.crt', 'other-ca.crt'],
  ];
  for (const [cluster, cert, ca] of tls) {
    new SecureMetricsServer(new Chart(app, cluster), 'MetricsServer', {
      servingTls: ServingTls.fromPem({ certificate: pem(cert), privateKey: pem('serving.key'), caBundle: pem(ca) }),
    });
  }
  app.synth();
  return { dist, files: app.charts.map(c => path.join(dist, `${c.node.id}.k8s.yaml`)) };
}

function pluginContext(manifests: string[]) {
  const violations: any[] = [];
  let status: string | undefined;
  const ctx: ValidationContextLike = {
    manifests,
    report: { addViolation: v => violations.push(v), submit: s => { status = s; } },
  };
  return { ctx, violations, status: () => status };
}

describe('a fleet: one file per cluster', () => {
  const fleet = synthFleet();

  test('audit dist/: three installs, one per file, no SMS010 (each caBundle checked against its own cluster\'s Secret)', async () => {
    const run = await runCli(['audit', '--format', 'json', path.relative(ROOT, fleet.dist)]);
    const report = JSON.parse(run.stdout);
    expect(report.installs).toHaveLength(3);
    expect(report.installs.map((i: any) => i.scope.map((f: string) => path.basename(f)))).toEqual([['cluster-a.k8s.yaml'], ['cluster-b.k8s.yaml'], ['cluster-c.k8s.yaml']]);
    expect(report.findings.filter((f: any) => f.ruleId === 'SMS010')).toEqual([]);
    expect(report.findings.filter((f: any) => f.severity === 'high' || f.severity === 'critical')).toEqual([]);
    expect(run.code).toBe(0);
  });

  test('the text output names the files of each install', async () => {
    const run = await runCli(['audit', path.relative(ROOT, fleet.dist)]);
    expect(run.stdout).toMatch(/install kube-system\/metrics-server#2 .*\n {2}files: \S*cluster-b\.k8s\.yaml\n/);
  });

  test('the validation plugin on the fleet\'s manifests: success, no violation at high', async () => {
    const c = pluginContext(fleet.files);
    await new SecureMetricsServerValidation().validate(c.ctx);
    expect(c.violations.filter(v => /\[(high|critical)\]/.test(v.ruleName))).toEqual([]);
    expect(c.status()).toBe('success');
  });

  test('a real mismatch inside one cluster of the fleet is still found, in that cluster only', async () => {
    const dir = tmp();
    for (const f of fleet.files) {
      let text = readFileSync(f, 'utf8');
      if (f.endsWith('cluster-b.k8s.yaml')) {
        // cluster-b's APIService trusts cluster-a's CA: broken in cluster-b
        const caA = Buffer.from(readFileSync(path.join(PKI, 'ca.crt'))).toString('base64');
        text = text.replace(/caBundle: \S+/, `caBundle: ${caA}`);
      }
      writeFileSync(path.join(dir, path.basename(f)), text);
    }
    const report = JSON.parse((await runCli(['audit', '--format', 'json', dir])).stdout);
    const sms010 = report.findings.filter((f: any) => f.ruleId === 'SMS010');
    expect(sms010.map((f: any) => path.basename(f.object.file))).toEqual(['cluster-b.k8s.yaml']);
  });
});

describeWithUpstream('one install split over several files', () => {
  /** upstream's components.yaml cut into one file per object, as a kustomize base keeps it */
  function pieces(): string {
    const dir = path.join(tmp(), 'base');
    mkdirSync(dir);
    upstreamText().split(/^---\n/m).forEach((doc, i) => writeFileSync(path.join(dir, `${String(i).padStart(2, '0')}.yaml`), doc));
    return dir;
  }

  test('audit of the pieces: one install, the same findings as the whole file', async () => {
    const whole = JSON.parse((await runCli(['audit', '--format', 'json', path.relative(ROOT, UPSTREAM)])).stdout);
    const split = JSON.parse((await runCli(['audit', '--format', 'json', pieces()])).stdout);
    expect(split.installs).toHaveLength(1);
    expect(split.installs[0].scope).toBeUndefined();
    expect(split.findings.map((f: any) => f.ruleId)).toEqual(whole.findings.map((f: any) => f.ruleId));
  });

  test('the plugin on the pieces: one install', async () => {
    const dir = pieces();
    const files = require('fs').readdirSync(dir).map((f: string) => path.join(dir, f));
    const c = pluginContext(files);
    await new SecureMetricsServerValidation({ failOn: 'none' }).validate(c.ctx);
    expect(c.violations.map(v => v.ruleName.slice(0, 6))).toEqual(['SMS002']);
  });

  test('two clusters split in pieces, a directory each, and a file both share: two installs, the shared file read with each', () => {
    const docs = upstreamText().split(/^---\n/m);
    const objects = ['a', 'b'].flatMap(cluster => [
      ...parseManifests(docs.slice(0, 5).join('---\n'), `${cluster}/rbac.yaml`).objects,
      ...parseManifests(docs.slice(5).join('---\n'), `${cluster}/workload.yaml`).objects,
    ]);
    const shared = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubelet-ca, namespace: kube-system}\n', 'z-shared.yaml').objects;
    const scopes = auditScopes([...objects, ...shared]);
    expect(scopes.map(s => s.files)).toEqual([['a/rbac.yaml', 'a/workload.yaml', 'z-shared.yaml'], ['b/rbac.yaml', 'b/workload.yaml', 'z-shared.yaml']]);
  });
});
