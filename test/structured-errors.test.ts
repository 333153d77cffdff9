// Modules exchange structured results, and wrapping keeps { cause }: a refusal
// names its prop path where it is made (no caller re-prefixes the text), and
// an error wrapped for its message keeps the original as its cause.
import { Chart, Testing } from 'cdk8s';
import * as path from 'path';
import { Pem, SecureMetricsServer, ServingTls } from '../lib';

const chart = () => new Chart(Testing.app(), 'c');

function errorOf(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('nothing was thrown');
}

test('the approver made by SecureMetricsServer names its props under kubeletServingCertApprover itself: the error is its own, not a rewrapped copy', () => {
  const e = errorOf(() => new SecureMetricsServer(chart(), 'm', {
    servingTls: ServingTls.insecure(),
    kubeletServingCertApprover: { providerRegex: '^node-[0-9]+\\.example\\.com$', providerIpPrefixes: ['10.0.0.1/8'] },
  }));
  expect(e.message).toBe("kubeletServingCertApprover.providerIpPrefixes: '10.0.0.1/8' has bits set after the prefix length; use the network address '10.0.0.0/8'");
  // thrown where the check is, in lib/approver/ (a rewrapped copy is thrown in lib/secure-metrics-server.ts)
  const firstFrame = String(e.stack).split('\n').find((l: string) => l.trim().startsWith('at '))!;
  expect(firstFrame).toContain(`${path.sep}lib${path.sep}approver${path.sep}`);
});

test('the same refusal from a KubeletServingCertApprover of its own names the prop without a prefix', () => {
  const { KubeletServingCertApprover } = require('../lib');
  const e = errorOf(() => new KubeletServingCertApprover(chart(), 'a', { providerRegex: '^node-[0-9]+\\.example\\.com$', providerIpPrefixes: ['10.0.0.1/8'] }));
  expect(e.message).toBe("providerIpPrefixes: '10.0.0.1/8' has bits set after the prefix length; use the network address '10.0.0.0/8'");
});

test('a PEM file that cannot be read: the message names the prop and the file, the cause is the fs error', () => {
  const missing = path.join(__dirname, 'no-such-dir', 'tls.crt');
  const e = errorOf(() => Pem.fromFile(missing)._read('servingTls.certificate'));
  expect(e.message).toMatch(/^servingTls\.certificate: cannot read .*tls\.crt' \(ENOENT\); /);
  expect(e.cause).toBeDefined();
  expect(e.cause.code).toBe('ENOENT');
});
