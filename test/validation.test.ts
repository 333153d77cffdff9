import { existsSync } from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { CertificateStore, KubeletTls, NodeAddressType, Pem, ServingTls } from '../lib';
import { DEFAULT_DNS_NAMES, fixtureCa, pem, synth, testCert, testKey, tmp } from './helpers';

const SVC = 'metrics-server.kube-system.svc';
const ca = testCert({ cn: 'test-ca', key: testKey(0), ca: true });
const caPem = pem.cert(ca);
const caKeyPem = pem.key(testKey(0));
const issuer = { cert: ca, key: testKey(0) };

function fromPem(leaf: string, key: string, bundle: string = caPem) {
  return ServingTls.fromPem({ certificate: Pem.fromString(leaf), privateKey: Pem.fromString(key), caBundle: Pem.fromString(bundle) });
}
function fromCa(cert: string, key: string, store?: CertificateStore) {
  return ServingTls.fromCa({ caCertificate: Pem.fromString(cert), caKey: Pem.fromString(key), store: store ?? CertificateStore.fromDirectory(path.join(tmp(), 'pki')) });
}
const goodLeaf = (o: Partial<Parameters<typeof testCert>[0]> = {}) =>
  pem.cert(testCert({ cn: SVC, key: testKey(1), issuer, dnsNames: DEFAULT_DNS_NAMES, ...o }));
const leafKey = pem.key(testKey(1));

describe('bad input is refused at construction, naming the prop, the value and the fix', () => {
  test('insecure kubelet hop together with a kubelet CA', () => {
    expect(() => synth({ kubeletTls: KubeletTls.insecure(), extraArgs: ['--kubelet-certificate-authority=/ca.crt'] }))
      .toThrow("extraArgs: '--kubelet-certificate-authority=/ca.crt' sets a kubelet CA while kubeletTls is KubeletTls.insecure(); metrics-server refuses both together: pick one, e.g. kubeletTls: KubeletTls.fromConfigMap('my-ca', 'ca.crt')");
  });

  test('a PEM that is not a certificate', () => {
    expect(() => synth({ servingTls: fromCa(caKeyPem, caKeyPem) }))
      .toThrow('servingTls.caCertificate: inline PEM is not a PEM certificate (it holds a private key, not a certificate); pass a PEM certificate file such as /etc/kubernetes/pki/ca.crt');
    expect(() => synth({ servingTls: fromCa('hello', caKeyPem) }))
      .toThrow("servingTls.caCertificate: inline PEM is not a PEM certificate (it holds no PEM block '-----BEGIN CERTIFICATE-----')");
    expect(() => synth({ servingTls: fromCa('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', caKeyPem) }))
      .toThrow(/^servingTls.caCertificate: certificate #1 in inline PEM does not parse/);
  });

  test('a PEM that is not a key', () => {
    expect(() => synth({ servingTls: fromCa(caPem, caPem) }))
      .toThrow('servingTls.caKey: inline PEM is not a PEM private key (it holds a certificate, not a private key); pass the key file, e.g. /etc/kubernetes/pki/ca.key');
    expect(() => synth({ servingTls: fromPem(goodLeaf(), 'junk') }))
      .toThrow(/^servingTls.privateKey: inline PEM is not a PEM private key/);
  });

  test('an encrypted key', () => {
    expect(() => synth({ servingTls: fromCa(caPem, '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n') }))
      .toThrow(/^servingTls.caKey: the private key in inline PEM is encrypted; decrypt it first/);
  });

  test('a key that does not match its certificate', () => {
    expect(() => synth({ servingTls: fromPem(goodLeaf(), pem.key(testKey(2))) }))
      .toThrow(`servingTls.privateKey: the private key does not match the serving certificate (CN=${SVC}); pass the key that belongs to this certificate`);
  });

  test('a CA key that does not match the CA certificate', () => {
    expect(() => synth({ servingTls: fromCa(caPem, pem.key(testKey(2))) }))
      .toThrow('servingTls.caKey: the private key does not match the CA certificate (CN=test-ca); pass the key that belongs to this certificate');
  });

  test('a CA certificate that is not a CA (CA:FALSE)', () => {
    const notCa = pem.cert(testCert({ cn: 'leaf', key: testKey(0) }));
    expect(() => synth({ servingTls: fromCa(notCa, caKeyPem) }))
      .toThrow('servingTls.caCertificate: the certificate is not a CA (basicConstraints CA:FALSE or absent) (CN=leaf); pass the CA certificate, e.g. /etc/kubernetes/pki/ca.crt');
  });

  test('a CA certificate without keyCertSign', () => {
    const noSign = pem.cert(testCert({ cn: 'nosign', key: testKey(0), ca: true, keyCertSign: false }));
    expect(() => synth({ servingTls: fromCa(noSign, caKeyPem) }))
      .toThrow('servingTls.caCertificate: the CA certificate may not sign certificates (keyUsage without keyCertSign) (CN=nosign); pass a CA whose keyUsage includes keyCertSign, e.g. /etc/kubernetes/pki/ca.crt');
  });

  test('an expired or not-yet-valid CA', () => {
    const expired = pem.cert(testCert({ cn: 'old-ca', key: testKey(0), ca: true, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') }));
    expect(() => synth({ servingTls: fromCa(expired, caKeyPem) }))
      .toThrow('servingTls.caCertificate: the CA certificate (CN=old-ca) expired on 2021-01-01T00:00:00Z; renew it or pass a current one');
    const future = pem.cert(testCert({ cn: 'future-ca', key: testKey(0), ca: true, notBefore: new Date('2099-01-01T00:00:00Z'), notAfter: new Date('2100-01-01T00:00:00Z') }));
    expect(() => synth({ servingTls: fromCa(future, caKeyPem) }))
      .toThrow(/^servingTls.caCertificate: the CA certificate \(CN=future-ca\) is not valid before 2099-01-01T00:00:00Z/);
    expect(() => synth({ servingTls: fromPem(goodLeaf(), leafKey, expired) }))
      .toThrow(/^servingTls.caBundle: the CA certificate \(CN=old-ca\) expired on 2021-01-01T00:00:00Z/);
  });

  test('an expired or not-yet-valid serving certificate', () => {
    expect(() => synth({ servingTls: fromPem(goodLeaf({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') }), leafKey) }))
      .toThrow(`servingTls.certificate: the serving certificate (CN=${SVC}) expired on 2021-01-01T00:00:00Z; renew it or pass a current one`);
    expect(() => synth({ servingTls: fromPem(goodLeaf({ notBefore: new Date(Date.now() + 86400_000) }), leafKey) }))
      .toThrow(/^servingTls.certificate: the serving certificate .* is not valid before/);
  });

  test('a serving certificate without the <svc>.<ns>.svc DNS SAN (CN only)', () => {
    expect(() => synth({ servingTls: fromPem(goodLeaf({ dnsNames: undefined }), leafKey) }))
      .toThrow(`servingTls.certificate: the serving certificate is not valid for '${SVC}' (it has no DNS SAN; the Common Name is ignored by kube-apiserver); reissue it with subjectAltName DNS:${SVC}`);
    expect(() => synth({ servingTls: fromPem(goodLeaf({ dnsNames: ['metrics-server.kube-system.svc.cluster.local'] }), leafKey) }))
      .toThrow(/its DNS SANs are metrics-server.kube-system.svc.cluster.local/);
    expect(() => synth({ namespace: 'monitoring', servingTls: fromPem(goodLeaf(), leafKey) }))
      .toThrow(/not valid for 'metrics-server.monitoring.svc'/);
  });

  test('a serving certificate without serverAuth', () => {
    expect(() => synth({ servingTls: fromPem(goodLeaf({ clientAuthOnly: true }), leafKey) }))
      .toThrow("servingTls.certificate: the serving certificate's extendedKeyUsage (clientAuth) does not allow serverAuth; reissue it with extendedKeyUsage = serverAuth");
  });

  test('a SHA-1 signed certificate', () => {
    expect(() => synth({ servingTls: fromPem(goodLeaf({ sha1: true }), leafKey) }))
      .toThrow(`servingTls.certificate: the certificate (CN=${SVC}) is signed with sha1WithRSAEncryption, which kube-apiserver rejects; reissue it with SHA-256 (e.g. 'openssl x509 -req -sha256 ...')`);
  });

  test('a negative serial number', () => {
    expect(() => synth({ servingTls: fromPem(goodLeaf({ serial: 'ff01' }), leafKey) }))
      .toThrow(/^servingTls.certificate: the serving certificate .* has a negative serial number, which Kubernetes 1.32\+ rejects; reissue it$/);
  });

  test('a caBundle that does not verify the serving certificate', () => {
    const otherCa = pem.cert(testCert({ cn: 'other-ca', key: testKey(2), ca: true }));
    expect(() => synth({ servingTls: fromPem(goodLeaf(), leafKey, otherCa) }))
      .toThrow(`servingTls.caBundle: the CA bundle in inline PEM does not verify the serving certificate (no certificate in the CA bundle signed 'CN=${SVC}'); pass the CA that issued inline PEM`);
  });

  test('a caBundle that is a leaf, not a CA', () => {
    expect(() => synth({ servingTls: fromPem(goodLeaf(), leafKey, goodLeaf()) }))
      .toThrow(/^servingTls.caBundle: the certificate is not a CA/);
  });

  test('invalid namespace or names', () => {
    expect(() => synth({ namespace: 'Kube_System' }))
      .toThrow("namespace: 'Kube_System' is not a valid DNS label; use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. 'kube-system')");
    expect(() => synth({ name: 'metrics.server' })).toThrow(/^name: 'metrics.server' is not a valid DNS label/);
    expect(() => synth({ clusterDomain: 'bad domain' })).toThrow(/^clusterDomain: 'bad domain' is not a valid DNS subdomain name/);
    expect(() => synth({ servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(tmp()), secretName: 'Bad' }) }))
      .toThrow(/^servingTls.secretName: 'Bad' is not a valid DNS subdomain name/);
    expect(() => synth({ kubeletTls: KubeletTls.fromConfigMap('bad/name') })).toThrow(/^kubeletTls \(configMap name\): 'bad\/name' is not a valid DNS subdomain name/);
    expect(() => synth({ kubeletTls: KubeletTls.fromSecret('ca', 'bad key') })).toThrow(/^kubeletTls \(secret key\): 'bad key' is not a valid ConfigMap\/Secret key/);
    expect(() => synth({ image: 'has space:v1' })).toThrow(/^image: 'has space:v1' is not an image reference/);
  });

  test.each([0, -1, 65536, 1.5])('port %p outside 1..65535', port => {
    expect(() => synth({ securePort: port })).toThrow(`securePort: ${port} is not a valid port; use a whole number from 1 to 65535 (e.g. 10250)`);
  });

  test('metricResolution under 10 s or not whole seconds', () => {
    expect(() => synth({ metricResolution: Duration.seconds(5) }))
      .toThrow("metricResolution: 5 seconds must be whole seconds and at least 10 seconds (metrics-server's minimum); use e.g. Duration.seconds(15)");
    expect(() => synth({ metricResolution: Duration.millis(10500) })).toThrow(/^metricResolution: .* must be whole seconds/);
  });

  test('kubeletPreferredAddressTypes empty or repeated', () => {
    expect(() => synth({ kubeletPreferredAddressTypes: [] })).toThrow(/^kubeletPreferredAddressTypes: \[\] must be a non-empty list/);
    expect(() => synth({ kubeletPreferredAddressTypes: [NodeAddressType.HOSTNAME, NodeAddressType.HOSTNAME] })).toThrow(/distinct/);
  });

  test.each([
    '--secure-port=443', '--kubelet-insecure-tls', '--tls-cert-file=/x', '--tls-private-key-file=/y', '--cert-dir=/tmp',
    '--kubelet-certificate-authority=/ca', '--metric-resolution=30s', '--kubelet-preferred-address-types=Hostname',
  ])('extraArgs setting the managed flag %s', arg => {
    const flag = arg.split('=')[0];
    expect(() => synth({ extraArgs: [arg] }))
      .toThrow(`extraArgs: '${arg}' sets ${flag}, which the construct manages; use the props instead (securePort, metricResolution, kubeletPreferredAddressTypes, kubeletUseNodeStatusPort, kubeletTls, servingTls)`);
  });

  test('extraArgs that are not flags', () => {
    expect(() => synth({ extraArgs: ['v=2'] })).toThrow("extraArgs: 'v=2' is not a flag; write each as '--flag' or '--flag=value' (e.g. '--v=2')");
  });

  test('issuance options out of range', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    expect(() => synth({ servingTls: ServingTls.fromDedicatedCa({ store, keySize: 1024 }) }))
      .toThrow('servingTls.keySize: 1024 is not supported; use 2048, 3072 or 4096');
    expect(() => synth({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration.days(10), renewBefore: Duration.days(10) }) }))
      .toThrow('servingTls.renewBefore: 10 days must be positive and shorter than validity (10 days); use e.g. Duration.days(30)');
    expect(() => synth({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration.hours(12) }) }))
      .toThrow(/^servingTls.validity: 12 hours is not a whole number of days of at least 1/);
    expect(() => synth({ servingTls: ServingTls.fromDedicatedCa({ store, caValidity: Duration.days(20) }) }))
      .toThrow('servingTls.caValidity: 20 days must be longer than renewBefore (30 days); use e.g. Duration.days(3650)');
    expect(existsSync(store.directory)).toBe(false);
  });

  test('missing PEM files name the prop and the path', () => {
    expect(() => synth({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile('/nonexistent/ca.crt'), caKey: Pem.fromFile('/nonexistent/ca.key') }) }))
      .toThrow("servingTls.caCertificate: cannot read file '/nonexistent/ca.crt' (ENOENT); it does not exist; check the path");
  });

  test('a CA on a curve Go does not support (secp256k1) cannot issue, with a pointer to the alternatives', () => {
    const dir = tmp();
    const key = path.join(dir, 'ec.key');
    const cert = path.join(dir, 'ec.crt');
    require('child_process').execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=k1-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], { stdio: 'ignore' });
    expect(() => synth({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(cert), caKey: Pem.fromFile(key), store: CertificateStore.fromDirectory(path.join(dir, 'pki')) }) }))
      .toThrow(/^servingTls\.caCertificate: the CA certificate \(CN=k1-ca\) has an ECDSA key on curve secp256k1, which Go does not support; use P-256, P-384 or P-521/);
  });

  test('nothing is written to the store when the input is bad', () => {
    const dir = tmp();
    const store = CertificateStore.fromDirectory(path.join(dir, 'pki'));
    const notCa = pem.cert(testCert({ cn: 'leaf', key: testKey(0) }));
    expect(() => synth({ servingTls: fromCa(notCa, caKeyPem, store) })).toThrow();
    expect(() => synth({ namespace: 'BAD', servingTls: ServingTls.fromDedicatedCa({ store }) })).toThrow();
    expect(() => synth({ securePort: 0, servingTls: ServingTls.fromDedicatedCa({ store }) })).toThrow();
    expect(existsSync(store.directory)).toBe(false);
  });

  test('a CA made by openssl like kubeadm\'s is accepted', () => {
    const files = fixtureCa('kubernetes');
    expect(() => synth({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(files.cert), caKey: Pem.fromFile(files.key), store: CertificateStore.fromDirectory(path.join(tmp(), 'p')) }) })).not.toThrow();
  });
});

// kube-apiserver's own limits on the fields the construct writes, at their
// boundaries (lib/k8s/names.ts names the Go source of each; the
// string rules are also checked against apimachinery itself in
// test/k8s-validation.proc.test.ts).
describe('Kubernetes validation at synth: boundaries kube-apiserver draws', () => {
  const INT32_MAX = 2147483647;

  test.each<[string, any, string | undefined]>([
    ['replicas at int32 max', { replicas: INT32_MAX }, undefined],
    ['replicas past int32', { replicas: INT32_MAX + 1 }, 'replicas: 2147483648 is over 2147483647, the largest int32 kube-apiserver accepts; use e.g. 2 for high availability'],
    ['maxSkew at int32 max', { topologySpreadConstraints: [{ topologyKey: 'zone', maxSkew: INT32_MAX }] }, undefined],
    ['maxSkew past int32', { topologySpreadConstraints: [{ topologyKey: 'zone', maxSkew: INT32_MAX + 1 }] },
      'topologySpreadConstraints[0].maxSkew: 2147483648 must be a whole number from 1 to 2147483647 (int32); use e.g. 1'],
    ['minDomains past int32', { topologySpreadConstraints: [{ topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', minDomains: INT32_MAX + 1 }] },
      'topologySpreadConstraints[0].minDomains: 2147483648 must be a whole number from 1 to 2147483647 (int32); use e.g. 2'],
    ['tolerationSeconds past what JSON carries exactly', { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: Duration.seconds(1e16) }] },
      "tolerations[0].tolerationSeconds: 10000000000000000 seconds is past 9007199254740991, the largest count that reaches kube-apiserver's int64 exactly through JSON; use e.g. Duration.seconds(300)"],
    ['a system- priority class Kubernetes creates', { priorityClassName: 'system-node-critical' }, undefined],
    ['a priority class that merely starts with "system"', { priorityClassName: 'systemic' }, undefined],
    ['a reserved system- priority class name', { priorityClassName: 'system-metrics' },
      "priorityClassName: 'system-metrics' can never exist: Kubernetes reserves the prefix 'system-' for system-cluster-critical and system-node-critical; use one of those or a class of your own without the prefix"],
    ['an annotation key with an upper-case prefix (kube-apiserver lowercases it)', { annotations: { 'Example.com/owner': 'x' } }, undefined],
    ['a label key with an upper-case prefix', { labels: { 'Example.com/owner': 'x' } }, "labels: 'Example.com/owner' is not a valid key"],
  ])('%s', (_name, props, message) => {
    if (message === undefined) {
      expect(() => synth(props)).not.toThrow();
    } else {
      expect(() => synth(props)).toThrow(message);
    }
  });

  // ValidateAnnotationsSize: refused when the sum of len(key) + len(value), in
  // UTF-8 bytes, is over 256 * 1024
  const LIMIT = 256 * 1024;
  test.each([
    ['annotations', 'metadata', (o: any) => o.metadata.annotations],
    ['podAnnotations', 'spec.template.metadata', (o: any) => o.spec?.template?.metadata?.annotations],
  ])('%s: the total annotation size of one object is at most 256 KiB', (prop, field, of) => {
    // what the construct writes there itself (the store's Secret carries annotations)
    const size = (a: any) => Object.entries(a ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
    const own = Math.max(...synth({}).objects.map(o => size(of(o))));
    const key = 'example.com/big';
    expect(() => synth({ [prop]: { [key]: 'x'.repeat(LIMIT - own - key.length) } })).not.toThrow();
    expect(() => synth({ [prop]: { [key]: 'x'.repeat(LIMIT - own - key.length + 1) } }))
      .toThrow(new RegExp(`^${prop}: \\S+ \\S+ ${field.replace(/\./g, '\\.')}\\.annotations: the annotations take 262145 bytes \\(keys and values\\), over kube-apiserver's limit of 262144 \\(256 KiB\\) for one object; shorten or remove some$`));
    // bytes, not characters: 'é' is two
    expect(() => synth({ [prop]: { [key]: 'é'.repeat(Math.ceil((LIMIT - own - key.length) / 2) + 1) } })).toThrow('over kube-apiserver\'s limit of 262144');
  });

  test('the construct\'s own annotations count toward the total', () => {
    // cert-manager's inject-ca-from annotation sits on the APIService
    const key = 'example.com/big';
    const props = { servingTls: ServingTls.fromCertManager(), annotations: { [key]: 'x'.repeat(LIMIT - key.length) } };
    expect(() => synth(props)).toThrow(/^annotations: APIService v1beta1\.metrics\.k8s\.io metadata\.annotations: the annotations take 262\d{3} bytes/);
  });
});

describe('Kubernetes validation of the written objects, field by field', () => {
  const { assertWrittenObjects } = require('../lib/metadata');
  const deployment = () => JSON.parse(JSON.stringify(synth({}).objects.find((o: any) => o.kind === 'Deployment')));
  test('the construct\'s own output passes', () => {
    expect(() => assertWrittenObjects(synth({ replicas: 2 }).objects)).not.toThrow();
  });
  test.each<[string, (d: any) => void, string]>([
    ['replicas below 0', d => { d.spec.replicas = -1; }, 'replicas: Deployment kube-system/metrics-server spec.replicas: -1 is not a whole number from 0 to 2147483647 (int32)'],
    ['a container port of 0', d => { d.spec.template.spec.containers[0].ports[0].containerPort = 0; }, 'securePort: Deployment kube-system/metrics-server spec.template.spec.containers[0].ports.containerPort: 0 is not a port from 1 to 65535'],
    ['a negative probe period', d => { d.spec.template.spec.containers[0].readinessProbe.periodSeconds = -1; }, 'readinessProbe.periodSeconds: -1 is not a whole number from 0 to 2147483647'],
    ['a liveness successThreshold other than 1', d => { d.spec.template.spec.containers[0].livenessProbe.successThreshold = 2; }, 'livenessProbe.successThreshold: 2 must be 1 for a livenessProbe'],
    ['a negative terminationGracePeriodSeconds', d => { d.spec.template.spec.terminationGracePeriodSeconds = -1; }, 'spec.template.spec.terminationGracePeriodSeconds: -1 is not a whole number of seconds from 0'],
    ['a bad label value on the pod template', d => { d.spec.template.metadata.labels['example.com/x'] = '-bad'; }, "labels/podLabels: Deployment kube-system/metrics-server spec.template.metadata.labels: 'example.com/x: -bad' is not a valid label"],
  ])('%s is refused', (_name, breakIt, message) => {
    const d = deployment();
    breakIt(d);
    expect(() => assertWrittenObjects([d])).toThrow(message);
  });
});

describe('metricResolution against the kubelet request timeout, as metrics-server v0.8 checks at start', () => {
  test.each([10, 11])('%is with the default 10s timeout is refused', (seconds) => {
    expect(() => synth({ metricResolution: Duration.seconds(seconds) }))
      .toThrow(`metricResolution: ${seconds}s must exceed the kubelet request timeout (10s, metrics-server's default) by a tenth, or metrics-server refuses to start; use e.g. Duration.seconds(15)`);
  });

  test('12s with the default timeout is accepted', () => {
    expect(() => synth({ metricResolution: Duration.seconds(12) })).not.toThrow();
  });

  test('a longer --kubelet-request-timeout in extraArgs is counted', () => {
    expect(() => synth({ metricResolution: Duration.seconds(15), extraArgs: ['--kubelet-request-timeout=20s'] }))
      .toThrow('metricResolution: 15s must exceed the kubelet request timeout (20s, metrics-server\'s default overridden in extraArgs) by a tenth, or metrics-server refuses to start; use e.g. Duration.seconds(15), or a shorter --kubelet-request-timeout');
  });

  test('a client key without its certificate in extraArgs is refused', () => {
    expect(() => synth({ extraArgs: ['--kubelet-client-key=/etc/k/key.pem'] }))
      .toThrow('extraArgs: --kubelet-client-key and --kubelet-client-certificate must be given together, so metrics-server would not start; fix or remove those flags');
  });
});
