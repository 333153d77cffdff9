// The package as a user gets it, built once and shared by every test that
// needs it (jsii.proc, fresh-app.proc, examples.proc, api-docs.proc):
//
//  - packed(): the sources (lib/, imports/, package.json, README.md, ...) are
//    copied into a cache directory, compiled there by jsii (the `.jsii`
//    assembly and build/) and packed by `npm pack`; the repository's own
//    build/ is never touched, so tests running in parallel do not race on it;
//  - freshApp(): that tarball installed, offline, into a cdk8s app made from
//    the official TypeScript template (node_modules/cdk8s-cli/templates/
//    typescript-app), with cdk8s-plus-28 for the template's cdk8s-plus,
//    tsx for ts-node and without jest (the versions this repository
//    installs, so that the packages are already in the npm cache).
//
// The cache directory is named by a hash of every input (sources, lockfile,
// template, the checkout's path, whose node_modules it links), outside the repository so that module resolution cannot climb
// into the repository's node_modules; a second jest run with unchanged
// sources reuses it. Concurrent workers wait on a lock directory.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..');
const TEMPLATE = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'templates', 'typescript-app');

/** What is copied into the build directory (besides node_modules). */
const SOURCES = ['lib', 'imports', 'bin', 'plugin', 'docs', 'scripts', 'package.json', 'tsconfig.jsii.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'API.md'];
/** What else decides the result (versions of jsii, npm, the template). */
const ALSO_HASHED = ['package-lock.json', TEMPLATE, path.join(__filename)];

export interface Packed {
  /** The build directory: `.jsii`, build/, package.json as packed. */
  readonly dir: string;
  /** The tarball `npm pack` wrote. */
  readonly tarball: string;
  /** jsii's exit status and its output (stdout and stderr). */
  readonly jsiiStatus: number | null;
  readonly jsiiOutput: string;
}

function hashInto(hash: ReturnType<typeof createHash>, file: string): void {
  if (!existsSync(file)) {
    return;
  }
  if (statSync(file).isDirectory()) {
    for (const entry of readdirSync(file).sort()) {
      hashInto(hash, path.join(file, entry));
    }
    return;
  }
  hash.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
}

let cachedKey: string | undefined;
function cacheKey(): string {
  if (!cachedKey) {
    const hash = createHash('sha256');
    for (const f of [...SOURCES.map(s => path.join(ROOT, s)), ...ALSO_HASHED.map(s => path.resolve(ROOT, s))]) {
      hashInto(hash, f);
    }
    hash.update(process.version);
    // the build directory links this checkout's node_modules: a cache made by
    // another checkout (a removed worktree, an older clone) is not this one's
    hash.update('\0').update(ROOT);
    cachedKey = hash.digest('hex').slice(0, 16);
  }
  return cachedKey;
}

/** The cache directory for the current sources. */
export function cacheDir(): string {
  return path.join(process.env.SMS_PACK_CACHE ?? path.join(tmpdir(), 'secure-metrics-server-pack-cache'), cacheKey());
}

/**
 * Removes the cache directories of older sources (an installed app is about
 * 90 MB): all but the four newest, and none used in the last hour.
 */
function pruneCache(current: string): void {
  const root = path.dirname(current);
  const others = readdirSync(root).map(d => path.join(root, d)).filter(d => d !== current)
    .map(d => ({ d, mtime: statSync(d).mtimeMs })).sort((a, b) => b.mtime - a.mtime);
  for (const { d, mtime } of others.slice(3)) {
    if (Date.now() - mtime > 3_600_000) {
      rmSync(d, { recursive: true, force: true });
    }
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `make(tmpDir)` once for `name` in the cache: the result directory
 * appears atomically (renamed into place), under a lock held by one worker.
 */
function once(name: string, make: (dir: string) => void): string {
  const base = cacheDir();
  const done = path.join(base, name);
  if (existsSync(done)) {
    return done;
  }
  if (!existsSync(base)) {
    mkdirSync(base, { recursive: true });
    pruneCache(base);
  }
  const lock = path.join(base, `${name}.lock`);
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e: any) {
      if (e.code !== 'EEXIST') {
        throw e;
      }
      // a lock older than the deadline is left by a killed run
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false } as any)?.mtimeMs ?? Date.now()) > 300_000) {
        rmSync(lock, { recursive: true, force: true });
      } else if (Date.now() > deadline) {
        throw new Error(`${lock}: still locked after 300 s; remove it if no test run holds it`, { cause: e });
      }
      sleep(200);
    }
  }
  try {
    if (!existsSync(done)) {
      const work = `${done}.tmp-${process.pid}`;
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work);
      make(work);
      renameSync(work, done);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return done;
}

/** The jsii build and the tarball of the current sources (made once). */
export function packed(): Packed {
  const dir = once('build', work => {
    for (const s of SOURCES) {
      if (existsSync(path.join(ROOT, s))) {
        cpSync(path.join(ROOT, s), path.join(work, s), { recursive: true });
      }
    }
    // the dependencies, linked; the bundled ones copied (npm pack packs them)
    const bundled: string[] = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bundledDependencies ?? [];
    mkdirSync(path.join(work, 'node_modules'));
    for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
      if (!bundled.includes(entry) && entry !== '.cache') {
        symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(work, 'node_modules', entry));
      }
    }
    for (const dep of bundled) {
      cpSync(path.join(ROOT, 'node_modules', dep), path.join(work, 'node_modules', dep), { recursive: true });
    }
    // npm run build
    const jsii = require('child_process').spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'jsii', 'bin', 'jsii')], {
      cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    // then the bundled command and validation plugin (the rest of npm run build)
    const cli = jsii.status === 0
      ? require('child_process').spawnSync('npm', ['run', '--silent', 'build:cli'], { cwd: work, encoding: 'utf8' })
      : { status: 0, stdout: '', stderr: '' };
    const status = jsii.status === 0 ? cli.status : jsii.status;
    writeFileSync(path.join(work, 'jsii-result.json'), JSON.stringify({ status, output: `${jsii.stdout}${jsii.stderr}${cli.stdout}${cli.stderr}` }));
    if (status === 0) {
      // the build is done: no prepack
      const out = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
        cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      }));
      renameSync(path.join(work, out[0].filename), path.join(work, 'package.tgz'));
      writeFileSync(path.join(work, 'pack-result.json'), JSON.stringify(out[0], null, 2));
    }
  });
  const result = JSON.parse(readFileSync(path.join(dir, 'jsii-result.json'), 'utf8'));
  return { dir, tarball: path.join(dir, 'package.tgz'), jsiiStatus: result.status, jsiiOutput: result.output };
}

/** `npm pack --json` of the tarball: its files with their sizes. */
export function packListing(): { files: { path: string; size: number }[]; size: number; unpackedSize: number } {
  packed();
  return JSON.parse(readFileSync(path.join(cacheDir(), 'build', 'pack-result.json'), 'utf8'));
}

const installedVersion = (pkg: string): string =>
  JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;

/**
 * A fresh cdk8s app from the official TypeScript template with the packed
 * tarball installed (made once): its directory.
 */
export function freshApp(): string {
  const { tarball, jsiiStatus, jsiiOutput } = packed();
  if (jsiiStatus !== 0) {
    throw new Error(`the jsii build failed:\n${jsiiOutput}`);
  }
  return once('app', work => {
    const fill = (text: string) => text
      .replace(/\{\{ \$base \}\}/g, 'fresh-app')
      .replace(/cdk8s-plus-33/g, 'cdk8s-plus-28')
      .replace(/\{\{ cdk8s_core_version \}\}/g, installedVersion('cdk8s'))
      .replace(/\{\{ cdk8s_plus_version \}\}/g, installedVersion('cdk8s-plus-28'))
      .replace(/\{\{ constructs_version \}\}/g, installedVersion('constructs'));
    for (const f of ['cdk8s.yaml', 'main.ts', 'tsconfig.json']) {
      writeFileSync(path.join(work, f), fill(readFileSync(path.join(TEMPLATE, f), 'utf8')));
    }
    // the template's package.json, with the versions this repository installs
    // (in the npm cache), tsx for ts-node, no cdk8s-cli (the test runs the
    // repository's) and no jest (the template's main.test.ts tests the app,
    // not this package, and jest would take 15 s of the install's 18 s)
    const pkg = JSON.parse(fill(readFileSync(path.join(TEMPLATE, 'package.json'), 'utf8')));
    for (const dev of ['cdk8s-cli', 'ts-node', 'jest', 'ts-jest', '@types/jest']) {
      delete pkg.devDependencies[dev];
    }
    for (const dev of ['@types/node', 'typescript', 'tsx']) {
      pkg.devDependencies[dev] = installedVersion(dev);
    }
    writeFileSync(path.join(work, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(path.join(work, 'cdk8s.yaml'), readFileSync(path.join(work, 'cdk8s.yaml'), 'utf8').replace('npx ts-node main.ts', 'npx tsx main.ts'));
    // offline: everything comes from the npm cache the repository's npm ci filled
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
      cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' },
    });
  });
}

/** A TypeScript block of a Markdown file. */
export interface Snippet { readonly file: string; readonly line: number; readonly code: string }

/** The ```ts and ```typescript blocks of a Markdown file, with the line of their first code line. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\s*$/.exec(lines[i]);
    if (!open) {
      continue;
    }
    const fence = open[2];
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].trim().startsWith(fence)) {
      end++;
    }
    snippets.push({ file, line: start + 1, code: lines.slice(start, end).map(l => l.slice(open[1].length)).join('\n') });
    i = end;
  }
  return snippets;
}

/** README.md and docs/*.md, relative to the repository. */
export function markdownFiles(): string[] {
  const docs = path.join(ROOT, 'docs');
  return ['README.md', ...(existsSync(docs) ? readdirSync(docs).filter(f => f.endsWith('.md')).sort().map(f => `docs/${f}`) : [])];
}

/** The snippets that are compiled (see test/snippets.proc.test.ts for the convention). */
export function compiledSnippets(): Snippet[] {
  return markdownFiles().flatMap(f => extractSnippets(f, readFileSync(path.join(ROOT, f), 'utf8')))
    .filter(s => !/^\s*\/\/ not compiled: \S/.test(s.code));
}

/** The preamble of a fragment: every type of the package and the usual cdk8s names in scope. */
export function fragmentPreamble(packageTypes: string[]): string[] {
  return [
    "import { App, Chart, Duration, Size, Testing } from 'cdk8s';",
    "import { Cpu, ImagePullPolicy, TaintEffect } from 'cdk8s-plus-28';",
    "import { Construct } from 'constructs';",
    `import { ${[...packageTypes].sort().join(', ')} } from 'secure-metrics-server';`,
    'export function snippet(chart: Chart): void {',
  ];
}

/** One tsc diagnostic, mapped back to the file it came from. */
export interface Diagnostic { readonly file: string; readonly line: number; readonly col: number; readonly text: string }

export interface Workspace {
  /** The app directory: main.ts, examples/, snippets/, out/ (the emitted JavaScript). */
  readonly dir: string;
  /** tsc's diagnostics: `main.ts`, `examples/...`, or a Markdown file and line for a snippet. */
  readonly diagnostics: Diagnostic[];
  /** tsc's output that is not a file diagnostic (should be empty). */
  readonly other: string[];
}

/**
 * The fresh app with everything users compile against the package: the
 * template's main.ts with a SecureMetricsServer, examples/ and the Markdown
 * snippets, type-checked by ONE tsc run (the template's compiler options, its
 * full library check included, so the package's own declarations are checked
 * as a user without skipLibCheck meets them; unused names allowed, for the
 * snippets) and emitted to out/. Made once per content of its inputs.
 */
export function workspace(): Workspace {
  const build = packed();
  const snippets = compiledSnippets();
  const examples = path.join(ROOT, 'examples');
  const hash = createHash('sha256').update(cacheKey()).update(JSON.stringify(snippets));
  hashInto(hash, examples);
  const dir = once(`workspace-${hash.digest('hex').slice(0, 16)}`, work => {
    const app = freshApp();
    for (const f of ['package.json', 'tsconfig.json', 'cdk8s.yaml']) {
      cpSync(path.join(app, f), path.join(work, f));
    }
    symlinkSync(path.join(app, 'node_modules'), path.join(work, 'node_modules'));
    // the template's main.ts, with the construct where it says "define resources here"
    const main = readFileSync(path.join(app, 'main.ts'), 'utf8');
    if (!main.includes('// define resources here')) {
      throw new Error('the template main.ts has no "// define resources here" line');
    }
    writeFileSync(path.join(work, 'main.ts'), `import { SecureMetricsServer } from 'secure-metrics-server';\n${main
      .replace('// define resources here', "new SecureMetricsServer(this, 'MetricsServer');")}`);
    cpSync(examples, path.join(work, 'examples'), { recursive: true });
    const types = Object.values<any>(JSON.parse(readFileSync(path.join(build.dir, '.jsii'), 'utf8')).types).map(t => t.name);
    const preamble = fragmentPreamble(types);
    mkdirSync(path.join(work, 'snippets'));
    const map: { [file: string]: { file: string; line: number; offset: number } } = {};
    snippets.forEach((snip, i) => {
      const name = `snippets/s${i}.ts`;
      const fragment = !/^\s*import\s/m.test(snip.code);
      writeFileSync(path.join(work, name), fragment ? `${preamble.join('\n')}\n${snip.code}\n}\n` : `${snip.code}\nexport {};\n`);
      map[name] = { file: snip.file, line: snip.line, offset: fragment ? preamble.length : 0 };
    });
    writeFileSync(path.join(work, 'tsconfig.workspace.json'), JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { outDir: 'out', noUnusedLocals: false, noUnusedParameters: false },
      include: ['main.ts', 'examples/**/*.ts', 'snippets/*.ts'],
    }));
    let output = '';
    try {
      execFileSync(process.execPath, [path.join(work, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.workspace.json', '--pretty', 'false'], {
        cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e: any) {
      output = `${e.stdout}${e.stderr}`;
    }
    const diagnostics: Diagnostic[] = [];
    const other: string[] = [];
    for (const l of output.split('\n').filter(x => x.trim() !== '')) {
      const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(l);
      if (!m) {
        other.push(l);
        continue;
      }
      const s = map[m[1]];
      diagnostics.push(s
        ? { file: s.file, line: s.line + Number(m[2]) - 1 - s.offset, col: Number(m[3]), text: m[4] }
        : { file: m[1], line: Number(m[2]), col: Number(m[3]), text: m[4] });
    }
    writeFileSync(path.join(work, 'tsc-result.json'), JSON.stringify({ diagnostics, other }));
  });
  return { dir, ...JSON.parse(readFileSync(path.join(dir, 'tsc-result.json'), 'utf8')) };
}

/** A diagnostic as `file:line:col: text`. */
export const formatDiagnostic = (d: Diagnostic) => `${d.file}:${d.line}:${d.col}: ${d.text}`;

/**
 * A working copy of the workspace's app (package.json, tsconfig.json,
 * cdk8s.yaml and the main.ts with a SecureMetricsServer; node_modules
 * linked), so that a test's store and dist/ stay out of the shared cache.
 */
export function appCopy(prefix = 'sms-app-'): string {
  const from = workspace().dir;
  const dir = require('fs').mkdtempSync(path.join(tmpdir(), prefix));
  for (const f of ['package.json', 'tsconfig.json', 'cdk8s.yaml', 'main.ts']) {
    cpSync(path.join(from, f), path.join(dir, f));
  }
  symlinkSync(path.join(freshApp(), 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}
