import * as net from 'net';
import { allowsServerAuth, CertInfo, coversServerName, formatDate, goInsecureAlgorithm, matchesHostname, parseCertificates, validityProblem } from '../tls/x509';

/**
 * A certificate as Go's crypto/x509 sees it for verification.
 * @internal
 */
export interface GoCert {
  readonly info: CertInfo;
  readonly ips: string[];
  readonly hasSan: boolean;
  readonly commonName?: string;
}

/** Parses every certificate of a PEM text (throws on text that is no certificate). */
export function parseGoCerts(pem: string, what: string): GoCert[] {
  return parseCertificates(what, pem, what).map(toGoCert);
}

/** An IP address SAN as Go's net.IP prints it before shortening: dotted IPv4 (IPv4-mapped IPv6 too), IPv6 in eight groups. */
function ipText(bytes: Buffer): string {
  const mapped = bytes.length === 16 && bytes.subarray(0, 10).every(b => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (bytes.length === 4 || mapped) {
    return [...bytes.subarray(bytes.length - 4)].join('.');
  }
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    groups.push(bytes.readUInt16BE(i).toString(16));
  }
  return groups.join(':');
}

function toGoCert(info: CertInfo): GoCert {
  const san = info.x509.subjectAltName;
  const ips = info.ipAddresses.map(ipText);
  const cn = info.x509.subject.split('\n').find(l => l.startsWith('CN='));
  return { info, ips, hasSan: san !== undefined, commonName: cn?.slice(3) };
}

const RSA_SIG = /^1\.2\.840\.113549\.1\.1\./;
const ECDSA_SIG = /^1\.2\.840\.10045\.4\./;
const ED25519_SIG = '1.3.101.112';

/**
 * Verifies a presented chain (leaf first) against `roots` for `host` (a DNS
 * name or an IP address) at `now`, in the order Go's `Certificate.Verify`
 * does, and returns undefined on success or the error text Go gives (without
 * crypto/tls's `tls: failed to verify certificate: ` prefix, which Go 1.20+
 * adds in front): leaf validity, then the host name, then chain building
 * (with Go's hint when a candidate CA with the right name has the wrong key),
 * then extended key usage.
 * @internal
 */
export function goVerify(chain: GoCert[], roots: GoCert[], host: string, now: Date): string | undefined {
  const leaf = chain[0];
  const validity = validityError(leaf, now);
  if (validity) {
    return validity;
  }
  const hostError = hostnameError(leaf, host);
  if (hostError) {
    return hostError;
  }
  let chains: GoCert[][];
  if (roots.some(r => r.info.x509.raw.equals(leaf.info.x509.raw))) {
    chains = [[leaf]];
  } else {
    const built = buildChains([leaf], chain.slice(1), roots, now);
    if (built.chains.length === 0) {
      return built.error;
    }
    chains = built.chains;
  }
  if (!chains.some(c => c.every(x => allowsServerAuth(x.info)))) {
    return 'x509: certificate specifies an incompatible key usage';
  }
  return undefined;
}

function validityError(c: GoCert, now: Date): string | undefined {
  const problem = validityProblem(c.info, now);
  if (problem === 'not-yet-valid') {
    return `x509: certificate has expired or is not yet valid: current time ${formatDate(now)} is before ${formatDate(c.info.notBefore)}`;
  }
  if (problem === 'expired') {
    return `x509: certificate has expired or is not yet valid: current time ${formatDate(now)} is after ${formatDate(c.info.notAfter)}`;
  }
  return undefined;
}

/** Go's `Certificate.VerifyHostname` and the text of its `HostnameError`. */
export function hostnameError(c: GoCert, host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, '');
  if (net.isIP(bare)) {
    if (c.ips.some(ip => sameIp(ip, bare))) {
      return undefined;
    }
  } else if (coversServerName(c.info, bare)) {
    return undefined;
  }
  if (!c.hasSan && c.commonName !== undefined && matchesHostname(c.commonName, bare)) {
    return 'x509: certificate relies on legacy Common Name field, use SANs instead';
  }
  let valid: string;
  if (net.isIP(bare)) {
    if (c.ips.length === 0) {
      return `x509: cannot validate certificate for ${bare} because it doesn't contain any IP SANs`;
    }
    valid = c.ips.map(goIp).join(', ');
  } else {
    valid = c.info.dnsNames.join(', ');
  }
  if (valid === '') {
    return `x509: certificate is not valid for any names, but wanted to match ${bare}`;
  }
  return `x509: certificate is valid for ${valid}, not ${bare}`;
}

function sameIp(a: string, b: string): boolean {
  const norm = (ip: string) => {
    const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    return m ? m[1] : expandV6(ip);
  };
  return norm(a) === norm(b);
}

function expandV6(ip: string): string {
  if (!net.isIPv6(ip)) {
    return ip;
  }
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const fill = tail !== undefined ? new Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map(x => parseInt(x, 16).toString(16)).join(':');
}

/** Go prints IPv6 addresses in their shortest form; Node prints them expanded. */
function goIp(ip: string): string {
  if (!net.isIPv6(ip)) {
    return ip;
  }
  const parts = expandV6(ip).split(':');
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (parts[i] === '0') {
      let j = i;
      while (j < 8 && parts[j] === '0') j++;
      if (j - i > bestLen) {
        best = i;
        bestLen = j - i;
      }
      i = j;
    } else {
      i++;
    }
  }
  if (best < 0) {
    return parts.join(':');
  }
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

function buildChains(current: GoCert[], intermediates: GoCert[], roots: GoCert[], now: Date, depth = 0): { chains: GoCert[][]; error?: string } {
  const c = current[current.length - 1];
  let hint: { error: string; cert: GoCert } | undefined;
  let error: string | undefined;
  const chains: GoCert[][] = [];
  const consider = (candidate: GoCert, isRoot: boolean) => {
    if (current.some(x => x.info.x509.raw.equals(candidate.info.x509.raw))) {
      return;
    }
    const sigError = checkSignatureFrom(c, candidate);
    if (sigError) {
      hint = hint ?? { error: sigError, cert: candidate };
      return;
    }
    error = validityError(candidate, now);
    if (error) {
      return;
    }
    if (isRoot) {
      chains.push([...current, candidate]);
    } else if (depth < 8) {
      const sub = buildChains([...current, candidate], intermediates, roots, now, depth + 1);
      error = sub.error;
      chains.push(...sub.chains);
    }
  };
  for (const r of roots.filter(r => r.info.rawSubject === c.info.rawIssuer)) {
    consider(r, true);
  }
  for (const i of intermediates.filter(i => i.info.rawSubject === c.info.rawIssuer)) {
    consider(i, false);
  }
  if (chains.length > 0) {
    return { chains };
  }
  if (error) {
    return { chains, error };
  }
  let text = 'x509: certificate signed by unknown authority';
  if (hint) {
    text += ` (possibly because of ${JSON.stringify(hint.error)} while trying to verify candidate authority certificate ${JSON.stringify(hintName(hint.cert))})`;
  }
  return { chains, error: text };
}

function hintName(c: GoCert): string {
  if (c.commonName) {
    return c.commonName;
  }
  const o = c.info.x509.subject.split('\n').find(l => l.startsWith('O='));
  if (o) {
    return o.slice(2);
  }
  return `serial:${BigInt(`0x${c.info.x509.serialNumber}`).toString(10)}`;
}

/** Go's `Certificate.CheckSignatureFrom`. */
function checkSignatureFrom(c: GoCert, parent: GoCert): string | undefined {
  const p = parent.info;
  if ((p.version === 3 && !p.hasBasicConstraints) || (p.hasBasicConstraints && !p.isCa) || (p.keyUsage && !p.keyUsage.keyCertSign)) {
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  }
  const oid = c.info.signatureOid;
  const insecure = goInsecureAlgorithm(oid);
  if (insecure) {
    return `x509: cannot verify signature: insecure algorithm ${insecure}`;
  }
  const keyType = p.x509.publicKey.asymmetricKeyType;
  const want = RSA_SIG.test(oid) ? 'rsa' : ECDSA_SIG.test(oid) ? 'ec' : oid === ED25519_SIG ? 'ed25519' : undefined;
  if (want && keyType !== want) {
    const algo = want === 'rsa' ? 'RSA' : want === 'ec' ? 'ECDSA' : 'Ed25519';
    const have = keyType === 'rsa' ? '*rsa.PublicKey' : keyType === 'ec' ? '*ecdsa.PublicKey' : keyType === 'ed25519' ? 'ed25519.PublicKey' : `${keyType}`;
    return `x509: signature algorithm specifies an ${algo} public key, but have public key of type ${have}`;
  }
  if (c.info.x509.verify(p.x509.publicKey)) {
    return undefined;
  }
  return keyType === 'rsa' ? 'crypto/rsa: verification error' : keyType === 'ec' ? 'x509: ECDSA verification failure' : 'x509: Ed25519 verification failure';
}
