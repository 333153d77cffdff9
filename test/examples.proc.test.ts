// The apps in examples/, as a user runs them: compiled by tsc (the cdk8s
// TypeScript template's tsconfig) against the types of the packed tarball
// installed in a fresh app (test/pack.ts), never against lib/, then the
// JavaScript run by node, each example in its own working directory, and the
// YAML it writes checked for the facts that make the mode what it is.
import { execFile, execFileSync, spawnSync } from 'child_process';
import { createPrivateKey, X509Certificate } from 'crypto';
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { Yaml } from 'cdk8s';
import { DEFAULT_DNS_NAMES, fixtureCa, pem, testCert, testKey, tmp, writeTmp } from './helpers';
import { goVerifyBinary } from './go-verify-binary';
import { formatDiagnostic, ROOT, workspace } from './pack';

const INSECURE_ANNOTATION = 'secure-metrics-server.io/insecure-tls';
const EXAMPLES = readdirSync(path.join(ROOT, 'examples')).sort();

/** The fleet example's clusters (its Chart ids) and their namespaces. */
const FLEET: { [cluster: string]: string } = { 'cluster-a': 'monitoring', 'cluster-b': 'observability', 'cluster-c': 'kube-system' };

interface Run {
  /** Every object of every manifest written. */
  readonly objects: any[];
  /** The objects of each manifest, by file name. */
  readonly files: { [file: string]: any[] };
  readonly stderr: string;
  readonly cwd: string;
}
const runs = new Map<string, Run>();
let compileErrors: string[] = [];
let pems: { caCert: string; caKey: string; ecdsaCaCert: string; ecdsaCaKey: string; tlsCert: string; tlsKey: string; tlsCa: string };

const kinds = (r: Run) => r.objects.map(o => o.kind).sort();
const find = (r: Run, kind: string) => r.objects.filter(o => o.kind === kind);
const deployment = (r: Run) => find(r, 'Deployment').find(d => d.metadata.name.startsWith('metrics-server'));
const args = (r: Run): string[] => deployment(r).spec.template.spec.containers[0].args;
const api = (r: Run) => find(r, 'APIService')[0];
const caBundle = (r: Run) => Buffer.from(api(r).spec.caBundle, 'base64').toString('utf8');
/** PEM text without the line-ending differences (node-forge writes CRLF). */
const norm = (text: string) => text.replace(/\r\n/g, '\n').trim();
const annotated = (r: Run) => r.objects.filter(o => o.metadata?.annotations?.[INSECURE_ANNOTATION] !== undefined);

beforeAll(async () => {
  // compiled in the shared tsc run (test/pack.ts): the template's compiler
  // options, the package's types
  const ws = workspace();
  const dir = ws.dir;
  compileErrors = [...ws.other, ...ws.diagnostics.filter(d => d.file.startsWith('examples/')).map(formatDiagnostic)];
  if (compileErrors.length > 0) {
    return;
  }

  // the PEM files the examples read: an openssl-made RSA CA as kubeadm makes
  // it, and a certificate for the service with its key and CA
  const ca = fixtureCa('kubernetes');
  // and a P-256 CA as k3s and RKE2 make it (openssl -newkey ec -pkeyopt ec_paramgen_curve:P-256)
  const ecdsaCa = fixtureCa('k3s-ecdsa');
  const files = tmp('sms-examples-pem-');
  const ownCa = testCert({ cn: 'own-ca', key: testKey(0), ca: true });
  const leaf = testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(1), issuer: { cert: ownCa, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES });
  pems = {
    caCert: ca.cert, caKey: ca.key, ecdsaCaCert: ecdsaCa.cert, ecdsaCaKey: ecdsaCa.key,
    tlsCert: writeTmp(files, 'tls.crt', pem.cert(leaf)),
    tlsKey: writeTmp(files, 'tls.key', pem.key(testKey(1))),
    tlsCa: writeTmp(files, 'ca.crt', pem.cert(ownCa)),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLUSTER_CA_CERT: pems.caCert, CLUSTER_CA_KEY: pems.caKey,
    SERVER_CA_CERT: pems.ecdsaCaCert, SERVER_CA_KEY: pems.ecdsaCaKey,
    TLS_CERT: pems.tlsCert, TLS_KEY: pems.tlsKey, TLS_CA: pems.tlsCa,
  };
  delete env.SECURE_METRICS_SERVER_SILENCE_WARNINGS;

  // each example in its own working directory, required in turn by one node
  // process (loading cdk8s-plus-28 once instead of eight times); what each
  // writes on stderr is kept apart
  const cwds = Object.fromEntries(EXAMPLES.map(name => [name, tmp(`sms-example-${name}-`)]));
  const runner = writeTmp(tmp('sms-examples-runner-'), 'run.js', `
    const path = require('path');
    const result = {};
    const write = process.stderr.write.bind(process.stderr);
    for (const [name, cwd] of Object.entries(${JSON.stringify(cwds)})) {
      const chunks = [];
      process.stderr.write = chunk => { chunks.push(String(chunk)); return true; };
      try {
        process.chdir(cwd);
        require(path.join(${JSON.stringify(path.join(dir, 'out', 'examples'))}, name, 'main.js'));
        result[name] = { stderr: chunks.join('') };
      } catch (e) {
        result[name] = { error: String(e && e.stack || e), stderr: chunks.join('') };
      } finally {
        process.stderr.write = write;
      }
    }
    process.stdout.write(JSON.stringify(result));
  `);
  const { stdout } = await promisify(execFile)(process.execPath, [runner], { cwd: dir, env, encoding: 'utf8' });
  const results = JSON.parse(stdout);
  for (const name of EXAMPLES) {
    expect({ name, error: results[name].error }).toEqual({ name, error: undefined });
    const cwd = cwds[name];
    const out = readdirSync(path.join(cwd, 'dist')).sort();
    // one manifest per Chart: the fleet has one Chart per cluster
    expect({ name, out }).toEqual({ name, out: name === 'fleet' ? Object.keys(FLEET).map(c => `${c}.k8s.yaml`) : ['metrics-server.k8s.yaml'] });
    const files = Object.fromEntries(out.map(f => [f, Yaml.load(path.join(cwd, 'dist', f))]));
    runs.set(name, { objects: Object.values(files).flat(), files, stderr: results[name].stderr, cwd });
  }
}, 300_000);

test('every example compiles against the packed package with the template tsconfig', () => {
  expect(compileErrors).toEqual([]);
});

test('every example directory holds a main.ts that starts with what it shows', () => {
  expect(EXAMPLES.length).toBeGreaterThanOrEqual(10);
  for (const name of EXAMPLES) {
    expect(readdirSync(path.join(ROOT, 'examples', name))).toContain('main.ts');
    const source = readFileSync(path.join(ROOT, 'examples', name, 'main.ts'), 'utf8');
    expect(source).toMatch(/^\/\/ \S/);
    // the package name, as a user imports it; never the repository's lib/
    expect(source).toContain("from 'secure-metrics-server'");
    expect(source).not.toMatch(/from '\.\.?\//);
  }
});

test.each(EXAMPLES.filter(n => n !== 'insecure-test-cluster'))('%s: both hops verified, nothing insecure, no warning', name => {
  const r = runs.get(name)!;
  expect(annotated(r)).toEqual([]);
  expect(r.stderr).not.toContain('WARNING');
  // every manifest (the fleet writes one per cluster)
  for (const objects of Object.values(r.files)) {
    const m: Run = { ...r, objects };
    expect(api(m).spec.insecureSkipTLSVerify).toBeUndefined();
    expect(args(m)).not.toContain('--kubelet-insecure-tls');
    expect(args(m)).toContain('--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt');
  }
});

test('verified-defaults: a dedicated CA in the default store signs the serving certificate', () => {
  const r = runs.get('verified-defaults')!;
  expect(kinds(r)).toEqual(['APIService', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding',
    'Deployment', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount']);
  const store = path.join(r.cwd, '.secure-metrics-server', 'pki');
  expect(caBundle(r).trim()).toBe(readFileSync(path.join(store, 'clusters', 'metrics-server', 'ca', 'ca.crt'), 'utf8').trim());
  expect(find(r, 'Secret')[0].type).toBe('kubernetes.io/tls');
});

test('insecure-test-cluster: both hops insecure, annotated, and a warning printed', () => {
  const r = runs.get('insecure-test-cluster')!;
  expect(api(r).spec.insecureSkipTLSVerify).toBe(true);
  expect(api(r).spec.caBundle).toBeUndefined();
  expect(args(r)).toContain('--kubelet-insecure-tls');
  expect(annotated(r).map(o => o.kind)).toEqual(expect.arrayContaining(['APIService', 'Deployment']));
  expect(find(r, 'Secret')).toEqual([]);
  expect(r.stderr).toContain('NOT verified');
});

test('cluster-ca: the RSA cluster CA signs the serving certificate; it is the caBundle', () => {
  const r = runs.get('cluster-ca')!;
  expect(caBundle(r).trim()).toBe(readFileSync(pems.caCert, 'utf8').trim());
  const serving = path.join(r.cwd, 'secrets', 'pki', 'clusters', 'metrics-server', 'metrics-server.kube-system.svc.cluster.local');
  expect(readdirSync(serving).sort()).toEqual(['tls.crt', 'tls.key']);
  const secret = find(r, 'Secret')[0];
  expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(readFileSync(path.join(serving, 'tls.crt'), 'utf8'));
});

test('bring-your-own-pem: the given certificate in the Secret, the given CA in the caBundle', () => {
  const r = runs.get('bring-your-own-pem')!;
  const secret = find(r, 'Secret')[0];
  expect(norm(Buffer.from(secret.data['tls.crt'], 'base64').toString())).toBe(norm(readFileSync(pems.tlsCert, 'utf8')));
  expect(norm(caBundle(r))).toBe(norm(readFileSync(pems.tlsCa, 'utf8')));
});

test('existing-secret: no Secret synthesized; the Deployment mounts the named one', () => {
  const r = runs.get('existing-secret')!;
  expect(find(r, 'Secret')).toEqual([]);
  expect(deployment(r).spec.template.spec.volumes).toContainEqual({ name: 'serving-cert', secret: { secretName: 'metrics-server-tls' } });
  expect(norm(caBundle(r))).toBe(norm(readFileSync(pems.tlsCa, 'utf8')));
});

test('cert-manager: a Certificate from the ClusterIssuer, the caBundle injected by cert-manager', () => {
  const r = runs.get('cert-manager')!;
  const cert = find(r, 'Certificate');
  expect(cert).toHaveLength(1);
  expect(cert[0].spec.issuerRef).toEqual(expect.objectContaining({ kind: 'ClusterIssuer', name: 'cluster-ca' }));
  expect(cert[0].spec.duration).toBe('720h');
  expect(find(r, 'Secret')).toEqual([]);
  expect(api(r).spec.caBundle).toBeUndefined();
  expect(api(r).metadata.annotations['cert-manager.io/inject-ca-from']).toMatch(/^kube-system\//);
});

test('kubelet-csr-approver: the approver with its regex and prefixes; metrics-server dials InternalIP', () => {
  const r = runs.get('kubelet-csr-approver')!;
  const approver = find(r, 'Deployment').filter(d => d !== deployment(r));
  expect(approver).toHaveLength(1);
  const env = approver[0].spec.template.spec.containers[0].env ?? [];
  const values = JSON.stringify(env) + JSON.stringify(approver[0].spec.template.spec.containers[0].args ?? []);
  expect(values).toContain('^k8s-(control|worker)-[0-9]+$');
  expect(values).toContain('192.168.10.0/24');
  expect(args(r)).toContain('--kubelet-preferred-address-types=InternalIP');
});

test('production-ha: three replicas over zones, a PodDisruptionBudget, a NetworkPolicy, the resources', () => {
  const r = runs.get('production-ha')!;
  const spec = deployment(r).spec;
  expect(spec.replicas).toBe(3);
  expect(find(r, 'PodDisruptionBudget')[0].spec.minAvailable).toBe(2);
  expect(find(r, 'NetworkPolicy')).toHaveLength(1);
  expect(spec.template.spec.topologySpreadConstraints[0]).toEqual(expect.objectContaining({
    topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', minDomains: 3,
  }));
  expect(spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
  expect(spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: '1', memory: '400Mi' } });
  expect(spec.template.spec.priorityClassName).toBe('system-cluster-critical');
});

test('identity-rbac: the annotated ServiceAccount, bound and run by the pods; the APIService and Service metadata', () => {
  const r = runs.get('identity-rbac')!;
  expect(find(r, 'ServiceAccount')[0].metadata).toMatchObject({ name: 'metrics-server-irsa', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/metrics-server' } });
  expect(deployment(r).spec.template.spec.serviceAccountName).toBe('metrics-server-irsa');
  expect(r.objects.filter(o => o.kind.endsWith('RoleBinding')).every(b => b.subjects[0].name === 'metrics-server-irsa')).toBe(true);
  expect(api(r).metadata.annotations['example.com/owner']).toBe('platform');
  expect(find(r, 'Service')[0].metadata.labels['kubernetes.io/cluster-service']).toBe('true');
});

test('probes-rollout: surge-first updates, revision history, probe timing, the budget by maxUnavailable', () => {
  const r = runs.get('probes-rollout')!;
  const spec = deployment(r).spec;
  expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  expect(spec.revisionHistoryLimit).toBe(3);
  expect(spec.template.spec.containers[0].livenessProbe).toMatchObject({ periodSeconds: 20, timeoutSeconds: 3 });
  expect(spec.template.spec.containers[0].readinessProbe).toMatchObject({ initialDelaySeconds: 10, failureThreshold: 5 });
  expect(find(r, 'PodDisruptionBudget')[0].spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
});

test('monitoring: the ServiceMonitor trusts the APIService\'s CA and names the Service, never skips verification; /metrics for Prometheus only', () => {
  const r = runs.get('monitoring')!;
  const sm = find(r, 'ServiceMonitor')[0];
  const tls = sm.spec.endpoints[0].tlsConfig;
  expect(tls).toEqual({ ca: { configMap: { name: 'metrics-server-serving-ca', key: 'ca.crt' } }, serverName: 'metrics-server.kube-system.svc' });
  expect(find(r, 'ConfigMap').find(c => c.metadata.name === 'metrics-server-serving-ca').data['ca.crt']).toBe(caBundle(r));
  expect(find(r, 'ClusterRoleBinding').find(b => b.roleRef.name === 'kube-system:metrics-server:metrics-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' }]);
});

test('extra-volumes: the front-proxy CA mounted read-only, /tmp on a 16Mi tmpfs', () => {
  const r = runs.get('extra-volumes')!;
  const pod = deployment(r).spec.template.spec;
  expect(pod.volumes).toContainEqual({ name: 'front-proxy-ca', configMap: { name: 'front-proxy-ca' } });
  expect(pod.volumes).toContainEqual({ name: 'tmp-dir', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } });
  expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'front-proxy-ca', mountPath: '/etc/front-proxy', readOnly: true });
  expect(args(r)).toContain('--requestheader-client-ca-file=/etc/front-proxy/ca.crt');
});

const haveGo = spawnSync('go', ['version']).status === 0;

test('ecdsa-cluster-ca: the P-256 CA is the caBundle and signs an ECDSA P-256 serving key that openssl and Go accept', () => {
  const r = runs.get('ecdsa-cluster-ca')!;
  expect(caBundle(r).trim()).toBe(readFileSync(pems.ecdsaCaCert, 'utf8').trim());
  const ca = new X509Certificate(readFileSync(pems.ecdsaCaCert));
  expect(ca.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });

  const serving = path.join(r.cwd, 'secrets', 'pki', 'clusters', 'metrics-server', 'metrics-server.kube-system.svc.cluster.local');
  const secret = find(r, 'Secret')[0];
  const crt = Buffer.from(secret.data['tls.crt'], 'base64').toString();
  const key = Buffer.from(secret.data['tls.key'], 'base64').toString();
  expect(crt).toBe(readFileSync(path.join(serving, 'tls.crt'), 'utf8'));
  expect(key).toBe(readFileSync(path.join(serving, 'tls.key'), 'utf8'));
  // the serving key follows the CA: ECDSA on the CA's curve, signed by the CA
  const privateKey = createPrivateKey(key);
  expect(privateKey.asymmetricKeyType).toBe('ec');
  expect(privateKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
  const leaf = new X509Certificate(crt);
  expect(leaf.checkPrivateKey(privateKey)).toBe(true);
  expect(leaf.verify(ca.publicKey)).toBe(true);
  expect(leaf.subjectAltName).toContain('DNS:metrics-server.kube-system.svc');

  // as kube-apiserver checks it: openssl strictly, and Go's crypto/tls on loopback
  const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'metrics-server.kube-system.svc',
    '-CAfile', pems.ecdsaCaCert, path.join(serving, 'tls.crt')], { encoding: 'utf8' });
  expect(out.trim()).toBe(`${path.join(serving, 'tls.crt')}: OK`);
  if (haveGo) {
    expect(execFileSync(goVerifyBinary(), [path.join(serving, 'tls.crt'), path.join(serving, 'tls.key'), pems.ecdsaCaCert, 'metrics-server.kube-system.svc'],
      { encoding: 'utf8' }).trim()).toBe('ok');
  } else if (process.env.CI === 'true') {
    throw new Error('go is not on the PATH; CI needs it');
  }
}, 120_000);

test('fleet: one manifest per cluster, three distinct CAs from the store, SANs in each cluster\'s namespace', () => {
  const r = runs.get('fleet')!;
  const bundles = new Set<string>();
  for (const [cluster, namespace] of Object.entries(FLEET)) {
    const m: Run = { ...r, objects: r.files[`${cluster}.k8s.yaml`] };
    // the namespaced objects in the cluster's namespace (the auth-reader RoleBinding lives in kube-system)
    expect(deployment(m).metadata.namespace).toBe(namespace);
    expect(find(m, 'Service')[0].metadata.namespace).toBe(namespace);
    expect(api(m).spec.service).toEqual(expect.objectContaining({ name: 'metrics-server', namespace }));
    // its own CA, kept in its own cluster directory of the default store
    const store = path.join(r.cwd, '.secure-metrics-server', 'pki', 'clusters', cluster);
    expect(caBundle(m).trim()).toBe(readFileSync(path.join(store, 'ca', 'ca.crt'), 'utf8').trim());
    bundles.add(caBundle(m).trim());
    // a serving certificate for the Service in that namespace, signed by that CA
    const secret = find(m, 'Secret')[0];
    expect(secret.metadata.namespace).toBe(namespace);
    const leaf = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    expect(leaf.verify(new X509Certificate(caBundle(m)).publicKey)).toBe(true);
    const sans = leaf.subjectAltName!.split(', ').sort();
    expect(sans).toEqual([`DNS:metrics-server`, `DNS:metrics-server.${namespace}`, `DNS:metrics-server.${namespace}.svc`,
      `DNS:metrics-server.${namespace}.svc.cluster.local`].sort());
    expect(readdirSync(store).sort()).toEqual(['ca', 'chart.json', `metrics-server.${namespace}.svc.cluster.local`, `metrics-server.${namespace}.svc.cluster.local.checked.json`]);
  }
  expect(bundles.size).toBe(3);
});
