import { existsSync } from 'fs';
import { App, Chart, Duration, Testing } from 'cdk8s';
import { CertificateStore, KubeletTls, NodeAddressType, Pem, SecureMetricsServer, ServingTls } from '../lib';
import { container, fixtureStore, decode, find, listTree, pem, synth, testCert, testKey, tmp, tmpStore, warningsOf, writeTmp, DEFAULT_DNS_NAMES } from './helpers';


describe('kubelet hop', () => {
  test('default: kube-root-ca.crt mounted read-only under a valid volume name', () => {
    const { objects } = synth();
    const c = container(objects);
    expect(c.args).toContain('--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt');
    expect(c.args).not.toContain('--kubelet-insecure-tls');
    const volume = find(objects, 'Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'kubelet-ca');
    expect(volume).toEqual({ name: 'kubelet-ca', configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    expect(volume.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(c.volumeMounts).toContainEqual({ name: 'kubelet-ca', mountPath: '/etc/kubelet-ca', readOnly: true });
  });

  test('another ConfigMap key', () => {
    const { objects } = synth({ kubeletTls: KubeletTls.fromConfigMap('kubelet-serving-ca', 'bundle.pem') });
    const volume = find(objects, 'Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'kubelet-ca');
    expect(volume.configMap).toEqual({ name: 'kubelet-serving-ca', items: [{ key: 'bundle.pem', path: 'ca.crt' }] });
    expect(container(objects).args).toContain('--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt');
  });

  test('a Secret key', () => {
    const { objects } = synth({ kubeletTls: KubeletTls.fromSecret('kubelet-ca', 'ca.pem') });
    const volume = find(objects, 'Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'kubelet-ca');
    expect(volume.secret).toEqual({ secretName: 'kubelet-ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] });
  });

  test('insecure kubelet hop with a verified APIService hop (kind, minikube)', () => {
    const { objects, construct } = synth({ kubeletTls: KubeletTls.insecure() });
    expect(container(objects).args).toContain('--kubelet-insecure-tls');
    expect(container(objects).args.some((a: string) => a.startsWith('--kubelet-certificate-authority'))).toBe(false);
    expect(find(objects, 'Deployment').metadata.annotations).toEqual({ [SecureMetricsServer.INSECURE_ANNOTATION]: 'kubelet' });
    expect(find(objects, 'APIService').metadata.annotations).toEqual({
      [SecureMetricsServer.INSECURE_ANNOTATION]: 'kubelet',
      // the expiry of the stored material (CA rotation, docs/rotation.md)
      [ServingTls.CA_NOT_AFTER_ANNOTATION]: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      [ServingTls.SERVING_NOT_AFTER_ANNOTATION]: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(find(objects, 'APIService').spec.caBundle).toBeDefined();
    expect(construct.kubeletInsecure).toBe(true);
    expect(construct.apiServiceInsecure).toBe(false);
    expect(construct.warnings).toHaveLength(1);
    expect(construct.warnings[0]).toContain('the kubelet hop is NOT verified');
    expect(warningsOf(construct)).toEqual(construct.warnings);
  });
});

describe('APIService hop', () => {
  test('insecure: runtime cert in /tmp, insecureSkipTLSVerify, a warning naming the hop', () => {
    const { objects, construct } = synth({ servingTls: ServingTls.insecure() });
    expect(container(objects).args[0]).toBe('--cert-dir=/tmp');
    expect(container(objects).args.some((a: string) => a.startsWith('--tls-'))).toBe(false);
    const api = find(objects, 'APIService');
    expect(api.spec.insecureSkipTLSVerify).toBe(true);
    expect(api.spec.caBundle).toBeUndefined();
    expect(api.metadata.annotations).toEqual({ [SecureMetricsServer.INSECURE_ANNOTATION]: 'apiservice' });
    expect(construct.warnings).toEqual([expect.stringContaining('the APIService hop is NOT verified (insecureSkipTLSVerify: true)')]);
    expect(warningsOf(construct)).toEqual(construct.warnings);
    expect(construct.secret).toBeUndefined();
  });

  test('verified: the Secret is kubernetes.io/tls, mounted read-only without subPath, flags point at it, no --cert-dir', () => {
    const { objects, construct } = synth();
    const secret = find(objects, 'Secret');
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data).sort()).toEqual(['tls.crt', 'tls.key']);
    expect(secret.metadata).toEqual({
      name: 'metrics-server-tls', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' },
      annotations: { [ServingTls.CA_NOT_AFTER_ANNOTATION]: expect.any(String), [ServingTls.SERVING_NOT_AFTER_ANNOTATION]: expect.any(String) },
    });
    const c = container(objects);
    const mount = c.volumeMounts.find((m: any) => m.name === 'serving-cert');
    expect(mount).toEqual({ name: 'serving-cert', mountPath: '/etc/metrics-server/tls', readOnly: true });
    expect(mount.subPath).toBeUndefined();
    expect(c.args).toEqual(expect.arrayContaining([
      '--tls-cert-file=/etc/metrics-server/tls/tls.crt',
      '--tls-private-key-file=/etc/metrics-server/tls/tls.key',
    ]));
    expect(c.args.some((a: string) => a.startsWith('--cert-dir'))).toBe(false);
    expect(construct.secret).toBeDefined();
    expect(construct.warnings).toEqual([]);
    expect(find(objects, 'Deployment').metadata.annotations).toBeUndefined();
  });

  test('verified: caBundle is base64 PEM and insecureSkipTLSVerify is omitted, not false', () => {
    const { objects, construct } = synth();
    const api = find(objects, 'APIService');
    expect(decode(api.spec.caBundle)).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(decode(api.spec.caBundle)).toBe(construct.caBundle);
    expect(Object.keys(api.spec)).not.toContain('insecureSkipTLSVerify');
    expect(api.spec.service.port).toBe(443);
  });

  test('fromPem: the user\'s certificate and key go into the Secret, the CA into caBundle', () => {
    const ca = testCert({ cn: 'my-ca', key: testKey(0), ca: true });
    const leaf = testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(1), issuer: { cert: ca, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES });
    const { objects } = synth({
      servingTls: ServingTls.fromPem({ certificate: Pem.fromString(pem.cert(leaf)), privateKey: Pem.fromString(pem.key(testKey(1))),
        caBundle: Pem.fromString(pem.cert(ca)) }),
    });
    const secret = find(objects, 'Secret');
    expect(decode(secret.data['tls.crt']).replace(/\r/g, '').trim()).toBe(pem.cert(leaf).replace(/\r/g, '').trim());
    expect(decode(secret.data['tls.key'])).toBe(pem.key(testKey(1)).replace(/\r\n/g, '\n'));
    expect(decode(secret.data['tls.crt'])).not.toContain('\r');
    expect(decode(find(objects, 'APIService').spec.caBundle).replace(/\r/g, '').trim()).toBe(pem.cert(ca).replace(/\r/g, '').trim());
  });

  test('fromPem: an intermediate in the certificate file is kept and verified', () => {
    const root = testCert({ cn: 'root', key: testKey(0), ca: true });
    const mid = testCert({ cn: 'intermediate', key: testKey(2), ca: true, issuer: { cert: root, key: testKey(0) } });
    const leaf = testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES });
    const { objects } = synth({
      servingTls: ServingTls.fromPem({
        certificate: Pem.fromString(pem.cert(leaf) + pem.cert(mid)),
        privateKey: Pem.fromString(pem.key(testKey(1))),
        caBundle: Pem.fromString(pem.cert(root)),
      }),
    });
    expect(decode(find(objects, 'Secret').data['tls.crt']).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  test('fromPem: a certificate expiring within renewBefore gives a warning', () => {
    const ca = testCert({ cn: 'my-ca', key: testKey(0), ca: true });
    const leaf = testCert({
      cn: 'x', key: testKey(1), issuer: { cert: ca, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES,
      notAfter: new Date(Date.now() + 10 * 86400_000),
    });
    const result = synth({
      servingTls: ServingTls.fromPem({ certificate: Pem.fromString(pem.cert(leaf)), privateKey: Pem.fromString(pem.key(testKey(1))),
        caBundle: Pem.fromString(pem.cert(ca)) }),
    });
    expect(result.construct.warnings).toHaveLength(1);
    expect(result.construct.warnings[0]).toMatch(/^servingTls.certificate: the serving certificate expires on .*, within 30 days; renew it$/);
    expect(warningsOf(result.construct)).toEqual(result.construct.warnings);
  });

  test('fromPem: ca-not-after is the earliest end among the chain\'s intermediates and the bundle CAs that verify it, not another CA of the bundle', () => {
    const start = Math.floor(Date.now() / 1000) * 1000;
    const at = (days: number) => new Date(start + days * 86400_000);
    const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
    const root = testCert({ cn: 'root', key: testKey(0), ca: true, notAfter: at(900) });
    // another CA of the bundle (the one being replaced), ending first: not on the chain
    const other = testCert({ cn: 'other', key: testKey(3), ca: true, notAfter: at(100) });
    const mid = testCert({ cn: 'intermediate', key: testKey(2), ca: true, issuer: { cert: root, key: testKey(0) }, notAfter: at(600) });
    const leaf = testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(1), issuer: { cert: mid, key: testKey(2) }, dnsNames: DEFAULT_DNS_NAMES, notAfter: at(300) });
    const run = (chain: string, bundle: string) => synth({
      servingTls: ServingTls.fromPem({ certificate: Pem.fromString(chain), privateKey: Pem.fromString(pem.key(testKey(1))), caBundle: Pem.fromString(bundle) }),
    }).objects;
    const expected = { [ServingTls.CA_NOT_AFTER_ANNOTATION]: iso(at(600)), [ServingTls.SERVING_NOT_AFTER_ANNOTATION]: iso(at(300)) };
    const objects = run(pem.cert(leaf) + pem.cert(mid), pem.cert(other) + pem.cert(root));
    expect(find(objects, 'Secret').metadata.annotations).toEqual(expected);
    expect(find(objects, 'APIService').metadata.annotations).toEqual(expect.objectContaining(expected));
    // without the intermediate in the way, the root's end
    const direct = testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(1), issuer: { cert: root, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES });
    expect(find(run(pem.cert(direct), pem.cert(other) + pem.cert(root)), 'Secret').metadata.annotations[ServingTls.CA_NOT_AFTER_ANNOTATION]).toBe(iso(at(900)));
  });

  test('fromExistingSecret: ca-not-after on the APIService is the earliest end among the bundle\'s CAs', () => {
    const start = Math.floor(Date.now() / 1000) * 1000;
    const at = (days: number) => new Date(start + days * 86400_000);
    const a = testCert({ cn: 'ca-a', key: testKey(0), ca: true, notAfter: at(700) });
    const b = testCert({ cn: 'ca-b', key: testKey(2), ca: true, notAfter: at(200) });
    const { objects } = synth({ servingTls: ServingTls.fromExistingSecret({ secretName: 'tls', caBundle: Pem.fromString(pem.cert(a) + pem.cert(b)) }) });
    const annotations = find(objects, 'APIService').metadata.annotations;
    expect(annotations[ServingTls.CA_NOT_AFTER_ANNOTATION]).toBe(at(200).toISOString().replace('.000Z', 'Z'));
    // the Secret's certificate is not known: no serving date
    expect(annotations[ServingTls.SERVING_NOT_AFTER_ANNOTATION]).toBeUndefined();
  });

  test('fromExistingSecret: mounts the named Secret, no private key in the YAML', () => {
    const ca = testCert({ cn: 'my-ca', key: testKey(0), ca: true });
    const { objects, construct } = synth({
      servingTls: ServingTls.fromExistingSecret({ secretName: 'metrics-server-cert', caBundle: Pem.fromString(pem.cert(ca)) }),
    });
    expect(objects.filter(o => o.kind === 'Secret')).toEqual([]);
    expect(construct.secret).toBeUndefined();
    const volume = find(objects, 'Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'serving-cert');
    expect(volume).toEqual({ name: 'serving-cert', secret: { secretName: 'metrics-server-cert' } });
    expect(find(objects, 'APIService').spec.caBundle).toBe(Buffer.from(pem.cert(ca).replace(/\r\n/g, '\n').trim() + '\n').toString('base64'));
    expect(JSON.stringify(objects)).not.toMatch(/PRIVATE KEY/);
  });

  test('fromCa reads PEM files and issues with that CA', () => {
    const dir = tmp();
    const ca = testCert({ cn: 'kubernetes', key: testKey(0), ca: true });
    const { construct } = synth({
      servingTls: ServingTls.fromCa({
        caCertificate: Pem.fromFile(writeTmp(dir, 'ca.crt', pem.cert(ca))),
        caKey: Pem.fromFile(writeTmp(dir, 'ca.key', pem.key(testKey(0)))),
        store: tmpStore(),
      }),
    });
    expect(construct.caBundle!.trim()).toBe(pem.cert(ca).replace(/\r\n/g, '\n').trim());
  });

  test('a custom secretName and key size', () => {
    const { objects } = synth({ servingTls: ServingTls.fromDedicatedCa({ store: fixtureStore(), secretName: 'ms-serving', keySize: 3072 }) });
    expect(find(objects, 'Secret').metadata.name).toBe('ms-serving');
    const key = require('crypto').createPrivateKey(decode(find(objects, 'Secret').data['tls.key']));
    expect(key.asymmetricKeyDetails.modulusLength).toBe(3072);
  });
});

describe('props', () => {
  test('one securePort drives the flag, the containerPort and (by name) the probes and Service', () => {
    const { objects } = synth({ securePort: 4443 });
    const c = container(objects);
    expect(c.args).toContain('--secure-port=4443');
    expect(c.ports).toEqual([{ containerPort: 4443, name: 'https', protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet.port).toBe('https');
    expect(c.readinessProbe.httpGet.port).toBe('https');
    expect(find(objects, 'Service').spec.ports[0].targetPort).toBe('https');
  });

  test('metricResolution, address types, node status port, image, extraArgs, resources', () => {
    const { Cpu } = require('cdk8s-plus-28');
    const { Size } = require('cdk8s');
    const { objects } = synth({
      metricResolution: Duration.minutes(1),
      kubeletPreferredAddressTypes: [NodeAddressType.HOSTNAME, NodeAddressType.INTERNAL_IP],
      kubeletUseNodeStatusPort: false,
      image: 'example.com/metrics-server:v0.8.1',
      extraArgs: ['--v=2', '--requestheader-allowed-names=front-proxy-client'],
      resources: { cpu: { request: Cpu.millis(50), limit: Cpu.units(1) }, memory: { request: Size.mebibytes(100), limit: Size.gibibytes(1) } },
    });
    const c = container(objects);
    expect(c.args).toEqual([
      '--secure-port=10250',
      '--kubelet-preferred-address-types=Hostname,InternalIP',
      '--metric-resolution=60s',
      '--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt',
      '--tls-cert-file=/etc/metrics-server/tls/tls.crt',
      '--tls-private-key-file=/etc/metrics-server/tls/tls.key',
      '--v=2',
      '--requestheader-allowed-names=front-proxy-client',
    ]);
    expect(c.image).toBe('example.com/metrics-server:v0.8.1');
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '100Mi' }, limits: { cpu: '1', memory: '1024Mi' } });
  });

  test('another namespace: namespaced objects move, the auth-reader RoleBinding stays in kube-system', () => {
    const { objects } = synth({ namespace: 'monitoring' });
    for (const kind of ['ServiceAccount', 'Service', 'Deployment', 'Secret']) {
      expect(find(objects, kind).metadata.namespace).toBe('monitoring');
    }
    const rb = find(objects, 'RoleBinding');
    expect(rb.metadata.namespace).toBe('kube-system');
    expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'metrics-server', namespace: 'monitoring' }]);
    expect(find(objects, 'APIService').spec.service).toEqual({ name: 'metrics-server', namespace: 'monitoring', port: 443 });
  });

  test('namespace defaults to the chart\'s; cluster-scoped objects carry none, the auth-reader RoleBinding stays in kube-system', () => {
    const { objects, construct } = synth({}, 'some-chart-namespace');
    expect(construct.namespace).toBe('some-chart-namespace');
    for (const o of objects) {
      if (['ClusterRole', 'ClusterRoleBinding', 'APIService'].includes(o.kind)) {
        expect(o.metadata.namespace).toBeUndefined();
      } else if (o.kind === 'RoleBinding') {
        expect(o.metadata.namespace).toBe('kube-system');
        expect(o.subjects[0].namespace).toBe('some-chart-namespace');
      } else {
        expect(o.metadata.namespace).toBe('some-chart-namespace');
      }
    }
    expect(find(objects, 'APIService').spec.service.namespace).toBe('some-chart-namespace');
    // the namespace prop still wins, and without either it is kube-system
    expect(synth({ namespace: 'monitoring' }, 'some-chart-namespace').construct.namespace).toBe('monitoring');
    expect(synth().construct.namespace).toBe('kube-system');
  });

  test('every object has an explicit name and the k8s-app label', () => {
    const { objects } = synth();
    for (const o of objects) {
      expect(o.metadata.name).toBeTruthy();
      expect(o.metadata.labels['k8s-app']).toBe('metrics-server');
    }
  });

  test('a second instance in one Chart is refused; one per Chart (a fleet in one App) is fine', () => {
    const app = Testing.app();
    const store = fixtureStore();
    const a = new Chart(app, 'a');
    new SecureMetricsServer(a, 'MetricsServer', { servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(() => new SecureMetricsServer(a, 'Other', { servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow("SecureMetricsServer: 'a/Other' is a second instance in chart 'a' ('a/MetricsServer' exists); a cluster has one v1beta1.metrics.k8s.io APIService, so put one SecureMetricsServer in each Chart (one Chart per cluster)");
    expect(() => new SecureMetricsServer(new Chart(app, 'b'), 'MetricsServer', { servingTls: ServingTls.fromDedicatedCa({ store }) })).not.toThrow();
    expect(() => new SecureMetricsServer(new Chart(new App({ outdir: tmp() }), 'c'), 'MetricsServer', { servingTls: ServingTls.fromDedicatedCa({ store }) })).not.toThrow();
  });

  test('the construct exposes handles to its objects', () => {
    const { construct } = synth();
    expect(construct.deployment.kind).toBe('Deployment');
    expect(construct.service.kind).toBe('Service');
    expect(construct.serviceAccount!.kind).toBe('ServiceAccount');
    expect(construct.apiService!.kind).toBe('APIService');
    expect(construct.secret!.kind).toBe('Secret');
    expect(construct.certificate).toBeUndefined();
    expect(construct.name).toBe('metrics-server');
    expect(construct.namespace).toBe('kube-system');
    expect(construct.securePort).toBe(10250);
  });

  test('default store is .secure-metrics-server/pki in the working directory', () => {
    const dir = tmp();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const app = new App({ outdir: 'dist' });
      new SecureMetricsServer(new Chart(app, 'c'), 'MetricsServer');
      expect(listTree(`${dir}/.secure-metrics-server/pki`)).toEqual([
        '.gitignore',
        'clusters/c/ca/ca.crt',
        'clusters/c/ca/ca.key',
        'clusters/c/ca/params.json',
        'clusters/c/chart.json',
        'clusters/c/metrics-server.kube-system.svc.cluster.local.checked.json',
        'clusters/c/metrics-server.kube-system.svc.cluster.local/tls.crt',
        'clusters/c/metrics-server.kube-system.svc.cluster.local/tls.key',
      ]);
      expect(() => new SecureMetricsServer(new Chart(new App({ outdir: 'dist' }), 'c'), 'MetricsServer', {
        servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory('dist/pki') }),
      })).toThrow(`servingTls.store: '${dir}/dist/pki' is inside the app's output directory '${dir}/dist', which 'cdk8s synth' empties on every run (the CA and keys would be made anew each time); choose a directory outside it, e.g. '.secure-metrics-server/pki'`);
      // what counts is the app's real output directory (cdk8s synth -o sets it)
      expect(() => new SecureMetricsServer(new Chart(new App({ outdir: 'manifests' }), 'c'), 'MetricsServer', {
        servingTls: ServingTls.fromCa({ caCertificate: Pem.fromString('x'), caKey: Pem.fromString('y'), store: CertificateStore.fromDirectory('manifests') }),
      })).toThrow(/^servingTls.store: '.*\/manifests' is inside the app's output directory/);
      expect(existsSync(`${dir}/dist/pki`)).toBe(false);
      fixtureStore(`${dir}/dist/pki`);
      expect(() => new SecureMetricsServer(new Chart(new App({ outdir: 'manifests' }), 'c'), 'MetricsServer', {
        servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory('dist/pki') }),
      })).not.toThrow();
    } finally {
      process.chdir(cwd);
    }
  });
});
