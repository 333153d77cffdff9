// Shared key fixtures, made once per jest run instead of once per test:
//  - store/: a certificate store holding a dedicated CA and the default
//    serving certificate, as a first synth leaves it (`fixtureStore()` copies
//    it into each test's own directory);
//  - key-N.pem: RSA keys for certificates crafted in tests (`testKey(N)`);
//  - <id>.crt/.key: CAs made by the openssl CLI the way kubeadm (and k3s, for
//    the ECDSA one) make them (`fixtureCa(id)`).
// Tests whose point is a fresh CA or a fresh key use empty stores instead.
// The directory reaches the test workers through the environment.
import { execFile } from 'child_process';
import { generateKeyPair } from 'crypto';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { App, Chart } from 'cdk8s';
import { CertificateStore, SecureMetricsServer, ServingTls } from '../lib';
import { makeAuditFixtures } from './support/audit-fixtures';
import { writeLegacyStore } from './support/legacy-store-0.1';

export const FIXTURE_ENV = 'SMS_TEST_FIXTURES';
export const FIXTURE_KEYS = 4;

/** The CAs made with openssl: id -> [subject, key algorithm] */
export const FIXTURE_CAS: { [id: string]: [string, string[]] } = {
  'kubernetes': ['/CN=kubernetes', ['-newkey', 'rsa:2048']],
  'kubernetes-rebuilt': ['/CN=kubernetes', ['-newkey', 'rsa:2048']],
  'other-ca': ['/CN=other-ca', ['-newkey', 'rsa:2048']],
  'k3s-ecdsa': ['/CN=k3s-server-ca', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
};

/** The openssl arguments of a kubeadm-like CA (CA:TRUE, keyCertSign). */
export function opensslCaArgs(subject: string, keyArgs: string[], cert: string, key: string): string[] {
  return ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '3650',
    '-subj', subject, '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign'];
}

/** The run's own temporary directory (every test's and child process's TMPDIR), removed by global-teardown.ts. */
export const RUN_TMP_ENV = 'SMS_TEST_RUN_TMP';

export default async function globalSetup(): Promise<void> {
  // the packed-package cache outlives the run (it is keyed by the sources); everything else that
  // the tests and their child processes put in the temporary directory goes into one directory
  // per run, removed at the end, so that runs leave no key material and no clutter behind
  process.env.SMS_PACK_CACHE ??= path.join(tmpdir(), 'secure-metrics-server-pack-cache');
  // the suite issues into fresh stores on purpose, also under CI=true (frozen synth: docs/gitops.md);
  // the tests of frozen synth set it themselves
  process.env.SECURE_METRICS_SERVER_FROZEN ??= '0';
  const runTmp = mkdtempSync(path.join(tmpdir(), 'sms-test-run-'));
  process.env[RUN_TMP_ENV] = runTmp;
  process.env.TMPDIR = runTmp;
  const dir = mkdtempSync(path.join(tmpdir(), 'sms-fixtures-'));
  const run = promisify(execFile);
  const keyPair = promisify(generateKeyPair);
  const cas = Object.entries(FIXTURE_CAS).map(([id, [subject, keyArgs]]) =>
    run('openssl', opensslCaArgs(subject, keyArgs, path.join(dir, `${id}.crt`), path.join(dir, `${id}.key`)))
      // without openssl, fixtureCa() makes the CA itself and fails as before
      .catch(() => undefined));
  const keys = Array.from({ length: FIXTURE_KEYS }, async (_, i) => {
    const { privateKey } = await keyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    writeFileSync(path.join(dir, `key-${i}.pem`), privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, { mode: 0o600 });
  });
  const app = new App({ outdir: path.join(dir, 'out') });
  app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
  new SecureMetricsServer(new Chart(app, 'fixture'), 'MetricsServer', {
    servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(path.join(dir, 'store'), { cluster: 'fixture' }) }),
  });
  // the audit PKI and rule fixtures, and a store as release 0.1 wrote it (for the upgrade tests):
  // made here because they hold private keys, which git must not keep
  makeAuditFixtures(path.join(dir, 'audit'));
  writeLegacyStore(path.join(dir, 'legacy-store-0.1'));
  await Promise.all([...cas, ...keys]);
  process.env[FIXTURE_ENV] = dir;
}
