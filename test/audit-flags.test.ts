import { readFileSync } from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { parseManifests } from '../lib/manifests/load';
import { auditObjects } from '../lib/rules';
import { Flags } from '../lib/rules/model';
import { closestFlags, METRICS_SERVER_FLAGS, parseCommandLine } from '../lib/k8s/metrics-server-flags';
import { FIXTURE_NOW, FIXTURES, RULES, runCli } from './audit-helpers';
import { tmp, writeTmp } from './helpers';

// Issue 18 item 8: audit reads flags as the kubelet and pflag do; what it cannot know is a finding.

/** The verified rule fixture, with the metrics-server container changed by `edit`. */
function withContainer(edit: (c: any) => void, base = 'sms025-clean.yaml'): string {
  const docs = yaml.loadAll(readFileSync(path.join(RULES, base), 'utf8')) as any[];
  const d = docs.find(o => o.kind === 'Deployment');
  edit(d.spec.template.spec.containers[0]);
  return docs.map(o => yaml.dump(o, { lineWidth: -1 })).join('---\n');
}
function audit(text: string, options = {}) {
  const { objects, errors } = parseManifests(text, 'in.yaml');
  expect(errors).toEqual([]);
  return auditObjects(objects, { now: FIXTURE_NOW, ...options });
}
const ids = (text: string) => audit(text).findings.map(f => f.ruleId);
const args = (c: any) => c.args as string[];

describe('the command line as the kubelet builds it', () => {
  test('$(VAR) is expanded from env; $$ escapes; an undefined variable stays as written', () => {
    const flags = new Flags({
      env: [{ name: 'DIR', value: '/etc/kubelet-ca' }, { name: 'CA', value: '$(DIR)/ca.crt' }],
      args: ['--kubelet-certificate-authority=$(CA)', '--cert-dir=$$(DIR)', '--tls-cipher-suites=$(NOPE)'],
    });
    expect(flags.get('kubelet-certificate-authority')).toBe('/etc/kubelet-ca/ca.crt');
    expect(flags.get('cert-dir')).toBe('$(DIR)');
    expect(flags.get('tls-cipher-suites')).toBe('$(NOPE)');
    expect(flags.known).toBe(true);
  });

  test('an insecure flag hidden in a variable is found (SMS001)', () => {
    expect(ids(withContainer(c => { c.env = [{ name: 'INSECURE', value: '--kubelet-insecure-tls' }]; args(c).push('$(INSECURE)'); }))).toContain('SMS001');
  });

  test('command and args together; the program is command[0]; -- ends the flags', () => {
    const f = new Flags({ command: ['/metrics-server', '--kubelet-insecure-tls'], args: ['--', '--deprecated-kubelet-completely-insecure'] });
    expect(f.isTrue('kubelet-insecure-tls')).toBe(true);
    expect(f.has('deprecated-kubelet-completely-insecure')).toBe(false);
    expect(ids(withContainer(c => { c.command = ['/metrics-server', '--kubelet-insecure-tls']; }))).toContain('SMS001');
    expect(ids(withContainer(c => { args(c).push('--', '--kubelet-insecure-tls'); }))).not.toContain('SMS001');
  });

  test('a flag that takes a value consumes the next argument whatever it is (pflag)', () => {
    const f = new Flags({ args: ['--kubelet-certificate-authority', '--kubelet-insecure-tls'] });
    expect(f.get('kubelet-certificate-authority')).toBe('--kubelet-insecure-tls');
    expect(f.has('kubelet-insecure-tls')).toBe(false);
    expect(new Flags({ args: ['--kubelet-insecure-tls', 'false'] }).isTrue('kubelet-insecure-tls')).toBe(true);
    expect(new Flags({ args: ['-v', '4', '-l', 'a=b'] }).get('node-selector')).toBe('a=b');
  });
});

describe('what the audit cannot know is a finding, never a verified hop', () => {
  const cases: [string, (c: any) => void][] = [
    ['envFrom', c => { c.envFrom = [{ configMapRef: { name: 'flags' } }]; args(c).push('--kubelet-preferred-address-types=$(TYPES)'); }],
    ['valueFrom', c => { c.env = [{ name: 'TYPES', valueFrom: { configMapKeyRef: { name: 'flags', key: 'types' } } }]; args(c).push('--kubelet-preferred-address-types=$(TYPES)'); }],
    ['a shell wrapper', c => { c.command = ['sh', '-c', '/metrics-server $EXTRA']; c.args = []; }],
  ];
  test.each(cases)('%s: SMS092, and no SMS025', (_, edit) => {
    // the fixture without --kubelet-certificate-authority: with literal flags, SMS025 (verified against the service-account CA)
    expect(ids(withContainer(() => undefined, 'sms025-trigger.yaml'))).toContain('SMS025');
    const found = ids(withContainer(edit, 'sms025-trigger.yaml'));
    expect(found).toContain('SMS092');
    expect(found).not.toContain('SMS025');
  });

  test('an unrendered kustomization directory: SMS092 on the Kustomization, no SMS025', async () => {
    const dir = tmp();
    writeTmp(dir, 'components.yaml', withContainer(() => undefined, 'sms025-trigger.yaml'));
    writeTmp(dir, 'kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [components.yaml]\npatches: [{path: insecure.yaml}]\n');
    const report = JSON.parse((await runCli(['audit', '--format', 'json', dir])).stdout);
    const found = report.findings.map((f: any) => `${f.ruleId} ${f.object.kind}`);
    expect(found).toContain('SMS092 Kustomization');
    expect(found.filter((f: string) => f.startsWith('SMS025'))).toEqual([]);
  });
});

describe('values metrics-server cannot start with (SMS027)', () => {
  test.each([
    ['--kubelet-insecure-tsl', /unknown flag --kubelet-insecure-tsl.*did you mean --kubelet-insecure-tls\?/],
    ['-kubelet-insecure-tls', /unknown shorthand flag 'k' in '-kubelet-insecure-tls'/],
    ['--kubelet_insecure_tls', /unknown flag --kubelet_insecure_tls.*did you mean --kubelet-insecure-tls/],
    ['--kubelet-insecure-tls=yes', /--kubelet-insecure-tls=yes is not a boolean/],
    ['--metric-resolution=15', /--metric-resolution=15 is not a duration/],
    ['--metric-resolution=5s', /below 10s/],
    ['--kubelet-port=10250x', /is not a whole number/],
    ['--tls-min-version=VersionTLS14', /not one of VersionTLS10/],
    ['--tls-sni-cert-key=/a.crt', /certfile,keyfile/],
    ['--bind-address=256.0.0.1', /is not an IP address/],
  ])('%s', (arg, message) => {
    const r = audit(withContainer(c => args(c).push(arg)));
    const f = r.findings.filter(x => x.ruleId === 'SMS027');
    expect(f.map(x => x.message)).toEqual([expect.stringMatching(message)]);
    expect(f[0].severity).toBe('high');
  });

  test.each([
    [['--kubelet-client-key=/k'], /--kubelet-client-key and --kubelet-client-certificate must be given together/],
    [['-h'], /--help makes metrics-server print its usage and exit/],
    [['--metric-resolution=10s', '--kubelet-request-timeout=10s'], /must be larger than --kubelet-request-timeout/],
  ])('combinations metrics-server refuses: %s', (list, message) => {
    const r = audit(withContainer(c => args(c).push(...list)));
    expect(r.findings.filter(x => x.ruleId === 'SMS027').map(x => x.message)).toEqual([expect.stringMatching(message)]);
  });

  test('a flag without its value as the last argument', () => {
    expect(parseCommandLine(['--secure-port']).problems.map(p => p.code)).toEqual(['needs-argument']);
  });

  test('good values of every checked type pass', () => {
    const good = ['--metric-resolution=1m30s', '--kubelet-port=0x2800', '--goaway-chance=0.02', '--bind-address=::', '--v=4',
      '--tls-sni-cert-key=/a.crt,/a.key:x.example.com', '--vmodule=foo=2,bar*=3', '--kubelet-insecure-tls=F', '--tls-min-version=VersionTLS13'];
    expect(parseCommandLine(good).problems).toEqual([]);
  });

  test('unknown flags list the known ones, closest first', () => {
    const list = closestFlags('kubelet-insecure-tsl');
    expect(list[0]).toBe('kubelet-insecure-tls');
    expect(list).toHaveLength(METRICS_SERVER_FLAGS.size);
  });
});

describe('the flag table is metrics-server v0.8.0\'s, as its command registers it', () => {
  test('every flag, type and shorthand of the derived list, nothing else', () => {
    const derived = JSON.parse(readFileSync(path.join(FIXTURES, 'metrics-server-flags', 'metrics-server-v0.8.0-flags.json'), 'utf8')) as any[];
    expect([...METRICS_SERVER_FLAGS].map(([name, f]) => [name, f.type, f.short ?? ''])).toEqual(derived.map(f => [f.name, f.type, f.shorthand ?? '']));
  });
});

describe('input that is not UTF-8 is an input error', () => {
  test('a file with a byte that is not UTF-8: exit 2, naming the byte and line', async () => {
    const file = path.join(tmp(), 'latin1.yaml');
    require('fs').writeFileSync(file, Buffer.concat([Buffer.from('kind: ConfigMap\nmetadata: {name: caf'), Buffer.from([0xe9]), Buffer.from('}\n')]));
    const run = await runCli(['audit', '--format', 'json', file]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).errors[0].message).toMatch(/not valid UTF-8 \(byte 36, line 2\)/);
  });
});

describe('inline ignores', () => {
  const ignoredHigh = () => withContainer(c => args(c).push('--kubelet-insecure-tls')).replace(/kind: Deployment\nmetadata:\n/, "kind: Deployment\nmetadata:\n  annotations: {secure-metrics-server.io/audit-ignore: 'SMS001,SMS024'}\n");

  test('a high finding silenced in the source is a SARIF result with an inSource suppression', async () => {
    const run = await runCli(['audit', '--format', 'sarif', '-'], { stdin: ignoredHigh() });
    const results = JSON.parse(run.stdout).runs[0].results;
    const sms001 = results.filter((r: any) => r.ruleId === 'SMS001');
    expect(sms001).toHaveLength(1);
    expect(sms001[0].suppressions).toEqual([expect.objectContaining({ kind: 'inSource' })]);
    expect(run.code).toBe(0);
  });

  test('--no-inline-ignores refuses the annotation: the finding counts, exit 1', async () => {
    const run = await runCli(['audit', '--format', 'json', '--no-inline-ignores', '-'], { stdin: ignoredHigh() });
    expect(JSON.parse(run.stdout).findings.map((f: any) => f.ruleId)).toContain('SMS001');
    expect(run.code).toBe(1);
  });
});

describe('extraArgs: the same flag set and value types (issue 18 item 12)', () => {
  const { checkExtraArgs } = require('../lib/extra-args');
  const check = (list: string[]) => checkExtraArgs(list, { prop: 'extraArgs', serviceNames: ['metrics-server.kube-system.svc'], kubeletInsecure: false, refuseManaged: true });

  test('an unknown flag is an error listing the known ones, closest first', () => {
    const r = check(['--kubelet-request-timout=10s']);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^extraArgs: '--kubelet-request-timout=10s': metrics-server v0\.8 has no flag --kubelet-request-timout, so it would not start; did you mean --kubelet-request-timeout\? Known flags, closest first: --kubelet-request-timeout, /);
    expect(r.errors[0].match(/--[a-z0-9-]+/g).length).toBeGreaterThan(METRICS_SERVER_FLAGS.size);
  });

  test.each([
    ['--kubelet-request-timeout=10', /not a duration/],
    ['--v=high', /not a log level/],
    ['--tls-min-version=VersionSSL30', /not one of VersionTLS10/],
    ['--requestheader-allowed-names', /takes a value; write it as '--requestheader-allowed-names=VALUE'/],
  ])('%s: a value metrics-server cannot start with is an error', (arg, message) => {
    expect(check([arg]).errors).toEqual([expect.stringMatching(message)]);
  });

  test.each([
    ['--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA,TLS_AES_128_GCM_SHA256', 'tls-cipher-suites'],
    ['--authentication-tolerate-lookup-failure', 'authentication-tolerate-lookup-failure'],
    ['--authorization-always-allow-paths=/healthz,/metrics', 'authorization-always-allow-paths'],
  ])('%s: a weakening flag is a warning and named in the insecure annotation', (arg, name) => {
    const r = check([arg]);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/weakens metrics-server/)]);
    expect(r.insecure).toEqual([name]);
  });

  test('the construct: an unknown flag throws, a weakening one lands in the insecure annotation', () => {
    const { synth, find } = require('./helpers');
    expect(() => synth({ extraArgs: ['--kubelet-insecure-tsl'] })).toThrow(/has no flag --kubelet-insecure-tsl.*did you mean --kubelet-insecure-tls/);
    const { objects } = synth({ extraArgs: ['--authentication-tolerate-lookup-failure=true', '--v=2'] });
    expect(find(objects, 'Deployment').metadata.annotations['secure-metrics-server.io/insecure-tls']).toBe('authentication-tolerate-lookup-failure');
  });
});
