import * as path from 'path';
import * as tls from 'tls';
import { AddressInfo } from 'net';
import { CertificateStore, Pem, ServingTls } from '../lib';
import { decode, find, fixtureStore, openssl, opensslCa, synth, tmp, writeTmp } from './helpers';

/** Serves `cert`/`key` on loopback and dials it trusting only `ca`, with SNI `servername`. */
async function handshake(cert: string, key: string, ca: string, servername: string): Promise<{ ok: boolean; error?: string }> {
  const server = tls.createServer({ cert, key }, socket => socket.end());
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    return await new Promise(resolve => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: true }, () => {
        socket.end();
        resolve({ ok: socket.authorized });
      });
      socket.on('error', (e: any) => resolve({ ok: false, error: e.code ?? e.message }));
    });
  } finally {
    server.close();
  }
}

/** The serving material a synth produced: Secret cert/key and APIService caBundle. */
function material(objects: any[]) {
  const secret = find(objects, 'Secret');
  return {
    cert: decode(secret.data['tls.crt']),
    key: decode(secret.data['tls.key']),
    caBundle: decode(find(objects, 'APIService').spec.caBundle),
  };
}

function opensslVerify(dir: string, caBundle: string, cert: string, hostname: string): string {
  const caFile = writeTmp(dir, 'bundle.pem', caBundle);
  const certFile = writeTmp(dir, 'serving.pem', cert);
  return openssl(['verify', '-x509_strict', '-CAfile', caFile, '-verify_hostname', hostname, '-purpose', 'sslserver', certFile]);
}

describe('real TLS with the synthesized Secret and caBundle', () => {
  const dir = tmp();
  const dedicated = material(synth({ servingTls: ServingTls.fromDedicatedCa({ store: fixtureStore(path.join(dir, 'dedicated')) }) }).objects);
  const clusterCa = opensslCa(dir);
  const clusterCaIssued = material(synth({
    servingTls: ServingTls.fromCa({
      caCertificate: Pem.fromFile(clusterCa.cert),
      caKey: Pem.fromFile(clusterCa.key),
      store: CertificateStore.fromDirectory(path.join(dir, 'cluster-ca')),
    }),
  }).objects);

  test.each([
    ['dedicated CA', dedicated],
    ['cluster CA made by openssl, as kubeadm makes it', clusterCaIssued],
  ])('%s: a client trusting only the caBundle completes the handshake as kube-apiserver would', async (_name, m) => {
    expect(await handshake(m.cert, m.key, m.caBundle, 'metrics-server.kube-system.svc')).toEqual({ ok: true });
  });

  test.each([
    ['dedicated CA', dedicated],
    ['cluster CA', clusterCaIssued],
  ])('%s: the same client fails for a wrong name', async (_name, m) => {
    const r = await handshake(m.cert, m.key, m.caBundle, 'metrics-server.other-namespace.svc');
    expect(r.ok).toBe(false);
    expect(r.error).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('a client trusting another CA fails', async () => {
    const r = await handshake(dedicated.cert, dedicated.key, clusterCaIssued.caBundle, 'metrics-server.kube-system.svc');
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
  });

  test('the caBundle of the cluster-CA mode is exactly the cluster CA file', () => {
    expect(clusterCaIssued.caBundle.trim()).toBe(require('fs').readFileSync(clusterCa.cert, 'utf8').trim());
  });

  test.each([
    ['dedicated CA', dedicated],
    ['cluster CA', clusterCaIssued],
  ])('%s: openssl verify -x509_strict -verify_hostname -purpose sslserver passes', (_name, m) => {
    expect(opensslVerify(tmp(), m.caBundle, m.cert, 'metrics-server.kube-system.svc').trim()).toMatch(/: OK$/);
  });

  test('openssl verify fails for a wrong hostname', () => {
    expect(() => opensslVerify(tmp(), dedicated.caBundle, dedicated.cert, 'metrics-server.default.svc')).toThrow(/hostname mismatch/);
  });

  test('the serving certificate has the X.509 fields kube-apiserver requires', () => {
    const text = openssl(['x509', '-noout', '-text', '-in', writeTmp(tmp(), 'c.pem', clusterCaIssued.cert)]);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text).toContain('Subject: CN = metrics-server.kube-system.svc');
    expect(text).toContain('Issuer: CN = kubernetes');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
    expect(text).toContain('DNS:metrics-server, DNS:metrics-server.kube-system, DNS:metrics-server.kube-system.svc, DNS:metrics-server.kube-system.svc.cluster.local');
    expect(text).toContain('Public-Key: (2048 bit)');
    expect(text).toContain('X509v3 Authority Key Identifier');
    const serial = openssl(['x509', '-noout', '-serial', '-in', writeTmp(tmp(), 'c.pem', clusterCaIssued.cert)]).trim();
    expect(serial).toMatch(/^serial=[4-7][0-9A-F]{31}$/);
    const dates = openssl(['x509', '-noout', '-startdate', '-enddate', '-in', writeTmp(tmp(), 'c.pem', clusterCaIssued.cert)]);
    const [start, end] = dates.trim().split('\n').map(l => new Date(l.split('=')[1]).getTime());
    expect(Date.now() - start).toBeGreaterThanOrEqual(4 * 60 * 1000);
    expect(Math.round((end - Date.now()) / 86400000)).toBe(365);
  });

  test('the dedicated CA is a 10-year CA:TRUE keyCertSign SHA-256 certificate', () => {
    const text = openssl(['x509', '-noout', '-text', '-in', writeTmp(tmp(), 'ca.pem', dedicated.caBundle)]);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Certificate Sign/);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    const end = new Date(openssl(['x509', '-noout', '-enddate', '-in', writeTmp(tmp(), 'ca.pem', dedicated.caBundle)]).trim().split('=')[1]);
    expect(Math.round((end.getTime() - Date.now()) / 86400000)).toBe(3650);
  });

  test('another namespace and cluster domain: the handshake uses <svc>.<ns>.svc', async () => {
    const { objects } = synth({
      namespace: 'monitoring',
      clusterDomain: 'k8s.example',
      servingTls: ServingTls.fromDedicatedCa({ store: fixtureStore() }),
    });
    const m = material(objects);
    expect(await handshake(m.cert, m.key, m.caBundle, 'metrics-server.monitoring.svc')).toEqual({ ok: true });
    expect((await handshake(m.cert, m.key, m.caBundle, 'metrics-server.kube-system.svc')).ok).toBe(false);
    const text = openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', writeTmp(tmp(), 'c.pem', m.cert)]);
    expect(text).toContain('DNS:metrics-server.monitoring.svc.k8s.example');
  });
});
