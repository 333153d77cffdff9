import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** PEM files made once per test run with openssl: the simulated cluster's CAs and kubelet certificates. */
export interface SimPki {
  readonly dir: string;
  /** the API server's own serving certificate (kube-api.sim.test, 127.0.0.1), self-signed */
  readonly apiserver: { cert: string; key: string };
  /** the cluster root CA, RSA like kubeadm's, CN=kubernetes: kube-root-ca.crt and the kubelet-serving signer */
  readonly clusterCa: { cert: string; key: string };
  /** another CA with the same name (CN=kubernetes), as another cluster's: ECDSA, and RSA like another kubeadm cluster's */
  readonly otherCa: { cert: string; key: string };
  readonly otherRsaCa: { cert: string; key: string };
  /** a kubelet certificate as the kubelet-serving signer issues it: IP 127.0.0.1 and DNS node-1 */
  readonly kubeletIssued: { cert: string; key: string };
  /** a kubelet certificate from the cluster CA with an IP SAN only */
  readonly kubeletIpOnly: { cert: string; key: string };
  /** a kubelet's self-signed pair as kubelets make without serverTLSBootstrap: leaf + its own CA, DNS name only */
  readonly kubeletSelfSigned: { cert: string; key: string };
  /** metrics-server's serving CA and certificate (metrics-server.kube-system.svc) */
  readonly servingCa: { cert: string; key: string };
  /** another CA named like the serving CA (the certificate file) */
  readonly otherServingCa: string;
  readonly serving: { cert: string; key: string };
}

function ossl(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile('openssl', args, { cwd: dir }, (e, _out, err) => (e ? reject(new Error(`openssl ${args[0]}: ${err}`)) : resolve())));
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function ca(dir: string, name: string, cn: string, rsa: boolean): Promise<{ cert: string; key: string }> {
  await ossl(dir, ['req', '-x509', ...(rsa ? ['-newkey', 'rsa:2048', '-nodes'] : EC), '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '365', '-subj', `/CN=${cn}`, '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

async function leaf(dir: string, name: string, cn: string, san: string, issuer: { cert: string; key: string }): Promise<{ cert: string; key: string }> {
  await ossl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', cn]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
  // a random serial per certificate (no shared .srl file, so leaves of one CA can be made at once)
  await ossl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', `0x${randomBytes(8).toString('hex').replace(/^[89a-f]/, '1')}`, '-out', `${name}.crt`, '-days', '365', '-sha256', '-extfile', `${name}.ext`]);
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** Makes the PKI with openssl, the CAs at once, then the leaves at once. */
export async function makeSimPki(dir: string): Promise<SimPki> {
  fs.mkdirSync(dir, { recursive: true });
  const [apiserverCa, clusterCa, otherCa, otherRsaCa, selfCa, servingCa, otherServingCa] = await Promise.all([
    ca(dir, 'apiserver-ca', 'sim-apiserver-ca', false),
    ca(dir, 'cluster-ca', 'kubernetes', true),
    ca(dir, 'other-ca', 'kubernetes', false),
    ca(dir, 'other-rsa-ca', 'kubernetes', true),
    // kubelet's self-signed pair: a CA "<host>-ca@<unix time>" and a leaf "<host>@<unix time>" with the host name only
    ca(dir, 'kubelet-self-ca', 'node-1-ca@1764460800', false),
    ca(dir, 'serving-ca', 'metrics-server-ca', false),
    ca(dir, 'other-serving-ca', 'metrics-server-ca', false),
  ]);
  const [apiserver, kubeletIssued, kubeletIpOnly, selfLeaf, serving] = await Promise.all([
    leaf(dir, 'apiserver', '/CN=kube-apiserver', 'DNS:kube-api.sim.test,DNS:*.sim.test,DNS:localhost,IP:127.0.0.1', apiserverCa),
    leaf(dir, 'kubelet-issued', '/O=system:nodes/CN=system:node:node-1', 'DNS:node-1,IP:127.0.0.1', clusterCa),
    leaf(dir, 'kubelet-ip-only', '/O=system:nodes/CN=system:node:localhost', 'IP:127.0.0.1', clusterCa),
    leaf(dir, 'kubelet-self', '/CN=node-1@1764460800', 'DNS:node-1', selfCa),
    leaf(dir, 'serving', '/CN=metrics-server.kube-system.svc', 'DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system,DNS:metrics-server', servingCa),
  ]);
  const selfChain = path.join(dir, 'kubelet-self-chain.crt');
  fs.writeFileSync(selfChain, fs.readFileSync(selfLeaf.cert, 'utf8') + fs.readFileSync(selfCa.cert, 'utf8'));
  return {
    dir, servingCa, serving, otherServingCa: otherServingCa.cert,
    // the kubeconfig trusts apiserver-ca.crt; the server presents the leaf alone
    apiserver,
    clusterCa, otherCa, otherRsaCa, kubeletIssued, kubeletIpOnly,
    kubeletSelfSigned: { cert: selfChain, key: selfLeaf.key },
  };
}

export function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** The API server CA file (what a kubeconfig's certificate-authority names). */
export function apiserverCaFile(pki: SimPki): string {
  return path.join(pki.dir, 'apiserver-ca.crt');
}
