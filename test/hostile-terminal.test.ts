import * as path from 'path';
import { Chart } from 'cdk8s';
import { CertificateStore, SecureMetricsServer, ServingTls } from '../lib';
import { main } from '../lib/cli/main';
import { captureStderr, fixtureStore, tmp } from './helpers';
import { App } from 'cdk8s';

// Text the library prints on a terminal carries no raw control character from
// its input: the synth's warnings (printed by the construct itself), the `ca`
// command's output and errors, and the command's own messages.

const ESC = '\x1b]0;owned\x07\x1b[2J';

test('a synth warning that quotes an extraArgs value prints it escaped (the metadata keeps it as given)', () => {
  const app = new App({ outdir: tmp() });
  const { result, stderr } = captureStderr(() => new SecureMetricsServer(new Chart(app, 'c'), 'ms', {
    servingTls: ServingTls.fromDedicatedCa({ store: fixtureStore() }),
    extraArgs: [`--tls-sni-cert-key=/etc/x${ESC}.crt,/etc/x.key`],
  }));
  expect(result.warnings.some(w => w.includes(ESC))).toBe(true);
  expect(stderr).toContain('[secure-metrics-server] WARNING: ');
  // eslint-disable-next-line no-control-regex -- the assertion is that no raw control character is printed
  expect(stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  expect(stderr).toContain('/etc/x\\x1b]0;owned\\x07\\x1b[2J.crt');
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err,
    io: {
      stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) },
      readStdin: async () => Buffer.alloc(0), env: {}, cwd: process.cwd(),
    },
  };
}

test('ca: a store path with control characters is printed escaped', async () => {
  const dir = path.join(tmp(), `pki${ESC}`);
  CertificateStore.fromDirectory(dir);
  const r = io();
  const code = await main(['ca', 'rotate', '--store', dir, '--cluster', 'nothing-here'], r.io);
  expect(code).not.toBe(0);
  const printed = r.out.join('') + r.err.join('');
  expect(printed).toContain('pki\\x1b]0;owned\\x07');
  // eslint-disable-next-line no-control-regex -- the assertion is that no raw control character is printed
  expect(printed).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
});

test('ca: an unknown option with control characters is printed escaped', async () => {
  const r = io();
  await main(['ca', 'status', `--x${ESC}`], r.io);
  // eslint-disable-next-line no-control-regex -- the assertion is that no raw control character is printed
  expect(r.err.join('')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  expect(r.err.join('')).toContain('\\x1b');
});

test('an unknown command with control characters is printed escaped', async () => {
  const r = io();
  expect(await main([`x${ESC}`], r.io)).toBe(2);
  expect(r.err.join('')).toContain(`unknown command 'x\\x1b]0;owned\\x07\\x1b[2J'`);
});

test('audit: an unknown option with control characters is printed escaped', async () => {
  const r = io();
  expect(await main(['audit', `--x${ESC}`], r.io)).toBe(2);
  // eslint-disable-next-line no-control-regex -- the assertion is that no raw control character is printed
  expect(r.err.join('')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  expect(r.err.join('')).toContain('\\x1b');
});
