import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { installPackage } from '../bench/audit';
import { ROOT, testWithUpstream, UPSTREAM } from './audit-helpers';
import { tmp } from './helpers';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

let bin: string;
beforeAll(() => {
  bin = installPackage(tmp('sms-installed-'));
}, 120_000);

test('the command\'s dependencies are devDependencies only; the bin is declared', () => {
  for (const dep of ['js-yaml', 'esbuild', 'ajv', '@kubernetes/client-node']) {
    expect([dep, pkg.dependencies[dep]]).toEqual([dep, undefined]);
  }
  expect(pkg.bin).toEqual({ 'secure-metrics-server': 'bin/secure-metrics-server.js' });
  expect(pkg.files).toEqual(expect.arrayContaining(['bin', 'build/cli', 'plugin', 'build/validation-plugin']));
});

testWithUpstream('the bundled command runs with only the runtime dependencies: stdin, exit codes, no colour on a pipe', () => {
  const dir = path.dirname(path.dirname(bin));
  const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { cwd: dir, input, encoding: 'utf8', env: { PATH: process.env.PATH } });
  const upstream = readFileSync(UPSTREAM, 'utf8');
  const found = run(['audit', '-'], upstream);
  expect([found.status, found.stderr]).toEqual([1, '']);
  expect(found.stdout).toMatch(/HIGH {5}SMS002 {2}APIService v1beta1\.metrics\.k8s\.io {2}\(stdin, doc 8, line \d+\)/);
  expect(found.stdout).not.toContain('\x1b[');
  const json = JSON.parse(run(['audit', '--format', 'json', '-'], upstream).stdout);
  expect(json.tool).toEqual({ name: 'secure-metrics-server', version: pkg.version });
  expect(run(['audit', '--fail-on', 'critical', '-'], upstream).status).toBe(0);
  const missing = run(['audit', 'missing.yaml']);
  expect(missing.status).toBe(2);
  expect(missing.stdout).toMatch(/error missing\.yaml: cannot read/);
  expect(run(['--help']).status).toBe(0);
  // the bundled libraries' licenses travel with the bundles
  expect(readFileSync(path.join(dir, 'build', 'cli', 'THIRD_PARTY_NOTICES.txt'), 'utf8')).toMatch(/^js-yaml@4\.\d+\.\d+ \(MIT\)\n\n\(The MIT License\)/m);
  expect(readFileSync(path.join(dir, 'build', 'validation-plugin', 'THIRD_PARTY_NOTICES.txt'), 'utf8')).toMatch(/^js-yaml@/m);
}, 60_000);
