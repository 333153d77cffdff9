import { constants, createHash, privateDecrypt, createPrivateKey, createDecipheriv } from 'crypto';
import { chmodSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { KeyAlgorithm, Pem, SecretOutput, SecureMetricsServer, ServingTls, SharedCertificateStore, CertificateStore } from '../lib';
import { storeCommand } from '../lib/cli/store';
import { ageDecrypt, ageEncrypt, generateAgeIdentity, parseAgeKeyFile, parseAgeRecipient } from '../lib/store/age';
import { listFiles } from '../lib/store/shared-sync';
import { sopsDecryptBinary, sopsDecryptDocument, sopsEncryptBinary } from '../lib/store/sops';
import { hybridEncrypt, sealingLabel } from '../lib/tls/sealed-secrets-crypto';
import { findPlaintextKeys } from './support/key-scan';
import { FIXTURE_CLUSTER, fixtureStore, legacyStoreFixture, pem, quietApp, testCert, testKey, tmp } from './helpers';

/** Runs `fn` with these environment variables (undefined deletes), restoring them after. */
function withEnv<T>(vars: { [k: string]: string | undefined }, fn: () => T): T {
  const saved: { [k: string]: string | undefined } = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) {
      delete process.env[k];
    } else {
      process.env[k] = v;
    }
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
  }
}

const NO_IDENTITY = { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined, XDG_CONFIG_HOME: '/nonexistent-sms-test', SECURE_METRICS_SERVER_FROZEN: undefined, ARGOCD_APP_NAME: undefined };

async function run(argv: string[], cwd: string, env: { [k: string]: string | undefined } = {}) {
  let out = '';
  let err = '';
  const code = await storeCommand.run(argv, {
    stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) },
    readStdin: async () => Buffer.alloc(0), env: { ...NO_IDENTITY, ...env }, cwd,
  });
  return { code, out, err };
}

/** One synth of the app as `cdk8s synth` writes it: the YAML. */
function synthShared(dir: string, output: SecretOutput): string {
  const app = quietApp({ outdir: tmp() });
  new SecureMetricsServer(new Chart(app, 'cluster-a'), 'MetricsServer', {
    servingTls: ServingTls.fromDedicatedCa({
      sharedStore: SharedCertificateStore.fromDirectory(dir),
      secretOutput: output,
      keyAlgorithm: KeyAlgorithm.ECDSA_P256,
    }),
  });
  return app.synthYaml();
}

function plaintextKeys(text: string): string[] {
  return findPlaintextKeys(Buffer.from(text, 'latin1'));
}

describe('age and SOPS formats', () => {
  test('an age file opens with the identity of any recipient and with no other', () => {
    const a = generateAgeIdentity();
    const b = generateAgeIdentity();
    const other = generateAgeIdentity();
    const file = ageEncrypt(Buffer.from('secret'), [a.recipient, b.recipient]);
    expect(ageDecrypt(file, [b]).toString()).toBe('secret');
    expect(() => ageDecrypt(file, [other])).toThrow(/no identity matched/);
    const changed = Buffer.from(file);
    changed[changed.length - 1] ^= 1;
    expect(() => ageDecrypt(changed, [a])).toThrow(/payload does not decrypt/);
  });

  test('an age key file in age-keygen\'s format is read, comments skipped; a bad recipient is refused by name', () => {
    const id = generateAgeIdentity();
    const ids = parseAgeKeyFile(`# created: 2026-12-07T00:00:00Z\n# public key: ${id.recipient}\n${id.identity}\n`, 'keys.txt');
    expect(ids.map(i => i.recipient)).toEqual([id.recipient]);
    // one character changed (bech32's checksum catches every single change); a fresh key may end in 'q' already
    const changed = id.recipient.slice(0, -1) + (id.recipient.endsWith('q') ? 'p' : 'q');
    expect(() => parseAgeRecipient(changed, 'ageRecipients[0]')).toThrow(/^ageRecipients\[0\]: '.*' is not an age X25519 recipient/);
  });

  test('a SOPS binary file gives back the bytes, and a changed value fails the MAC', () => {
    const id = generateAgeIdentity();
    const text = sopsEncryptBinary(Buffer.from('a stand-in for a PEM key: AAAA\n'), [id.recipient], new Date());
    expect(sopsDecryptBinary(text, [id], 'f').toString()).toContain('AAAA');
    const doc = JSON.parse(text);
    expect(() => sopsDecryptDocument({ ...doc, extra: 'added' }, [id], 'f')).toThrow(/MAC mismatch/);
    expect(() => sopsDecryptBinary(text, [generateAgeIdentity()], 'f')).toThrow(/none of the age identities/);
  });

  test('the sealed value is the hybrid format: RSA-OAEP(SHA-256, label) of an AES-256-GCM key, zero nonce', () => {
    const key = testKey(0);
    const priv = createPrivateKey(pem.key(key));
    const sealed = hybridEncrypt(createPrivateKey(pem.key(key)) as any, Buffer.from('tls key'), sealingLabel('strict', 'kube-system', 'metrics-server-tls'));
    const len = sealed.readUInt16BE(0);
    const rsa = sealed.subarray(2, 2 + len);
    const open = (label: string) => privateDecrypt({ key: priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) }, rsa);
    expect(() => open('other/metrics-server-tls')).toThrow();
    const session = open('kube-system/metrics-server-tls');
    const rest = sealed.subarray(2 + len);
    const d = createDecipheriv('aes-256-gcm', session, Buffer.alloc(12));
    d.setAuthTag(rest.subarray(rest.length - 16));
    expect(Buffer.concat([d.update(rest.subarray(0, rest.length - 16)), d.final()]).toString()).toBe('tls key');
  });
});

describe('the shared store', () => {
  const controller = pem.cert(testCert({ cn: 'sealed-secret', key: testKey(1) }));

  async function sharedStore() {
    const root = tmp();
    const keyFile = path.join(root, 'keys.txt');
    const r = await run(['init', '--store', 'shared', '--new-identity', keyFile], root);
    expect(r).toMatchObject({ code: 0 });
    return { dir: path.join(root, 'shared'), keyFile };
  }

  test('a complete store synthesizes a SealedSecret without any identity, byte-identical, frozen, and holds no plaintext key', async () => {
    const { dir, keyFile } = await sharedStore();
    const sealed = SecretOutput.sealedSecret({ controllerCertificate: Pem.fromString(controller) });
    const first = withEnv({ ...NO_IDENTITY, SOPS_AGE_KEY_FILE: keyFile, CI: undefined, SECURE_METRICS_SERVER_FROZEN: undefined },
      () => synthShared(dir, sealed));
    expect(first).toContain('kind: SealedSecret');
    expect(plaintextKeys(first)).toEqual([]);
    // a read-only clone without identity, under CI
    for (const f of listFiles(dir)) {
      chmodSync(path.join(dir, f), 0o444);
    }
    const again = withEnv({ ...NO_IDENTITY, CI: 'true', SECURE_METRICS_SERVER_FROZEN: undefined }, () => synthShared(dir, sealed));
    expect(again).toBe(first);
    for (const f of listFiles(dir)) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      expect({ f, keys: plaintextKeys(text) }).toEqual({ f, keys: [] });
    }
    // the plain Secret needs the key: said, with no identity
    expect(() => withEnv({ ...NO_IDENTITY, CI: 'true', SECURE_METRICS_SERVER_FROZEN: undefined }, () => synthShared(dir, SecretOutput.plainSecret())))
      .toThrow(/no age identity to decrypt it/);
    // with the identity, it is the same key that the store holds
    const plain = withEnv({ ...NO_IDENTITY, SOPS_AGE_KEY_FILE: keyFile, CI: 'true', SECURE_METRICS_SERVER_FROZEN: undefined }, () => synthShared(dir, SecretOutput.plainSecret()));
    expect(plain).toContain('tls.key');
    // the scan is not blind: it finds the key in the plain Secret
    expect(plaintextKeys(plain)).not.toEqual([]);
  });

  test('frozen synth never issues: a store without this cluster fails with the command to run', async () => {
    const { dir } = await sharedStore();
    expect(() => withEnv({ ...NO_IDENTITY, CI: 'true', SECURE_METRICS_SERVER_FROZEN: undefined }, () => synthShared(dir, SecretOutput.sopsSecret({ ageRecipients: [generateAgeIdentity().recipient] }))))
      .toThrow(/has no serving certificate for this cluster and service yet .* synth is frozen \(CI is set\).*run 'cdk8s synth'.*git add/);
    expect(listFiles(dir).filter(f => f.startsWith('clusters'))).toEqual([]);
  });

  test('the SOPS Secret is cached: a second synth is byte-identical and decrypts to the store\'s certificate', async () => {
    const { dir, keyFile } = await sharedStore();
    const flux = generateAgeIdentity();
    const out = SecretOutput.sopsSecret({ ageRecipients: [flux.recipient] });
    const env = { ...NO_IDENTITY, SOPS_AGE_KEY_FILE: keyFile, CI: undefined, SECURE_METRICS_SERVER_FROZEN: undefined };
    const a = withEnv(env, () => synthShared(dir, out));
    const b = withEnv({ ...NO_IDENTITY, CI: '1' }, () => synthShared(dir, out));
    expect(b).toBe(a);
    // another recipient: another ciphertext (cached beside the first), the same certificate
    const other = generateAgeIdentity();
    const c = withEnv(env, () => synthShared(dir, SecretOutput.sopsSecret({ ageRecipients: [other.recipient] })));
    expect(c).not.toBe(a);
    expect(withEnv({ ...NO_IDENTITY, CI: '1' }, () => synthShared(dir, out))).toBe(a);
    const { Yaml } = require('cdk8s');
    const file = path.join(tmp(), 'all.yaml');
    writeFileSync(file, a);
    const secret = Yaml.load(file).find((o: any) => o?.kind === 'Secret');
    expect(secret.sops.encrypted_regex).toBe('^(data|stringData)$');
    const plain = sopsDecryptDocument(secret, [flux], 'secret');
    const cert = Buffer.from(plain.data['tls.crt'], 'base64').toString();
    expect(cert).toBe(readFileSync(path.join(dir, 'clusters/cluster-a/metrics-server.kube-system.svc.cluster.local/tls.crt'), 'utf8'));
    expect(createHash('sha256').update(Buffer.from(plain.data['tls.key'], 'base64')).digest('hex')).toBe(
      JSON.parse(readFileSync(path.join(dir, 'clusters/cluster-a/metrics-server.kube-system.svc.cluster.local.served.json'), 'utf8')).keySha256);
  });
});

describe('rotation and status on the shared store', () => {
  test("'store ca -- status' reads it, 'store ca -- rotate' stages a new CA with its key encrypted, and a frozen synth then asks for the synth that follows", async () => {
    const root = tmp();
    const keyFile = path.join(root, 'keys.txt');
    await run(['init', '--store', 'shared', '--new-identity', keyFile], root);
    const dir = path.join(root, 'shared');
    const out = SecretOutput.sopsSecret({ ageRecipients: [generateAgeIdentity().recipient] });
    const env = { ...NO_IDENTITY, SOPS_AGE_KEY_FILE: keyFile, CI: undefined, SECURE_METRICS_SERVER_FROZEN: undefined };
    withEnv(env, () => synthShared(dir, out));
    const status = await run(['ca', '--store', 'shared', '--', 'status'], root, { SOPS_AGE_KEY_FILE: keyFile });
    expect(status).toMatchObject({ code: 0, out: expect.stringContaining('cluster cluster-a: no rotation in progress') });
    expect(status.out).not.toContain('sms-shared-work');
    const staged = await run(['ca', '--store', 'shared', '--', 'rotate', '--cluster', 'cluster-a'], root, { SOPS_AGE_KEY_FILE: keyFile });
    expect(staged).toMatchObject({ code: 0, out: expect.stringContaining("phase 'stage' done") });
    expect(listFiles(dir)).toEqual(expect.arrayContaining(['clusters/cluster-a/ca-next/ca.crt', 'clusters/cluster-a/ca-next/ca.key.sops']));
    expect(() => withEnv({ ...NO_IDENTITY, CI: 'true' }, () => synthShared(dir, out))).toThrow(/the store changed since the last synth that issued .* synth is frozen/);
    const both = withEnv(env, () => synthShared(dir, out));
    const caBundle = Buffer.from(/caBundle: (\S+)/.exec(both)![1], 'base64').toString();
    expect(caBundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(withEnv({ ...NO_IDENTITY, CI: 'true' }, () => synthShared(dir, out))).toBe(both);
  });

  test('store and sharedStore together are refused by name', () => {
    const app = quietApp({ outdir: tmp() });
    expect(() => new SecureMetricsServer(new Chart(app, 'c'), 'M', {
      servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(tmp()), sharedStore: SharedCertificateStore.fromDirectory(tmp()) }),
    })).toThrow(/^servingTls\.sharedStore: both store .* and sharedStore .* are set; give one/);
  });
});

describe('store import and recipients', () => {
  test('importing a 0.1 store and a current one keeps the CA: the same caBundle as the local store gives', async () => {
    for (const layout of ['0.1', 'current']) {
      const root = tmp();
      const keyFile = path.join(root, 'keys.txt');
      expect(await run(['init', '--store', 'shared', '--new-identity', keyFile], root)).toMatchObject({ code: 0 });
      const local = layout === '0.1' ? legacyStoreFixture() : fixtureStore().directory;
      const cluster = layout === '0.1' ? 'cluster-a' : FIXTURE_CLUSTER;
      const caPem = readFileSync(layout === '0.1' ? path.join(local, 'ca.crt') : path.join(local, 'clusters', cluster, 'ca', 'ca.crt'), 'utf8');
      const imported = await run(['import', '--store', 'shared', '--from', local, ...(layout === '0.1' ? ['--cluster', cluster] : [])], root);
      expect(imported).toMatchObject({ code: 0, err: '' });
      const app = quietApp({ outdir: tmp() });
      const yamlText = withEnv({ ...NO_IDENTITY, SOPS_AGE_KEY_FILE: keyFile, CI: undefined, SECURE_METRICS_SERVER_FROZEN: undefined }, () => {
        new SecureMetricsServer(new Chart(app, cluster), 'MetricsServer', { servingTls: ServingTls.fromDedicatedCa({ sharedStore: SharedCertificateStore.fromDirectory(path.join(root, 'shared')) }) });
        return app.synthYaml();
      });
      const caBundle = /caBundle: (\S+)/.exec(yamlText)![1];
      expect({ layout, ca: Buffer.from(caBundle, 'base64').toString() }).toEqual({ layout, ca: caPem });
      for (const f of listFiles(path.join(root, 'shared'))) {
        expect({ f, keys: plaintextKeys(readFileSync(path.join(root, 'shared', f), 'utf8')) }).toEqual({ f, keys: [] });
      }
    }
  });

  test('a 0.1 store without --cluster is refused by name; recipients add and remove re-encrypt every key', async () => {
    const root = tmp();
    const keyFile = path.join(root, 'keys.txt');
    await run(['init', '--store', 'shared', '--new-identity', keyFile], root);
    expect(await run(['import', '--store', 'shared', '--from', legacyStoreFixture()], root)).toMatchObject({ code: 2, err: expect.stringMatching(/store of release 0\.1 .* --cluster NAME/) });
    expect(await run(['import', '--store', 'shared', '--from', legacyStoreFixture(), '--cluster', 'c'], root)).toMatchObject({ code: 0 });
    const bob = generateAgeIdentity();
    expect(await run(['recipients', 'add', bob.recipient, '--store', 'shared'], root)).toMatchObject({ code: 2, err: expect.stringMatching(/needs an age identity/) });
    expect(await run(['recipients', 'add', bob.recipient, '--store', 'shared'], root, { SOPS_AGE_KEY_FILE: keyFile })).toMatchObject({ code: 0 });
    const keyFiles = listFiles(path.join(root, 'shared')).filter(f => f.endsWith('.key.sops'));
    expect(keyFiles.length).toBe(2);
    for (const f of keyFiles) {
      expect(sopsDecryptBinary(readFileSync(path.join(root, 'shared', f), 'utf8'), [bob], f).toString()).toMatch(/PRIVATE KEY/);
    }
    const alice = parseAgeKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
    expect(await run(['recipients', 'remove', alice[0].recipient, '--store', 'shared'], root, { SOPS_AGE_KEY_FILE: keyFile })).toMatchObject({ code: 0 });
    expect(() => sopsDecryptBinary(readFileSync(path.join(root, 'shared', keyFiles[0]), 'utf8'), alice, keyFiles[0])).toThrow(/none of the age identities/);
    expect(SharedCertificateStore.fromDirectory(path.join(root, 'shared')).recipients()).toEqual([bob.recipient]);
    expect(await run(['recipients', 'remove', bob.recipient, '--store', 'shared'], root, { SOPS_AGE_KEY: bob.identity })).toMatchObject({ code: 2, err: expect.stringMatching(/leave no recipient/) });
  });
});

describe('audit of the encrypted outputs', () => {
  const controller = pem.cert(testCert({ cn: 'sealed-secret', key: testKey(1) }));

  test('no SMS015 (nor any finding) on the SealedSecret and the SOPS Secret; SMS050 when the SealedSecret lands elsewhere', async () => {
    const root = tmp();
    const keyFile = path.join(root, 'keys.txt');
    expect(await run(['init', '--store', 'shared', '--new-identity', keyFile], root)).toMatchObject({ code: 0 });
    const { auditObjects } = require('../lib/rules');
    const objectsOf = (yamlText: string) => {
      const file = path.join(tmp(), 'all.yaml');
      writeFileSync(file, yamlText);
      return require('cdk8s').Yaml.load(file).filter((o: any) => o);
    };
    const audit = (objects: any[]) => auditObjects(objects.map((object: any) => ({ object, source: { file: 'x' } })), {}).findings.map((f: any) => f.ruleId);
    const env = { ...NO_IDENTITY, SOPS_AGE_KEY_FILE: keyFile, CI: undefined, SECURE_METRICS_SERVER_FROZEN: undefined };
    const sealed = objectsOf(withEnv(env, () => synthShared(path.join(root, 'shared'), SecretOutput.sealedSecret({ controllerCertificate: Pem.fromString(controller) }))));
    const sops = objectsOf(withEnv(env, () => synthShared(path.join(root, 'shared'), SecretOutput.sopsSecret({ ageRecipients: [generateAgeIdentity().recipient] }))));
    const plain = objectsOf(withEnv(env, () => synthShared(path.join(root, 'shared'), SecretOutput.plainSecret())));
    expect(audit(sealed)).toEqual([]);
    expect(audit(sops)).toEqual([]);
    expect(audit(plain)).toEqual(['SMS015']);
    const moved = sealed.map((o: any) => (o.kind === 'SealedSecret' ? { ...o, metadata: { ...o.metadata, namespace: 'default' } } : o));
    expect(audit(moved)).toContain('SMS050');
    // the cdk8s validation plugin, on the manifests as cdk8s writes them: nothing to report for either
    const { SecureMetricsServerValidation } = require('../lib/validation-plugin');
    for (const objects of [sealed, sops]) {
      const file = path.join(tmp(), 'm.k8s.yaml');
      writeFileSync(file, objects.map((o: any) => require('cdk8s').Yaml.stringify(o)).join('---\n'));
      const violations: any[] = [];
      let status = '';
      await new SecureMetricsServerValidation({ reportAt: 'info' }).validate({ manifests: [file], metadata: {}, report: { addViolation: (v: any) => violations.push(v), submit: (st: string) => { status = st; } } });
      expect({ violations, status }).toEqual({ violations: [], status: 'success' });
    }
    const clear = sops.map((o: any) => (o.kind === 'Secret' ? { ...o, data: { ...o.data, 'tls.key': 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t' } } : o));
    expect(audit(clear)).toContain('SMS051');
  });
});

test("a working copy left by a killed synth (its pid gone) is removed by the next one; a live process's is kept", () => {
  const { mkdirSync, existsSync } = require('fs');
  const { tmpdir } = require('os');
  const dead = path.join(tmpdir(), 'sms-shared-work-2147483646-x');
  const live = path.join(tmpdir(), `sms-shared-work-${process.ppid}-x`);
  mkdirSync(dead, { recursive: true });
  mkdirSync(live, { recursive: true });
  const { workingDirectory, removeWorkingDirectory } = require('../lib/store/shared-sync');
  const mine = workingDirectory();
  expect([existsSync(dead), existsSync(live), path.basename(mine).startsWith(`sms-shared-work-${process.pid}-`)]).toEqual([false, true, true]);
  removeWorkingDirectory(mine);
  removeWorkingDirectory(live);
});

describe('the local store under frozen synth', () => {
  test('a CI synth that would create a CA fails instead of making one', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const app = quietApp({ outdir: tmp() });
    expect(() => withEnv({ CI: 'true', SECURE_METRICS_SERVER_FROZEN: undefined }, () => new SecureMetricsServer(new Chart(app, 'c'), 'M', {
      servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: KeyAlgorithm.ECDSA_P256 }),
    }))).toThrow(/servingTls\.store: this synth would write the certificate store .* synth is frozen \(CI is set\)/);
    expect(listFiles(store.directory)).toEqual([]);
  });

  test('SECURE_METRICS_SERVER_FROZEN=0 lets a CI job issue on purpose', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const app = quietApp({ outdir: tmp() });
    withEnv({ CI: 'true', SECURE_METRICS_SERVER_FROZEN: '0' }, () => new SecureMetricsServer(new Chart(app, 'c'), 'M', {
      servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: KeyAlgorithm.ECDSA_P256 }),
    }));
    expect(listFiles(store.directory).some(f => f.endsWith('ca.crt'))).toBe(true);
  });
});
