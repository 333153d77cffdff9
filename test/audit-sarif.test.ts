import { readFileSync } from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { Rules } from '../lib/rules';
import { FIXTURES, ROOT, RULES, runCli, testWithUpstream, UPSTREAM } from './audit-helpers';

const schema = JSON.parse(readFileSync(path.join(FIXTURES, 'sarif-schema-2.1.0.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }) // the schema's 'language' pattern is not valid with the u flag;
addFormats(ajv);
const validate = ajv.compile(schema);

async function sarif(argv: string[], stdin?: string) {
  const run = await runCli(['audit', '--format', 'sarif', ...argv], { stdin });
  return { ...run, log: JSON.parse(run.stdout) };
}

function expectValid(log: unknown) {
  const ok = validate(log);
  expect(ok ? [] : validate.errors).toEqual([]);
}

describe('SARIF 2.1.0', () => {
  test('the validator rejects what is not SARIF (so the passing tests mean something)', () => {
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] })).toBe(false);
    expect(validate({ version: '2.0.0', runs: [] })).toBe(false);
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'm' }, level: 'fatal' }] }] })).toBe(false);
  });

  testWithUpstream('upstream: valid, every rule described, levels mapped from severities, locations in the file', async () => {
    const { code, log } = await sarif([path.relative(ROOT, UPSTREAM)]);
    expect(code).toBe(1);
    expectValid(log);
    const run = log.runs[0];
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(Rules.all().map(r => r.id));
    expect(run.results.map((r: any) => [r.ruleId, r.level])).toEqual([['SMS002', 'error'], ['SMS025', 'note']]);
    const r = run.results[0];
    expect(run.tool.driver.rules[r.ruleIndex].id).toBe('SMS002');
    expect(r.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: pathToFileURL(UPSTREAM).href },
      region: { startLine: readFileSync(UPSTREAM, 'utf8').split('\n').indexOf('kind: APIService') },
    });
    expect(r.locations[0].logicalLocations[0].fullyQualifiedName).toBe('APIService/v1beta1.metrics.k8s.io');
    expect(r.properties).toMatchObject({ 'severity': 'high', 'installId': 'kube-system/metrics-server' });
    expect(run.tool.driver.rules.find((x: any) => x.id === 'SMS015').properties['security-severity']).toBe('5.5');
    expect(run.invocations[0].executionSuccessful).toBe(true);
  });

  testWithUpstream('input errors become tool notifications; stdin findings have no physical location; still valid', async () => {
    const { code, log } = await sarif(['-'], `${readFileSync(UPSTREAM, 'utf8')}\n---\nbad: [\n`);
    expect(code).toBe(2);
    expectValid(log);
    expect(log.runs[0].invocations[0].executionSuccessful).toBe(false);
    expect(log.runs[0].invocations[0].toolExecutionNotifications[0].message.text).toMatch(/^-, doc 9: document 9 does not parse/);
    expect(log.runs[0].results[0].locations[0].physicalLocation).toBeUndefined();
  });

  test('every rule fixture gives valid SARIF', async () => {
    const dir = RULES;
    const { log } = await sarif(['--now', '2026-06-01T00:00:00Z', path.relative(ROOT, dir)]);
    expectValid(log);
    expect(new Set(log.runs[0].results.map((r: any) => r.level))).toEqual(new Set(['error', 'warning', 'note']));
  });

  test('a high finding silenced in the source is a valid result with an inSource suppression (issue 18 item 8)', async () => {
    const text = readFileSync(path.join(RULES, 'sms001-trigger.yaml'), 'utf8')
      .replace(/kind: Deployment\nmetadata:\n/, "kind: Deployment\nmetadata:\n  annotations: {secure-metrics-server.io/audit-ignore: SMS001}\n");
    const { code, log } = await sarif(['-'], text);
    expectValid(log);
    const sms001 = log.runs[0].results.filter((r: any) => r.ruleId === 'SMS001');
    expect(sms001.map((r: any) => r.suppressions?.[0]?.kind)).toEqual(['inSource']);
    expect(code).toBe(0);
    const strict = await sarif(['--no-inline-ignores', '-'], text);
    expect(strict.log.runs[0].results.filter((r: any) => r.ruleId === 'SMS001').map((r: any) => r.suppressions)).toEqual([undefined]);
    expect(strict.code).toBe(1);
  });
});
