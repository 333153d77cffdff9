import { isIP } from 'net';
import { NameConstraints } from './forge-adapter';
import { CertInfo } from './cert-info';
import { ipString } from '../k8s/ip';

// ---- name constraints, as Go's crypto/x509 checks them (parser.go
// parseNameConstraintsExtension, verify.go isValid / checkNameConstraints) ----

/** Go's domainToReverseLabels: the labels last first, or undefined for an empty label or a byte outside 33-126. */
function domainToReverseLabels(domain: string): string[] | undefined {
  if (domain === '') {
    return [];
  }
  const labels = domain.split('.').reverse();
  return labels.every(l => l !== '' && [...l].every(c => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126)) ? labels : undefined;
}

/** Go's parseRFC2821Mailbox: local part (atoms or a quoted string) '@' domain, or undefined. */
function parseMailbox(input: string): { local: string; domain: string } | undefined {
  let rest = input;
  let local = '';
  const code = (i = 0) => rest.charCodeAt(i);
  if (rest === '') {
    return undefined;
  }
  if (rest[0] === '"') {
    rest = rest.slice(1);
    for (;;) {
      if (rest === '') {
        return undefined;
      }
      const c = code();
      rest = rest.slice(1);
      if (c === 0x22) {
        break;
      } else if (c === 0x5c) {
        const n = code();
        if (rest !== '' && (n === 11 || n === 12 || (n >= 1 && n <= 9) || (n >= 14 && n <= 127))) {
          local += rest[0];
          rest = rest.slice(1);
        } else {
          return undefined;
        }
      } else if (c === 11 || c === 12 || c === 32 || c === 33 || c === 127 || (c >= 1 && c <= 8) || (c >= 14 && c <= 31)
        || (c >= 35 && c <= 91) || (c >= 93 && c <= 126)) {
        local += String.fromCharCode(c);
      } else {
        return undefined;
      }
    }
  } else {
    while (rest !== '') {
      if (rest[0] === '\\') {
        rest = rest.slice(1);
        if (rest === '') {
          return undefined;
        }
      } else if (!/^[0-9A-Za-z!#$%&'*+\-/=?^_`{|}~.]/.test(rest)) {
        break;
      }
      local += rest[0];
      rest = rest.slice(1);
    }
    if (local === '' || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
      return undefined;
    }
  }
  if (rest[0] !== '@') {
    return undefined;
  }
  const domain = rest.slice(1);
  return domainToReverseLabels(domain) ? { local, domain } : undefined;
}

/** Go's isValidIPMask: ones, then zeros. */
function validIpMask(mask: Buffer): boolean {
  return /^1*0*$/.test([...mask].map(b => b.toString(2).padStart(8, '0')).join(''));
}

/**
 * Why Go refuses to parse these name constraints (and so skips the
 * certificate), or undefined: non-ASCII, malformed DNS, email or URI
 * constraints, a URI constraint that is an IP address, an invalid IP mask.
 * @internal
 */
export function nameConstraintsParseProblem(nc: NameConstraints): string | undefined {
  if (nc.malformed.length > 0) {
    return nc.malformed[0];
  }
  const ia5 = (v: string) => [...v].every(c => c.charCodeAt(0) < 0x80);
  const domainOk = (v: string) => domainToReverseLabels(v.startsWith('.') ? v.slice(1) : v) !== undefined;
  for (const c of [...nc.permittedDns, ...nc.excludedDns]) {
    if (!ia5(c) || !domainOk(c)) {
      return `DNS constraint '${c}'`;
    }
  }
  for (const c of [...nc.permittedEmail, ...nc.excludedEmail]) {
    if (!ia5(c) || (c.includes('@') ? !parseMailbox(c) : !domainOk(c))) {
      return `email constraint '${c}'`;
    }
  }
  for (const c of [...nc.permittedUri, ...nc.excludedUri]) {
    if (!ia5(c) || isIP(c) !== 0 || !domainOk(c)) {
      return `URI constraint '${c}'${isIP(c) !== 0 ? ' is an IP address' : ''}`;
    }
  }
  for (const [, mask] of [...nc.permittedIp, ...nc.excludedIp]) {
    if (!validIpMask(mask)) {
      return `IP constraint with mask ${mask.toString('hex')}`;
    }
  }
  return undefined;
}

/** A constraint match: true, false, or why Go cannot match (a string, which refuses the chain). */
type Match = boolean | string;

/** Go's matchDomainConstraint: '' matches all, a leading '.' demands at least one more label, labels ASCII case-insensitive. */
function matchDomainConstraint(domain: string, constraint: string): Match {
  if (constraint === '') {
    return true;
  }
  const d = domainToReverseLabels(domain);
  if (!d) {
    return `cannot parse domain '${domain}'`;
  }
  const must = constraint.startsWith('.');
  const c = domainToReverseLabels(must ? constraint.slice(1) : constraint);
  if (!c) {
    return `cannot parse domain '${constraint}'`;
  }
  if (d.length < c.length || (must && d.length === c.length)) {
    return false;
  }
  return c.every((label, i) => label.toLowerCase() === d[i].toLowerCase());
}

/** Go's matchEmailConstraint: a constraint with '@' is one exact mailbox (domain case-insensitive), else a domain constraint on the mailbox's domain. */
function matchEmailConstraint(mailbox: { local: string; domain: string }, constraint: string): Match {
  if (constraint.includes('@')) {
    const m = parseMailbox(constraint);
    return m ? m.local === mailbox.local && m.domain.toLowerCase() === mailbox.domain.toLowerCase() : `cannot parse constraint '${constraint}'`;
  }
  return matchDomainConstraint(mailbox.domain, constraint);
}

/**
 * The host of a URI as Go's net/url.Parse reads it (port and userinfo
 * removed), '' when the URI has no authority, or an error string.
 */
function uriHost(uri: string): { host: string } | { error: string } {
  let rest = uri.split('#')[0];
  // eslint-disable-next-line no-control-regex -- a URI with a control character is refused
  if (/[\x00-\x1f\x7f]/.test(rest)) {
    return { error: 'invalid control character in URL' };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(rest);
  if (/^:/.test(rest)) {
    return { error: 'missing protocol scheme' };
  }
  if (scheme) {
    rest = rest.slice(scheme[0].length);
  }
  rest = rest.split('?')[0];
  if (!rest.startsWith('/')) {
    if (!scheme && rest.split('/')[0].includes(':')) {
      return { error: 'first path segment in URL cannot contain colon' };
    }
    return { host: '' };
  }
  if (!rest.startsWith('//') || (!scheme && rest.startsWith('///'))) {
    return { host: '' };
  }
  const authority = rest.slice(2).split('/')[0];
  let host = authority.slice(authority.lastIndexOf('@') + 1);
  let port = '';
  if (host.startsWith('[')) {
    const end = host.lastIndexOf(']');
    if (end < 0) {
      return { error: 'missing \']\' in host' };
    }
    port = host.slice(end + 1);
    host = host.slice(0, end + 1);
  } else if (host.includes(':')) {
    port = host.slice(host.lastIndexOf(':'));
    host = host.slice(0, host.lastIndexOf(':'));
  }
  if (port !== '' && !/^:[0-9]*$/.test(port)) {
    return { error: `invalid port '${port}' after host` };
  }
  if (!host.startsWith('[') && /[^A-Za-z0-9\-_.~!$&'()*+,;=%<>"\x80-\uffff]/.test(host)) {
    return { error: `invalid character in host name '${host}'` };
  }
  try {
    host = host.startsWith('[') ? host : decodeURIComponent(host);
  } catch {
    return { error: `invalid URL escape in '${host}'` };
  }
  return { host };
}

/** Go's matchURIConstraint: the URI's host must be a domain name (not empty, not an IP address), matched as a domain constraint. */
function matchUriConstraint(uri: string, constraint: string): Match {
  const parsed = uriHost(uri);
  if ('error' in parsed) {
    return parsed.error;
  }
  return uriHostProblem(uri, parsed.host) ?? matchDomainConstraint(parsed.host, constraint);
}

/** Go's parseURIs: a URI SAN whose host is empty or an IP address cannot be matched against any constraint. */
function uriHostProblem(uri: string, host: string): string | undefined {
  if (host === '') {
    return `URI with empty host ('${uri}') cannot be matched against constraints`;
  }
  if ((host.startsWith('[') && host.endsWith(']')) || isIP(host) !== 0) {
    return `URI with IP ('${uri}') cannot be matched against constraints`;
  }
  return undefined;
}

function matchIpConstraint(ip: Buffer, [net, mask]: Buffer[]): Match {
  return ip.length === net.length && [...ip].every((b, i) => (b & mask[i]) === (net[i] & mask[i]));
}

/** The names of a certificate that name constraints apply to. */
interface ConstrainedNames {
  readonly dnsNames: string[];
  readonly ipAddresses: Buffer[];
  readonly emailAddresses?: string[];
  readonly uris?: string[];
}

/**
 * Why a CA's name constraints forbid a name: the library's sentence, and the
 * detail Go 1.26 puts after "x509: a root or intermediate certificate is not
 * authorized to sign for this name: ".
 * @internal
 */
export interface NameConstraintViolation {
  readonly message: string;
  readonly goDetail: string;
}

/** Go's %q of a string (a JSON string is the same for the names that reach here). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's IPNet.String(): the network and the prefix length, or the mask in hex when it is not canonical. */
function goIpNetString([net, mask]: Buffer[]): string {
  const bits = [...mask].map(b => b.toString(2).padStart(8, '0')).join('');
  const ones = /^(1*)0*$/.exec(bits);
  const masked = Buffer.from([...net].map((b, i) => b & mask[i]));
  return ones ? `${ipString(masked)}/${ones[1].length}` : `${ipString(masked)}/${mask.toString('hex')}`;
}

/**
 * Why the CA's name constraints forbid one of the names, as Go 1.26 checks
 * them on every CA of the chain (crypto/x509/constraints.go): URI SANs must
 * have a host that is a domain name and email SANs must be RFC 2821
 * mailboxes once the CA has name constraints of any type; then IP, DNS, URI
 * and email SANs in that order, each permitted first, then excluded. There is
 * no limit on the number of comparisons (Go 1.26 no longer uses
 * MaxConstraintComparisions). Undefined when the names pass.
 * @internal
 */
export function nameConstraintViolation(ca: CertInfo, names: ConstrainedNames): NameConstraintViolation | undefined {
  const nc = ca.nameConstraints;
  if (!nc || [nc.permittedDns, nc.excludedDns, nc.permittedIp, nc.excludedIp, nc.permittedEmail, nc.excludedEmail, nc.permittedUri,
    nc.excludedUri].every(l => l.length === 0)) {
    return undefined;
  }
  const who = `the CA '${ca.subject}'`;
  const check = <T, C>(type: string, name: string, parsed: T, match: (p: T, c: C) => Match, permitted: C[], excluded: C[], show: (c: C) => string,
    goConstraint: (c: C) => string): NameConstraintViolation | undefined => {
    const cannot = (m: string) => ({ message: `${who} cannot check the ${type} '${name}' against its nameConstraints (${m})`, goDetail: m });
    if (permitted.length > 0) {
      let ok = false;
      for (const c of permitted) {
        const m = match(parsed, c);
        if (typeof m === 'string') {
          return cannot(m);
        }
        if (m) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        return {
          message: `${who} does not permit the ${type} '${name}' (nameConstraints permitted ${permitted.slice(0, 5).map(show).join(', ')}${permitted.length > 5 ? ` and ${permitted.length - 5} more` : ''})`,
          goDetail: `${type} ${goQuote(name)} is not permitted by any constraint`,
        };
      }
    }
    for (const c of excluded) {
      const m = match(parsed, c);
      if (typeof m === 'string') {
        return cannot(m);
      }
      if (m) {
        return {
          message: `${who} excludes the ${type} '${name}' (nameConstraints excluded ${show(c)})`,
          goDetail: `${type} ${goQuote(name)} is excluded by constraint ${goQuote(goConstraint(c))}`,
        };
      }
    }
    return undefined;
  };
  const unparsable = (what: string, name: string, goDetail: string) => ({ message: `${who} has nameConstraints, and Go cannot parse the ${what} SAN '${name}'`, goDetail });
  // Go's parseURIs and parseMailboxes: before any check, whatever the constraints' types
  for (const name of names.uris ?? []) {
    const parsed = uriHost(name);
    if ('error' in parsed) {
      return { message: `${who} has nameConstraints, and Go cannot parse the URI SAN '${name}' (${parsed.error})`, goDetail: parsed.error };
    }
    const hostProblem = uriHostProblem(name, parsed.host);
    if (hostProblem) {
      return { message: `${who} cannot check the URI '${name}' against its nameConstraints (${hostProblem})`, goDetail: hostProblem };
    }
  }
  const mailboxes: { name: string; mailbox: { local: string; domain: string } }[] = [];
  for (const name of names.emailAddresses ?? []) {
    const mailbox = parseMailbox(name);
    if (!mailbox) {
      return unparsable('email address', name, `cannot parse rfc822Name ${goQuote(name)}`);
    }
    mailboxes.push({ name, mailbox });
  }
  for (const ip of names.ipAddresses) {
    if (ip.length !== 4 && ip.length !== 16) {
      return { message: `${who} has nameConstraints, and Go cannot parse an IP address SAN of ${ip.length} bytes`, goDetail: `IP address of ${ip.length} bytes` };
    }
    const v = check('IP address', ipString(ip), ip, matchIpConstraint, nc.permittedIp, nc.excludedIp, ([n, m]) => `IP:${[...n].join('.')}/${[...m].join('.')}`, goIpNetString);
    if (v) {
      return v;
    }
  }
  for (const name of names.dnsNames) {
    const v = domainToReverseLabels(name)
      ? check('DNS name', name, name, matchDomainConstraint, nc.permittedDns, nc.excludedDns, c => `DNS:${c}`, c => c)
      : unparsable('DNS', name, `x509: cannot parse dnsName ${goQuote(name)}`);
    if (v) {
      return v;
    }
  }
  for (const name of names.uris ?? []) {
    const v = check('URI', name, name, matchUriConstraint, nc.permittedUri, nc.excludedUri, c => `URI:${c}`, c => c);
    if (v) {
      return v;
    }
  }
  for (const { name, mailbox } of mailboxes) {
    const v = check('email address', name, mailbox, matchEmailConstraint, nc.permittedEmail, nc.excludedEmail, c => `email:${c}`, c => c);
    if (v) {
      return v;
    }
  }
  return undefined;
}

/**
 * Why the CA's name constraints forbid one of the names (the library's
 * sentence of nameConstraintViolation), or undefined.
 * @internal
 */
export function nameConstraintProblem(ca: CertInfo, names: ConstrainedNames): string | undefined {
  return nameConstraintViolation(ca, names)?.message;
}
