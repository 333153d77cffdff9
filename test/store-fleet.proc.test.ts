import { X509Certificate } from 'crypto';
import { spawnSynth, materialOf } from './support/proc';
import { listTree, tmp } from './helpers';

describe('a fleet: one App, one Chart per cluster, default props', () => {
  test('three charts get three CAs and serving keys, stable across synths, with each chart\'s namespace', async () => {
    const cwd = tmp();
    const first = await spawnSynth({ CHILD_MODE: 'fleet', STORE_DIR: undefined, OUT_DIR: 'dist' }, cwd);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const second = await spawnSynth({ CHILD_MODE: 'fleet', STORE_DIR: undefined, OUT_DIR: 'dist' }, cwd);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);

    const m = materialOf(first.stdout);
    expect(m.caBundle).toHaveLength(3);
    expect(new Set(m.caBundle).size).toBe(3);
    expect(new Set(m.tlsKey).size).toBe(3);
    ['a', 'b', 'c'].forEach((c, i) => {
      const cert = new X509Certificate(m.tlsCrt[i]);
      expect(cert.subjectAltName).toContain(`DNS:metrics-server.ns-${c}.svc`);
      expect(cert.verify(new X509Certificate(m.caBundle[i]).publicKey)).toBe(true);
    });
    // keyed by the chart (cluster) and the service identity, in the default store under the working directory
    expect(listTree(`${cwd}/.secure-metrics-server/pki`).filter(f => f.endsWith('.crt'))).toEqual([
      'clusters/cluster-a/ca/ca.crt',
      'clusters/cluster-a/metrics-server.ns-a.svc.cluster.local/tls.crt',
      'clusters/cluster-b/ca/ca.crt',
      'clusters/cluster-b/metrics-server.ns-b.svc.cluster.local/tls.crt',
      'clusters/cluster-c/ca/ca.crt',
      'clusters/cluster-c/metrics-server.ns-c.svc.cluster.local/tls.crt',
    ]);
  });
});
