import * as net from 'net';
import * as tls from 'tls';
import { encodePem } from '../x509/pem-decode';

/** What a TLS dial of one kubelet gave. */
export interface ProbeResult {
  /** the presented chain, leaf first, PEM */
  readonly chain?: string[];
  /** set when no TCP connection could be made from here (refused, timeout, no route, name not resolved) */
  readonly unreachable?: string;
  /** set when TCP connected but the TLS handshake failed before any certificate was seen */
  readonly handshakeError?: string;
}

/** @internal */
export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * Dials a kubelet's port with TLS, without verifying (verification is done
 * afterwards, as Go does it, on the chain it presents), and returns the chain.
 * No request is sent: the handshake is all doctor needs.
 * @internal
 */
export function probeKubelet(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise(resolve => {
    let done = false;
    let connected = false;
    const finish = (r: ProbeResult) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      }
    };
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      servername: net.isIP(target.host) ? undefined : target.host,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => finish(connected
      ? { handshakeError: `no TLS handshake within ${timeoutMs} ms` }
      : { unreachable: `no connection within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => {
      connected = true;
    });
    socket.once('secureConnect', () => {
      const chain: string[] = [];
      let c: any = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(encodePem('CERTIFICATE', c.raw));
        c = c.issuerCertificate;
      }
      finish(chain.length ? { chain } : { handshakeError: 'the kubelet presented no certificate' });
    });
    socket.once('error', (e: any) => {
      const code = e.code ?? '';
      if (!connected && ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code)) {
        finish({ unreachable: `${code}${e.message ? `: ${e.message}` : ''}` });
      } else {
        finish(connected ? { handshakeError: e.message } : { unreachable: e.message });
      }
    });
  });
}

/**
 * Runs `work` on every item with at most `concurrency` at a time; results in input order.
 * @internal
 */
export async function mapBounded<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}
