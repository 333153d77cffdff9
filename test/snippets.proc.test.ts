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
//    `App`, `Chart`, `Duration`, `Size`, `Testing` (cdk8s), `Cpu`, `ImagePullPolicy`, `TaintEffect` (cdk8s-plus-28) and
//    `Construct` (constructs) in scope, so `new SecureMetricsServer(chart, ...)`
//    needs no preamble;
//  - a block whose first line is `// not compiled: <reason>` is skipped (say why).
// Unused names are allowed (snippets show a call, not a program). A failure
// names the Markdown file and line.
import { compiledSnippets, extractSnippets, formatDiagnostic, workspace } from './pack';

test('extractSnippets finds ts and typescript blocks with their lines, and no other language', () => {
  const md = ['# t', '```ts', 'a();', '```', '```sh', 'ls', '```', '  ```typescript', '  b();', '  c();', '  ```', '```tsx', 'x', '```'].join('\n');
  expect(extractSnippets('x.md', md)).toEqual([
    { file: 'x.md', line: 3, code: 'a();' },
    { file: 'x.md', line: 9, code: 'b();\nc();' },
  ]);
});

test('every TypeScript snippet in README.md and docs/*.md compiles against the packed package', () => {
  expect(compiledSnippets().length).toBeGreaterThanOrEqual(15);
  // compiled in the shared tsc run (test/pack.ts), errors mapped to the Markdown line
  const ws = workspace();
  expect([...ws.other, ...ws.diagnostics.filter(d => d.file.endsWith('.md')).map(formatDiagnostic)]).toEqual([]);
}, 300_000);
