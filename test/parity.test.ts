import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { KubeletTls, ServingTls } from '../lib';
import { find, synth } from './helpers';

// The defaults must reproduce upstream's release manifest (metrics-server v0.8.1
// components.yaml) field by field, read from the reference file itself
// (../shared/reference, beside the repository, never copied into it); only the
// TLS wiring differs, and each difference is written out below. Where the file is
// missing these tests are skipped, except under CI=true, where that is a failure.

const REFERENCE = path.join(__dirname, '..', '..', 'shared', 'reference', 'metrics-server-v0.8.1-components.yaml');
const HAVE_REFERENCE = existsSync(REFERENCE);

if (!HAVE_REFERENCE && process.env.CI === 'true') {
  test('the upstream reference manifest is there (CI must provide ../shared/reference)', () => {
    throw new Error(`${REFERENCE} is missing: under CI=true the parity tests must run, not skip`);
  });
}

const describeWithReference = HAVE_REFERENCE ? describe : describe.skip;

/** Upstream's objects, parsed from the reference file. */
function upstream(): any[] {
  return (yaml.loadAll(readFileSync(REFERENCE, 'utf8')) as any[]).filter(o => o && typeof o === 'object');
}
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

describeWithReference('upstream parity, against the reference manifest', () => {
  const { objects } = synth();
  const up = HAVE_REFERENCE ? upstream() : [];
  const upstreamOf = (kind: string, name: string) => {
    const o = up.find(x => x.kind === kind && x.metadata?.name === name);
    expect([kind, name, o !== undefined]).toEqual([kind, name, true]);
    return clone(o);
  };
  const UNCHANGED = ['ServiceAccount', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'Service'];

  test('synthesizes upstream\'s objects plus the TLS Secret, nothing else', () => {
    const names = (list: any[]) => list.map(o => `${o.kind}/${o.metadata.name}`).sort();
    expect(names(objects)).toEqual(names([...up, { kind: 'Secret', metadata: { name: 'metrics-server-tls' } }]));
  });

  test('every object but the Deployment and the APIService equals upstream\'s', () => {
    const same = up.filter(o => UNCHANGED.includes(o.kind));
    expect(same.length).toBeGreaterThanOrEqual(7);
    for (const o of same) {
      expect(find(objects, o.kind, o.metadata.name)).toEqual(o);
    }
  });

  /** The verified wiring's differences from upstream's Deployment, each written out. */
  function verifiedDeployment(): any {
    const d = upstreamOf('Deployment', 'metrics-server');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    // the serving certificate from the Secret instead of a self-signed one in --cert-dir
    c.args = [...c.args.filter((a: string) => a !== '--cert-dir=/tmp'),
      '--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt',
      '--tls-cert-file=/etc/metrics-server/tls/tls.crt',
      '--tls-private-key-file=/etc/metrics-server/tls/tls.key'];
    c.volumeMounts = [...c.volumeMounts,
      { mountPath: '/etc/kubelet-ca', name: 'kubelet-ca', readOnly: true },
      { mountPath: '/etc/metrics-server/tls', name: 'serving-cert', readOnly: true }];
    pod.volumes = [...pod.volumes,
      { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' }, name: 'kubelet-ca' },
      { name: 'serving-cert', secret: { secretName: 'metrics-server-tls' } }];
    // the one deliberate addition to upstream's pod: a pod-level securityContext (restricted Pod Security for every container)
    pod.securityContext = { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } };
    return d;
  }

  test('Deployment equals upstream but for the verified TLS wiring', () => {
    expect(find(objects, 'Deployment')).toEqual(verifiedDeployment());
  });

  test('APIService equals upstream but with a caBundle instead of insecureSkipTLSVerify', () => {
    const want = upstreamOf('APIService', 'v1beta1.metrics.k8s.io');
    delete want.spec.insecureSkipTLSVerify;
    want.spec.caBundle = expect.any(String);
    // upstream leaves spec.service.port at its default (443); the construct writes it out
    expect(want.spec.service.port).toBeUndefined();
    want.spec.service.port = 443;
    // the expiry of the CA and serving certificate (docs/rotation.md)
    want.metadata.annotations = { 'secure-metrics-server.io/ca-not-after': expect.any(String), 'secure-metrics-server.io/serving-not-after': expect.any(String) };
    const api = find(objects, 'APIService');
    expect(api).toEqual(want);
    expect('insecureSkipTLSVerify' in api.spec).toBe(false);
  });

  test('insecure test mode is upstream plus --kubelet-insecure-tls, the usual quick install, and says so', () => {
    const insecure = synth({ kubeletTls: KubeletTls.insecure(), servingTls: ServingTls.insecure() }).objects;
    const annotations = { 'secure-metrics-server.io/insecure-tls': 'kubelet,apiservice' };
    const d = upstreamOf('Deployment', 'metrics-server');
    d.metadata.annotations = annotations;
    d.spec.template.spec.containers[0].args.push('--kubelet-insecure-tls');
    d.spec.template.spec.securityContext = { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } };
    expect(find(insecure, 'Deployment')).toEqual(d);
    const api = upstreamOf('APIService', 'v1beta1.metrics.k8s.io');
    api.metadata.annotations = annotations;
    api.spec.service.port = 443;
    expect(find(insecure, 'APIService')).toEqual(api);
    for (const o of up.filter(x => UNCHANGED.includes(x.kind))) {
      expect(find(insecure, o.kind, o.metadata.name)).toEqual(o);
    }
    expect(insecure.filter(o => o.kind === 'Secret')).toEqual([]);
  });
});
