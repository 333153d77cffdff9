import * as path from 'path';
import { SecureMetricsServerValidation, ValidationContextLike } from '../lib/validation-plugin';
import { RULES, runCli } from './audit-helpers';

// Issue 18 item 8: a check that throws makes the audit incomplete; it never reads as "no findings".
jest.mock('../lib/rules/checks-ports', () => ({
  checkPorts: () => {
    throw new Error('boom in checkPorts');
  },
}));

const CLEAN = path.join(RULES, 'sms030-clean.yaml');

test('audit: exit 2, the text output says incomplete', async () => {
  const run = await runCli(['audit', '--fail-on', 'none', CLEAN]);
  expect(run.code).toBe(2);
  expect(run.stdout).toMatch(/a check failed, so the audit is incomplete .*boom in checkPorts/);
  expect(run.stdout).toMatch(/1 failed check\(s\): INCOMPLETE; not failing on findings; exit 2\n$/);
});

test('SARIF: executionSuccessful false and a toolExecutionNotification', async () => {
  const run = await runCli(['audit', '--format', 'sarif', CLEAN]);
  const invocation = JSON.parse(run.stdout).runs[0].invocations[0];
  expect(invocation.executionSuccessful).toBe(false);
  expect(invocation.toolExecutionNotifications).toEqual([expect.objectContaining({ level: 'error', message: { text: expect.stringMatching(/boom in checkPorts/) } })]);
  expect(run.code).toBe(2);
});

test('JSON: complete false', async () => {
  const run = await runCli(['audit', '--format', 'json', CLEAN]);
  expect(JSON.parse(run.stdout).summary.complete).toBe(false);
});

test('the validation plugin: a violation and failure', async () => {
  const violations: any[] = [];
  let status: string | undefined;
  const ctx: ValidationContextLike = { manifests: [CLEAN], report: { addViolation: v => violations.push(v), submit: s => { status = s; } } };
  await new SecureMetricsServerValidation({ failOn: 'none' }).validate(ctx);
  expect(violations.map(v => v.ruleName)).toContain('audit incomplete: a check failed');
  expect(status).toBe('failure');
});
