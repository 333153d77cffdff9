import { spawnSync } from 'child_process';
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { buildApp, propsFromEnv } from '../main';
import { DEFAULT_DNS_NAMES, fixtureCa, fixtureStore, pem, testCert, testKey, tmp, writeTmp } from './helpers';

function synthEnv(env: { [k: string]: string }): any[] {
  const out = tmp();
  // the documented environment switch: warnings are recorded, not printed
  process.env.SECURE_METRICS_SERVER_SILENCE_WARNINGS = '1';
  try {
    // the store is only for the modes that issue at synth time
    const issuing = !env.METRICS_SERVER_TLS && !env.TLS_CERT && !env.EXISTING_TLS_SECRET;
    buildApp({ ...(issuing ? { PKI_DIR: fixtureStore().directory } : {}), ...env }, out).synth();
  } finally {
    delete process.env.SECURE_METRICS_SERVER_SILENCE_WARNINGS;
  }
  const files = readdirSync(out);
  expect(files).toEqual(['metrics-server.k8s.yaml']);
  return require('cdk8s').Yaml.load(path.join(out, files[0]));
}

const deploymentArgs = (objects: any[]) => objects.find(o => o.kind === 'Deployment').spec.template.spec.containers[0].args;
const apiSpec = (objects: any[]) => objects.find(o => o.kind === 'APIService').spec;

describe('example app', () => {
  test('no variables: both hops verified, dedicated CA in the store', () => {
    const objects = synthEnv({});
    expect(deploymentArgs(objects)).toContain('--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt');
    expect(apiSpec(objects).caBundle).toBeDefined();
    expect(apiSpec(objects).insecureSkipTLSVerify).toBeUndefined();
  });

  test('METRICS_SERVER_TLS=insecure-test: both hops insecure', () => {
    const objects = synthEnv({ METRICS_SERVER_TLS: 'insecure-test' });
    expect(deploymentArgs(objects)).toContain('--kubelet-insecure-tls');
    expect(apiSpec(objects).insecureSkipTLSVerify).toBe(true);
  });

  test('CLUSTER_CA_CERT + CLUSTER_CA_KEY: issued by that CA', () => {
    const ca = fixtureCa('kubernetes');
    const objects = synthEnv({ CLUSTER_CA_CERT: ca.cert, CLUSTER_CA_KEY: ca.key });
    expect(Buffer.from(apiSpec(objects).caBundle, 'base64').toString().trim()).toBe(readFileSync(ca.cert, 'utf8').trim());
  });

  test('TLS_CERT + TLS_KEY + TLS_CA: bring your own', () => {
    const dir = tmp();
    const ca = testCert({ cn: 'own-ca', key: testKey(0), ca: true });
    const leaf = testCert({ cn: 'metrics-server.kube-system.svc', key: testKey(1), issuer: { cert: ca, key: testKey(0) }, dnsNames: DEFAULT_DNS_NAMES });
    const objects = synthEnv({
      TLS_CERT: writeTmp(dir, 'tls.crt', pem.cert(leaf)),
      TLS_KEY: writeTmp(dir, 'tls.key', pem.key(testKey(1))),
      TLS_CA: writeTmp(dir, 'ca.crt', pem.cert(ca)),
    });
    expect(objects.filter(o => o.kind === 'Secret')).toHaveLength(1);
  });

  test('EXISTING_TLS_SECRET + TLS_CA, NAMESPACE, IMAGE, KUBELET_CA=secret:NAME/KEY', () => {
    const ca = writeTmp(tmp(), 'ca.crt', pem.cert(testCert({ cn: 'own-ca', key: testKey(0), ca: true })));
    const objects = synthEnv({ EXISTING_TLS_SECRET: 'ms-tls', TLS_CA: ca, NAMESPACE: 'monitoring', IMAGE: 'example.com/ms:v1', KUBELET_CA: 'secret:kubelet-ca/bundle.crt' });
    expect(objects.filter(o => o.kind === 'Secret')).toHaveLength(0);
    const dep = objects.find(o => o.kind === 'Deployment');
    expect(dep.metadata.namespace).toBe('monitoring');
    expect(dep.spec.template.spec.containers[0].image).toBe('example.com/ms:v1');
    expect(dep.spec.template.spec.volumes).toContainEqual({ name: 'serving-cert', secret: { secretName: 'ms-tls' } });
    expect(dep.spec.template.spec.volumes).toContainEqual({ name: 'kubelet-ca', secret: { secretName: 'kubelet-ca', items: [{ key: 'bundle.crt', path: 'ca.crt' }] } });
  });

  test('KUBELET_CA variants', () => {
    expect(propsFromEnv({ KUBELET_CA: 'insecure' }).kubeletTls!.isInsecure).toBe(true);
    expect(propsFromEnv({ KUBELET_CA: 'kube-root-ca.crt' }).kubeletTls!.isInsecure).toBe(false);
    const objects = synthEnv({ KUBELET_CA: 'configmap:kubelet-serving-ca/ca.pem' });
    expect(objects.find(o => o.kind === 'Deployment').spec.template.spec.volumes)
      .toContainEqual({ name: 'kubelet-ca', configMap: { name: 'kubelet-serving-ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] } });
  });

  test.each([
    [{ METRICS_SERVER_TLS: 'secure' }, "METRICS_SERVER_TLS: 'secure' is not a mode"],
    [{ KUBELET_CA: 'file:/ca.crt' }, "KUBELET_CA: 'file:/ca.crt' is not understood; use kube-root-ca.crt, insecure, configmap:NAME/KEY or secret:NAME/KEY"],
    [{ CLUSTER_CA_CERT: '/ca.crt' }, 'CLUSTER_CA_KEY is not set; CLUSTER_CA_CERT needs it (a PEM file path)'],
    [{ CLUSTER_CA_KEY: '/ca.key' }, 'CLUSTER_CA_CERT is not set; CLUSTER_CA_KEY needs it'],
    [{ TLS_CERT: '/tls.crt', TLS_KEY: '/tls.key' }, 'TLS_CA is not set; TLS_CERT needs it'],
    [{ TLS_CERT: '/tls.crt' }, 'TLS_KEY is not set; TLS_CERT needs it'],
    [{ EXISTING_TLS_SECRET: 'x' }, 'TLS_CA is not set; EXISTING_TLS_SECRET needs it'],
    [{ TLS_CA: '/ca.crt' }, 'TLS_CA is set without TLS_CERT/TLS_KEY or EXISTING_TLS_SECRET'],
    [{ CLUSTER_CA_CERT: '/a', CLUSTER_CA_KEY: '/b', EXISTING_TLS_SECRET: 'x' }, 'CLUSTER_CA_CERT/CLUSTER_CA_KEY and EXISTING_TLS_SECRET both choose the serving certificate; set only one of them'],
    [{ METRICS_SERVER_TLS: 'insecure-test', EXISTING_TLS_SECRET: 'x' }, 'METRICS_SERVER_TLS=insecure-test skips verification, but EXISTING_TLS_SECRET is set'],
    [{ METRICS_SERVER_TLS: 'insecure-test', KUBELET_CA: 'kube-root-ca.crt' }, 'KUBELET_CA=kube-root-ca.crt names a kubelet CA, but METRICS_SERVER_TLS=insecure-test uses --kubelet-insecure-tls; metrics-server refuses both: unset one of them'],
    [{ PKI_DIR: '/tmp/pki', EXISTING_TLS_SECRET: 'x', TLS_CA: '/ca.crt' }, 'PKI_DIR is set, but only the dedicated CA (the default) and CLUSTER_CA_CERT/CLUSTER_CA_KEY keep certificates in a store; unset PKI_DIR'],
    [{ PKI_DIR: '/tmp/pki', METRICS_SERVER_TLS: 'insecure-test' }, 'PKI_DIR is set, but only the dedicated CA'],
    [{ PKI_DIR: '/tmp/pki', METRICS_SERVER_TLS: 'cert-manager' }, 'PKI_DIR is set, but only the dedicated CA'],
  ])('bad variables %p: %s', (env, message) => {
    expect(() => propsFromEnv(env)).toThrow(message);
  });

  test('uses the public API only: the package entry point, never a private module', () => {
    const source = readFileSync(path.join(__dirname, '..', 'main.ts'), 'utf8');
    const imported = [...source.matchAll(/^import [^;]*? from '([^']+)';/gms)].map(m => m[1]);
    expect(imported.sort()).toEqual(['./lib', 'cdk8s']);
  });

  test('run as a program, a bad variable exits non-zero with the message and no stack', () => {
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', 'main.ts'], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, METRICS_SERVER_TLS: 'nope' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: METRICS_SERVER_TLS: 'nope' is not a mode; use one of verified, insecure-test[^\n]*\n$/);
  });
});
