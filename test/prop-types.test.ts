import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as ts from 'typescript';
import { KubeletServingCertApprover, KubeletTls, Pem, SecureMetricsServer, ServingTls } from '../lib';

// Every property of every exported props and options interface, read from
// the type declarations of lib/ with the TypeScript compiler API (not a
// hand-picked list), given a value of the wrong type: the library must
// refuse it with an Error whose prop path names the property, never a bare
// TypeError. A new exported interface without an entry below fails too.

interface Prop { readonly name: string; readonly kind: string }
interface Iface { readonly name: string; readonly props: Prop[] }

function exportedInterfaces(): Iface[] {
  const index = path.join(__dirname, '..', 'lib', 'index.ts');
  const program = ts.createProgram([index], { strict: true, target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const out: Iface[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & ts.SymbolFlags.Interface)) {
      continue;
    }
    const decl = symbol.declarations![0];
    if (ts.getJSDocTags(decl).some(t => t.tagName.text === 'internal') || !decl.getSourceFile().fileName.includes(`${path.sep}lib${path.sep}`)) {
      continue;
    }
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    const props = checker.getPropertiesOfType(type).map(p => ({ name: p.name, kind: kindOf(checker, checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(p, decl))) }));
    out.push({ name: symbol.name, props });
  }
  return out;
}

function kindOf(checker: ts.TypeChecker, type: ts.Type): string {
  if (type.flags & ts.TypeFlags.String) {
    return 'string';
  }
  if (type.flags & ts.TypeFlags.Number) {
    return 'number';
  }
  if (type.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) {
    return 'boolean';
  }
  if (type.flags & (ts.TypeFlags.EnumLiteral | ts.TypeFlags.Enum) || (type.isUnion() && type.types.every(t => t.flags & ts.TypeFlags.EnumLiteral))) {
    return 'enum';
  }
  if (checker.isArrayType(type)) {
    return 'array';
  }
  if (type.getSymbol() && type.getSymbol()!.flags & ts.SymbolFlags.Class) {
    return 'class';
  }
  if (checker.getIndexInfosOfType(type).length > 0) {
    return 'map';
  }
  return 'struct';
}

/** Values of the wrong type for each kind of prop (a number as a string, a plain object for a strategy...). */
const WRONG: { [kind: string]: unknown[] } = {
  string: [42, {}],
  number: ['5', true],
  boolean: ['yes', 1],
  enum: ['NOT_A_MEMBER', 3],
  array: [{}, 'a,b'],
  class: [{}, 'x'],
  map: [42, ['a']],
  struct: [42, 'x'],
};

const REGEX = '^k8s-\\d+\\.example\\.com$';
const chart = () => new Chart(Testing.app(), 'c');
const pem = Pem.fromString('');
/** The options of a ServingTls strategy are checked when the construct binds it, under the prop `servingTls`. */
const bindServing = (servingTls: ServingTls) => new SecureMetricsServer(chart(), 'm', { servingTls, kubeletTls: KubeletTls.insecure() });

/** How each interface reaches the library, and the prop path its props appear under. */
const ENTRIES: { [iface: string]: { prefix: string; factory?: string; run: (props: any) => unknown } } = {
  SecureMetricsServerProps: { prefix: '', run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), ...p }) },
  ProductionProps: { prefix: '', run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), ...p }) },
  Toleration: { prefix: 'tolerations[0].', run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), tolerations: [{ key: 'a', ...p }] }) },
  TopologySpreadConstraint: {
    prefix: 'topologySpreadConstraints[0].',
    run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), topologySpreadConstraints: [{ topologyKey: 'zone', ...p }] }),
  },
  KubeletServingCertApproverOptions: {
    prefix: 'kubeletServingCertApprover.',
    run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), kubeletServingCertApprover: { providerRegex: REGEX, ...p } }),
  },
  KubeletServingCertApproverProps: { prefix: '', run: p => new KubeletServingCertApprover(chart(), 'a', { providerRegex: REGEX, ...p }) },
  IssuedServingTlsOptions: { prefix: 'servingTls.', run: p => bindServing(ServingTls.fromDedicatedCa(p)) },
  DedicatedCaServingTlsOptions: { prefix: 'servingTls.', factory: 'ServingTls.fromCa', run: p => bindServing(ServingTls.fromDedicatedCa(p)) },
  CaServingTlsOptions: { prefix: 'servingTls.', factory: 'ServingTls.fromCa', run: p => bindServing(ServingTls.fromCa({ caCertificate: pem, caKey: pem, ...p })) },
  PemServingTlsOptions: { prefix: 'servingTls.', factory: 'ServingTls.fromPem', run: p => bindServing(ServingTls.fromPem({ certificate: pem, privateKey: pem, caBundle: pem, ...p })) },
  ExistingSecretServingTlsOptions: { prefix: 'servingTls.', factory: 'ServingTls.fromExistingSecret', run: p => bindServing(ServingTls.fromExistingSecret({ secretName: 'tls', caBundle: pem, ...p })) },
  CertManagerServingTlsOptions: { prefix: 'servingTls.', run: p => bindServing(ServingTls.fromCertManager(p)) },
};

const interfaces = exportedInterfaces();
const cases = interfaces.flatMap(i => i.props.flatMap(p => WRONG[p.kind].map(value => [i.name, p.name, p.kind, value] as const)));

function errorOf(fn: () => unknown): Error | undefined {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as any;
  try {
    fn();
    return undefined;
  } catch (e: any) {
    return e;
  } finally {
    process.stderr.write = write;
  }
}

test('the walker finds the exported props and options interfaces and their properties', () => {
  expect(interfaces.map(i => i.name)).toEqual(expect.arrayContaining(['SecureMetricsServerProps', 'CaServingTlsOptions', 'KubeletServingCertApproverOptions']));
  expect(interfaces.find(i => i.name === 'SecureMetricsServerProps')!.props.map(p => p.name)).toEqual(expect.arrayContaining(['servingTls', 'replicas', 'tolerations']));
  expect(cases.length).toBeGreaterThan(150);
});

test('every exported props and options interface has an entry', () => {
  expect(interfaces.map(i => i.name).filter(n => !ENTRIES[n])).toEqual([]);
});

test.each(cases)('%s.%s (%s) given %p is refused naming the prop', (iface, prop, _kind, value) => {
  const entry = ENTRIES[iface];
  const error = errorOf(() => entry.run({ [prop]: value }));
  expect(error).toBeDefined();
  expect(error).not.toBeInstanceOf(TypeError);
  const pathPart = error!.message.slice(0, error!.message.indexOf(': '));
  // the prop path is the entry's (e.g. servingTls.validity), or the factory's for options checked when the strategy is made (ServingTls.fromCa.caKey)
  const expected = [entry.prefix + prop, ...(entry.factory ? [`${entry.factory}.${prop}`] : [])];
  expect(`${pathPart} | ${error!.message}`).toMatch(new RegExp(`^(${expected.map(e => e.replace(/[.[\]]/g, '\\$&')).join('|')})(\\[\\d+\\])? \\| `));
});

test.each([
  ['SecureMetricsServer', () => new SecureMetricsServer(chart(), 'm', null as any), 'props: got null; pass an object (SecureMetricsServerProps), or nothing for the defaults'],
  ['KubeletServingCertApprover', () => new KubeletServingCertApprover(chart(), 'a', null as any), 'props: got null; pass an object (KubeletServingCertApproverProps)'],
  ['ServingTls.fromCa', () => ServingTls.fromCa(null as any), 'ServingTls.fromCa: got null; pass an object (CaServingTlsOptions)'],
  ['ServingTls.fromPem', () => ServingTls.fromPem('x' as any), "ServingTls.fromPem: got the string 'x'; pass an object (PemServingTlsOptions)"],
  ['servingTls: {}', () => new SecureMetricsServer(chart(), 'm', { servingTls: {} as any }), 'servingTls: got a plain object; pass a ServingTls (e.g. ServingTls.fromDedicatedCa())'],
  ['securePort as a string', () => new SecureMetricsServer(chart(), 'm', { securePort: '443' as any }), "securePort: got the string '443'; pass a number (e.g. 10250)"],
])('%s: a message naming the prop', (_name, fn, message) => {
  expect(errorOf(fn)?.message).toBe(message);
});
