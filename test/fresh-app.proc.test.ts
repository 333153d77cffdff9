// The packed tarball as a user meets it: installed (offline, from the npm
// cache) into a cdk8s app made from the official TypeScript template (see
// test/pack.ts), type-checked with the template's tsconfig and synthesized by
// `cdk8s synth`. Also what the tarball holds: only what the public types and
// the runtime need.
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { appCopy, formatDiagnostic, freshApp, packListing, ROOT, workspace } from './pack';

const exec = (file: string, args: string[], cwd: string) =>
  execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the packed tarball', () => {
  let files: string[];
  let byPath: Map<string, number>;
  beforeAll(() => {
    const listing = packListing();
    files = listing.files.map(f => f.path).sort();
    byPath = new Map(listing.files.map(f => [f.path, f.size]));
  }, 300_000);

  test('ships the licence, the docs, the assembly, JavaScript and declarations of lib/ and the cert-manager bindings code', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'API.md', '.jsii', 'package.json',
      'build/lib/index.js', 'build/lib/index.d.ts', 'build/imports/cert-manager.io.js']));
    const outside = files.filter(f => !/^build\/lib\/.*\.(js|d\.ts)$/.test(f)
      && !/^node_modules\/(node-forge|re2js)\//.test(f)
      // the bundled command and validation plugin with their notices, and the guides
      && !/^build\/(cli|validation-plugin)\/[^/]+\.(js|txt)$/.test(f)
      && !/^docs\/[^/]+\.md$/.test(f)
      && !['bin/secure-metrics-server.js', 'plugin/index.js'].includes(f)
      && !['LICENSE', 'README.md', 'CHANGELOG.md', 'API.md', '.jsii', 'package.json', 'build/imports/cert-manager.io.js', 'build/imports/monitoring.coreos.com.js'].includes(f));
    expect(outside).toEqual([]);
    // the licence is the Apache-2.0 text package.json names
    expect(byPath.get('LICENSE')).toBe(readFileSync(path.join(ROOT, 'LICENSE')).length);
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
  });

  test('no source map (they would name lib/*.ts, which is not shipped), and no declarations of the cert-manager bindings (no public type uses them)', () => {
    // (node-forge, bundled, ships its own dist/*.map next to the files they map)
    expect(files.filter(f => f.endsWith('.map') && !f.startsWith('node_modules/'))).toEqual([]);
    expect(files.filter(f => f.startsWith('build/imports/') && f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter(f => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    // nor a reference to one
    const installed = path.join(freshApp(), 'node_modules', 'secure-metrics-server');
    const js = files.filter(f => f.startsWith('build/') && f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(10);
    expect(js.filter(f => readFileSync(path.join(installed, f), 'utf8').includes('sourceMappingURL'))).toEqual([]);
    // no shipped declaration imports what is not shipped
    const dts = files.filter(f => f.endsWith('.d.ts'));
    const dangling = dts.flatMap(f => [...readFileSync(path.join(installed, f), 'utf8').matchAll(/from '(\.[^']+)'/g)]
      .map(m => path.join(path.dirname(f), m[1]))
      .filter(target => !files.includes(`${target}.d.ts`) && !files.includes(`${target}/index.d.ts`)));
    expect(dangling).toEqual([]);
  });

  test('package.json: peers the consumer owns, keywords, engines, repository', () => {
    const pkg = JSON.parse(readFileSync(path.join(freshApp(), 'node_modules', 'secure-metrics-server', 'package.json'), 'utf8'));
    expect(pkg.peerDependencies).toEqual({ 'cdk8s': expect.stringMatching(/^\^2\./), 'cdk8s-plus-28': expect.stringMatching(/^\^2\./), 'constructs': expect.stringMatching(/^\^10\./) });
    // none of them also as a dependency; node-forge and re2js bundled
    expect(pkg.dependencies).toEqual({ 'node-forge': expect.any(String), 're2js': expect.any(String) });
    expect(pkg.keywords).toEqual(expect.arrayContaining(['cdk8s', 'construct', 'metrics-server']));
    // the tests run on Node 20
    expect(pkg.engines).toEqual({ node: '>=20' });
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
    expect(pkg.repository).toEqual({ type: 'git', url: expect.stringMatching(/^https:\/\/github\.com\/.+\.git$/) });
    expect(pkg.license).toBe('Apache-2.0');
  });
});

describe('a fresh cdk8s app from the TypeScript template', () => {
  let dir: string;
  let diagnostics: string[];
  beforeAll(() => {
    // the template's main.ts with `new SecureMetricsServer(this, 'MetricsServer')`
    // where it says "define resources here", type-checked in the shared tsc run
    const ws = workspace();
    diagnostics = [...ws.other, ...ws.diagnostics.filter(d => !d.file.endsWith('.md') && !d.file.startsWith('examples/')).map(formatDiagnostic)];
    dir = appCopy('sms-fresh-app-');
  }, 300_000);

  test('resolves one copy of cdk8s and of constructs', () => {
    // every installed package directory of that name, nested ones included
    const copies = (name: string): string[] => {
      const found: string[] = [];
      const walk = (modules: string) => {
        for (const entry of existsSync(modules) ? readdirSync(modules) : []) {
          const scoped = entry.startsWith('@') ? readdirSync(path.join(modules, entry)).map(e => `${entry}/${e}`) : [entry];
          for (const pkg of scoped) {
            if (pkg === name) {
              found.push(path.join(modules, pkg));
            }
            walk(path.join(modules, pkg, 'node_modules'));
          }
        }
      };
      walk(path.join(dir, 'node_modules'));
      return found;
    };
    expect(copies('cdk8s')).toHaveLength(1);
    expect(copies('constructs')).toHaveLength(1);
    expect(copies('cdk8s-plus-28')).toHaveLength(1);
  });

  test('type-checks with the template tsconfig (declarations included) and synthesizes with cdk8s synth', () => {
    expect(readFileSync(path.join(dir, 'main.ts'), 'utf8')).toContain("new SecureMetricsServer(this, 'MetricsServer');");
    expect(diagnostics).toEqual([]);
    exec(process.execPath, [path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s'), 'synth', '--check-upgrade=false'], dir);
    expect(readdirSync(path.join(dir, 'dist'))).toEqual(['fresh-app.k8s.yaml']);
    const objects: any[] = Yaml.load(path.join(dir, 'dist', 'fresh-app.k8s.yaml'));
    expect(objects.map(o => o.kind).sort()).toEqual(['APIService', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding',
      'Deployment', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount']);
    const api = objects.find(o => o.kind === 'APIService');
    expect(api.spec.insecureSkipTLSVerify).toBeUndefined();
    expect(Buffer.from(api.spec.caBundle, 'base64').toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    // the dedicated CA went to the default store under the app directory
    expect(readdirSync(path.join(dir, '.secure-metrics-server', 'pki', 'clusters', 'fresh-app', 'ca')).sort()).toEqual(['ca.crt', 'ca.key', 'params.json']);
    // the command the package ships audits what it synthesized: nothing at or above high (exit 0),
    // the serving key in the Secret reported as the medium GitOps finding
    const audit = spawnSync(path.join(dir, 'node_modules', '.bin', 'secure-metrics-server'), ['audit', '--format', 'json', 'dist'], { cwd: dir, encoding: 'utf8' });
    expect(audit.stderr).toBe('');
    expect(audit.status).toBe(0);
    expect(JSON.parse(audit.stdout).findings.filter((f: any) => f.severity !== 'info').map((f: any) => `${f.ruleId} ${f.severity}`)).toEqual(['SMS015 medium']);
    // and reads the store the synth wrote: nothing expires within 30 days
    const status = spawnSync(path.join(dir, 'node_modules', '.bin', 'secure-metrics-server'), ['ca', 'status', '--fail-within', '30d'], { cwd: dir, encoding: 'utf8' });
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('fresh-app');
  });
});
