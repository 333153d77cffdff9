import * as path from 'path';
import { SecureMetricsServerValidation, ValidationContextLike } from '../lib/validation-plugin';
import { RULES, testWithUpstream, UPSTREAM } from './audit-helpers';
import { tmp, writeTmp } from './helpers';

/** A stand-in for cdk8s-cli's ValidationContext that records what the plugin reports. */
function context(manifests: string[], metadata: { [name: string]: { path: string } } = {}) {
  const violations: any[] = [];
  let submitted: { status: string; metadata?: { [k: string]: string } } | undefined;
  const ctx: ValidationContextLike = {
    manifests,
    metadata,
    report: {
      addViolation: v => violations.push(v),
      submit: (status, md) => {
        submitted = { status, metadata: md };
      },
    },
  };
  return { ctx, violations, submitted: () => submitted };
}

testWithUpstream('upstream: one violation per rule at or above reportAt, failure at failOn, construct paths by resource name', async () => {
  const c = context([UPSTREAM], { 'v1beta1.metrics.k8s.io': { path: 'cluster/upstream/v1beta1.metrics.k8s.io' } });
  await new SecureMetricsServerValidation().validate(c.ctx);
  expect(c.violations.map(v => v.ruleName)).toEqual(['SMS002 [high] APIService TLS verification disabled']);
  expect(c.violations[0].violatingResources).toEqual([{
    resourceName: 'v1beta1.metrics.k8s.io',
    manifestPath: UPSTREAM,
    locations: [expect.stringMatching(/^APIService v1beta1\.metrics\.k8s\.io: insecureSkipTLSVerify: true/)],
  }]);
  expect(c.submitted()).toEqual({ status: 'failure', metadata: { installs: '1', findings: '2', suppressed: '0', failOn: 'high' } });
});

testWithUpstream('failOn, reportAt and ignore are properties', async () => {
  const lenient = context([UPSTREAM]);
  await new SecureMetricsServerValidation({ failOn: 'critical', reportAt: 'info' }).validate(lenient.ctx);
  expect(lenient.violations.map(v => v.ruleName.slice(0, 6))).toEqual(['SMS002', 'SMS025']);
  expect(lenient.submitted()!.status).toBe('success');
  const ignoring = context([UPSTREAM]);
  await new SecureMetricsServerValidation({ ignore: ['SMS002'] }).validate(ignoring.ctx);
  expect([ignoring.violations, ignoring.submitted()!.status, ignoring.submitted()!.metadata!.suppressed]).toEqual([[], 'success', '1']);
  expect(() => new SecureMetricsServerValidation({ failOn: 'severe' })).toThrow("properties.failOn: 'severe' is not a severity; use info, low, medium, high, critical or none");
});

test('several manifests are one input: an install split across charts is still one install', async () => {
  const base = path.join(RULES, 'sms005-trigger.yaml');
  const text = require('fs').readFileSync(base, 'utf8') as string;
  const [first, ...rest] = text.split(/^---\n/m);
  const dir = tmp();
  const c = context([writeTmp(dir, 'a.k8s.yaml', first), writeTmp(dir, 'b.k8s.yaml', rest.join('---\n'))]);
  await new SecureMetricsServerValidation({ reportAt: 'low' }).validate(c.ctx);
  expect(c.violations.map(v => v.ruleName.slice(0, 6)).sort()).toEqual(['SMS005', 'SMS015']);
  expect(c.submitted()!.metadata!.installs).toBe('1');
});

test('a manifest that does not parse fails the validation with its file and line', async () => {
  const c = context([writeTmp(tmp(), 'bad.k8s.yaml', 'kind: Service\nmetadata: [\n')]);
  await new SecureMetricsServerValidation().validate(c.ctx);
  expect(c.violations[0].ruleName).toBe('manifest does not parse');
  expect(c.violations[0].violatingResources[0].locations[0]).toMatch(/bad\.k8s\.yaml, doc 0, line \d+: document 0 does not parse/);
  expect(c.submitted()!.status).toBe('failure');
});

test('inlineIgnores: false refuses the audit-ignore annotation (a gate over untrusted changes)', async () => {
  const text = require('fs').readFileSync(path.join(RULES, 'sms001-trigger.yaml'), 'utf8')
    .replace(/kind: Deployment\nmetadata:\n/, "kind: Deployment\nmetadata:\n  annotations: {secure-metrics-server.io/audit-ignore: SMS001}\n");
  const file = writeTmp(tmp(), 'ignored.k8s.yaml', text);
  const trusting = context([file]);
  await new SecureMetricsServerValidation().validate(trusting.ctx);
  expect(trusting.violations.map(v => v.ruleName.slice(0, 6))).not.toContain('SMS001');
  const strict = context([file]);
  await new SecureMetricsServerValidation({ inlineIgnores: false }).validate(strict.ctx);
  expect(strict.violations.map(v => v.ruleName.slice(0, 6))).toContain('SMS001');
  expect(strict.submitted()!.status).toBe('failure');
});
