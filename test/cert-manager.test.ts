import { Chart, Duration, Testing } from 'cdk8s';
import { Certificate, Issuer } from '../imports/cert-manager.io';
import {
  CertManagerIssuer, CertManagerKeyAlgorithm, CertManagerServingTlsOptions, KeyAlgorithm,
  SecureMetricsServer, SecureMetricsServerProps, SecureMetricsServerTesting, ServingTls,
} from '../lib';
import { propsFromEnv } from '../main';
import { quietApp } from './helpers';

const INJECT = 'cert-manager.io/inject-ca-from';
const CM_API = 'cert-manager.io/v1';

function build(props: SecureMetricsServerProps, chartNamespace?: string) {
  const chart = new Chart(quietApp(), 'test', { namespace: chartNamespace });
  const construct = new SecureMetricsServer(chart, 'MetricsServer', props);
  const objects: any[] = Testing.synth(chart);
  return { chart, construct, objects };
}

function withCertManager(options: CertManagerServingTlsOptions = {}, props: SecureMetricsServerProps = {}, chartNamespace?: string) {
  return build({ ...props, servingTls: ServingTls.fromCertManager(options) }, chartNamespace);
}

function only(objects: any[], kind: string, name?: string): any {
  const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0];
}

function ofKind(objects: any[], kind: string): any[] {
  return objects.filter(o => o.kind === kind);
}

function certManagerObjects(objects: any[]): any[] {
  return objects.filter(o => String(o.apiVersion).startsWith('cert-manager.io/'));
}

function expectedDnsNames(svc: string, ns: string, domain: string): string[] {
  return [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.${domain}`];
}

/** The serving Certificate named by the APIService's inject-ca-from annotation. */
function injectedCertificate(objects: any[]): any {
  const apiService = only(objects, 'APIService');
  const ref: string = apiService.metadata.annotations[INJECT];
  const [ns, name] = ref.split('/');
  const matches = objects.filter(o => o.apiVersion === CM_API && o.kind === 'Certificate' && o.metadata.namespace === ns && o.metadata.name === name);
  expect(matches).toHaveLength(1);
  return matches[0];
}

/** Asserts how the Deployment mounts the Secret and returns the mount path. */
function expectMountsSecret(objects: any[], secretName: string): string {
  const pod = only(objects, 'Deployment').spec.template.spec;
  const volumes = pod.volumes.filter((v: any) => v.secret?.secretName === secretName);
  expect(volumes).toHaveLength(1);
  expect(volumes[0]).toEqual({ name: volumes[0].name, secret: { secretName } });
  expect(pod.containers).toHaveLength(1);
  const container = pod.containers[0];
  const mounts = container.volumeMounts.filter((m: any) => m.name === volumes[0].name);
  expect(mounts).toHaveLength(1);
  expect(mounts[0].readOnly).toBe(true);
  expect(mounts[0].subPath).toBeUndefined();
  expect(Object.keys(mounts[0]).sort()).toEqual(['mountPath', 'name', 'readOnly']);
  const dir = mounts[0].mountPath;
  expect(container.args).toContain(`--tls-cert-file=${dir}/tls.crt`);
  expect(container.args).toContain(`--tls-private-key-file=${dir}/tls.key`);
  expect(container.args.filter((a: string) => a.startsWith('--cert-dir'))).toEqual([]);
  return dir;
}

/** The APIService: verified through cainjector, no caBundle, no skip flag, cluster-scoped. */
function expectInjectedApiService(objects: any[], certificate: any): void {
  const apiService = only(objects, 'APIService');
  expect(apiService.metadata.annotations).toEqual({ [INJECT]: `${certificate.metadata.namespace}/${certificate.metadata.name}` });
  expect(apiService.metadata.namespace).toBeUndefined();
  expect(apiService.spec.caBundle).toBeUndefined();
  expect('insecureSkipTLSVerify' in apiService.spec).toBe(false);
  expect('insecureSkipTlsVerify' in apiService.spec).toBe(false);
  expect(apiService.spec.service.name).toBe(only(objects, 'Service').metadata.name);
  expect(apiService.spec.service.namespace).toBe(certificate.metadata.namespace);
}

function expectThrowsExactly(fn: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(Error);
  expect((thrown as Error).message).toBe(message);
}

describe('with a named issuer', () => {
  test('a ClusterIssuer: one serving Certificate and nothing else from cert-manager', () => {
    const before = SecureMetricsServerTesting.generatedKeyCount();
    const { construct, objects } = withCertManager({ issuer: CertManagerIssuer.clusterIssuer('cluster-ca') });
    expect(SecureMetricsServerTesting.generatedKeyCount()).toBe(before);

    const cm = certManagerObjects(objects);
    expect(cm.map(o => o.kind)).toEqual(['Certificate']);
    const certificate = cm[0];
    expect(certificate).toEqual({
      apiVersion: CM_API,
      kind: 'Certificate',
      metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
      spec: {
        secretName: 'metrics-server-cert-manager-tls',
        commonName: 'metrics-server.kube-system.svc',
        dnsNames: expectedDnsNames('metrics-server', 'kube-system', 'cluster.local'),
        usages: ['server auth', 'digital signature', 'key encipherment'],
        duration: '2160h',
        renewBefore: '360h',
        privateKey: { algorithm: 'RSA', size: 2048, rotationPolicy: 'Always' },
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'cluster-ca' },
      },
    });
    expect(certificate.spec.dnsNames).toContain(certificate.spec.commonName);

    expect(injectedCertificate(objects)).toBe(certificate);
    expectInjectedApiService(objects, certificate);
    expectMountsSecret(objects, certificate.spec.secretName);

    // cert-manager writes the Secret; the synthesized YAML holds no key material
    expect(ofKind(objects, 'Secret')).toEqual([]);
    expect(JSON.stringify(objects)).not.toContain('PRIVATE KEY');
    expect(construct.secret).toBeUndefined();
    expect(construct.caBundle).toBeUndefined();
    expect(construct.certificate!.kind).toBe('Certificate');
    expect(construct.certificate!.name).toBe(certificate.metadata.name);
    expect(construct.apiServiceInsecure).toBe(false);
    expect(construct.warnings).toEqual([]);
    expect(ServingTls.fromCertManager().isInsecure).toBe(false);
  });

  test('an Issuer in the namespace', () => {
    const { objects } = withCertManager({ issuer: CertManagerIssuer.issuer('my-ca') });
    const cm = certManagerObjects(objects);
    expect(cm.map(o => o.kind)).toEqual(['Certificate']);
    expect(cm[0].spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'Issuer', name: 'my-ca' });
    expect(cm[0].metadata.namespace).toBe('kube-system');
    expectInjectedApiService(objects, cm[0]);
    expectMountsSecret(objects, cm[0].spec.secretName);
  });

  test('CertManagerIssuer carries kind, name and group', () => {
    const cluster = CertManagerIssuer.clusterIssuer('vault');
    expect([cluster.kind, cluster.name, cluster.group]).toEqual(['ClusterIssuer', 'vault', 'cert-manager.io']);
    const ns = CertManagerIssuer.issuer('ca');
    expect([ns.kind, ns.name, ns.group]).toEqual(['Issuer', 'ca', 'cert-manager.io']);
  });
});

describe('without an issuer: a self-signed CA chain in the namespace', () => {
  test('selfSigned Issuer, CA Certificate, CA Issuer on its Secret, serving Certificate', () => {
    const before = SecureMetricsServerTesting.generatedKeyCount();
    const { construct, objects } = withCertManager();
    expect(SecureMetricsServerTesting.generatedKeyCount()).toBe(before);

    const cm = certManagerObjects(objects);
    // in the order they are applied: each object's issuer comes before it
    expect(cm.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Issuer/metrics-server-selfsigned',
      'Certificate/metrics-server-ca',
      'Issuer/metrics-server-ca',
      'Certificate/metrics-server',
    ]);
    const labels = { 'k8s-app': 'metrics-server' };
    for (const o of cm) {
      expect(o.apiVersion).toBe(CM_API);
      expect(o.metadata).toEqual({ name: o.metadata.name, namespace: 'kube-system', labels });
    }
    const [selfSigned, caCertificate, caIssuer, serving] = cm;

    expect(selfSigned.spec).toEqual({ selfSigned: {} });

    expect(caCertificate.spec).toEqual({
      isCA: true,
      commonName: 'secure-metrics-server-ca',
      secretName: 'metrics-server-ca',
      duration: '43800h',
      privateKey: { algorithm: 'RSA', size: 2048, rotationPolicy: 'Never' },
      issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: selfSigned.metadata.name },
    });

    expect(caIssuer.spec).toEqual({ ca: { secretName: caCertificate.spec.secretName } });

    expect(serving.spec).toEqual({
      secretName: 'metrics-server-cert-manager-tls',
      commonName: 'metrics-server.kube-system.svc',
      dnsNames: expectedDnsNames('metrics-server', 'kube-system', 'cluster.local'),
      usages: ['server auth', 'digital signature', 'key encipherment'],
      duration: '2160h',
      renewBefore: '360h',
      privateKey: { algorithm: 'RSA', size: 2048, rotationPolicy: 'Always' },
      issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: caIssuer.metadata.name },
    });
    expect(serving.spec.secretName).not.toBe(caCertificate.spec.secretName);

    expect(injectedCertificate(objects)).toBe(serving);
    expectInjectedApiService(objects, serving);
    expectMountsSecret(objects, serving.spec.secretName);
    expect(ofKind(objects, 'Secret')).toEqual([]);
    expect(ofKind(objects, 'ClusterIssuer')).toEqual([]);
    expect(construct.secret).toBeUndefined();
    expect(construct.caBundle).toBeUndefined();
  });

  test('the same inputs give identical output', () => {
    const a = JSON.stringify(withCertManager().objects);
    const b = JSON.stringify(withCertManager().objects);
    expect(a).toBe(b);
  });

  test('the generated Certificate and Issuer types are used', () => {
    const { construct } = withCertManager();
    const group = construct.node.findChild('CertManager');
    expect(group.node.children.map(c => [c.node.id, c.constructor.name])).toEqual([
      ['SelfSignedIssuer', Issuer.name],
      ['CaCertificate', Certificate.name],
      ['CaIssuer', Issuer.name],
      ['Certificate', Certificate.name],
    ]);
    expect(group.node.findChild('Certificate')).toBeInstanceOf(Certificate);
    expect(group.node.findChild('CaIssuer')).toBeInstanceOf(Issuer);
  });
});

describe('names, namespaces and options', () => {
  test('custom name, namespace and cluster domain flow into every object; the chart namespace does not leak', () => {
    const { objects } = withCertManager({}, { name: 'ms', namespace: 'monitoring', clusterDomain: 'example.internal' }, 'other');
    const cm = certManagerObjects(objects);
    expect(cm).toHaveLength(4);
    for (const o of cm) {
      expect(o.metadata.namespace).toBe('monitoring');
      expect(o.metadata.labels).toEqual({ 'k8s-app': 'ms' });
    }
    const serving = injectedCertificate(objects);
    expect(serving.metadata.name).toBe('ms');
    expect(serving.spec.commonName).toBe('ms.monitoring.svc');
    expect(serving.spec.dnsNames).toEqual(expectedDnsNames('ms', 'monitoring', 'example.internal'));
    expect(serving.spec.secretName).toBe('ms-cert-manager-tls');
    expect(only(objects, 'APIService').metadata.annotations[INJECT]).toBe('monitoring/ms');
    expectInjectedApiService(objects, serving);
    expectMountsSecret(objects, 'ms-cert-manager-tls');
    const caIssuer = cm.find(o => o.kind === 'Issuer' && o.spec.ca);
    expect(serving.spec.issuerRef.name).toBe(caIssuer.metadata.name);
    expect(cm.find(o => o.kind === 'Certificate' && o.spec.isCA).spec.secretName).toBe(caIssuer.spec.ca.secretName);

    // cluster-scoped objects keep no namespace; namespaced ones never take the chart's
    for (const o of objects) {
      if (['ClusterRole', 'ClusterRoleBinding', 'APIService'].includes(o.kind)) {
        expect(o.metadata.namespace).toBeUndefined();
      } else {
        expect(o.metadata.namespace).toBe(o.kind === 'RoleBinding' ? 'kube-system' : 'monitoring');
      }
    }
    expect(objects.some(o => o.kind.startsWith('Cluster') && String(o.apiVersion).startsWith('cert-manager.io/'))).toBe(false);
  });

  test('secretName, duration, renewBefore and caDuration', () => {
    const { objects } = withCertManager({
      secretName: 'ms-serving',
      duration: Duration.hours(720),
      renewBefore: Duration.minutes(90),
      caDuration: Duration.days(730),
    });
    const serving = injectedCertificate(objects);
    expect(serving.spec.secretName).toBe('ms-serving');
    expect(serving.spec.duration).toBe('720h');
    expect(serving.spec.renewBefore).toBe('90m');
    expect(certManagerObjects(objects).find(o => o.spec.isCA).spec.duration).toBe('17520h');
    expectMountsSecret(objects, 'ms-serving');
  });

  test('sub-hour durations are written in minutes or seconds', () => {
    const { objects } = withCertManager({
      issuer: CertManagerIssuer.clusterIssuer('ca'),
      duration: Duration.minutes(61),
      renewBefore: Duration.seconds(330),
    });
    const serving = injectedCertificate(objects);
    expect([serving.spec.duration, serving.spec.renewBefore]).toEqual(['61m', '330s']);
  });

  test.each([
    [KeyAlgorithm.RSA_2048, ['server auth', 'digital signature', 'key encipherment']],
    [KeyAlgorithm.RSA_4096, ['server auth', 'digital signature', 'key encipherment']],
    [KeyAlgorithm.ECDSA_P256, ['server auth', 'digital signature']],
    [KeyAlgorithm.ED25519, ['server auth', 'digital signature']],
    [CertManagerKeyAlgorithm.ECDSA, ['server auth', 'digital signature']],
  ])('the serving Certificate lists key encipherment only for RSA keys (%s)', (keyAlgorithm, usages) => {
    const { objects } = withCertManager({ keyAlgorithm });
    const serving = objects.filter(o => o.kind === 'Certificate' && !o.spec.isCA);
    expect(serving).toHaveLength(1);
    expect(serving[0].spec.usages).toEqual(usages);
  });

  test.each([
    [KeyAlgorithm.RSA_2048, { algorithm: 'RSA', size: 2048 }],
    [KeyAlgorithm.RSA_3072, { algorithm: 'RSA', size: 3072 }],
    [KeyAlgorithm.RSA_4096, { algorithm: 'RSA', size: 4096 }],
    [KeyAlgorithm.ECDSA_P256, { algorithm: 'ECDSA', size: 256 }],
    [KeyAlgorithm.ECDSA_P384, { algorithm: 'ECDSA', size: 384 }],
    [KeyAlgorithm.ECDSA_P521, { algorithm: 'ECDSA', size: 521 }],
    [KeyAlgorithm.ED25519, { algorithm: 'Ed25519' }],
  ])('the KeyAlgorithm of the other modes, %s, is cert-manager\'s %j on the CA and the serving Certificate', (keyAlgorithm, expected) => {
    const certificates = ofKind(certManagerObjects(withCertManager({ keyAlgorithm }).objects), 'Certificate');
    expect(certificates.map(c => c.spec.privateKey)).toEqual([{ ...expected, rotationPolicy: 'Never' }, { ...expected, rotationPolicy: 'Always' }]);
  });

  test('the default key is RSA 2048, as KeyAlgorithm.RSA_2048 gives', () => {
    expect(withCertManager({}).objects).toEqual(withCertManager({ keyAlgorithm: KeyAlgorithm.RSA_2048 }).objects);
  });

  // deprecated: CertManagerKeyAlgorithm with keySize (0.2.0) synthesizes as before
  test.each([
    [CertManagerKeyAlgorithm.RSA, 3072, { algorithm: 'RSA', size: 3072 }, KeyAlgorithm.RSA_3072],
    [CertManagerKeyAlgorithm.RSA, 4096, { algorithm: 'RSA', size: 4096 }, KeyAlgorithm.RSA_4096],
    [undefined, 4096, { algorithm: 'RSA', size: 4096 }, KeyAlgorithm.RSA_4096],
    [CertManagerKeyAlgorithm.ECDSA, undefined, { algorithm: 'ECDSA', size: 256 }, KeyAlgorithm.ECDSA_P256],
    [CertManagerKeyAlgorithm.ECDSA, 384, { algorithm: 'ECDSA', size: 384 }, KeyAlgorithm.ECDSA_P384],
    [CertManagerKeyAlgorithm.ED25519, undefined, { algorithm: 'Ed25519' }, KeyAlgorithm.ED25519],
  ])('deprecated: private key %s %s on the CA and the serving Certificate, as with its KeyAlgorithm', (keyAlgorithm, keySize, expected, replacement) => {
    const { objects } = withCertManager({ keyAlgorithm, keySize });
    const certificates = ofKind(certManagerObjects(objects), 'Certificate');
    expect(certificates).toHaveLength(2);
    const [ca, serving] = certificates;
    expect(ca.spec.privateKey).toEqual({ ...expected, rotationPolicy: 'Never' });
    expect(serving.spec.privateKey).toEqual({ ...expected, rotationPolicy: 'Always' });
    expect(objects).toEqual(withCertManager({ keyAlgorithm: replacement }).objects);
  });
});

describe('bad input', () => {
  const cases: Array<[string, () => CertManagerServingTlsOptions, string]> = [
    ['empty Issuer name', () => ({ issuer: CertManagerIssuer.issuer('') }),
      "servingTls.issuer: '' is not a valid Issuer name; use the metadata.name of an existing Issuer: at most 253 lower-case letters, digits, '-' and '.' (e.g. CertManagerIssuer.issuer('cluster-ca'))"],
    ['invalid ClusterIssuer name', () => ({ issuer: CertManagerIssuer.clusterIssuer('Cluster_CA') }),
      "servingTls.issuer: 'Cluster_CA' is not a valid ClusterIssuer name; use the metadata.name of an existing ClusterIssuer: at most 253 lower-case letters, digits, '-' and '.' (e.g. CertManagerIssuer.clusterIssuer('cluster-ca'))"],
    ['issuer name with a slash', () => ({ issuer: CertManagerIssuer.clusterIssuer('ClusterIssuer/ca') }),
      "servingTls.issuer: 'ClusterIssuer/ca' is not a valid ClusterIssuer name; use the metadata.name of an existing ClusterIssuer: at most 253 lower-case letters, digits, '-' and '.' (e.g. CertManagerIssuer.clusterIssuer('cluster-ca'))"],
    ['issuer given as a string', () => ({ issuer: 'ClusterIssuer/ca' as any }),
      "servingTls.issuer: 'ClusterIssuer/ca' is not a CertManagerIssuer; use CertManagerIssuer.issuer('my-ca') or CertManagerIssuer.clusterIssuer('my-ca')"],
    ['renewBefore equal to duration', () => ({ duration: Duration.hours(24), renewBefore: Duration.hours(24) }),
      'servingTls.renewBefore: 1 day must be shorter than duration (1 day); use e.g. a third of it or less, such as Duration.hours(360) with the default duration of Duration.hours(2160)'],
    ['renewBefore longer than the default duration', () => ({ renewBefore: Duration.days(100) }),
      'servingTls.renewBefore: 100 days must be shorter than duration (90 days); use e.g. a third of it or less, such as Duration.hours(360) with the default duration of Duration.hours(2160)'],
    ['duration under an hour', () => ({ duration: Duration.minutes(59), renewBefore: Duration.minutes(10) }),
      "servingTls.duration: 59 minutes is shorter than cert-manager's minimum of 1 hour; use e.g. Duration.hours(2160)"],
    ['renewBefore under 5 minutes', () => ({ renewBefore: Duration.minutes(4) }),
      "servingTls.renewBefore: 4 minutes is shorter than cert-manager's minimum of 5 minutes; use e.g. Duration.hours(360)"],
    ['duration with milliseconds', () => ({ duration: Duration.millis(7200500) }),
      'servingTls.duration: 2 hours 500 millis is not a whole number of seconds; use e.g. Duration.hours(2160)'],
    ['duration not a Duration', () => ({ duration: '2160h' as any }),
      "servingTls.duration: '2160h' is not a Duration; use e.g. Duration.hours(2160)"],
    ['unknown key algorithm', () => ({ keyAlgorithm: 'DSA' as any }),
      "servingTls.keyAlgorithm: 'DSA' is not a KeyAlgorithm; use one of KeyAlgorithm.RSA_2048, KeyAlgorithm.RSA_3072, KeyAlgorithm.RSA_4096, KeyAlgorithm.ECDSA_P256, KeyAlgorithm.ECDSA_P384, KeyAlgorithm.ECDSA_P521, KeyAlgorithm.ED25519"],
    ['0.2.0 enum value as a string', () => ({ keyAlgorithm: 'ECDSA' as any }),
      "servingTls.keyAlgorithm: 'ECDSA' is not a KeyAlgorithm; use one of KeyAlgorithm.RSA_2048, KeyAlgorithm.RSA_3072, KeyAlgorithm.RSA_4096, KeyAlgorithm.ECDSA_P256, KeyAlgorithm.ECDSA_P384, KeyAlgorithm.ECDSA_P521, KeyAlgorithm.ED25519"],
    ['a KeyAlgorithm and the deprecated keySize', () => ({ keyAlgorithm: KeyAlgorithm.ECDSA_P384, keySize: 384 }),
      'servingTls.keyAlgorithm: keyAlgorithm (ECDSA_P384) and keySize (384) are both set; keySize is deprecated: remove it and keep keyAlgorithm'],
    ['RSA 1024', () => ({ keySize: 1024 }),
      'servingTls.keySize: 1024 is not supported for RSA; use 2048, 3072 or 4096 (keySize is deprecated: use keyAlgorithm, e.g. KeyAlgorithm.RSA_3072)'],
    ['RSA 8192', () => ({ keyAlgorithm: CertManagerKeyAlgorithm.RSA, keySize: 8192 }),
      'servingTls.keySize: 8192 is not supported for RSA; use 2048, 3072 or 4096 (keySize is deprecated: use keyAlgorithm, e.g. KeyAlgorithm.RSA_3072)'],
    ['ECDSA 521', () => ({ keyAlgorithm: CertManagerKeyAlgorithm.ECDSA, keySize: 521 }),
      'servingTls.keySize: 521 is not supported for ECDSA; use 256 or 384 (keySize is deprecated: use keyAlgorithm, e.g. KeyAlgorithm.ECDSA_P384)'],
    ['ECDSA with an RSA size', () => ({ keyAlgorithm: CertManagerKeyAlgorithm.ECDSA, keySize: 2048 }),
      'servingTls.keySize: 2048 is not supported for ECDSA; use 256 or 384 (keySize is deprecated: use keyAlgorithm, e.g. KeyAlgorithm.ECDSA_P384)'],
    ['Ed25519 with a size', () => ({ keyAlgorithm: CertManagerKeyAlgorithm.ED25519, keySize: 256 }),
      'servingTls.keySize: 256 is set, but Ed25519 keys have no size; remove keySize (deprecated), and use keyAlgorithm: KeyAlgorithm.ED25519'],
    ['a caBundle', () => ({ caBundle: '-----BEGIN CERTIFICATE-----' } as any),
      "servingTls.caBundle: cert-manager issues the certificate in the cluster and cainjector writes the APIService's caBundle, so ServingTls.fromCertManager() takes no caBundle; remove it, or use ServingTls.fromPem(), fromCa() or fromExistingSecret() for your own PEM material"],
    ['a PEM certificate and key', () => ({ certificate: 'x', privateKey: 'y' } as any),
      "servingTls.certificate: cert-manager issues the certificate in the cluster and cainjector writes the APIService's caBundle, so ServingTls.fromCertManager() takes no certificate; remove it, or use ServingTls.fromPem(), fromCa() or fromExistingSecret() for your own PEM material"],
    ['a CA key pair', () => ({ caCertificate: 'x', caKey: 'y' } as any),
      "servingTls.caCertificate: cert-manager issues the certificate in the cluster and cainjector writes the APIService's caBundle, so ServingTls.fromCertManager() takes no caCertificate; remove it, or use ServingTls.fromPem(), fromCa() or fromExistingSecret() for your own PEM material"],
    ['an unknown option', () => ({ issuerRef: { name: 'ca' } } as any),
      'servingTls.issuerRef: not an option of ServingTls.fromCertManager(); use issuer, duration, renewBefore, keyAlgorithm, keySize, secretName, caDuration'],
    ['caDuration with an issuer', () => ({ issuer: CertManagerIssuer.clusterIssuer('ca'), caDuration: Duration.days(365) }),
      "servingTls.caDuration: 365 days only applies to the self-signed CA chain, but issuer names ClusterIssuer 'ca'; remove caDuration, or remove issuer to get the chain"],
    ['caDuration not longer than duration', () => ({ caDuration: Duration.days(90) }),
      'servingTls.caDuration: 90 days must be longer than duration (90 days); use e.g. Duration.hours(43800)'],
    ['invalid secretName', () => ({ secretName: 'Serving_Cert' }),
      "servingTls.secretName: 'Serving_Cert' is not a valid DNS subdomain name; use at most 253 lower-case letters, digits, '-' and '.' (e.g. 'metrics-server-cert-manager-tls')"],
    ['secretName of the CA', () => ({ secretName: 'metrics-server-ca' }),
      "servingTls.secretName: 'metrics-server-ca' is the Secret of the self-signed chain's CA Certificate; use another name, e.g. 'metrics-server-cert-manager-tls'"],
  ];

  test.each(cases)('%s', (_what, options, message) => {
    const chart = new Chart(quietApp(), 'test');
    expectThrowsExactly(() => new SecureMetricsServer(chart, 'MetricsServer', { servingTls: ServingTls.fromCertManager(options()) }), message);
  });

  test('the CA secret name is free when an issuer is named', () => {
    const { objects } = withCertManager({ issuer: CertManagerIssuer.issuer('ca'), secretName: 'metrics-server-ca' });
    expectMountsSecret(objects, 'metrics-server-ca');
  });
});

describe('example app environment', () => {
  const synthEnv = (env: { [k: string]: string }) => build(propsFromEnv(env)).objects;

  test('METRICS_SERVER_TLS=cert-manager alone: the self-signed chain', () => {
    const objects = synthEnv({ METRICS_SERVER_TLS: 'cert-manager' });
    expect(certManagerObjects(objects).map(o => o.kind)).toEqual(['Issuer', 'Certificate', 'Issuer', 'Certificate']);
    expectInjectedApiService(objects, injectedCertificate(objects));
  });

  test.each([
    ['ClusterIssuer/cluster-ca', 'ClusterIssuer', 'cluster-ca'],
    ['Issuer/my-ca', 'Issuer', 'my-ca'],
    ['  ClusterIssuer/vault.example  ', 'ClusterIssuer', 'vault.example'],
  ])('CERT_MANAGER_ISSUER=%s', (value, kind, name) => {
    const objects = synthEnv({ METRICS_SERVER_TLS: 'cert-manager', CERT_MANAGER_ISSUER: value });
    const cm = certManagerObjects(objects);
    expect(cm.map(o => o.kind)).toEqual(['Certificate']);
    expect(cm[0].spec.issuerRef).toEqual({ group: 'cert-manager.io', kind, name });
    expectInjectedApiService(objects, cm[0]);
  });

  test.each([
    [{ CERT_MANAGER_ISSUER: 'Secret/ca' },
      "CERT_MANAGER_ISSUER: 'Secret/ca' does not name an Issuer or ClusterIssuer (kind 'Secret'); use Issuer/NAME or ClusterIssuer/NAME, e.g. ClusterIssuer/cluster-ca, or unset it for a self-signed CA chain"],
    [{ CERT_MANAGER_ISSUER: 'clusterissuer/ca' },
      "CERT_MANAGER_ISSUER: 'clusterissuer/ca' does not name an Issuer or ClusterIssuer (kind 'clusterissuer'); use Issuer/NAME or ClusterIssuer/NAME, e.g. ClusterIssuer/cluster-ca, or unset it for a self-signed CA chain"],
    [{ CERT_MANAGER_ISSUER: 'cluster-ca' },
      "CERT_MANAGER_ISSUER: 'cluster-ca' does not name an Issuer or ClusterIssuer (no kind); use Issuer/NAME or ClusterIssuer/NAME, e.g. ClusterIssuer/cluster-ca, or unset it for a self-signed CA chain"],
    [{ CLUSTER_CA_CERT: '/etc/kubernetes/pki/ca.crt', CLUSTER_CA_KEY: '/etc/kubernetes/pki/ca.key' },
      "METRICS_SERVER_TLS=cert-manager lets cert-manager issue the serving certificate and inject its CA, but CLUSTER_CA_CERT/CLUSTER_CA_KEY is set; unset it, or unset METRICS_SERVER_TLS to use it"],
    [{ TLS_CERT: 'tls.crt', TLS_KEY: 'tls.key', TLS_CA: 'ca.crt' },
      "METRICS_SERVER_TLS=cert-manager lets cert-manager issue the serving certificate and inject its CA, but TLS_CERT/TLS_KEY and TLS_CA is set; unset it, or unset METRICS_SERVER_TLS to use it"],
    [{ EXISTING_TLS_SECRET: 'metrics-server-tls' },
      "METRICS_SERVER_TLS=cert-manager lets cert-manager issue the serving certificate and inject its CA, but EXISTING_TLS_SECRET is set; unset it, or unset METRICS_SERVER_TLS to use it"],
    [{ TLS_CA: 'ca.crt', CERT_MANAGER_ISSUER: 'ClusterIssuer/ca' },
      "METRICS_SERVER_TLS=cert-manager lets cert-manager issue the serving certificate and inject its CA, but TLS_CA is set; unset it, or unset METRICS_SERVER_TLS to use it"],
  ])('cert-manager with %j is refused', (extra, message) => {
    expectThrowsExactly(() => propsFromEnv({ METRICS_SERVER_TLS: 'cert-manager', ...extra }), message);
  });

  // the example app leaves the issuer name to the construct's own check
  test.each([
    ['ClusterIssuer/', "servingTls.issuer: '' is not a valid ClusterIssuer name; use the metadata.name of an existing ClusterIssuer: at most 253 lower-case letters, digits, '-' and '.' (e.g. CertManagerIssuer.clusterIssuer('cluster-ca'))"],
    ['Issuer/My_CA', "servingTls.issuer: 'My_CA' is not a valid Issuer name; use the metadata.name of an existing Issuer: at most 253 lower-case letters, digits, '-' and '.' (e.g. CertManagerIssuer.issuer('cluster-ca'))"],
    ['Issuer/ns/ca', "servingTls.issuer: 'ns/ca' is not a valid Issuer name; use the metadata.name of an existing Issuer: at most 253 lower-case letters, digits, '-' and '.' (e.g. CertManagerIssuer.issuer('cluster-ca'))"],
  ])('CERT_MANAGER_ISSUER=%s is refused by the construct', (value, message) => {
    expectThrowsExactly(() => build(propsFromEnv({ METRICS_SERVER_TLS: 'cert-manager', CERT_MANAGER_ISSUER: value })), message);
  });

  test('CERT_MANAGER_ISSUER without METRICS_SERVER_TLS=cert-manager is refused', () => {
    expectThrowsExactly(() => propsFromEnv({ CERT_MANAGER_ISSUER: 'ClusterIssuer/ca' }),
      "CERT_MANAGER_ISSUER is set, but METRICS_SERVER_TLS is 'verified'; set METRICS_SERVER_TLS=cert-manager, or unset CERT_MANAGER_ISSUER");
    expectThrowsExactly(() => propsFromEnv({ METRICS_SERVER_TLS: 'insecure-test', CERT_MANAGER_ISSUER: 'ClusterIssuer/ca' }),
      "CERT_MANAGER_ISSUER is set, but METRICS_SERVER_TLS is 'insecure-test'; set METRICS_SERVER_TLS=cert-manager, or unset CERT_MANAGER_ISSUER");
  });

  test('an unknown mode lists cert-manager', () => {
    expectThrowsExactly(() => propsFromEnv({ METRICS_SERVER_TLS: 'certmanager' }),
      "METRICS_SERVER_TLS: 'certmanager' is not a mode; use one of verified, insecure-test, cert-manager (or leave it unset for 'verified')");
  });
});
