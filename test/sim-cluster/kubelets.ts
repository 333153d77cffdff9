import * as tls from 'tls';
import { AddressInfo } from 'net';

/** Loopback TLS listeners standing in for kubelets: each serves one certificate (chain) and closes. */
export class SimKubelets {
  public static async start(pairs: { cert: string; key: string }[]): Promise<SimKubelets> {
    const k = new SimKubelets();
    for (const p of pairs) {
      const server = tls.createServer({ cert: p.cert, key: p.key }, socket => {
        socket.on('error', () => undefined);
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
      });
      server.on('tlsClientError', () => undefined);
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
      k.servers.push(server);
    }
    return k;
  }

  private readonly servers: tls.Server[] = [];

  public port(i: number): number {
    return (this.servers[i].address() as AddressInfo).port;
  }

  public async close(): Promise<void> {
    await Promise.all(this.servers.map(s => new Promise<void>(resolve => s.close(() => resolve()))));
  }
}
