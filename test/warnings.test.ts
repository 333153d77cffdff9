import { App, Chart, Testing } from 'cdk8s';
import { KubeletServingCertApprover, KubeletTls, SecureMetricsServer, ServingTls } from '../lib';
import { captureStderr, quietApp, warningsOf } from './helpers';

const ENV = SecureMetricsServer.SILENCE_WARNINGS_ENV;
const INSECURE = { kubeletTls: KubeletTls.insecure(), servingTls: ServingTls.insecure() };

function insecureIn(app: App) {
  return new SecureMetricsServer(new Chart(app, 'test'), 'MetricsServer', INSECURE);
}

let savedEnv: string | undefined;
beforeEach(() => {
  savedEnv = process.env[ENV];
  delete process.env[ENV];
});
afterEach(() => {
  if (savedEnv === undefined) {
    delete process.env[ENV];
  } else {
    process.env[ENV] = savedEnv;
  }
});

test('the switches have stable names', () => {
  expect(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT).toBe('secure-metrics-server:silenceWarnings');
  expect(SecureMetricsServer.SILENCE_WARNINGS_ENV).toBe('SECURE_METRICS_SERVER_SILENCE_WARNINGS');
  expect(SecureMetricsServer.WARNING_METADATA_TYPE).toBe('secure-metrics-server:warning');
});

test('by default each warning is printed once, at construction, and kept on the construct', () => {
  const app = Testing.app();
  const { result: construct, stderr } = captureStderr(() => insecureIn(app));
  expect(construct.warnings).toHaveLength(2);
  expect(warningsOf(construct)).toEqual(construct.warnings);
  expect(stderr).toBe(construct.warnings.map(w => `[secure-metrics-server] WARNING: ${w}\n`).join(''));
  // synthesizing (twice) prints nothing more
  const again = captureStderr(() => {
    Chart.of(construct).toJson();
    app.synth();
    app.synth();
  });
  expect(again.stderr).toBe('');
});

test('the context key silences printing; the warnings stay on the construct', () => {
  const { result: construct, stderr } = captureStderr(() => insecureIn(quietApp()));
  expect(stderr).toBe('');
  expect(construct.warnings).toHaveLength(2);
  expect(warningsOf(construct)).toEqual(construct.warnings);
});

test('the context key can be set on any construct above, and wins over the environment', () => {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  chart.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, 'false');
  process.env[ENV] = '1';
  const { result: construct, stderr } = captureStderr(() => new SecureMetricsServer(chart, 'MetricsServer', INSECURE));
  expect(stderr).toContain('the kubelet hop is NOT verified');
  expect(construct.warnings).toHaveLength(2);
});

test.each(['1', 'true', 'TRUE'])('the environment variable %s silences printing', value => {
  process.env[ENV] = value;
  const { result: construct, stderr } = captureStderr(() => insecureIn(Testing.app()));
  expect(stderr).toBe('');
  expect(warningsOf(construct)).toHaveLength(2);
});

test.each(['0', 'false', ''])('the environment variable %j leaves printing on', value => {
  process.env[ENV] = value;
  const { stderr } = captureStderr(() => insecureIn(Testing.app()));
  expect(stderr).toContain('the APIService hop is NOT verified');
});

test('a value that is not a boolean is refused, naming the switch', () => {
  process.env[ENV] = 'yes';
  expect(() => captureStderr(() => insecureIn(Testing.app())))
    .toThrow("SECURE_METRICS_SERVER_SILENCE_WARNINGS: 'yes' is not a boolean; use true or false");
  delete process.env[ENV];
  const app = Testing.app();
  app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, 'quiet');
  expect(() => captureStderr(() => insecureIn(app)))
    .toThrow("context 'secure-metrics-server:silenceWarnings': 'quiet' is not a boolean; use true or false");
});

test('the approver records its warnings on itself and honours the same switch', () => {
  const { result: approver, stderr } = captureStderr(() =>
    new KubeletServingCertApprover(new Chart(quietApp(), 'test'), 'Approver', { providerRegex: '^.*$', providerIpPrefixes: ['10.0.0.0/8'] }));
  expect(stderr).toBe('');
  expect(approver.warnings).toHaveLength(1);
  expect(warningsOf(approver)).toEqual(approver.warnings);
});

test('a verified configuration records no warning', () => {
  const { result: construct, stderr } = captureStderr(() => new SecureMetricsServer(new Chart(Testing.app(), 'test'), 'MetricsServer', {
    servingTls: ServingTls.fromCertManager(),
  }));
  expect(stderr).toBe('');
  expect(construct.warnings).toEqual([]);
  expect(warningsOf(construct)).toEqual([]);
});
