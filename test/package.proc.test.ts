import { execFileSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { tmp } from './helpers';

const root = path.join(__dirname, '..');

test('the package builds to JavaScript with declarations, and its entry point synthesizes', () => {
  const outDir = tmp('sms-build-');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root, stdio: 'pipe' });
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const main = path.join(outDir, path.relative('build', pkg.main));
  expect(existsSync(main)).toBe(true);
  expect(existsSync(path.join(outDir, path.relative('build', pkg.types)))).toBe(true);
  // a plain Node process, no TypeScript runner: what a user of the published package runs
  const script = `
    const { App, Chart } = require('cdk8s');
    const { SecureMetricsServer, ServingTls, KubeletTls } = require(${JSON.stringify(main)});
    const app = new App({ outdir: ${JSON.stringify(tmp())} });
    const chart = new Chart(app, 'c');
    new SecureMetricsServer(chart, 'M', { servingTls: ServingTls.insecure(), kubeletTls: KubeletTls.insecure() });
    process.stdout.write(JSON.stringify(chart.toJson().map(o => o.kind)));
  `;
  // the build lives outside the repository: let it find the dependencies as an installed package would
  const env = { ...process.env, NODE_PATH: path.join(root, 'node_modules') };
  const kinds = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  expect(kinds.sort()).toEqual(['APIService', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'RoleBinding', 'Service', 'ServiceAccount']);
});
