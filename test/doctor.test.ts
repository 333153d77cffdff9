import * as fs from 'fs';
import * as path from 'path';
import { withoutKeys } from '../lib/cluster/install';
import { DoctorRules } from '../lib/rules/doctor-rules';
import { generateKeyPairSync } from 'crypto';
import { buildCertificate } from '../lib/x509/forge-adapter';
import { goErrorText, verifyServer } from '../lib/x509/go-text';
import { encodePem } from '../lib/x509/pem-decode';
import { parseCertificates } from '../lib/x509/x509';
import { KNOWN_ERRORS, matchKnownError } from '../lib/cluster/known-errors';
import { csrState, CsrState, kubeletFlags, kubeletServingCsrs, kubeletTarget } from '../lib/cluster/nodes';
import { proxyFor } from '../lib/cluster/proxy';

// The pure parts of doctor (no client-node, so jest loads them): proxy
// selection, metrics-server's choice of address and port, CSR states, the
// known-error table, and dropping private keys on receipt.

describe('HTTPS_PROXY / NO_PROXY as Go reads them', () => {
  const env = (no?: string) => ({ HTTPS_PROXY: 'proxy.corp:3128', ...(no !== undefined ? { NO_PROXY: no } : {}) });
  test.each([
    ['https://api.example.com:6443', undefined, 'http://proxy.corp:3128'],
    ['https://api.example.com:6443', 'example.com', undefined],
    ['https://api.example.com:6443', '.example.com', undefined],
    ['https://example.com:6443', '.example.com', 'http://proxy.corp:3128'],
    ['https://api.example.com:6443', '*.example.com', undefined],
    ['https://api.example.com:6443', 'other.com, example.com:6443', undefined],
    ['https://api.example.com:6443', 'example.com:443', 'http://proxy.corp:3128'],
    ['https://10.1.2.3:6443', '10.0.0.0/8', undefined],
    ['https://10.1.2.3:6443', '10.1.2.4', 'http://proxy.corp:3128'],
    ['https://[fd00::1]:6443', 'fd00::/8', undefined],
    ['https://127.0.0.1:6443', undefined, undefined],
    ['https://localhost:6443', undefined, undefined],
    ['https://api.example.com', '*', undefined],
  ])('%s with NO_PROXY=%s', (server, no, want) => {
    expect(proxyFor(server, env(no as string | undefined))?.url).toBe(want);
  });

  test('upper case wins over lower case; http servers and no variable: no proxy', () => {
    expect(proxyFor('https://a.b', { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1' })).toEqual({ url: 'http://upper:1', variable: 'HTTPS_PROXY' });
    expect(proxyFor('https://a.b', { https_proxy: 'http://lower:1' })).toEqual({ url: 'http://lower:1', variable: 'https_proxy' });
    expect(proxyFor('http://a.b', { HTTPS_PROXY: 'http://p:1' })).toBeUndefined();
    expect(proxyFor('https://a.b', {})).toBeUndefined();
  });
});

describe('what metrics-server dials', () => {
  const n = { metadata: { name: 'n1' }, status: { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.5' }], daemonEndpoints: { kubeletEndpoint: { Port: 10255 } } } };

  test('flags: defaults, = and space forms', () => {
    expect(kubeletFlags([])).toEqual({ preferredAddressTypes: ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'], port: 10250, useNodeStatusPort: false, insecure: false, caFile: undefined });
    expect(kubeletFlags(['--kubelet-preferred-address-types', 'InternalIP,Hostname', '--kubelet-insecure-tls', '--kubelet-port=10251', '--kubelet-certificate-authority=/ca/ca.crt']))
      .toEqual({ preferredAddressTypes: ['InternalIP', 'Hostname'], port: 10251, useNodeStatusPort: false, insecure: true, caFile: '/ca/ca.crt' });
  });

  test('the first preferred address type the node has; the status port only with --kubelet-use-node-status-port', () => {
    expect(kubeletTarget(n, kubeletFlags([]))).toMatchObject({ address: 'n1', addressType: 'Hostname', port: 10250 });
    expect(kubeletTarget(n, kubeletFlags(['--kubelet-preferred-address-types=InternalIP', '--kubelet-use-node-status-port']))).toMatchObject({ address: '10.0.0.5', addressType: 'InternalIP', port: 10255 });
    expect(kubeletTarget(n, kubeletFlags(['--kubelet-preferred-address-types=ExternalIP'])).address).toBeUndefined();
  });

  test('CSR states as kubectl get csr shows them, newest first per node', () => {
    expect(csrState({ status: {} })).toBe(CsrState.PENDING);
    expect(csrState({ status: { conditions: [{ type: 'Approved', status: 'True' }] } })).toBe(CsrState.APPROVED);
    expect(csrState({ status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'eA==' } })).toBe(CsrState.ISSUED);
    expect(csrState({ status: { conditions: [{ type: 'Denied', status: 'True' }] } })).toBe(CsrState.DENIED);
    expect(csrState({ status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] } })).toBe(CsrState.FAILED);
    const csr = (name: string, user: string, created: string, signer = 'kubernetes.io/kubelet-serving') => ({ metadata: { name, creationTimestamp: created }, spec: { signerName: signer, username: user }, status: {} });
    const byNode = kubeletServingCsrs([
      csr('old', 'system:node:a', '2026-01-01T00:00:00Z'), csr('new', 'system:node:a', '2026-02-01T00:00:00Z'),
      csr('client', 'system:node:a', '2026-03-01T00:00:00Z', 'kubernetes.io/kube-apiserver-client-kubelet'), csr('someone', 'alice', '2026-03-01T00:00:00Z'),
    ]);
    expect([...byNode.keys()]).toEqual(['a']);
    expect(byNode.get('a')!.map(c => c.name)).toEqual(['new', 'old']);
  });
});

describe('known errors', () => {
  test('the seed\'s log lines and conditions each map to one cause', () => {
    const line = (e: string) => `E1130 scraper.go:149] "Failed to scrape node" err="Get \\"https://192.168.1.10:10250/metrics/resource\\": ${e}" node="n1"`.replace(/\\"/g, '"');
    expect(matchKnownError(line("x509: cannot validate certificate for 192.168.1.10 because it doesn't contain any IP SANs"))?.error.id).toBe('kubelet-no-ip-sans');
    expect(matchKnownError(line('tls: failed to verify certificate: x509: certificate signed by unknown authority'))?.error.id).toBe('kubelet-unknown-authority');
    expect(matchKnownError(line('dial tcp 192.168.1.10:10250: i/o timeout'))?.error.id).toBe('kubelet-unreachable');
    expect(matchKnownError('failing or missing response from https://10.96.0.1:443/apis/metrics.k8s.io/v1beta1: Get "https://10.96.0.1:443/apis/metrics.k8s.io/v1beta1": x509: certificate is valid for localhost, localhost, not metrics-server.kube-system.svc')?.error.id).toBe('apiservice-localhost-certificate');
    expect(matchKnownError('I1130 log.go:245] http: TLS handshake error from 10.244.0.1:53122: remote error: tls: bad certificate')?.error.id).toBe('apiservice-bad-certificate');
    expect(matchKnownError('I1130 everything is fine')).toBeUndefined();
  });

  test('every known error has a cause and a fix, and a unique id', () => {
    expect(new Set(KNOWN_ERRORS.map(e => e.id)).size).toBe(KNOWN_ERRORS.length);
    for (const e of KNOWN_ERRORS) {
      expect(e.cause.length).toBeGreaterThan(20);
      expect(e.fix.length).toBeGreaterThan(20);
    }
  });
});

test('private keys are dropped from a Secret on receipt, and remembered as dropped', () => {
  const dropped = new Set<string>();
  const key = Buffer.from('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n').toString('base64');
  const s = withoutKeys({ kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { 'tls.crt': 'Y2VydA==', 'tls.key': key, 'other.pem': key, 'ca.crt': 'Y2E=' }, stringData: { x: 'y' } }, dropped);
  expect(Object.keys(s.data)).toEqual(['tls.crt', 'ca.crt']);
  expect(s.stringData).toBeUndefined();
  expect([...dropped]).toEqual(['ns/s tls.key', 'ns/s other.pem']);
});

test('Go\'s host name messages (Go 1.26 HostnameError), from the one verifier\'s verdict', () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  const cert = (dns: string[], ips: string[], cn = 'x', san = true) => {
    const altNames = [...dns.map(value => ({ type: 2, value })), ...ips.map(ip => ({ type: 7, ip }))];
    const der = buildCertificate({
      serialHex: '01', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000), commonName: cn, publicKey: key, signerKey: key,
      extensions: san ? [{ name: 'subjectAltName', altNames }] : [],
    });
    return parseCertificates('t', encodePem('CERTIFICATE', der), 't')[0];
  };
  // the host name is checked before the chain, so the certificate's own roots do not matter here
  const say = (c: ReturnType<typeof cert>, host: string) => goErrorText(verifyServer([c], [c], host, new Date()));
  expect(say(cert(['a.svc'], []), 'a.svc')).toBeUndefined();
  expect(say(cert(['A.SVC'], []), 'a.svc.')).toBeUndefined();
  expect(say(cert([], [], 'a.svc', false), 'a.svc')).toBe('x509: certificate relies on legacy Common Name field, use SANs instead');
  expect(say(cert(['localhost'], ['127.0.0.1']), 'metrics-server.kube-system.svc')).toBe('x509: certificate is valid for localhost, not metrics-server.kube-system.svc');
  expect(say(cert(['n1'], []), '10.0.0.1')).toBe("x509: cannot validate certificate for 10.0.0.1 because it doesn't contain any IP SANs");
  expect(say(cert([], ['10.0.0.2', '0:0:0:0:0:0:0:1']), '10.0.0.1')).toBe('x509: certificate is valid for 10.0.0.2, ::1, not 10.0.0.1');
  expect(say(cert([], ['10.0.0.1']), '::ffff:10.0.0.1')).toBeUndefined();
  expect(say(cert([], ['fd00::1']), '[fd00:0::1]')).toBeUndefined();
});

test('docs/doctor.md lists every doctor rule as the registry has it, with unique ids', () => {
  const md = fs.readFileSync(path.join(__dirname, '..', 'docs', 'doctor.md'), 'utf8');
  const rows = md.split('\n').filter(l => /^\| SMD\d{3} /.test(l));
  expect(rows).toEqual(DoctorRules.ALL.map(r => `| ${r.id} | ${r.severity} | ${r.title} | ${r.fix} |`));
  expect(new Set(DoctorRules.ALL.map(r => r.id)).size).toBe(DoctorRules.ALL.length);
});

describe('the client never lets a credential reach the output', () => {
  test('a token, a basic-auth password and a URL password are redacted, in text and JSON forms, after a server echoed them', async () => {
    const http = await import('http');
    const { ClusterClient } = await import('../lib/cluster/client');
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ echoed: req.headers }));
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('net').AddressInfo).port;
    const token = 'tok"en\\with-quotes-0123';
    let applied = 0;
    const kc: any = {
      getCurrentCluster: () => ({ server: `http://admin:url-pass-4567@127.0.0.1:${port}`, proxyUrl: 'http://p:proxy-pass-89@127.0.0.1:1' }),
      getCurrentUser: () => ({ name: 'u', token }),
      applyToHTTPSOptions: async (opts: any) => {
        applied++;
        expect(opts.rejectUnauthorized).toBe(true);
        opts.headers.Authorization = `Bearer ${token}`;
      },
    };
    try {
      const client = new ClusterClient({ kc, context: 'c', server: `http://admin:url-pass-4567@127.0.0.1:${port}`, source: 'test' });
      const one = await client.get('/version', 'version');
      await client.get('/version', 'version');
      expect(applied).toBe(1);
      const asJson = JSON.stringify(one.value);
      expect(asJson).toContain(JSON.stringify(`Bearer ${token}`).slice(1, -1));
      const shown = client.redact(`${asJson} ${token} ${client.server} proxy-pass-89`);
      for (const secret of [token, JSON.stringify(token).slice(1, -1), 'url-pass-4567', 'proxy-pass-89', Buffer.from('admin:url-pass-4567').toString('base64')]) {
        expect(shown).not.toContain(secret);
      }
      expect(shown).toContain('[redacted]');
    } finally {
      server.close();
    }
  });
});

test('a pod whose container is waiting to start (400 on pods/log, as the real kubelet answers) is reported, and doctor still runs', async () => {
  const http = await import('http');
  const { ClusterClient } = await import('../lib/cluster/client');
  const { checkLogs } = await import('../lib/cluster/logs');
  const { Findings } = await import('../lib/cluster/findings');
  const message = 'container "metrics-server" in pod "metrics-server-7d9f-abcde" is waiting to start: ContainerCreating';
  const server = http.createServer((_req, res) => {
    res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'BadRequest', code: 400 }));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('net').AddressInfo).port;
  const kc: any = {
    getCurrentCluster: () => ({ server: `http://127.0.0.1:${port}` }),
    getCurrentUser: () => ({ name: 'u' }),
    applyToHTTPSOptions: async () => undefined,
  };
  try {
    const client = new ClusterClient({ kc, context: 'c', server: `http://127.0.0.1:${port}`, source: 'test' });
    const state: any = { namespace: 'kube-system', pods: [{ metadata: { name: 'metrics-server-7d9f-abcde' } }] };
    const summary = await checkLogs(client, state, new Findings(), 50);
    expect(summary.summary).toBe(`no log yet: ${message}`);
  } finally {
    server.close();
  }
});
