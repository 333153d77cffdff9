import { constants, createDecipheriv, createPrivateKey, privateDecrypt } from 'crypto';
import { existsSync, readdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Chart, Yaml } from 'cdk8s';
import { CertificateStore, Pem, SecretOutput, SecureMetricsServer, ServingTls } from '../lib';
import { generateAgeIdentity } from '../lib/store/age';
import { sopsDecryptDocument } from '../lib/store/sops';
import { findPlaintextKeys } from './support/key-scan';
import { DEFAULT_DNS_NAMES, pem, quietApp, testCert, testKey, tmp } from './helpers';

// issue 21: ServingTls.fromPem takes secretOutput as the issuing strategies do,
// and the plain Secret of every strategy comes from the one builder (SecretOutput.plainSecret()).

const ca = testCert({ cn: 'my-ca', key: testKey(0), ca: true });
const leaf = testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(1), issuer: { cert: ca, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES });
const controllerKey = testKey(2);
const controllerCert = pem.cert(testCert({ cn: 'sealed-secret', key: controllerKey }));

function fromPem(extra: { [k: string]: any } = {}): ServingTls {
  return ServingTls.fromPem({
    certificate: Pem.fromString(pem.cert(leaf)), privateKey: Pem.fromString(pem.key(testKey(1))), caBundle: Pem.fromString(pem.cert(ca)), ...extra,
  });
}

/** One synth as `cdk8s synth` writes it: the YAML and the objects. */
function synthYaml(servingTls: ServingTls): { yaml: string; objects: any[] } {
  const app = quietApp({ outdir: tmp() });
  new SecureMetricsServer(new Chart(app, 'metrics-server'), 'MetricsServer', { servingTls });
  const yaml = app.synthYaml();
  const file = path.join(tmp(), 'all.yaml');
  writeFileSync(file, yaml);
  return { yaml, objects: Yaml.load(file).filter((o: any) => o) };
}

/** Opens one value of a SealedSecret as the controller does (RSA-OAEP SHA-256 with the scope label, then AES-256-GCM). */
function unseal(value: string, label: string): string {
  const sealed = Buffer.from(value, 'base64');
  const len = sealed.readUInt16BE(0);
  const session = privateDecrypt({ key: createPrivateKey(pem.key(controllerKey)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) },
    sealed.subarray(2, 2 + len));
  const rest = sealed.subarray(2 + len);
  const d = createDecipheriv('aes-256-gcm', session, Buffer.alloc(12));
  d.setAuthTag(rest.subarray(rest.length - 16));
  return Buffer.concat([d.update(rest.subarray(0, rest.length - 16)), d.final()]).toString();
}

describe('ServingTls.fromPem with secretOutput', () => {
  test('a SealedSecret for the mounted Secret: no plaintext key, opens to the user\'s PEM, byte-identical on the next synth (cached in the store)', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const tls = () => fromPem({ secretOutput: SecretOutput.sealedSecret({ controllerCertificate: Pem.fromString(controllerCert) }), store });
    const first = synthYaml(tls());
    expect(first.objects.filter(o => o.kind === 'Secret')).toEqual([]);
    expect(findPlaintextKeys(Buffer.from(first.yaml, 'latin1'))).toEqual([]);
    const sealed = first.objects.find(o => o.kind === 'SealedSecret');
    expect(sealed).toMatchObject({ apiVersion: 'bitnami.com/v1alpha1', metadata: { name: 'metrics-server-tls', namespace: 'kube-system' },
      spec: { template: { type: 'kubernetes.io/tls' } } });
    const volumes = first.objects.find(o => o.kind === 'Deployment').spec.template.spec.volumes;
    expect(volumes.map((v: any) => v.secret?.secretName)).toContain('metrics-server-tls');
    expect(unseal(sealed.spec.encryptedData['tls.key'], 'kube-system/metrics-server-tls')).toBe(pem.key(testKey(1)).replace(/\r\n/g, '\n'));
    expect(unseal(sealed.spec.encryptedData['tls.crt'], 'kube-system/metrics-server-tls').trim()).toBe(pem.cert(leaf).replace(/\r/g, '').trim());
    expect(() => unseal(sealed.spec.encryptedData['tls.key'], 'other/metrics-server-tls')).toThrow();
    // the ciphertext is cached: the next synth is the same bytes, and the store holds no PEM of the user's
    expect(synthYaml(tls()).yaml).toBe(first.yaml);
    const cacheDir = path.join(store.directory, 'clusters', 'metrics-server');
    expect(readdirSync(cacheDir)).toEqual(['metrics-server.kube-system.svc.cluster.local.pem.outputs.json']);
  });

  test('a SOPS Secret for Flux: the recipient opens it to the user\'s key', () => {
    const flux = generateAgeIdentity();
    const { yaml, objects } = synthYaml(fromPem({ secretOutput: SecretOutput.sopsSecret({ ageRecipients: [flux.recipient] }), store: CertificateStore.fromDirectory(path.join(tmp(), 'pki')) }));
    expect(findPlaintextKeys(Buffer.from(yaml, 'latin1'))).toEqual([]);
    const secret = objects.find(o => o.kind === 'Secret');
    expect(secret.sops.encrypted_regex).toBe('^(data|stringData)$');
    const plain = sopsDecryptDocument(secret, [flux], 'secret');
    expect(Buffer.from(plain.data['tls.key'], 'base64').toString()).toBe(pem.key(testKey(1)).replace(/\r\n/g, '\n'));
  });

  test('frozen synth with an empty cache fails naming secretOutput and what to run; nothing is written', () => {
    const dir = path.join(tmp(), 'pki');
    const saved = process.env.SECURE_METRICS_SERVER_FROZEN;
    process.env.SECURE_METRICS_SERVER_FROZEN = '1';
    try {
      const sealed = SecretOutput.sealedSecret({ controllerCertificate: Pem.fromString(controllerCert) });
      expect(() => synthYaml(fromPem({ secretOutput: sealed, store: CertificateStore.fromDirectory(dir) })))
        .toThrow(/^servingTls\.secretOutput: the encrypted Secret for this certificate and recipient is not in the store '.*' yet, and synth is frozen .*run 'cdk8s synth'/);
    } finally {
      if (saved === undefined) {
        delete process.env.SECURE_METRICS_SERVER_FROZEN;
      } else {
        process.env.SECURE_METRICS_SERVER_FROZEN = saved;
      }
    }
    expect(existsSync(dir)).toBe(false);
  });

  test('refusals name the prop, the value and the fix', () => {
    expect(() => synthYaml(fromPem({ secretOutput: 'sealed' })))
      .toThrow("servingTls.secretOutput: got the string 'sealed'; pass a SecretOutput (e.g. SecretOutput.sealedSecret({ controllerCertificate }))");
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    expect(() => synthYaml(fromPem({ store })))
      .toThrow(`servingTls.store: '${store.directory}' is set, but secretOutput is the plain Secret, which caches nothing in a store; remove store, or set secretOutput to SecretOutput.sealedSecret() or SecretOutput.sopsSecret()`);
  });

  test('the default secretOutput is the plain Secret: a kubernetes.io/tls Secret holding the user\'s key (passes on the old code too: it guards the default, not the builder merge)', () => {
    const { objects } = synthYaml(fromPem());
    const secret = objects.find(o => o.kind === 'Secret');
    const viaOutput = synthYaml(fromPem({ secretOutput: SecretOutput.plainSecret() })).objects.find(o => o.kind === 'Secret');
    expect(secret).toEqual(viaOutput);
    expect(Object.keys(secret).sort()).toEqual(['apiVersion', 'data', 'kind', 'metadata', 'type']);
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(secret.data['tls.key'], 'base64').toString()).toBe(pem.key(testKey(1)).replace(/\r\n/g, '\n'));
  });
});
