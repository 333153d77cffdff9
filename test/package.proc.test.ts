import { execFileSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { tmp } from './helpers';
import { packed } from './pack';

test('the package builds to JavaScript with declarations, and its entry point synthesizes', () => {
  // npm run build, shared with the other tests of the package (test/pack.ts)
  const build = packed();
  expect(build.jsiiStatus).toBe(0);
  const pkg = JSON.parse(readFileSync(path.join(build.dir, 'package.json'), 'utf8'));
  const main = path.join(build.dir, pkg.main);
  expect(existsSync(main)).toBe(true);
  expect(existsSync(path.join(build.dir, pkg.types))).toBe(true);
  // a plain Node process, no TypeScript runner: what a user of the published package runs
  const script = `
    const { App, Chart } = require('cdk8s');
    const { SecureMetricsServer, ServingTls, KubeletTls } = require(${JSON.stringify(main)});
    const app = new App({ outdir: ${JSON.stringify(tmp())} });
    const chart = new Chart(app, 'c');
    new SecureMetricsServer(chart, 'M', { servingTls: ServingTls.insecure(), kubeletTls: KubeletTls.insecure() });
    process.stdout.write(JSON.stringify(chart.toJson().map(o => o.kind)));
  `;
  const env = { ...process.env, SECURE_METRICS_SERVER_SILENCE_WARNINGS: '1' };
  const kinds = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: build.dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  expect(kinds.sort()).toEqual(['APIService', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'RoleBinding', 'Service', 'ServiceAccount']);
});
