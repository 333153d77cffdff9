import { spawnSync } from 'child_process';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { installPackage } from '../bench/audit';
import { PKI, ROOT, testWithUpstream, UPSTREAM } from './audit-helpers';
import { tmp } from './helpers';

const CDK8S = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
const TSX = require.resolve('tsx/cjs');

/** A cdk8s project in a temporary directory whose app is `body`, with the plugin configured. */
function project(body: string, properties: object = {}): string {
  const dir = tmp('sms-plugin-');
  writeFileSync(path.join(dir, 'cdk8s.yaml'), [
    'language: typescript',
    `app: node -r ${TSX} app.ts`,
    'validations:',
    `  - package: ${pluginDir}`,
    '    version: 0.1.0',
    '    class: SecureMetricsServerValidation',
    `    properties: ${JSON.stringify(properties)}`,
    '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'app.ts'), [
    `const { App, Chart, Include } = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'cdk8s'))});`,
    `const lib = require(${JSON.stringify(path.join(ROOT, 'lib'))});`,
    'const app = new App();',
    'const chart = new Chart(app, \'cluster\');',
    body,
    'app.synth();',
    '',
  ].join('\n'));
  return dir;
}

function synth(dir: string) {
  const r = spawnSync(process.execPath, [CDK8S, 'synth', '--validate', '--check-upgrade=false', '--validation-reports-output-file', 'reports.json'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  const file = path.join(dir, 'reports.json');
  const reports = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).reports : undefined;
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`, reports };
}

let pluginDir: string;
beforeAll(() => {
  // the plugin cdk8s loads is the bundle the package ships, installed as a user would have it
  const bin = installPackage(tmp('sms-installed-'));
  pluginDir = path.join(path.dirname(path.dirname(bin)), 'plugin');
}, 120_000);

testWithUpstream('cdk8s synth --validate: upstream\'s manifest brought in with Include fails on SMS002, with its construct path', () => {
  const { status, output, reports } = synth(project(`new Include(chart, 'upstream', { url: ${JSON.stringify(UPSTREAM)} });`));
  expect(status).toBe(2);
  expect(output).toMatch(/Validation failed/);
  expect(reports).toHaveLength(1);
  const report = reports[0];
  expect(report.summary.status).toBe('failure');
  expect(report.violations.map((v: any) => v.ruleName)).toEqual(['SMS002 [high] APIService TLS verification disabled']);
  expect(report.violations[0].violatingConstructs).toEqual([expect.objectContaining({
    resourceName: 'v1beta1.metrics.k8s.io',
    constructPath: expect.stringMatching(/^cluster\/upstream\//),
    locations: [expect.stringMatching(/^APIService v1beta1\.metrics\.k8s\.io: insecureSkipTLSVerify: true/)],
  })]);
  expect(report.violations[0].fix).toMatch(/SecureMetricsServer: servingTls/);
}, 120_000);

test('cdk8s synth --validate: the construct in a verified mode passes', () => {
  const ca = path.join(PKI, 'ca.crt');
  const dir = project(`new lib.SecureMetricsServer(chart, 'MetricsServer', { servingTls: lib.ServingTls.fromExistingSecret({ secretName: 'metrics-server-cert', caBundle: lib.Pem.fromFile(${JSON.stringify(ca)}) }) });`);
  const { status, output, reports } = synth(dir);
  expect([status, output]).toEqual([0, expect.stringMatching(/Validations ended succesfully/)]);
  expect(reports[0].summary).toMatchObject({ status: 'success', metadata: { installs: '1', failOn: 'high' } });
  expect(reports[0].violations).toEqual([]);
  expect(readFileSync(path.join(dir, 'dist', 'cluster.k8s.yaml'), 'utf8')).toMatch(/kind: APIService/);
}, 120_000);
