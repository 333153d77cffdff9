/**
 * IP addresses as Go reads and prints them: the one parser and formatter of
 * the library (the approver's providerIpPrefixes, the x509 layer's IP SANs and
 * name constraints, Go's error text). Addresses are bytes: 4 for IPv4, 16 for IPv6.
 * (lib/cluster/proxy.ts matches NO_PROXY CIDRs with Node's net.BlockList.)
 * @internal
 */

/** An IPv4 address as Go's netip.ParseAddr reads it (four decimal parts, no leading zeros), or undefined. */
export function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some(x => !/^(0|[1-9][0-9]{0,2})$/.test(x) || Number(x) > 255)) {
    return undefined;
  }
  return parts.map(Number);
}

/** An IPv6 address as Go's netip.ParseAddr reads it (no zone), or undefined. */
export function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%') || s.split('::').length > 2) {
    return undefined;
  }
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') {
      return [];
    }
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) {
          return undefined;
        }
        out.push(v4[0], v4[1], v4[2], v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        const n = parseInt(g, 16);
        out.push(n >> 8, n & 0xff);
      } else {
        return undefined;
      }
    }
    return out;
  };
  const [head, tail] = s.split('::');
  const h = parseGroups(head);
  if (tail === undefined) {
    return h && h.length === 16 ? h : undefined;
  }
  const t = parseGroups(tail);
  // an embedded IPv4 address may only end the address; '::' stands for at least one group
  if (!h || !t || head.includes('.') || h.length + t.length > 14) {
    return undefined;
  }
  return [...h, ...new Array(16 - h.length - t.length).fill(0), ...t];
}

/**
 * An IP address as Go prints it: IPv6 in its shortest form (the first
 * longest run of two or more zero groups as '::'). An IPv4-mapped IPv6
 * address prints dotted, as net.IP.String() does, unless `mappedAsIPv4` is
 * false (netip keeps it IPv6: a prefix of it is only valid so). Another
 * length prints as '?' and hex, as Go does.
 */
export function ipString(ip: ArrayLike<number>, mappedAsIPv4 = true): string {
  const bytes = Array.from(ip);
  const mapped = bytes.length === 16 && bytes.slice(0, 10).every(b => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (bytes.length === 4 || (mapped && mappedAsIPv4)) {
    return bytes.slice(bytes.length - 4).join('.');
  }
  if (bytes.length !== 16) {
    return `?${bytes.map(b => b.toString(16).padStart(2, '0')).join('')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((bytes[i] << 8) | bytes[i + 1]);
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map(x => x.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}
