import { chmodSync, linkSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { SecureMetricsServer, ServingTls } from '../lib';
import { fixtureStore, tmp } from './helpers';

// A manifest that carries a private key is written 0600. A link planted where
// cdk8s writes the chart's file (dist/<chart>.k8s.yaml) made cdk8s write the
// key through it, into the link's target, which kept its mode 0644.

function synthInto(outdir: string): string[] {
  const app = new App({ outdir });
  app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
  const ms = new SecureMetricsServer(new Chart(app, 'metrics-server'), 'ms', { servingTls: ServingTls.fromDedicatedCa({ store: fixtureStore() }) });
  app.synth();
  return ms.node.findAll().flatMap(c => c.node.metadata).filter(m => m.type === SecureMetricsServer.WARNING_METADATA_TYPE).map(m => m.data as string);
}

test.each([
  ['a symbolic link', (target: string, at: string) => symlinkSync(target, at)],
  ['a hard link', (target: string, at: string) => linkSync(target, at)],
])('%s at the manifest path: the key never reaches its target, the manifest is a new 0600 file, and the synth says so', (_what, link) => {
  const out = tmp();
  const target = path.join(tmp(), 'world-readable.yaml');
  writeFileSync(target, 'before\n');
  // set explicitly: an earlier synth of this file may still hold the umask at 077
  chmodSync(target, 0o644);
  const manifest = path.join(out, 'metrics-server.k8s.yaml');
  link(target, manifest);
  const warnings = synthInto(out);
  expect(readFileSync(target, 'utf8')).toBe('before\n');
  expect(statSync(target).mode & 0o777).toBe(0o644);
  expect(lstatSync(manifest).isSymbolicLink()).toBe(false);
  expect(lstatSync(manifest).nlink).toBe(1);
  expect(lstatSync(manifest).mode & 0o777).toBe(0o600);
  expect(readFileSync(manifest, 'utf8')).toContain('tls.key');
  expect(warnings.some(w => w.includes(`'${manifest}' was a link`))).toBe(true);
});
