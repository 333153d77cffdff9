import * as net from 'net';

/**
 * The proxy for an https URL from HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy,
 * with the semantics of Go's net/http ProxyFromEnvironment (what kubectl uses):
 * the upper-case name wins; `localhost` and loopback IPs never go through a
 * proxy; NO_PROXY is a comma-separated list of host names (matching the host
 * and its subdomains; a leading dot or `*.` means subdomains only), IP
 * addresses, CIDR ranges, each optionally with `:port`, or `*` for everything.
 * @internal
 */
export function proxyFor(serverUrl: string, env: { readonly [name: string]: string | undefined }): { url: string; variable: string } | undefined {
  const url = new URL(serverUrl);
  if (url.protocol !== 'https:') {
    return undefined;
  }
  const variable = env.HTTPS_PROXY !== undefined && env.HTTPS_PROXY !== '' ? 'HTTPS_PROXY' : (env.https_proxy ? 'https_proxy' : undefined);
  if (!variable) {
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || '443';
  if (host === 'localhost' || (net.isIP(host) && isLoopback(host))) {
    return undefined;
  }
  const noProxy = env.NO_PROXY !== undefined && env.NO_PROXY !== '' ? env.NO_PROXY : (env.no_proxy ?? '');
  if (bypass(host, port, noProxy)) {
    return undefined;
  }
  let proxy = env[variable]!;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy)) {
    proxy = `http://${proxy}`; // Go treats a bare host:port as http://
  }
  return { url: proxy, variable };
}

function isLoopback(ip: string): boolean {
  return net.isIPv4(ip) ? ip.startsWith('127.') : ip === '::1';
}

function bypass(host: string, port: string, noProxy: string): boolean {
  for (let entry of noProxy.split(',').map(e => e.trim().toLowerCase()).filter(e => e !== '')) {
    if (entry === '*') {
      return true;
    }
    if (entry.includes('/')) {
      if (net.isIP(host) && inCidr(host, entry)) {
        return true;
      }
      continue;
    }
    let entryPort: string | undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m) {
      entry = m[1];
      entryPort = m[2];
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) {
      continue;
    }
    if (net.isIP(entry)) {
      if (net.isIP(host) && entry === host) {
        return true;
      }
      continue;
    }
    if (entry.startsWith('*.')) {
      entry = entry.slice(1);
    }
    if (entry.startsWith('.')) {
      if (host.endsWith(entry)) {
        return true;
      }
    } else if (host === entry || host.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!net.isIP(base) || net.isIP(base) !== net.isIP(ip) || !Number.isInteger(bits)) {
    return false;
  }
  const list = new net.BlockList();
  list.addSubnet(base, bits, net.isIPv4(base) ? 'ipv4' : 'ipv6');
  return list.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
}
