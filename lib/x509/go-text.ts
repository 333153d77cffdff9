/**
 * A server certificate verified as a Go client verifies it (crypto/tls with
 * crypto/x509's Certificate.Verify), by the one verifier of lib/x509/x509.ts,
 * and the error text current Go (1.26) gives for the result. The doctor uses
 * it to say what metrics-server (a Go client of the kubelets) logs; the
 * verdict is structured, the text is only worded from it.
 * @internal
 */
import * as net from 'net';
import { formatDate, goInsecureAlgorithm, validityProblem } from './x509';
import { coversServerName } from './serving-checks';
import { ipString } from '../k8s/ip';
import { CertInfo } from './cert-info';
import { ChainProblem, chainProblem } from './chain';
import { matchesHostname } from '../k8s/names';

/** Why Go refuses a server certificate, with what Go's text needs. @internal */
export type ServerVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'expired' | 'not-yet-valid'; readonly now: Date; readonly cert: CertInfo }
  | { readonly ok: false; readonly code: 'hostname'; readonly host: string; readonly cert: CertInfo }
  | { readonly ok: false; readonly code: 'chain'; readonly problem: ChainProblem; readonly now: Date };

/**
 * Verifies `chain` (leaf first, then intermediates) against `roots` for
 * `host` (a DNS name or an IP address, `[...]` allowed) at `now`, in the order
 * of Go's Certificate.Verify: the leaf's validity, the host name, then the
 * chain (signatures, CA rules, name constraints, extended key usage).
 * @internal
 */
export function verifyServer(chain: CertInfo[], roots: CertInfo[], host: string, now: Date): ServerVerdict {
  const leaf = chain[0];
  const time = validityProblem(leaf, now);
  if (time) {
    return { ok: false, code: time, now, cert: leaf };
  }
  const bare = host.replace(/^\[|\]$/g, '');
  if (!hostMatches(leaf, bare)) {
    return { ok: false, code: 'hostname', host: bare, cert: leaf };
  }
  // Go: a leaf that is itself one of the roots verifies as it is
  if (roots.some(r => r.x509.raw.equals(leaf.x509.raw))) {
    return { ok: true };
  }
  const problem = chainProblem(leaf, chain.slice(1), roots, now);
  return problem ? { ok: false, code: 'chain', problem, now } : { ok: true };
}

function ipBytes(text: string): Buffer | undefined {
  if (net.isIPv4(text)) {
    return Buffer.from(text.split('.').map(Number));
  }
  if (!net.isIPv6(text)) {
    return undefined;
  }
  let s = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail !== undefined ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Go's net.IP.Equal: an IPv4 address equals its IPv4-mapped IPv6 form. */
function sameIp(a: Buffer, b: Buffer): boolean {
  const v4 = (x: Buffer) => (x.length === 4 ? x : x.subarray(0, 10).every(y => y === 0) && x[10] === 0xff && x[11] === 0xff ? x.subarray(12) : x);
  return v4(a).equals(v4(b));
}

/** Go's Certificate.VerifyHostname. */
function hostMatches(cert: CertInfo, host: string): boolean {
  const ip = ipBytes(host);
  return ip ? cert.ipAddresses.some(san => sameIp(san, ip)) : coversServerName(cert, host);
}

function commonName(cert: CertInfo): string | undefined {
  return cert.x509.subject.split('\n').find(l => l.startsWith('CN='))?.slice(3);
}

/** Go's HostnameError.Error() (crypto/x509/verify.go, Go 1.26). */
function hostnameText(cert: CertInfo, host: string): string {
  const cn = commonName(cert);
  if (cert.sanValue === undefined && cn !== undefined && matchesHostname(cn, host)) {
    return 'x509: certificate relies on legacy Common Name field, use SANs instead';
  }
  let valid: string;
  if (ipBytes(host)) {
    if (cert.ipAddresses.length === 0) {
      return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    }
    if (cert.ipAddresses.length >= 100) {
      return `x509: certificate is valid for ${cert.ipAddresses.length} IP SANs, but none matched ${host}`;
    }
    valid = cert.ipAddresses.map(ip => ipString(ip)).join(', ');
  } else {
    if (cert.dnsNames.length >= 100) {
      return `x509: certificate is valid for ${cert.dnsNames.length} names, but none matched ${host}`;
    }
    valid = cert.dnsNames.join(', ');
  }
  if (valid === '') {
    return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  }
  return `x509: certificate is valid for ${valid}, not ${host}`;
}

/** The name Go's UnknownAuthorityError gives a candidate: its CN, else its first O, else its serial in decimal. */
function candidateName(c: CertInfo): string {
  const cn = commonName(c);
  if (cn) {
    return cn;
  }
  const o = c.x509.subject.split('\n').find(l => l.startsWith('O='));
  if (o) {
    return o.slice(2);
  }
  return `serial:${BigInt(`0x${c.x509.serialNumber}`).toString(10)}`;
}

const RSA_SIG = /^1\.2\.840\.113549\.1\.1\./;
const ECDSA_SIG = /^1\.2\.840\.10045\.4\./;

/** The error of Go's CheckSignatureFrom for a candidate whose signature does not verify. */
function signatureText(cert: CertInfo, parent: CertInfo): string {
  const insecure = goInsecureAlgorithm(cert.signatureOid);
  if (insecure) {
    return `x509: cannot verify signature: insecure algorithm ${insecure}`;
  }
  const keyType = parent.keyType;
  const want = RSA_SIG.test(cert.signatureOid) ? 'rsa' : ECDSA_SIG.test(cert.signatureOid) ? 'ec' : cert.signatureOid === '1.3.101.112' ? 'ed25519' : undefined;
  if (want && keyType !== want) {
    const algo = want === 'rsa' ? 'RSA' : want === 'ec' ? 'ECDSA' : 'Ed25519';
    const have = keyType === 'rsa' ? '*rsa.PublicKey' : keyType === 'ec' ? '*ecdsa.PublicKey' : keyType === 'ed25519' ? 'ed25519.PublicKey' : keyType;
    return `x509: signature algorithm specifies an ${algo} public key, but have public key of type ${have}`;
  }
  return keyType === 'rsa' ? 'crypto/rsa: verification error' : keyType === 'ec' ? 'x509: ECDSA verification failure' : 'x509: Ed25519 verification failure';
}

function unknownAuthority(hint?: { error: string; candidate: CertInfo }): string {
  const text = 'x509: certificate signed by unknown authority';
  return hint ? `${text} (possibly because of ${JSON.stringify(hint.error)} while trying to verify candidate authority certificate ${JSON.stringify(candidateName(hint.candidate))})` : text;
}

function expiryText(cert: CertInfo, now: Date, code: 'expired' | 'not-yet-valid'): string {
  return code === 'expired'
    ? `x509: certificate has expired or is not yet valid: current time ${formatDate(now)} is after ${formatDate(cert.notAfter)}`
    : `x509: certificate has expired or is not yet valid: current time ${formatDate(now)} is before ${formatDate(cert.notBefore)}`;
}

/** Go's text for a chain that could not be built (Certificate.Verify after the host name). */
function chainText(p: ChainProblem, now: Date): string {
  const c = p.candidate;
  switch (p.code) {
    case 'name-constraints':
      // Go 1.26 checks name constraints on each chain built, after the chain
      return `x509: a root or intermediate certificate is not authorized to sign for this name: ${p.violation!.goDetail}`;
    case 'eku':
      return 'x509: certificate specifies an incompatible key usage';
    case 'path-len':
      return 'x509: too many intermediates for path length constraint';
    case 'expired':
    case 'not-yet-valid':
      // the candidate's isValid error is what buildChains returns
      return expiryText(c!, now, p.code);
    case 'not-ca':
    case 'no-cert-sign':
      return unknownAuthority({ error: 'x509: invalid signature: parent certificate cannot sign this kind of certificate', candidate: c! });
    case 'bad-signature':
      return unknownAuthority({ error: signatureText(p.cert, c!), candidate: c! });
    case 'weak-signature':
      return unknownAuthority(c ? { error: signatureText(p.cert, c), candidate: c } : undefined);
    case 'unhandled-critical':
      return 'x509: unhandled critical extension';
    case 'signature-limit':
      return 'x509: signature check attempts limit reached while verifying certificate chain';
    case 'no-issuer':
      return unknownAuthority();
  }
}

/**
 * The error text current Go gives for a verdict, or undefined when it
 * verifies. `tls`: as crypto/tls reports it (Go 1.20+ puts
 * `tls: failed to verify certificate: ` in front), which is what a Go client
 * such as metrics-server or kube-apiserver logs.
 * @internal
 */
export function goErrorText(v: ServerVerdict, options: { tls?: boolean } = {}): string | undefined {
  if (v.ok) {
    return undefined;
  }
  const text = v.code === 'hostname' ? hostnameText(v.cert, v.host)
    : v.code === 'chain' ? chainText(v.problem, v.now)
      : expiryText(v.cert, v.now, v.code);
  return options.tls ? `tls: failed to verify certificate: ${text}` : text;
}
