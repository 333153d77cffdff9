import { execFileSync, spawnSync } from 'child_process';
import { chmodSync } from 'fs';
import * as path from 'path';
import { CertificateStore, KeyAlgorithm, Pem, ServingTls } from '../lib';
import { goVerifyBinary } from './go-verify-binary';
import { decode, find, synthYaml, tmp, writeTmp } from './helpers';

// A user CA without subjectKeyIdentifier (openssl req -addext subjectKeyIdentifier=none,
// older tools): the serving certificate issued with it carried no
// authorityKeyIdentifier, which RFC 5280 requires and `openssl verify -x509_strict`
// refuses ("Missing Authority Key Identifier"). It now carries the CA key's
// identifier (method 1), computed here independently by openssl.

const SVC = 'metrics-server.kube-system.svc';
const ossl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test.each([
  ['RSA', ['-newkey', 'rsa:2048'], KeyAlgorithm.RSA_2048],
  ['P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], KeyAlgorithm.ED25519],
])('a %s CA without subjectKeyIdentifier: the leaf carries the CA key identifier as openssl computes it, and verifies', (_what, keyArgs, leafAlg) => {
  const dir = tmp();
  ossl(['req', '-x509', '-nodes', ...keyArgs as string[], '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=no-skid',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'subjectKeyIdentifier=none', '-addext', 'authorityKeyIdentifier=none'], dir);
  chmodSync(path.join(dir, 'ca.key'), 0o600);
  // the same key certified by openssl with subjectKeyIdentifier=hash: openssl's own method-1 identifier
  ossl(['req', '-x509', '-key', 'ca.key', '-out', 'same-key.crt', '-days', '1', '-subj', '/CN=x', '-addext', 'subjectKeyIdentifier=hash'], dir);
  const expected = ossl(['x509', '-in', 'same-key.crt', '-noout', '-ext', 'subjectKeyIdentifier'], dir).split('\n')[1].trim();

  const r = synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(path.join(dir, 'ca.crt')), caKey: Pem.fromFile(path.join(dir, 'ca.key')), keyAlgorithm: leafAlg as KeyAlgorithm, store: CertificateStore.fromDirectory(path.join(dir, 'pki')) }) });
  const caFile = writeTmp(dir, 'bundle.crt', decode(find(r.objects, 'APIService').spec.caBundle));
  const certFile = writeTmp(dir, 'tls.crt', r.cert);
  const keyFile = writeTmp(dir, 'tls.key', r.key);
  const akid = ossl(['x509', '-in', certFile, '-noout', '-ext', 'authorityKeyIdentifier'], dir);
  expect(akid).toContain(expected);
  const strict = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, certFile], { encoding: 'utf8' });
  // what is left is the user CA's own lack (error 86 at depth 1), not the leaf's
  expect(strict.stdout + strict.stderr).not.toContain('Missing Authority Key Identifier');
  const plain = spawnSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', caFile, certFile], { encoding: 'utf8' });
  expect(plain.stdout.trim()).toBe(`${certFile}: OK`);
  expect(spawnSync(goVerifyBinary(), [certFile, keyFile, caFile, SVC], { encoding: 'utf8' }).stdout.trim()).toBe('ok');
});
