import { spawnSync } from 'child_process';
import * as path from 'path';
import { CertificateStore, KeyAlgorithm, ServingTls } from '../lib';
import { goVerifyBinary } from './go-verify-binary';
import { decode, find, synthYaml, tmp, writeTmp } from './helpers';

// The dedicated CA's Common Name is written as Go writes a name: PrintableString
// where it can be, UTF8String otherwise. node-forge's default, PrintableString
// for everything, made Go refuse a CA named 'ops_ca' ("x509: invalid
// PrintableString") while OpenSSL accepted it.

const SVC = 'metrics-server.kube-system.svc';

describe.each([
  ['an underscore', 'ops_ca'],
  ['an at sign and an asterisk', 'ops@example.com *'],
  ['non-ASCII letters', '集群 CA — Zürich'],
  ['only PrintableString characters', "Ops CA (prod), v2: 'a'=b?"],
])('caCommonName with %s', (_what, name) => {
  test('the CA and its serving certificate verify in Go and OpenSSL -x509_strict', () => {
    const dir = tmp();
    const store = CertificateStore.fromDirectory(path.join(dir, 'pki'));
    const r = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ caCommonName: name, keyAlgorithm: KeyAlgorithm.ECDSA_P256, store }) });
    const caFile = writeTmp(dir, 'ca.crt', decode(find(r.objects, 'APIService').spec.caBundle));
    const certFile = writeTmp(dir, 'tls.crt', r.cert);
    const keyFile = writeTmp(dir, 'tls.key', r.key);
    const subject = spawnSync('openssl', ['x509', '-in', caFile, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus'], { encoding: 'utf8' });
    expect(subject.stdout.trim()).toBe(`subject=CN=${name}`);
    const openssl = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, certFile], { encoding: 'utf8' });
    expect(openssl.stdout.trim()).toBe(`${certFile}: OK`);
    const go = spawnSync(goVerifyBinary(), [certFile, keyFile, caFile, SVC], { encoding: 'utf8' });
    expect(go.stdout.trim()).toBe('ok');
  });
});

test.each([
  ['a line feed', 'ops\nca'],
  ['an escape sequence', 'ops\x1b[2Jca'],
  ['a lone surrogate', 'ops\ud800ca'],
])('caCommonName with %s is refused before any key is made', (_what, name) => {
  const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
  expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ caCommonName: name, store }) }))
    .toThrow(`servingTls.caCommonName: ${JSON.stringify(name)} holds a control character or a lone surrogate`);
});
