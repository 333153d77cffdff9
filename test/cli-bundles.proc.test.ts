import { spawnSync } from 'child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { installPackage } from '../bench/audit';
import { COMMAND_SUMMARIES } from '../lib/cli/commands';
import { tmp } from './helpers';

// The bundles `npm run build:cli` writes (built once here into a temporary
// package, as test/audit.proc.test.ts does: no jsii build), held to what the
// command promises: doctor's Kubernetes client tree-shaken, and `--help`
// answered by build/cli/main.js alone. Start-up times are measured by
// `npm run bench` (bench/startup.ts), never asserted here.

const ROOT = path.join(__dirname, '..');
const MB = 1024 * 1024;

let dir: string;
let bin: string;
let hook: string;
beforeAll(() => {
  dir = tmp('sms-bundles-');
  bin = installPackage(path.join(dir, 'package'));
  // records every file of build/cli/ the process loaded, on exit
  hook = path.join(dir, 'loaded.js');
  writeFileSync(hook, 'process.on(\'exit\', () => process.stderr.write(`SMS_LOADED ${JSON.stringify(Object.keys(require.cache).filter(f => /[\\\\/]build[\\\\/]cli[\\\\/]/.test(f)).map(f => require(\'path\').basename(f)).sort())}\\n`));\n');
}, 120_000);

function run(args: string[]): { status: number | null; stdout: string; loaded: string[] } {
  const r = spawnSync(process.execPath, ['-r', hook, bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  const m = /SMS_LOADED (.*)\n/.exec(r.stderr);
  if (!m) {
    throw new Error(`no record of loaded files (exit ${r.status}): ${r.stderr}`);
  }
  return { status: r.status, stdout: r.stdout, loaded: JSON.parse(m[1]) };
}

test('doctor.js is at most 2 MB: client-node is tree-shaken through lib/cluster/client-node.ts', () => {
  const cli = path.join(dir, 'package', 'build', 'cli');
  const sizes = Object.fromEntries(readdirSync(cli).filter(f => f.endsWith('.js')).map(f => [f, statSync(path.join(cli, f)).size]));
  expect(Object.keys(sizes).sort()).toEqual(['audit.js', 'ca.js', 'doctor.js', 'main.js', 'store.js']);
  expect([sizes['doctor.js'], sizes['doctor.js'] <= 2 * MB]).toEqual([sizes['doctor.js'], true]);
  // the library is inlined (not left to a require at run time) and its license travels with it
  expect(readFileSync(path.join(cli, 'doctor.js'), 'utf8')).not.toMatch(/require\(["']@kubernetes\/client-node["']\)/);
  expect(readFileSync(path.join(cli, 'THIRD_PARTY_NOTICES.txt'), 'utf8')).toMatch(/^@kubernetes\/client-node@\d+\.\d+\.\d+ \(Apache-2\.0\)$/m);
});

test('--help loads no subcommand bundle and prints every summary; a command loads its own bundle only', () => {
  const help = run(['--help']);
  expect(help.status).toBe(0);
  expect(help.loaded).toEqual(['main.js']);
  const width = Math.max(...Object.keys(COMMAND_SUMMARIES).map(n => n.length));
  for (const [name, summary] of Object.entries(COMMAND_SUMMARIES)) {
    expect(help.stdout).toContain(`  ${name.padEnd(width)}  ${summary}\n`);
  }
  for (const name of Object.keys(COMMAND_SUMMARIES)) {
    const r = run([name, '--help']);
    expect([name, r.status, r.loaded]).toEqual([name, 0, [`${name}.js`, 'main.js'].sort()]);
  }
});

test('one source: the summaries are written in lib/cli/commands.ts only', () => {
  const cliDir = path.join(ROOT, 'lib', 'cli');
  const copies = readdirSync(cliDir).filter(f => f.endsWith('.ts') && f !== 'commands.ts')
    .flatMap(f => Object.values(COMMAND_SUMMARIES).filter(s => readFileSync(path.join(cliDir, f), 'utf8').includes(s)).map(s => `${f}: ${s}`));
  expect(copies).toEqual([]);
});
