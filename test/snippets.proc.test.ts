// Every TypeScript block (```ts or ```typescript) in README.md and docs/*.md
// compiles against the packed package, as a user would paste it into an app
// made from the cdk8s TypeScript template (test/pack.ts): one tsc run for all.
//
// The convention for writing a snippet:
//  - a block with an `import` statement is a complete module and is compiled
//    as it is (it imports what it uses, from 'secure-metrics-server', 'cdk8s',
//    'cdk8s-plus-28' or 'constructs');
//  - a block without one is a fragment: it is compiled inside
//    `function snippet(chart: Chart) { ... }`, with every type of the package,
//    `App`, `Chart`, `Duration`, `Size`, `Testing` (cdk8s), `Cpu` (cdk8s-plus-28) and
//    `Construct` (constructs) in scope, so `new SecureMetricsServer(chart, ...)`
//    needs no preamble;
//  - a block whose first line is `// not compiled: <reason>` is skipped (say why).
// Unused names are allowed (snippets show a call, not a program). A failure
// names the Markdown file and line.
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { appCopy, packed, ROOT } from './pack';

interface Snippet { readonly file: string; readonly line: number; readonly code: string }

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

const markdownFiles = (): string[] => [
  'README.md',
  ...(existsSync(path.join(ROOT, 'docs')) ? readdirSync(path.join(ROOT, 'docs')).filter(f => f.endsWith('.md')).sort().map(f => `docs/${f}`) : []),
];

test('extractSnippets finds ts and typescript blocks with their lines, and no other language', () => {
  const md = ['# t', '```ts', 'a();', '```', '```sh', 'ls', '```', '  ```typescript', '  b();', '  c();', '  ```', '```tsx', 'x', '```'].join('\n');
  expect(extractSnippets('x.md', md)).toEqual([
    { file: 'x.md', line: 3, code: 'a();' },
    { file: 'x.md', line: 9, code: 'b();\nc();' },
  ]);
});

test('every TypeScript snippet in README.md and docs/*.md compiles against the packed package', () => {
  const snippets = markdownFiles().flatMap(f => extractSnippets(f, readFileSync(path.join(ROOT, f), 'utf8')))
    .filter(s => !/^\s*\/\/ not compiled: \S/.test(s.code));
  expect(snippets.length).toBeGreaterThanOrEqual(15);

  const assembly = JSON.parse(readFileSync(path.join(packed().dir, '.jsii'), 'utf8'));
  const names = Object.values<any>(assembly.types).map(t => t.name).sort();
  const preamble = [
    "import { App, Chart, Duration, Size, Testing } from 'cdk8s';",
    "import { Cpu } from 'cdk8s-plus-28';",
    "import { Construct } from 'constructs';",
    `import { ${names.join(', ')} } from 'secure-metrics-server';`,
    'export function snippet(chart: Chart): void {',
  ];
  const dir = appCopy('sms-snippets-');
  mkdirSync(path.join(dir, 'snippets'));
  const sources = new Map<string, { snippet: Snippet; offset: number }>();
  snippets.forEach((s, i) => {
    const name = `snippets/s${i}.ts`;
    const fragment = !/^\s*import\s/m.test(s.code);
    writeFileSync(path.join(dir, name), fragment ? `${preamble.join('\n')}\n${s.code}\n}\n` : `${s.code}\nexport {};\n`);
    sources.set(name, { snippet: s, offset: fragment ? preamble.length : 0 });
  });
  writeFileSync(path.join(dir, 'tsconfig.snippets.json'), JSON.stringify({
    extends: './tsconfig.json',
    compilerOptions: { noEmit: true, noUnusedLocals: false, noUnusedParameters: false },
    include: ['snippets/*.ts'],
  }));
  let output = '';
  try {
    execFileSync(process.execPath, [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.snippets.json'], {
      cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e: any) {
    output = `${e.stdout}${e.stderr}`;
  }
  // tsc's file(line,col) mapped back to the Markdown file and line
  const errors = output.split('\n').filter(l => l.trim() !== '').map(l => l.replace(/^(snippets\/s\d+\.ts)\((\d+),(\d+)\)/, (_, f, line, col) => {
    const s = sources.get(f);
    return s ? `${s.snippet.file}:${s.snippet.line + Number(line) - 1 - s.offset}:${col}` : `${f}(${line},${col})`;
  }));
  expect(errors).toEqual([]);
});
