// docs/helm-values.md against the official chart's values.yaml: every key
// (flattened to its path) has a row, each row names a prop that exists on
// SecureMetricsServerProps (a dotted path through its options interfaces,
// read from the declarations in lib/ with the TypeScript parser) or gives a
// reason, and no row names a key the chart does not have.
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import * as ts from 'typescript';

const VALUES = path.join(__dirname, '..', '..', 'shared', 'reference', 'metrics-server-chart-3.13.1-values.yaml');
const DOC = path.join(__dirname, '..', 'docs', 'helm-values.md');
const LIB = path.join(__dirname, '..', 'lib');

/** Leaves of the values: scalars, lists and empty maps, by dotted path. */
function flatten(value: unknown, prefix = ''): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

interface Row { readonly key: string; readonly prop?: string; readonly note: string }

function rows(): Row[] {
  return readFileSync(DOC, 'utf8').split('\n')
    .map(line => /^\| `([^`]+)` \| (`[^`]+`|—) \|\s*(.*?)\s*\|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(m => ({ key: m[1], prop: m[2] === '—' ? undefined : m[2].slice(1, -1), note: m[3].trim() }));
}

/** Each interface of lib/: its properties with the name of their type. */
function interfaces(): Map<string, Map<string, string>> {
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap(e => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const decls = new Map<string, ts.InterfaceDeclaration>();
  for (const f of files(LIB)) {
    const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2020, true);
    sf.statements.filter(ts.isInterfaceDeclaration).forEach(d => decls.set(d.name.text, d));
  }
  const props = (d: ts.InterfaceDeclaration): Array<[string, string]> => [
    ...(d.heritageClauses ?? []).flatMap(h => h.types.flatMap(t => (decls.has(t.expression.getText()) ? props(decls.get(t.expression.getText())!) : []))),
    ...d.members.filter(ts.isPropertySignature).map(m => [m.name.getText(), m.type?.getText().replace(/\[\]$/, '') ?? ''] as [string, string]),
  ];
  return new Map([...decls].map(([name, d]) => [name, new Map(props(d))]));
}

/** Whether a dotted prop path exists from SecureMetricsServerProps. */
function propExists(all: Map<string, Map<string, string>>, prop: string): boolean {
  let iface: string | undefined = 'SecureMetricsServerProps';
  for (const part of prop.split('.')) {
    const members: Map<string, string> | undefined = iface ? all.get(iface) : undefined;
    if (!members?.has(part)) {
      return false;
    }
    iface = members.get(part);
  }
  return true;
}

const present = existsSync(VALUES);
if (!present && process.env.CI === 'true') {
  throw new Error(`${VALUES} is missing: the chart's values.yaml is required under CI`);
}
const maybe = present ? test : test.skip;

maybe('every key of the chart\'s values.yaml is in docs/helm-values.md, mapped to a prop or with a reason', () => {
  const keys = flatten(yaml.load(readFileSync(VALUES, 'utf8')));
  const doc = rows();
  const byKey = new Map(doc.map(r => [r.key, r]));
  expect(keys.length).toBeGreaterThan(100);
  expect(keys.filter(k => !byKey.has(k))).toEqual([]);
  // a row without a prop gives its reason
  expect(doc.filter(r => r.prop === undefined && r.note.length < 20).map(r => r.key)).toEqual([]);
  // no row for a key the chart does not have, and each key once
  expect(doc.map(r => r.key).filter(k => !keys.includes(k))).toEqual([]);
  expect(doc.length).toBe(new Set(doc.map(r => r.key)).size);
});

test('every prop docs/helm-values.md maps to exists on SecureMetricsServerProps', () => {
  const all = interfaces();
  const doc = rows();
  expect(doc.length).toBeGreaterThan(100);
  expect(propExists(all, 'addonResizer.image')).toBe(true);
  expect(propExists(all, 'addonResizer.nope')).toBe(false);
  expect(doc.filter(r => r.prop !== undefined && !propExists(all, r.prop)).map(r => `${r.key} -> ${r.prop}`)).toEqual([]);
});
