import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as ts from 'typescript';
import { CertificateStore, KubeletServingCertApprover, KubeletTls, Pem, SecretOutput, SecureMetricsServer, ServingTls, SharedCertificateStore } from '../lib';

// Every property of every exported props and options interface, read from
// the declarations in lib/ with the TypeScript compiler API (its parser:
// fast, no type checking of the dependencies), not a hand-picked list, given a
// value of the wrong type: the library must refuse it with an Error whose
// prop path names the property, never a bare TypeError. A new exported
// interface without an entry below fails too.

interface Prop { readonly name: string; readonly kind: string }
interface Iface { readonly name: string; readonly props: Prop[] }

const LIB = path.join(__dirname, '..', 'lib');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function isInternal(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some(t => t.tagName.text === 'internal');
}

function exportedInterfaces(): Iface[] {
  const files = new Map(sourceFiles(LIB).map(f => [f, ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2020, true)]));
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  const enums = new Set<string>();
  const classes = new Set<string>();
  /** names imported from packages, by file: the package's runtime value tells a class from an interface */
  const external = new Map<string, string>();
  const exportedBy = new Map<string, string[]>();
  for (const [file, sf] of files) {
    const names: string[] = [];
    for (const st of sf.statements) {
      const exported = ts.canHaveModifiers(st) && ts.getModifiers(st)?.some(m => m.kind === ts.SyntaxKind.ExportKeyword);
      if (ts.isInterfaceDeclaration(st) && exported && !isInternal(st)) {
        interfaces.set(st.name.text, st);
        names.push(st.name.text);
      } else if (ts.isEnumDeclaration(st)) {
        enums.add(st.name.text);
      } else if (ts.isClassDeclaration(st) && st.name) {
        classes.add(st.name.text);
      } else if (ts.isImportDeclaration(st) && !(st.moduleSpecifier as ts.StringLiteral).text.startsWith('.')) {
        const bindings = st.importClause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) {
          bindings.elements.forEach(e => external.set(e.name.text, (st.moduleSpecifier as ts.StringLiteral).text));
        }
      }
    }
    exportedBy.set(file, names);
  }
  // what lib/index.ts exports: `export * from`, `export { A } from`, `export type { A } from`
  const fromIndex = new Set<string>();
  for (const st of files.get(path.join(LIB, 'index.ts'))!.statements) {
    if (ts.isExportDeclaration(st) && st.moduleSpecifier) {
      const target = path.join(LIB, `${(st.moduleSpecifier as ts.StringLiteral).text}.ts`);
      const names = st.exportClause && ts.isNamedExports(st.exportClause) ? st.exportClause.elements.map(e => e.name.text) : exportedBy.get(target) ?? [];
      names.forEach(n => fromIndex.add(n));
    }
  }
  const kindOf = (type: ts.TypeNode | undefined): string => {
    if (!type) {
      return 'unknown';
    }
    switch (type.kind) {
      case ts.SyntaxKind.StringKeyword: return 'string';
      case ts.SyntaxKind.NumberKeyword: return 'number';
      case ts.SyntaxKind.BooleanKeyword: return 'boolean';
      case ts.SyntaxKind.ArrayType: return 'array';
      case ts.SyntaxKind.TypeLiteral: return (type as ts.TypeLiteralNode).members.some(ts.isIndexSignatureDeclaration) ? 'map' : 'struct';
    }
    if (ts.isTypeReferenceNode(type)) {
      const name = type.typeName.getText();
      if (enums.has(name)) {
        return 'enum';
      }
      if (classes.has(name)) {
        return 'class';
      }
      if (interfaces.has(name)) {
        return 'struct';
      }
      const pkg = external.get(name);
      if (pkg) {
        return typeof require(pkg)[name] === 'function' ? 'class' : 'struct';
      }
    }
    return 'unknown';
  };
  const propsOf = (decl: ts.InterfaceDeclaration): Prop[] => [
    ...(decl.heritageClauses ?? []).flatMap(h => h.types.flatMap(t => (interfaces.has(t.expression.getText())
      ? propsOf(interfaces.get(t.expression.getText())!) : []))),
    ...decl.members.filter(ts.isPropertySignature).map(m => ({ name: m.name.getText(), kind: kindOf(m.type) })),
  ];
  return [...interfaces.entries()].filter(([name]) => fromIndex.has(name)).map(([name, decl]) => ({ name, props: propsOf(decl) }));
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
  CertificateStoreOptions: { prefix: '', factory: 'CertificateStore.fromDirectory', run: p => CertificateStore.fromDirectory('unused-store', p) },
  // issue 21 (gitops): the shared store and the Secret output forms
  SharedCertificateStoreOptions: { prefix: '', factory: 'SharedCertificateStore.fromDirectory', run: p => SharedCertificateStore.fromDirectory('unused-store', p) },
  SealedSecretOutputOptions: { prefix: '', factory: 'SecretOutput.sealedSecret', run: p => SecretOutput.sealedSecret({ controllerCertificate: pem, ...p }) },
  SopsSecretOutputOptions: { prefix: '', factory: 'SecretOutput.sopsSecret', run: p => SecretOutput.sopsSecret({ ageRecipients: [], ...p }) },
  // the chart-values groups (lib/chart-values.ts), all props of SecureMetricsServerProps
  ...Object.fromEntries(['ChartValuesProps', 'IdentityOptions', 'RolloutOptions', 'PodOptions', 'ServiceOptions', 'ExtraVolumesOptions', 'MonitoringOptions']
    .map(name => [name, { prefix: '', run: (p: any) => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), ...p }) }])),
  AddonResizerOptions: { prefix: 'addonResizer.', run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), addonResizer: p }) },
  ProbeTiming: { prefix: 'livenessProbe.', run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), livenessProbe: p }) },
  RelabelConfig: { prefix: 'serviceMonitorRelabelings[0].', run: p => new SecureMetricsServer(chart(), 'm', { servingTls: ServingTls.insecure(), serviceMonitorRelabelings: [p] }) },
};

const interfaces = exportedInterfaces();
const cases = interfaces.flatMap(i => i.props.flatMap(p => (WRONG[p.kind] ?? []).map(value => [i.name, p.name, p.kind, value] as const)));

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

test('the walker finds the exported props and options interfaces and their properties, each of a known kind', () => {
  expect(interfaces.flatMap(i => i.props.filter(p => !WRONG[p.kind]).map(p => `${i.name}.${p.name}: ${p.kind}`))).toEqual([]);
  expect(interfaces.map(i => i.name)).toEqual(expect.arrayContaining(['SecureMetricsServerProps', 'CaServingTlsOptions', 'KubeletServingCertApproverOptions']));
  expect(interfaces.find(i => i.name === 'SecureMetricsServerProps')!.props.map(p => p.name)).toEqual(expect.arrayContaining(['servingTls', 'replicas', 'tolerations']));
  expect(cases.length).toBeGreaterThan(150);
});

test('every exported props and options interface has an entry', () => {
  expect(interfaces.map(i => i.name).filter(n => !ENTRIES[n])).toEqual([]);
});

/**
 * The props whose wrong types are refused by a check of their own wording, not
 * by the runtime schema beside their interface (lib/k8s/prop-types.ts): the
 * enums, checked where they are resolved, and cert-manager's options, checked
 * by lib/tls/cert-manager.ts. Every other prop's refusal is the schema's (its
 * "got ...; pass ..."), which shows each schema entry reachable and firing.
 */
const OWN_CHECKS = new Set([
  'ProductionProps.podAntiAffinity', 'ProductionProps.imagePullPolicy', 'SecureMetricsServerProps.podAntiAffinity', 'SecureMetricsServerProps.imagePullPolicy',
  'Toleration.operator', 'Toleration.effect',
  ...['issuer', 'duration', 'renewBefore', 'keyAlgorithm', 'keySize', 'secretName', 'caDuration'].map(o => `CertManagerServingTlsOptions.${o}`),
]);

test.each(cases)('%s.%s (%s) given %p is refused naming the prop', (iface, prop, _kind, value) => {
  const entry = ENTRIES[iface];
  const error = errorOf(() => entry.run({ [prop]: value }));
  expect(error).toBeDefined();
  expect(error).not.toBeInstanceOf(TypeError);
  const pathPart = error!.message.slice(0, error!.message.indexOf(': '));
  // the schema's check fired (its wording), unless the prop has a check of its own
  if (!OWN_CHECKS.has(`${iface}.${prop}`)) {
    expect(error!.message).toMatch(/^\S+: got .*; pass /);
  }
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
