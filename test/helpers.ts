import { execFileSync } from 'child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, AppProps, Chart, Testing } from 'cdk8s';
import { IConstruct } from 'constructs';
import * as forge from 'node-forge';
import { CertificateStore, SecureMetricsServer, SecureMetricsServerProps, SecureMetricsServerTesting, ServingTls } from '../lib';
import { FIXTURE_CAS, FIXTURE_ENV, opensslCaArgs } from './global-setup';

/** A fresh temporary directory. */
export function tmp(prefix = 'sms-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/**
 * Writes `content` to `name` in `dir` and returns the path; a file holding a
 * private key is written 0600, as the library requires of key files it reads.
 */
export function writeTmp(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content, { mode: /PRIVATE KEY-----/.test(content) ? 0o600 : 0o644 });
  return file;
}

/** An empty store in a fresh temporary directory: the first synth creates a CA and keys. */
export function tmpStore(): CertificateStore {
  return CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
}

/**
 * A store in a fresh temporary directory that already holds a dedicated CA
 * and the default serving certificate (a copy of the fixture made once per
 * jest run by global-setup.ts), for the tests whose point is not a fresh CA:
 * a synth with the default service generates no key. Without the fixture
 * (another runner), an empty store.
 */
export function fixtureStore(dir: string = path.join(tmp(), 'pki')): CertificateStore {
  const template = process.env[FIXTURE_ENV];
  if (template) {
    cpSync(path.join(template, 'store'), dir, { recursive: true });
  }
  // the cluster is named, so that any chart of the test uses the fixture's material
  return CertificateStore.fromDirectory(dir, { cluster: FIXTURE_CLUSTER });
}

/** The store as release 0.1 wrote it (flat layout), made once per run by the global setup. */
export function legacyStoreFixture(): string {
  const fixtures = process.env[FIXTURE_ENV];
  if (!fixtures) {
    throw new Error('the legacy store is made by test/global-setup.ts; run the tests through jest');
  }
  return path.join(fixtures, 'legacy-store-0.1');
}

/** The cluster that the fixture store's material belongs to. */
export const FIXTURE_CLUSTER = 'fixture';

/**
 * A test App whose warnings are recorded (the `warnings` property and the
 * construct metadata) but not printed: the documented switch, a context key.
 */
export function quietApp(props: AppProps = {}): App {
  const app = Testing.app(props);
  app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
  return app;
}

/** The warnings recorded as construct metadata on `scope` and below. */
export function warningsOf(scope: IConstruct): string[] {
  return scope.node.findAll().flatMap(c => c.node.metadata)
    .filter(m => m.type === SecureMetricsServer.WARNING_METADATA_TYPE)
    .map(m => m.data as string);
}

/**
 * Runs `fn` with standard error captured and returns its result and what it
 * wrote (for the tests of printing itself; others use `quietApp`).
 */
export function captureStderr<T>(fn: () => T): { result: T; stderr: string } {
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
    written.push(String(chunk));
    return true;
  });
  try {
    return { result: fn(), stderr: written.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** Synthesizes a SecureMetricsServer alone in a fresh app and chart. */
export function synth(props: SecureMetricsServerProps = {}, chartNamespace?: string) {
  const app = quietApp();
  const chart = new Chart(app, 'test', { namespace: chartNamespace });
  const construct = new SecureMetricsServer(chart, 'MetricsServer', {
    servingTls: props.servingTls ?? ServingTls.fromDedicatedCa({ store: fixtureStore() }),
    ...props,
  });
  const objects: any[] = Testing.synth(chart);
  return { app, chart, construct, objects };
}

/**
 * A whole synth to YAML, as `cdk8s synth` writes it, in a fresh App: the YAML,
 * the objects, and how many keys it generated.
 */
export function synthYaml(props: SecureMetricsServerProps) {
  const before = SecureMetricsServerTesting.generatedKeyCount();
  const app = quietApp({ outdir: tmp() });
  const construct = new SecureMetricsServer(new Chart(app, 'metrics-server'), 'MetricsServer', props);
  const yaml = app.synthYaml();
  const objects: any[] = Chart.of(construct).toJson();
  const secret = objects.find(o => o.kind === 'Secret');
  // the serving certificate and key in the synthesized Secret ('' without one)
  const cert = secret ? decode(secret.data['tls.crt']) : '';
  const key = secret ? decode(secret.data['tls.key']) : '';
  return { yaml, keys: SecureMetricsServerTesting.generatedKeyCount() - before, construct, objects, cert, key };
}

/** The one synthesized object of a kind (and name, when several). */
export function find(objects: any[], kind: string, name?: string): any {
  const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` '${name}'` : ''}, found ${found.length}`);
  }
  return found[0];
}

/** The metrics-server container of the Deployment. */
export function container(objects: any[]): any {
  return find(objects, 'Deployment').spec.template.spec.containers[0];
}

export function decode(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** Runs openssl and returns stdout; throws with stderr on failure. */
export function openssl(args: string[], cwd?: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A CA made by the openssl CLI the way kubeadm makes the cluster CA
 * (CN=kubernetes, CA:TRUE, keyCertSign), as files: a new one on every call
 * (spawns openssl; for the tests whose point is a fresh CA).
 */
export function opensslCa(dir: string, cn = 'kubernetes'): { cert: string; key: string } {
  const cert = path.join(dir, `${cn}-ca.crt`);
  const key = path.join(dir, `${cn}-ca.key`);
  openssl(opensslCaArgs(`/CN=${cn}`, ['-newkey', 'rsa:2048'], cert, key));
  return { cert, key };
}

/**
 * One of the CAs made by the openssl CLI once per jest run (global-setup.ts),
 * copied as files into a fresh directory: `kubernetes` and
 * `kubernetes-rebuilt` (two kubeadm-like CAs with the same name),
 * `other-ca`, and `k3s-ecdsa` (P-256). Without the fixtures, openssl makes it.
 */
export function fixtureCa(id: keyof typeof FIXTURE_CAS & string): { cert: string; key: string } {
  const dir = tmp('sms-ca-');
  const cert = path.join(dir, `${id}.crt`);
  const key = path.join(dir, `${id}.key`);
  const fixtures = process.env[FIXTURE_ENV];
  if (fixtures && existsSync(path.join(fixtures, `${id}.key`))) {
    copyFileSync(path.join(fixtures, `${id}.crt`), cert);
    copyFileSync(path.join(fixtures, `${id}.key`), key);
  } else {
    const [subject, keyArgs] = FIXTURE_CAS[id];
    openssl(opensslCaArgs(subject, keyArgs, cert, key));
  }
  return { cert, key };
}

const keyCache: forge.pki.rsa.KeyPair[] = [];
/**
 * One of a few RSA keys: made once per jest run (global-setup.ts), or once
 * per test file without the fixtures.
 */
export function testKey(i = 0): forge.pki.rsa.KeyPair {
  while (keyCache.length <= i) {
    const file = path.join(process.env[FIXTURE_ENV] ?? '', `key-${keyCache.length}.pem`);
    if (process.env[FIXTURE_ENV] && existsSync(file)) {
      const privateKey = forge.pki.privateKeyFromPem(readFileSync(file, 'utf8')) as forge.pki.rsa.PrivateKey;
      keyCache.push({ privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) });
    } else {
      keyCache.push(forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }));
    }
  }
  return keyCache[i];
}

export interface TestCertOptions {
  readonly cn: string;
  readonly key: forge.pki.rsa.KeyPair;
  /** signer; self-signed when absent */
  readonly issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.KeyPair };
  readonly ca?: boolean;
  readonly keyCertSign?: boolean;
  readonly dnsNames?: string[];
  readonly serverAuth?: boolean;
  readonly clientAuthOnly?: boolean;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly sha1?: boolean;
  readonly serial?: string;
}

/** A certificate crafted with node-forge, for the cases openssl's CLI makes awkward. */
export function testCert(o: TestCertOptions): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = o.key.publicKey;
  cert.serialNumber = o.serial ?? '0a1b2c3d';
  cert.validity.notBefore = o.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notAfter = o.notAfter ?? new Date(Date.now() + 365 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: o.cn }]);
  cert.setIssuer(o.issuer ? o.issuer.cert.subject.attributes : [{ name: 'commonName', value: o.cn }]);
  const exts: any[] = [{ name: 'basicConstraints', cA: !!o.ca, critical: true }];
  if (o.ca) {
    exts.push({ name: 'keyUsage', keyCertSign: o.keyCertSign ?? true, digitalSignature: true, critical: true });
  } else {
    exts.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    if (o.clientAuthOnly) {
      exts.push({ name: 'extKeyUsage', clientAuth: true });
    } else if (o.serverAuth ?? true) {
      exts.push({ name: 'extKeyUsage', serverAuth: true });
    }
  }
  if (o.dnsNames) {
    exts.push({ name: 'subjectAltName', altNames: o.dnsNames.map(value => ({ type: 2, value })) });
  }
  cert.setExtensions(exts);
  cert.sign((o.issuer?.key ?? o.key).privateKey, o.sha1 ? forge.md.sha1.create() : forge.md.sha256.create());
  return cert;
}

export const pem = {
  cert: (c: forge.pki.Certificate) => forge.pki.certificateToPem(c),
  key: (k: forge.pki.rsa.KeyPair) => forge.pki.privateKeyToPem(k.privateKey),
};

/** The DNS names every serving certificate for the default Service carries. */
export const DEFAULT_DNS_NAMES = [
  'metrics-server',
  'metrics-server.kube-system',
  'metrics-server.kube-system.svc',
  'metrics-server.kube-system.svc.cluster.local',
];

/** Where a store keeps one cluster's material (the store's named cluster, else the chart id of `synthYaml`, 'metrics-server'). */
export function storePaths(store: CertificateStore, cluster = store.cluster ?? 'metrics-server', identity = 'metrics-server.kube-system.svc.cluster.local') {
  const dir = store._clusterDirectory(cluster);
  const ca = path.join(dir, 'ca');
  const serving = path.join(dir, identity);
  return {
    cluster: dir,
    ca,
    caCrt: path.join(ca, 'ca.crt'),
    caKey: path.join(ca, 'ca.key'),
    serving,
    tlsCrt: path.join(serving, 'tls.crt'),
    tlsKey: path.join(serving, 'tls.key'),
    record: path.join(dir, `${identity}.checked.json`),
  };
}

/** Places a dedicated CA in a store by hand (files 0600), for the cluster of `synthYaml`. */
export function writeStoreCa(store: CertificateStore, certPem: string, keyPem: string, cluster = store.cluster ?? 'metrics-server'): void {
  const p = storePaths(store, cluster);
  mkdirSync(p.ca, { recursive: true, mode: 0o700 });
  writeFileSync(p.caCrt, certPem, { mode: 0o600 });
  writeFileSync(p.caKey, keyPem, { mode: 0o600 });
}

/** Every file under a directory, as relative paths, sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        walk(path.join(d, e.name), r);
      } else {
        out.push(r);
      }
    }
  };
  walk(dir, '');
  return out.sort();
}
