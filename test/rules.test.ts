import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { auditObjects, findInstalls, Rules, Severity, severityRank } from '../lib/rules';
import { assertDnsLabel, assertPort } from '../lib/k8s/util';
import { restrictedViolations } from '../lib/rules/checks-pod-security';
import { isDnsLabel, isPort } from '../lib/k8s/names';
import { auditFile, auditText, FIXTURE_NOW, FIXTURES, ROOT, RULES, summary } from './audit-helpers';
import { parseManifests } from '../lib/manifests/load';

const ids = Rules.all().map(r => r.id);

describe('registry', () => {
  test('ids are unique, SMS + three digits, and every rule has a one-line reason and fix', () => {
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of Rules.all()) {
      expect(r.id).toMatch(/^SMS\d{3}$/);
      expect(r.title.length).toBeGreaterThan(5);
      expect(r.reason).not.toMatch(/\n/);
      expect(r.fix).not.toMatch(/\n/);
      expect(Object.values(Severity)).toContain(r.severity);
    }
    expect(Rules.byId('SMS001')).toBe(Rules.KUBELET_INSECURE_TLS);
    expect(Rules.byId('SMS999')).toBeUndefined();
  });

  test('severities are ordered info < low < medium < high < critical', () => {
    const order = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL].map(severityRank);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  test('docs/rules.md documents every rule with its severity', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'rules.md'), 'utf8');
    for (const r of Rules.all()) {
      const row = doc.split('\n').find(l => l.startsWith(`| ${r.id} `));
      expect([r.id, row && row.includes(`| ${r.severity} |`)]).toEqual([r.id, true]);
    }
  });
});

describe('a fixture per rule', () => {
  test.each(ids)('%s: the trigger fixture fires it, the clean one does not', id => {
    const trigger = path.join(RULES, `${id.toLowerCase()}-trigger.yaml`);
    const clean = path.join(RULES, `${id.toLowerCase()}-clean.yaml`);
    expect(existsSync(trigger) && existsSync(clean)).toBe(true);
    const options = { now: FIXTURE_NOW, inputIsComplete: id === 'SMS091' };
    const fired = auditFile(trigger, options).findings.filter(f => f.ruleId === id);
    expect(fired.length).toBeGreaterThan(0);
    expect(fired.every(f => f.severity === Rules.byId(id)!.severity && f.message.length > 0 && f.fix.length > 0)).toBe(true);
    expect(auditFile(clean, options).findings.filter(f => f.ruleId === id)).toEqual([]);
  });

  test('the base install has only the key-in-manifest finding', () => {
    expect(summary(auditFile(path.join(RULES, 'sms001-clean.yaml'), { now: FIXTURE_NOW })))
      .toEqual(['SMS015 medium Secret/metrics-server-tls']);
  });

  test('the fix names the SecureMetricsServer prop where there is one', () => {
    const file = path.join(RULES, 'sms001-trigger.yaml');
    const f = auditFile(file, { now: FIXTURE_NOW }).findings.find(x => x.ruleId === 'SMS001')!;
    expect(f.fix).toContain('SecureMetricsServer: kubeletTls');
    // the line of the Deployment's first field (the one before `kind: Deployment`)
    const line = readFileSync(file, 'utf8').split('\n').indexOf('kind: Deployment');
    expect(f.object).toMatchObject({ kind: 'Deployment', namespace: 'kube-system', name: 'metrics-server', file: path.relative(ROOT, file), documentIndex: 1, line });
  });

  test('expiry is measured against the clock: the same certificate is fine a year earlier', () => {
    const file = path.join(RULES, 'sms013-trigger.yaml');
    expect(auditFile(file, { now: new Date('2025-06-01T00:00:00Z') }).findings.map(f => f.ruleId)).not.toContain('SMS013');
    expect(auditFile(file, { now: FIXTURE_NOW, expiryWarningDays: 5 }).findings.map(f => f.ruleId)).not.toContain('SMS013');
  });
});

const BASE = readFileSync(path.join(RULES, 'sms001-clean.yaml'), 'utf8');

test('SMS013 on a Secret cert-manager issued: only once it is past cert-manager\'s renewal point (a third of the lifetime left)', () => {
  // serving-expiring.crt: 2025-01-01 to 2026-06-11, a lifetime of 526 days; a third is 175 days
  const text = readFileSync(path.join(RULES, 'sms013-trigger.yaml'), 'utf8');
  const objects = parseManifests(text, 'sms013.yaml').objects.map(o => o.object);
  const secret = objects.find(o => o.kind === 'Secret') as any;
  expect(secret).toBeDefined();
  const managed = JSON.parse(JSON.stringify(objects));
  managed.find((o: any) => o.kind === 'Secret').metadata.annotations = { 'cert-manager.io/certificate-name': 'metrics-server' };
  const codes = (objs: any[], now: Date, expiryWarningDays?: number) =>
    auditObjects(objs.map(object => ({ object })), { now, expiryWarningDays }).findings.map(f => f.ruleId);
  // 192 days left, inside a 200-day warning window: a plain Secret is flagged, cert-manager's is not (not due for renewal)
  const early = new Date('2025-12-01T00:00:00Z');
  expect(codes(objects, early, 200)).toContain('SMS013');
  expect(codes(managed, early, 200)).not.toContain('SMS013');
  // 10 days left: cert-manager should have renewed it 165 days ago, so it is flagged
  expect(codes(managed, FIXTURE_NOW)).toContain('SMS013');
});

test('SMS022 also names kube-root-ca.crt mounted as a Secret', () => {
  const text = BASE.replace(/configMap:\n(\s+)name: kube-root-ca\.crt/, 'secret:\n$1secretName: kube-root-ca.crt');
  expect(text).not.toBe(BASE);
  const f = auditText(text, { now: FIXTURE_NOW }).findings.filter(x => x.ruleId === 'SMS022');
  expect(f.map(x => x.message)).toEqual(["volume 'kubelet-ca' mounts a Secret named 'kube-root-ca.crt'; 'kube-root-ca.crt' is a ConfigMap"]);
});

test('--cert-dir mounted from a Secret serves its apiserver.crt: no SMS006, and the certificate is checked', () => {
  const text = BASE
    .replace("            - '--tls-cert-file=/etc/metrics-server/tls/tls.crt'\n            - '--tls-private-key-file=/etc/metrics-server/tls/tls.key'\n", "            - '--cert-dir=/etc/metrics-server/tls'\n")
    .replace(/secretName: metrics-server-tls\n/, 'secretName: metrics-server-tls\n            items:\n              - {key: tls.crt, path: apiserver.crt}\n              - {key: tls.key, path: apiserver.key}\n');
  expect(text).toMatch(/--cert-dir=/);
  expect(text).toMatch(/path: apiserver\.crt/);
  expect(summary(auditText(text, { now: FIXTURE_NOW }))).toEqual(['SMS015 medium Secret/metrics-server-tls']);
  // the same directory as an emptyDir: metrics-server makes its own localhost certificate
  const emptyDir = text.replace(/secret:\n\s+secretName: metrics-server-tls\n(\s+items:\n.*\n.*\n)/, 'emptyDir: {}\n');
  expect(emptyDir).not.toMatch(/secretName/);
  expect(auditText(emptyDir, { now: FIXTURE_NOW }).findings.map(f => f.ruleId)).toEqual(['SMS006']);
});

describe('installs', () => {
  test('APIService -> Service -> selected Deployment form one install', () => {
    const r = auditText(BASE, { now: FIXTURE_NOW });
    expect(r.installs).toEqual([expect.objectContaining({
      id: 'kube-system/metrics-server',
      apiService: expect.objectContaining({ kind: 'APIService', name: 'v1beta1.metrics.k8s.io' }),
      service: expect.objectContaining({ kind: 'Service', name: 'metrics-server' }),
      deployment: expect.objectContaining({ kind: 'Deployment', name: 'metrics-server' }),
    })]);
  });

  test('a Deployment without an APIService is still audited', () => {
    const text = readFileSync(path.join(FIXTURES, 'seed', 's1-quick-install.yaml'), 'utf8').split(/^---$/m).slice(0, 2).join('---\n');
    const r = auditText(text);
    expect(r.installs.map(i => [i.id, !!i.apiService, !!i.deployment])).toEqual([['kube-system/metrics-server', false, true]]);
    expect(summary(r)).toEqual(['SMS001 high Deployment/metrics-server']);
  });

  test('two installs in one input are reported separately, each finding tagged with its install', () => {
    const second = BASE.replace(/kube-system/g, 'monitoring').replace(/v1beta1\.metrics\.k8s\.io/g, 'v1beta2.metrics.k8s.io')
      .replace(/version: v1beta1/, 'version: v1beta2').replace('--kubelet-use-node-status-port', '--kubelet-insecure-tls');
    const r = auditText(`${BASE}\n---\n${second}`, { now: FIXTURE_NOW });
    expect(r.installs.map(i => i.id)).toEqual(['kube-system/metrics-server', 'monitoring/metrics-server']);
    expect(r.findings.filter(f => f.ruleId === 'SMS001').map(f => f.installId)).toEqual(['monitoring/metrics-server']);
    expect(r.findings.filter(f => f.ruleId === 'SMS015').map(f => f.installId)).toEqual(['kube-system/metrics-server', 'monitoring/metrics-server']);
  });

  test('helm template style: namespaced objects without a namespace are found from the APIService', () => {
    const r = auditText(BASE.replace(/\n {2}namespace: kube-system/g, '').replace(/namespace: kube-system/, 'namespace: monitoring'), { now: FIXTURE_NOW });
    expect(r.installs.map(i => [i.id, !!i.service, !!i.deployment])).toEqual([['metrics-server', true, true]]);
    // the certificate names metrics-server.kube-system.svc, the APIService now dials metrics-server.monitoring.svc
    expect(summary(r)).toEqual(['SMS011 high Secret/metrics-server-tls', 'SMS015 medium Secret/metrics-server-tls']);
  });

  test('flags as pflag reads them: --flag value, --bool=false, the last one wins', () => {
    const anchor = "            - '--kubelet-use-node-status-port'\n";
    expect(BASE).toContain(anchor);
    const ids = (...extra: string[]) => auditText(BASE.replace(anchor, anchor + extra.map(a => `            - '${a}'\n`).join('')), { now: FIXTURE_NOW }).findings.map(f => f.ruleId);
    expect(ids('--kubelet-insecure-tls=false')).not.toContain('SMS001');
    expect(ids('--kubelet-insecure-tls=false', '--kubelet-insecure-tls')).toContain('SMS001');
    expect(ids('--tls-min-version', 'VersionTLS10')).toContain('SMS034');
    expect(ids('--tls-min-version', 'VersionTLS13')).not.toContain('SMS034');
  });

  test('unknown kinds and odd shapes never throw', () => {
    const odd = [{ kind: 'Frobnicator', spec: 3 }, { kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { service: 'x', insecureSkipTLSVerify: 'yes' } },
      { kind: 'Deployment', metadata: { name: 'metrics-server' }, spec: { template: { spec: { containers: [{ name: 'metrics-server', args: [1, null, '--secure-port'], ports: 'x', volumeMounts: [null] }], volumes: {} } } } },
      { kind: 'Service', metadata: 7 }, { apiVersion: 'v1' }];
    expect(() => auditObjects(odd.map(object => ({ object: object as any })))).not.toThrow();
    expect(findInstalls(odd.map(object => ({ object: object as any }))).length).toBe(2);
  });
});

describe('suppression', () => {
  test('--ignore drops a rule everywhere and counts it', () => {
    const r = auditText(BASE, { now: FIXTURE_NOW, ignore: ['sms015'] });
    expect(r.findings).toEqual([]);
    expect(r.suppressed).toBe(1);
  });

  test('the annotation drops a rule on that object only', () => {
    const annotated = BASE.replace(/(kind: Secret\ntype: .*\nmetadata:\n)/, '$1  annotations:\n    secure-metrics-server.io/audit-ignore: SMS015, SMS040\n');
    expect(annotated).not.toBe(BASE);
    const r = auditText(annotated, { now: FIXTURE_NOW });
    expect(r.findings).toEqual([]);
    expect(r.suppressed).toBe(1);
    const other = BASE.replace(/(kind: Secret\ntype: .*\nmetadata:\n)/, '$1  annotations:\n    secure-metrics-server.io/audit-ignore: SMS001\n');
    expect(auditText(other, { now: FIXTURE_NOW }).findings.map(f => f.ruleId)).toEqual(['SMS015']);
  });
});

describe('complete input (doctor)', () => {
  test('an absent referenced object is info for manifests, high when the input is the whole cluster', () => {
    const file = path.join(RULES, 'sms090-trigger.yaml');
    expect(summary(auditFile(file))).toEqual(['SMS090 info Deployment/metrics-server']);
    expect(summary(auditFile(file, { inputIsComplete: true }))).toEqual(['SMS091 high Deployment/metrics-server']);
  });
});

describe('restricted Pod Security Standard (SMS040)', () => {
  const good = (): any => ({
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    volumes: [{ name: 'v', emptyDir: {} }],
  });

  test('a compliant pod has no violation; each broken rule is named', () => {
    expect(restrictedViolations(good())).toEqual([]);
    const cases: [(s: any) => void, RegExp][] = [
      [s => { s.hostPID = true; }, /^hostPID: true$/],
      [s => { s.containers[0].securityContext.privileged = true; }, /privileged: true/],
      [s => { s.containers[0].securityContext.windowsOptions = { hostProcess: true }; }, /hostProcess/],
      [s => { s.securityContext.seLinuxOptions = { type: 'spc_t' }; }, /^pod: seLinuxOptions\.type spc_t$/],
      [s => { s.containers[0].securityContext.appArmorProfile = { type: 'Unconfined' }; }, /appArmorProfile\.type Unconfined/],
      [s => { s.volumes.push({ name: 'h', hostPath: { path: '/' } }); }, /volume 'h' has type hostPath/],
      [s => { s.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; }, /unsafe sysctl kernel\.msgmax/],
      [s => { delete s.securityContext.runAsNonRoot; }, /runAsNonRoot is not true/],
      [s => { s.containers[0].securityContext.runAsUser = 0; }, /runAsUser: 0/],
      [s => { delete s.securityContext.seccompProfile; }, /seccompProfile\.type is unset/],
      [s => { s.containers[0].securityContext.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] }; }, /capabilities\.add SYS_ADMIN \(beyond the baseline set too\)/],
      [s => { s.containers[0].ports = [{ containerPort: 1, hostPort: 1 }]; }, /hostPort 1/],
      [s => { s.containers[0].securityContext.procMount = 'Unmasked'; }, /procMount Unmasked/],
    ];
    for (const [breakIt, expected] of cases) {
      const spec = good();
      breakIt(spec);
      const v = restrictedViolations(spec);
      expect([String(expected), v.length, v.some(x => expected.test(x))]).toEqual([String(expected), 1, true]);
    }
    expect(restrictedViolations(good(), { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' })).toEqual(['annotation container.apparmor.security.beta.kubernetes.io/c: unconfined']);
    const addsNetBind = good();
    (addsNetBind.containers[0].securityContext.capabilities as any).add = ['NET_BIND_SERVICE'];
    expect(restrictedViolations(addsNetBind)).toEqual([]);
  });
});

describe('one predicate for names and ports (lib/k8s/names.ts)', () => {
  const deploymentWith = (volumeName: string, port: unknown) => ({
    object: {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'metrics-server', namespace: 'kube-system' },
      spec: { template: { spec: {
        volumes: [{ name: volumeName, emptyDir: {} }],
        containers: [{ name: 'metrics-server', args: ['--secure-port=10250'], ports: [{ containerPort: port }] }],
      } } },
    },
  });

  test.each([['kube-root-ca'], ['kube-root-ca.crt'], ['Tmp'], ['a'.repeat(63)], ['a'.repeat(64)], ['-x'], ['x-']])(
    'volume name %s: the construct\'s assertDnsLabel refuses it exactly when the audit reports SMS023', name => {
      let refused = false;
      try {
        assertDnsLabel('name', name);
      } catch {
        refused = true;
      }
      const audited = auditObjects([deploymentWith(name, 10250)]).findings.some(f => f.ruleId === 'SMS023');
      expect({ refused, audited }).toEqual({ refused: !isDnsLabel(name), audited: !isDnsLabel(name) });
    });

  test.each([[0], [1], [10250], [65535], [65536], [1.5]])('port %d: assertPort and the port rules agree', port => {
    let refused = false;
    try {
      assertPort('securePort', port);
    } catch {
      refused = true;
    }
    // a containerPort that is no port is ignored by SMS030, so --secure-port=10250 then has nothing to disagree with
    const audited = auditObjects([deploymentWith('tmp', port)]).findings.some(f => f.ruleId === 'SMS030');
    expect({ refused, audited }).toEqual({ refused: !isPort(port), audited: isPort(port) && port !== 10250 });
  });
});
