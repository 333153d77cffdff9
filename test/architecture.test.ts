// The architecture of lib/ (docs/development.md, "Architecture"), enforced:
// every import of every lib/**/*.ts file, read with the TypeScript compiler
// API (its parser only: `import`, `export ... from`, `import type`,
// `require(...)`, `import(...)` and `typeof import(...)`), must go from a
// module to one it may import, no two files may import each other through
// any chain, and no file grows past the line ceiling unless named below.
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');
const LIB = path.join(ROOT, 'lib');

/**
 * What each module may import, besides itself. A module is a folder of lib/;
 * the construct files (lib/*.ts) and lib/approver/ are one module,
 * 'constructs'. Lower never imports higher: k8s < x509 < store < tls < constructs.
 */
const MAY_IMPORT: { readonly [module: string]: readonly string[] } = {
  // the Kubernetes and metrics-server facts everyone shares, and the prop checks
  'k8s': [],
  // the one X.509 verifier and the PKI that builds CAs and leaves
  'x509': ['k8s'],
  // the certificate store: files, lock, issuance, rotation, Pem inputs
  'store': ['k8s', 'x509'],
  // the serving and kubelet TLS strategies
  'tls': ['k8s', 'x509', 'store'],
  // the constructs; references.ts checks the pods it writes with the audit's mount model (rules/mounts.ts)
  'constructs': ['k8s', 'x509', 'store', 'tls', 'rules'],
  // the audit rule engine
  'rules': ['k8s', 'x509'],
  // reading manifests into the rules' object model (rules/types.ts)
  'manifests': ['k8s', 'rules'],
  // doctor's read of a live cluster
  'cluster': ['k8s', 'x509', 'rules', 'manifests'],
  // the command: anything
  'cli': ['k8s', 'x509', 'store', 'tls', 'constructs', 'rules', 'manifests', 'cluster'],
  // the cdk8s validation plugin
  'validation-plugin': ['rules', 'manifests'],
};

/** Where lib/ may reach outside itself (relative imports): the generated cert-manager and Prometheus operator types. */
const OUTSIDE_LIB: readonly string[] = ['imports/cert-manager.io', 'imports/monitoring.coreos.com'];

/** Import circles allowed, each with its reason (files relative to lib/). */
const ALLOWED_CYCLES: { readonly files: readonly string[]; readonly reason: string }[] = [];

/** The line ceiling of a lib/ file, and the files allowed above it, each with its reason. */
const MAX_LINES = 400;
const LARGE_FILES: { readonly [file: string]: string } = {
  'approver/kubelet-serving-cert-approver.ts': 'one construct: its props (documented for four languages), their schema, RBAC, Deployment; the RE2 and CIDR policy is in provider-policy.ts, IPs in k8s/ip.ts',
  'secure-metrics-server.ts': 'the main construct: its props (the public API, documented), their schema and the composition of the parts, each of which has its own file',
  'tls/serving-tls.ts': 'ServingTls and the strategies that extend it: a subclass in another file would import the class that names it in its static factories (an import circle); cert-manager shows the way out (a bind object without the class), not done yet for the others',
  'k8s/metrics-server-flags.ts': 'the flag table of metrics-server v0.8 (about 110 lines of data) and its grammar: one concept, as pflag reads it',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => (e.isDirectory()
    ? sourceFiles(path.join(dir, e.name))
    : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : []));
}

/** The module of a file under lib/ (relative path). */
function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 1 || parts[0] === 'approver' ? 'constructs' : parts[0];
}

/** Every module specifier a file names, with its line. */
function specifiers(file: string): { spec: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2020, true);
  const found: { spec: string; line: number }[] = [];
  const add = (node: ts.Node, lit: ts.Expression | undefined) => {
    if (lit && ts.isStringLiteralLike(lit)) {
      found.push({ spec: lit.text, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node)
      && ((ts.isIdentifier(node.expression) && node.expression.text === 'require') || node.expression.kind === ts.SyntaxKind.ImportKeyword)) {
      add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal as ts.Expression);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The lib/ file a relative specifier names (relative to lib/), or its path outside lib/. */
function resolveSpec(from: string, spec: string): { inLib?: string; outside?: string } {
  const abs = path.resolve(path.dirname(from), spec);
  const rel = path.relative(LIB, abs);
  if (rel.startsWith('..')) {
    return { outside: path.relative(ROOT, abs) };
  }
  for (const candidate of [`${abs}.ts`, path.join(abs, 'index.ts'), abs]) {
    if (files.includes(candidate)) {
      return { inLib: path.relative(LIB, candidate) };
    }
  }
  throw new Error(`${path.relative(ROOT, from)}: '${spec}' names no file of lib/`);
}

const files = sourceFiles(LIB).sort();
/** file (relative to lib/) -> the lib files it imports, with the line of each */
const graph = new Map<string, { to: string; line: number }[]>();
const outside: string[] = [];
for (const file of files) {
  const rel = path.relative(LIB, file);
  const edges: { to: string; line: number }[] = [];
  for (const { spec, line } of specifiers(file)) {
    if (!spec.startsWith('.')) {
      continue;
    }
    const target = resolveSpec(file, spec);
    if (target.inLib !== undefined) {
      edges.push({ to: target.inLib, line });
    } else if (!OUTSIDE_LIB.includes(target.outside!)) {
      outside.push(`lib/${rel}:${line} imports ${target.outside}`);
    }
  }
  graph.set(rel, edges);
}

/** The strongly connected components with more than one file (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!indices.has(to)) {
        strong(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v)!, indices.get(to)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).some(e => e.to === v)) {
        found.push(component.sort());
      }
    }
  };
  for (const v of graph.keys()) {
    if (!indices.has(v)) {
      strong(v);
    }
  }
  return found;
}

test('the import graph was read: every lib file, and the edges a change of layout would break', () => {
  expect(files.length).toBeGreaterThan(50);
  // a few edges that must be seen, so that a parser that sees nothing cannot pass
  expect(graph.get('secure-metrics-server.ts')!.map(e => e.to)).toContain('tls/serving-tls.ts');
  expect(graph.get('x509/go-text.ts')!.map(e => e.to)).toContain('x509/x509.ts');
  expect(moduleOf('approver/kubelet-serving-cert-approver.ts')).toBe('constructs');
  expect(moduleOf('index.ts')).toBe('constructs');
});

test('every module of lib/ is named in the import rules', () => {
  const modules = [...new Set(files.map(f => moduleOf(path.relative(LIB, f))))].sort();
  expect(modules).toEqual(Object.keys(MAY_IMPORT).sort());
});

test('no import from a module to one it may not import (lower never imports higher)', () => {
  const wrong: string[] = [];
  for (const [from, edges] of graph) {
    const m = moduleOf(from);
    for (const { to, line } of edges) {
      const n = moduleOf(to);
      if (n !== m && !MAY_IMPORT[m].includes(n)) {
        wrong.push(`lib/${from}:${line} (${m}) imports lib/${to} (${n}); ${m} may import ${MAY_IMPORT[m].join(', ') || 'nothing of lib/'}`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

test('lib/ reaches outside itself only for the generated cert-manager and monitoring.coreos.com types', () => {
  expect(outside).toEqual([]);
});

test('no import circle among the files of lib/ (type-only imports and lazy requires count too)', () => {
  const allowed = new Set(ALLOWED_CYCLES.map(c => [...c.files].sort().join(' ')));
  expect(cycles().map(c => c.join(' ')).filter(c => !allowed.has(c))).toEqual([]);
});

test(`no lib file over ${MAX_LINES} lines unless named, with its reason, in LARGE_FILES; none named that is not`, () => {
  const lines = Object.fromEntries(files.map(f => [path.relative(LIB, f), readFileSync(f, 'utf8').split('\n').length - 1]));
  const over = Object.keys(lines).filter(f => lines[f] > MAX_LINES && !(f in LARGE_FILES)).map(f => `lib/${f}: ${lines[f]} lines`);
  expect(over).toEqual([]);
  // a file named that shrank below the ceiling (or is gone) leaves the list
  expect(Object.keys(LARGE_FILES).filter(f => !(lines[f] > MAX_LINES))).toEqual([]);
});

test('the checks fail on what they are for: a circle and an upward import are found', () => {
  // the Tarjan search and the module rule, on a graph made to break them
  const saved = new Map(graph);
  try {
    graph.clear();
    graph.set('k8s/a.ts', [{ to: 'x509/b.ts', line: 1 }]);
    graph.set('x509/b.ts', [{ to: 'k8s/a.ts', line: 1 }]);
    expect(cycles()).toEqual([['k8s/a.ts', 'x509/b.ts']]);
    expect(MAY_IMPORT[moduleOf('k8s/a.ts')]).not.toContain(moduleOf('x509/b.ts'));
  } finally {
    graph.clear();
    saved.forEach((v, k) => graph.set(k, v));
  }
});

test('no module reads meaning out of another module\'s error text: no regular expression over an error message', () => {
  // callers tell refusals apart by their fields (X509Refusal's prop, reason, fix, code); reading the first
  // line of a foreign library's message for display is fine, matching or cutting it is not
  const reading = /\.message\b[^;\n]*\.(replace|match|test|exec|search)\(|\.(test|exec|match)\([^)\n]*\.message\b/;
  const found = files.flatMap(f => readFileSync(f, 'utf8').split('\n')
    .map((line, i) => ({ line, at: `lib/${path.relative(LIB, f)}:${i + 1}` }))
    .filter(({ line }) => reading.test(line))
    .map(({ at, line }) => `${at}: ${line.trim()}`));
  expect(found).toEqual([]);
});
