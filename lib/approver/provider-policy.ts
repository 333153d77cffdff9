import { RE2JS } from 're2js';
import { ipString, parseIPv4, parseIPv6 } from '../k8s/ip';

/**
 * Checks that `value` is an anchored regular expression that Go's regexp
 * (RE2) compiles, with a real RE2 engine (re2js, a port of RE2 with the same
 * syntax and limits, e.g. repeat counts up to 1000), and returns it compiled
 * for further checks. Matching is unanchored find, as Go's MatchString.
 */
export function checkProviderRegex(prop: string, value: string | undefined): { test(input: string): boolean } {
  const example = `e.g. '^k8s-(control|worker)-\\d+\\.example\\.com$'`;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${prop}: '${value ?? ''}' is missing; it says which DNS names nodes may request, and without it the approver refuses to start: set it to your node names, ${example}`);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(value);
  } catch (e: any) {
    const message = String(e.message);
    const unsupported = [
      { re: /`\(\?<?[=!]/, what: 'lookaround' },
      { re: /invalid escape sequence: `\\[1-9k]/, what: 'backreferences' },
      { re: /`\(\?>/, what: 'atomic groups' },
    ].find(u => u.re.test(message));
    if (unsupported) {
      throw new Error(`${prop}: '${value}' uses ${unsupported.what}, which Go's regexp (RE2) does not support, so the approver would crash at start; rewrite it without, ${example}`, { cause: e });
    }
    throw new Error(`${prop}: '${value}' is not a valid regular expression (${message}; Go's regexp would not compile it, so the approver would crash at start); fix it, ${example}`, { cause: e });
  }
  // anchoring is checked on the text: a leading flag group such as (?i) and \A ... \z count as anchors
  const source = value.replace(/^\(\?[imsU]+\)/, '').replace(/^\\A/, '^').replace(/\\z$/, '$');
  if (!source.startsWith('^') || !endsWithAnchor(source) || hasTopLevelAlternation(source)) {
    throw new Error(`${prop}: '${value}' is not anchored at both ends; the approver accepts a name if the regex matches any part of it, so write '^(?:${value})$' or narrower, ${example}`);
  }
  return { test: (input: string) => compiled.test(input) };
}

/** Whether the regex ends with an unescaped `$`. */
function endsWithAnchor(source: string): boolean {
  if (!source.endsWith('$')) {
    return false;
  }
  let backslashes = 0;
  for (let i = source.length - 2; i >= 0 && source[i] === '\\'; i--) {
    backslashes++;
  }
  return backslashes % 2 === 0;
}

/** Whether `|` appears outside any group or character class (so `^a|b$` is not anchored). */
function hasTopLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      inClass = c !== ']';
    } else if (c === '[') {
      inClass = true;
      if (source[i + 1] === ']') {
        i++;
      }
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
    } else if (c === '|' && depth === 0) {
      return true;
    }
  }
  return false;
}

/**
 * Throws unless `value` is a CIDR as Go's `netip.ParsePrefix` reads it, with
 * no bits set after the prefix length.
 */
export function checkCidr(prop: string, value: string): void {
  const bad = (why: string, fix: string) => new Error(`${prop}: '${value}' ${why}; ${fix}`);
  const example = "write a network address and prefix length, e.g. '192.168.10.0/24' or 'fd00:10::/64'";
  if (typeof value !== 'string') {
    throw bad('is not a CIDR', example);
  }
  const m = /^([^/\s]+)\/(0|[1-9][0-9]{0,2})$/.exec(value);
  if (!m) {
    throw bad('is not a CIDR (address/prefix length, no spaces)', example);
  }
  const bytes = m[1].includes(':') ? parseIPv6(m[1]) : parseIPv4(m[1]);
  if (!bytes) {
    throw bad(`has an invalid ${m[1].includes(':') ? 'IPv6' : 'IPv4'} address`, example);
  }
  const bits = Number(m[2]);
  if (bits > bytes.length * 8) {
    throw bad(`has a prefix length above ${bytes.length * 8}`, example);
  }
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & (0xff << (8 - keep)) & 0xff;
  });
  if (masked.some((b, i) => b !== bytes[i])) {
    throw bad('has bits set after the prefix length', `use the network address '${ipString(masked, false)}/${bits}'`);
  }
}
