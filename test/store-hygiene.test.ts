import { generateKeyPairSync } from 'crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { SecureMetricsServer, SecureMetricsServerTesting, ServingTls } from '../lib';
import { fixtureStore, tmp } from './helpers';

// Secret hygiene (issue 18, item 13).

describe('a manifest that carries a private key is written 0600', () => {
  test('app.synth(): the chart file is created 0600, and one left 0644 by an earlier synth is narrowed', async () => {
    const original = process.umask();
    const outdir = tmp();
    const make = () => {
      const app = new App({ outdir });
      app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
      new SecureMetricsServer(new Chart(app, 'cluster-a'), 'M', { servingTls: ServingTls.fromDedicatedCa({ store: fixtureStore() }) });
      return app;
    };
    const file = path.join(outdir, 'cluster-a.k8s.yaml');
    make().synth();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o644);
    make().synth();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // one app synthesized twice: synthYaml, then synth on a later turn of the event loop
    rmSync(file);
    const app = make();
    app.synthYaml();
    await new Promise(r => setImmediate(r));
    // the process umask is back to what it was, after synths in one turn as after one
    expect(process.umask()).toBe(original);
    app.synth();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await new Promise(r => setImmediate(r));
    expect(process.umask()).toBe(original);
  });

  test('without a private key (insecure) nothing changes the mode', async () => {
    const outdir = tmp();
    const app = new App({ outdir });
    app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
    new SecureMetricsServer(new Chart(app, 'c'), 'M', { servingTls: ServingTls.insecure() as any });
    // the umask of a synth with a key is restored on the next turn of the event loop
    await new Promise(r => setImmediate(r));
    app.synth();
    expect(statSync(path.join(outdir, 'c.k8s.yaml')).mode & 0o777).toBe(0o666 & ~process.umask());
  });
});

describe('SecureMetricsServerTesting.temporaryStore()', () => {
  test('its directories, keys included, are deleted when the process exits', () => {
    const before = process.listeners('exit').length;
    const a = SecureMetricsServerTesting.temporaryStore();
    const b = SecureMetricsServerTesting.temporaryStore();
    mkdirSync(path.join(a.directory, 'clusters'), { recursive: true });
    writeFileSync(path.join(a.directory, 'clusters', 'x.key'), 'key', { mode: 0o600 });
    const added = process.listeners('exit').slice(before);
    expect(added.length).toBeGreaterThanOrEqual(1);
    for (const l of added) {
      process.removeListener('exit', l);
      (l as () => void)();
    }
    expect([existsSync(a.directory), existsSync(b.directory)]).toEqual([false, false]);
  });
});

describe('redactForSnapshot covers every form a key takes', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const pkcs8Pem = ec.export({ type: 'pkcs8', format: 'pem' }) as string;
  const sec1Pem = ec.export({ type: 'sec1', format: 'pem' }) as string;
  const pkcs8Der = ec.export({ type: 'pkcs8', format: 'der' }) as Buffer;
  const sec1Der = ec.export({ type: 'sec1', format: 'der' }) as Buffer;
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
  const body = (pem: string) => pem.split('\n').slice(1, -2).join('');

  test('PEM or DER, raw or base64, in any kind and field, in annotations and in Lists', () => {
    const manifests = [{
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { 'key.der': b64(pkcs8Der), 'ec.der': b64(sec1Der), 'tls.key': b64(sec1Pem) } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: { 'example.com/key': pkcs8Pem } }, data: { 'script.sh': `cat <<EOF\n${sec1Pem}EOF\n` }, binaryData: { k: b64(pkcs8Der) } },
        { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { nested: [{ deep: { key: b64(pkcs8Pem) } }] } },
      ],
    }];
    const text = JSON.stringify(SecureMetricsServerTesting.redactForSnapshot(manifests));
    for (const secret of [b64(pkcs8Der), b64(sec1Der), b64(sec1Pem), b64(pkcs8Pem), body(pkcs8Pem), body(sec1Pem)]) {
      expect(text.includes(secret)).toBe(false);
    }
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text.match(/<private key redacted>/g)).toHaveLength(7);
    // names and other values stay
    expect(text).toContain('"name":"c"');
  });

  test('values that are no key stay as they are', () => {
    const m = [{ kind: 'ConfigMap', metadata: { name: 'x', annotations: { a: 'aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=' } }, data: { n: '0123456789abcdef0123456789abcdef' } }];
    expect(SecureMetricsServerTesting.redactForSnapshot(m)).toEqual(m);
  });
});
