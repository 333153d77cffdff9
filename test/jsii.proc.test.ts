// The library as other languages see it: the jsii build (assembly and its
// diagnostics), the packed tarball, the Python bindings jsii-pacmak generates,
// and the packed assembly driven through the jsii runtime protocol, as the
// Python runtime drives it.
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'child_process';
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';
import { Yaml } from 'cdk8s';
import { decode, listTree, tmp } from './helpers';
import { packed } from './pack';

const root = path.join(__dirname, '..');
const bin = (pkg: string, file: string) => path.join(root, 'node_modules', pkg, file);

interface Diagnostic { readonly code: string; readonly file: string; readonly name: string }

/** Every jsii warning we accept, with the reason it stays (see CHANGELOG.md). */
const ACCEPTED_WARNINGS = [
  // reserved in C#; kept: the Kubernetes and cdk8s name (ChartProps.namespace)
  { code: 'JSII5018', file: 'lib/approver/kubelet-serving-cert-approver.ts', name: 'namespace' },
  { code: 'JSII5018', file: 'lib/approver/kubelet-serving-cert-approver.ts', name: 'namespace' },
  { code: 'JSII5018', file: 'lib/secure-metrics-server.ts', name: 'namespace' },
  { code: 'JSII5018', file: 'lib/secure-metrics-server.ts', name: 'namespace' },
  // reserved in C#; kept: the Kubernetes field name (k8s.Toleration.operator)
  { code: 'JSII5018', file: 'lib/scheduling.ts', name: 'operator' },
];

let jsiiStatus: number | null;
let jsiiOutput: string;
let assembly: any;
let tarball: string;
let pythonSource: string;

beforeAll(() => {
  // npm run build and npm pack, shared with the other tests of the package (test/pack.ts)
  const build = packed();
  jsiiStatus = build.jsiiStatus;
  jsiiOutput = build.jsiiOutput;
  if (jsiiStatus !== 0) {
    return;
  }
  assembly = JSON.parse(readFileSync(path.join(build.dir, '.jsii'), 'utf8'));
  // the tarball a user installs
  tarball = build.tarball;
  // Python bindings, code only (no Python toolchain needed); pacmak packs the
  // module again, without rebuilding it
  const outdir = tmp('sms-pacmak-');
  execFileSync(process.execPath, [bin('jsii-pacmak', 'bin/jsii-pacmak'), '--targets', 'python', '--code-only', '--outdir', outdir, '--no-npmignore'], {
    cwd: build.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_ignore_scripts: 'true' },
  });
  pythonSource = readFileSync(path.join(outdir, 'python', 'src', 'secure_metrics_server', '__init__.py'), 'utf8');
}, 300_000);

function diagnostics(output: string, level: 'error' | 'warning'): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const m of output.matchAll(new RegExp(`^(\\S+):\\d+:\\d+ - ${level} (JSII\\d+): "([^"]+)"`, 'gm'))) {
    found.push({ file: m[1], code: m[2], name: m[3] });
  }
  for (const m of output.matchAll(new RegExp(`^${level} (JSII\\d+): (.*)$`, 'gm'))) {
    found.push({ file: '', code: m[1], name: m[2] });
  }
  return found;
}

describe('jsii build', () => {
  test('compiles with no error and only the accepted warnings', () => {
    expect({ status: jsiiStatus, errors: diagnostics(jsiiOutput, 'error') }).toEqual({ status: 0, errors: [] });
    const sort = (ds: Diagnostic[]) => [...ds].sort((a, b) => `${a.file}${a.name}`.localeCompare(`${b.file}${b.name}`));
    expect(sort(diagnostics(jsiiOutput, 'warning'))).toEqual(sort(ACCEPTED_WARNINGS));
    expect(jsiiOutput).toMatch(/Errors: 0 \| Warnings: 5/);
  });

  test('constants are static members; no top-level constant and no member named default', () => {
    const sm = assembly.types['secure-metrics-server.SecureMetricsServer'];
    const statics = (fqn: string) => (assembly.types[fqn].properties ?? []).filter((p: any) => p.static).map((p: any) => [p.name, p.const === true]);
    expect(statics('secure-metrics-server.SecureMetricsServer')).toEqual(expect.arrayContaining([
      ['DEFAULT_IMAGE', true], ['INSECURE_ANNOTATION', true], ['HOSTNAME_TOPOLOGY_KEY', true],
      ['SILENCE_WARNINGS_CONTEXT', true], ['SILENCE_WARNINGS_ENV', true], ['WARNING_METADATA_TYPE', true],
    ]));
    expect(sm.methods.filter((m: any) => m.static).map((m: any) => m.name)).toEqual(['generatedKeyCount']);
    expect(statics('secure-metrics-server.CertificateStore')).toEqual([['DEFAULT_DIRECTORY', true]]);
    // the test helpers, as static methods beside cdk8s' Testing; their old places deprecated
    const methods = (fqn: string) => assembly.types[fqn].methods.map((m: any) => [m.name, m.static === true, m.docs?.deprecated !== undefined]);
    expect(methods('secure-metrics-server.SecureMetricsServerTesting')).toEqual([
      ['generatedKeyCount', true, false], ['redactForSnapshot', true, false], ['temporaryStore', true, false]]);
    expect(assembly.types['secure-metrics-server.SecureMetricsServerTesting'].initializer).toBeUndefined();
    expect(methods('secure-metrics-server.SecureMetricsServer')).toEqual([['generatedKeyCount', true, true]]);
    expect(methods('secure-metrics-server.CertificateStore')).toEqual(expect.arrayContaining([
      ['redactForSnapshot', true, true], ['temporary', true, true]]));
    expect(statics('secure-metrics-server.CertManagerIssuer')).toEqual([['INJECT_CA_FROM_ANNOTATION', true]]);
    expect(statics('secure-metrics-server.KubeletServingCertApprover').map((p: any) => p[0]).sort())
      .toEqual(['DEFAULT_IMAGE_REPOSITORY', 'DEFAULT_VERSION', 'LEASE_NAME', 'SIGNER_NAME']);
    for (const t of Object.values<any>(assembly.types)) {
      for (const member of [...(t.methods ?? []), ...(t.properties ?? [])]) {
        expect(`${t.name}.${member.name}`).not.toMatch(/\.default$/);
      }
    }
    // the insecure factories and the isInsecure properties no longer clash
    for (const fqn of ['secure-metrics-server.KubeletTls', 'secure-metrics-server.ServingTls']) {
      expect(assembly.types[fqn].methods.find((m: any) => m.name === 'insecure').static).toBe(true);
      expect(assembly.types[fqn].properties.filter((p: any) => !p.static).map((p: any) => p.name)).toEqual(['isInsecure']);
    }
    // the expiry annotation keys (docs/rotation.md)
    expect(statics('secure-metrics-server.ServingTls')).toEqual([['CA_NOT_AFTER_ANNOTATION', true], ['SERVING_NOT_AFTER_ANNOTATION', true]]);
  });

  test('node-forge and re2js are bundled and the jsii dependencies are peers', () => {
    expect(assembly.bundled).toEqual({ 'node-forge': expect.any(String), 're2js': expect.any(String) });
    expect(Object.keys(assembly.dependencies).sort()).toEqual(['cdk8s', 'cdk8s-plus-28', 'constructs']);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['cdk8s', 'cdk8s-plus-28', 'constructs']);
    expect(pkg.dependencies).toEqual({ 'node-forge': expect.any(String), 're2js': expect.any(String) });
  });

  test('the packed tarball ships the assembly, the compiled library, node-forge and re2js', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(files).toEqual(expect.arrayContaining([
      'package/.jsii', 'package/package.json', 'package/build/lib/index.js', 'package/build/lib/index.d.ts',
      'package/node_modules/node-forge/package.json',
      'package/node_modules/re2js/package.json',
    ]));
    expect(files.filter(f => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });
});

describe('Python bindings', () => {
  test('contain every public class, struct and enum of the assembly', () => {
    const types = Object.values<any>(assembly.types);
    expect(types.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const t of types) {
      const decorator = t.kind === 'enum' ? `@jsii.enum(jsii_type="${t.fqn}")`
        : t.kind === 'interface' && t.datatype ? `@jsii.data_type(\n    jsii_type="${t.fqn}",`
          : t.kind === 'interface' ? `@jsii.interface(jsii_type="${t.fqn}")`
            : `jsii_type="${t.fqn}"`;
      if (!pythonSource.includes(decorator) || !new RegExp(`^class ${t.name}\\b`, 'm').test(pythonSource)) {
        missing.push(`${t.kind} ${t.fqn}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the static constants and factories are there in Python naming', () => {
    for (const name of ['DEFAULT_IMAGE', 'INSECURE_ANNOTATION', 'SILENCE_WARNINGS_CONTEXT', 'DEFAULT_DIRECTORY', 'INJECT_CA_FROM_ANNOTATION', 'SIGNER_NAME']) {
      expect(pythonSource).toContain(`def ${name}(cls)`);
    }
    for (const name of ['from_dedicated_ca', 'from_default_directory', 'from_kube_root_ca', 'generated_key_count', 'is_insecure', 'temporary_store']) {
      expect(pythonSource).toContain(`def ${name}(`);
    }
  });

  test('the props take the peer\'s enums and one KeyAlgorithm: no second ImagePullPolicy or TaintEffect', () => {
    expect(pythonSource).not.toMatch(/^class (ImagePullPolicy|TaintEffect)\b/m);
    expect(pythonSource).toMatch(/image_pull_policy: typing\.Optional\["_cdk8s_plus_28_[0-9a-f]+\.ImagePullPolicy"\]/);
    expect(pythonSource).toMatch(/effect: typing\.Optional\["_cdk8s_plus_28_[0-9a-f]+\.TaintEffect"\]/);
    const certManager = pythonSource.slice(pythonSource.indexOf('class CertManagerServingTlsOptions'), pythonSource.indexOf('class CertificateStore('));
    expect(certManager).toContain('key_algorithm: typing.Optional["KeyAlgorithm"]');
    const plus = JSON.parse(readFileSync(path.join(root, 'node_modules', 'cdk8s-plus-28', '.jsii'), 'utf8'));
    const peerNames = new Set(Object.values<any>(plus.types).filter(t => !t.namespace).map(t => t.name));
    expect(Object.values<any>(assembly.types).map(t => t.name).filter(n => peerNames.has(n))).toEqual([]);
  });
});

/**
 * A client of the jsii runtime protocol (JSON lines on the runtime's standard
 * input and output), as the Python runtime speaks it.
 */
class JsiiRuntime {
  public readonly stderr: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private readonly exited: Promise<number | null>;

  constructor() {
    this.child = spawn(process.execPath, [bin('@jsii/runtime', 'bin/jsii-runtime')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', chunk => this.stderr.push(chunk));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    this.exited = new Promise(resolve => this.child.once('exit', resolve));
  }

  public async hello(): Promise<any> {
    return JSON.parse((await this.lines.next()).value);
  }

  public async request(req: object): Promise<any> {
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    const line = await this.lines.next();
    if (line.done) {
      throw new Error(`the runtime exited; stderr: ${this.output()}`);
    }
    const res = JSON.parse(line.value);
    if ('error' in res) {
      throw new Error(`${(req as any).api}: ${res.error}`);
    }
    return res.ok;
  }

  /** What the program wrote on its stdout and stderr (the runtime forwards both, base64, on its stderr). */
  public output(): string {
    return this.stderr.join('').split('\n').filter(l => l.startsWith('{')).map(l => {
      const m = JSON.parse(l);
      return Buffer.from(m.stderr ?? m.stdout ?? '', 'base64').toString('utf8');
    }).join('');
  }

  public async exit(): Promise<number | null> {
    if (this.child.exitCode === null && !this.child.stdin.writableEnded) {
      this.child.stdin.end(`${JSON.stringify({ exit: 0 })}\n`);
    }
    return this.exited;
  }
}

/** A package directory from node_modules as a tarball (what `npm pack` would give). */
function tarballOf(pkg: string): { name: string; version: string; tarball: string } {
  const dir = path.join(root, 'node_modules', pkg);
  const file = path.join(tmp('sms-tgz-'), `${pkg}.tgz`);
  execFileSync('tar', ['-czf', file, '-C', path.dirname(dir), path.basename(dir)]);
  return { name: pkg, version: JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version, tarball: file };
}

/** Values of type `any` come back as `$jsii.map` wrappers. */
function unwrap(value: any): any {
  if (Array.isArray(value)) {
    return value.map(unwrap);
  }
  if (value !== null && typeof value === 'object') {
    if ('$jsii.map' in value) {
      return unwrap(value['$jsii.map']);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

const struct = (fqn: string, data: object) => ({ '$jsii.struct': { fqn, data } });
const SMS = 'secure-metrics-server';

describe('jsii runtime protocol', () => {
  test('loads the packed assemblies, builds a SecureMetricsServer through static factories and synthesizes', async () => {
    const rt = new JsiiRuntime();
    try {
      expect((await rt.hello()).hello).toMatch(/^@jsii\/runtime@/);
      for (const dep of ['constructs', 'cdk8s', 'cdk8s-plus-28']) {
        const loaded = await rt.request({ api: 'load', ...tarballOf(dep) });
        expect(loaded.assembly).toBe(dep);
      }
      const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
      const own = await rt.request({ api: 'load', name: SMS, version, tarball });
      expect(own).toEqual({ assembly: SMS, types: Object.keys(assembly.types).length });

      // verified: a dedicated CA in a temporary store, the kubelet CA from a ConfigMap
      const outdir = tmp('sms-rt-out-');
      const app = await rt.request({ api: 'create', fqn: 'cdk8s.App', args: [struct('cdk8s.AppProps', { outdir })] });
      const chart = await rt.request({ api: 'create', fqn: 'cdk8s.Chart', args: [app, 'metrics'] });
      const storeDir = path.join(tmp('sms-rt-store-'), 'pki');
      const store = (await rt.request({ api: 'sinvoke', fqn: `${SMS}.CertificateStore`, method: 'fromDirectory', args: [storeDir] })).result;
      const servingTls = (await rt.request({
        api: 'sinvoke', fqn: `${SMS}.ServingTls`, method: 'fromDedicatedCa',
        args: [struct(`${SMS}.DedicatedCaServingTlsOptions`, { store })],
      })).result;
      const kubeletTls = (await rt.request({ api: 'sinvoke', fqn: `${SMS}.KubeletTls`, method: 'fromConfigMap', args: ['kubelet-ca', 'ca.pem'] })).result;
      expect((await rt.request({ api: 'get', objref: kubeletTls, property: 'isInsecure' })).value).toBe(false);
      const server = await rt.request({
        api: 'create', fqn: `${SMS}.SecureMetricsServer`,
        args: [chart, 'MetricsServer', struct(`${SMS}.SecureMetricsServerProps`, {
          servingTls, kubeletTls, namespace: 'monitoring', replicas: 2,
          podAntiAffinity: { '$jsii.enum': `${SMS}.PodAntiAffinity/PREFERRED` },
        })],
      });
      expect((await rt.request({ api: 'get', objref: server, property: 'warnings' })).value).toEqual([]);
      const caBundle = (await rt.request({ api: 'get', objref: server, property: 'caBundle' })).value;
      expect(caBundle).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const image = (await rt.request({ api: 'sget', fqn: `${SMS}.SecureMetricsServer`, property: 'DEFAULT_IMAGE' })).value;
      expect(image).toBe('registry.k8s.io/metrics-server/metrics-server:v0.8.1');
      expect((await rt.request({ api: 'sinvoke', fqn: `${SMS}.SecureMetricsServerTesting`, method: 'generatedKeyCount', args: [] })).result).toBe(2);

      const objects: any[] = unwrap((await rt.request({ api: 'invoke', objref: chart, method: 'toJson', args: [] })).result);
      const kind = (k: string) => objects.filter(o => o.kind === k);
      expect(objects.map(o => o.kind).sort()).toEqual(['APIService', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding',
        'Deployment', 'PodDisruptionBudget', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount']);
      expect(decode(kind('APIService')[0].spec.caBundle)).toBe(caBundle);
      expect(kind('APIService')[0].spec.service).toEqual({ name: 'metrics-server', namespace: 'monitoring', port: 443 });
      const deployment = kind('Deployment')[0];
      expect(deployment.metadata.namespace).toBe('monitoring');
      expect(deployment.spec.replicas).toBe(2);
      expect(deployment.spec.template.spec.containers[0].image).toBe(image);
      expect(deployment.spec.template.spec.containers[0].args).toContain('--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt');
      expect(deployment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
      expect(listTree(storeDir)).toEqual(expect.arrayContaining([
        'clusters/metrics/ca/ca.crt', 'clusters/metrics/ca/ca.key',
        'clusters/metrics/metrics-server.monitoring.svc.cluster.local/tls.crt', 'clusters/metrics/metrics-server.monitoring.svc.cluster.local/tls.key',
      ]));

      // app.synth() writes the YAML, as `cdk8s synth` of a Python app does
      await rt.request({ api: 'invoke', objref: app, method: 'synth', args: [] });
      const written = Yaml.load(path.join(outdir, readdirSync(outdir)[0]));
      expect(written).toEqual(objects);

      // insecure test mode in another App, with printing silenced through the context key
      const quietApp = await rt.request({ api: 'create', fqn: 'cdk8s.App', args: [struct('cdk8s.AppProps', { outdir: tmp() })] });
      const node = (await rt.request({ api: 'get', objref: quietApp, property: 'node' })).value;
      const key = (await rt.request({ api: 'sget', fqn: `${SMS}.SecureMetricsServer`, property: 'SILENCE_WARNINGS_CONTEXT' })).value;
      await rt.request({ api: 'invoke', objref: node, method: 'setContext', args: [key, true] });
      const quietChart = await rt.request({ api: 'create', fqn: 'cdk8s.Chart', args: [quietApp, 'test'] });
      const insecure = async (fqn: string) => (await rt.request({ api: 'sinvoke', fqn, method: 'insecure', args: [] })).result;
      const test = await rt.request({
        api: 'create', fqn: `${SMS}.SecureMetricsServer`,
        args: [quietChart, 'MetricsServer', struct(`${SMS}.SecureMetricsServerProps`, {
          servingTls: await insecure(`${SMS}.ServingTls`), kubeletTls: await insecure(`${SMS}.KubeletTls`),
        })],
      });
      const warnings = (await rt.request({ api: 'get', objref: test, property: 'warnings' })).value;
      expect(warnings).toEqual([expect.stringContaining('the kubelet hop is NOT verified'), expect.stringContaining('the APIService hop is NOT verified')]);
      expect((await rt.request({ api: 'get', objref: test, property: 'apiServiceInsecure' })).value).toBe(true);
      expect(await rt.exit()).toBe(0);
      expect(rt.output()).not.toContain('WARNING');
    } finally {
      await rt.exit().catch(() => undefined);
    }
  }, 120_000);
});
