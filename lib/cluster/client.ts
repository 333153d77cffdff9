import * as http from 'http';
import * as https from 'https';
import { LoadedKubeconfig } from './kubeconfig';

/** The answer to one read. */
export interface Read<T> {
  /** the object (or list items), when the read succeeded */
  readonly value?: T;
  /** 404: the object does not exist (or the API is not served) */
  readonly notFound?: boolean;
  /** 403: what the API server said, when the credentials may not read it */
  readonly forbidden?: string;
}

/**
 * Thrown when the cluster cannot be asked at all (no connection, TLS failure
 * to the API server, credentials refused): doctor exits 2.
 * @internal
 */
export class CannotRun extends Error {}

const LIST_PAGE = 500;

/**
 * A read-only client: GET only, with the authentication, TLS and proxy of the
 * kubeconfig (client-node applies them to an https.Agent and headers). Every
 * forbidden read is remembered so that the report can say what it could not see.
 * @internal
 */
export class ClusterClient {
  /** `verb resource` the credentials were refused, in the order met */
  public readonly denied: string[] = [];
  /** requests made, for the report and the benchmark */
  public requests = 0;

  constructor(private readonly config: LoadedKubeconfig, private readonly timeoutMs = 15_000) {}

  public get server(): string {
    return this.config.server;
  }

  /** GET one object. */
  public async get<T = any>(path: string, what: string): Promise<Read<T>> {
    const r = await this.request(path);
    return this.outcome<T>(r, `get ${what}`, () => JSON.parse(r.body));
  }

  /** GET a list, page by page (limit/continue), all items. */
  public async list<T = any>(path: string, what: string, pageSize = LIST_PAGE): Promise<Read<T[]>> {
    const items: T[] = [];
    let cont: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const r = await this.request(`${path}${sep}limit=${pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      if (r.status !== 200) {
        return this.outcome<T[]>(r, `list ${what}`, () => []);
      }
      const body = JSON.parse(r.body);
      items.push(...(Array.isArray(body.items) ? body.items : []));
      cont = body.metadata?.continue || undefined;
      if (!cont) {
        return { value: items };
      }
    }
    throw new CannotRun(`list ${what}: the API server kept returning continue tokens; giving up`);
  }

  /** GET text (pod logs). */
  public async text(path: string, what: string): Promise<Read<string>> {
    const r = await this.request(path);
    return this.outcome<string>(r, `get ${what}`, () => r.body);
  }

  private outcome<T>(r: { status: number; body: string }, what: string, parse: () => T): Read<T> {
    if (r.status === 200) {
      return { value: parse() };
    }
    if (r.status === 404) {
      return { notFound: true };
    }
    if (r.status === 403) {
      const message = statusMessage(r.body) ?? 'forbidden';
      this.denied.push(what);
      return { forbidden: message };
    }
    if (r.status === 401) {
      throw new CannotRun(`the API server at ${this.server} refused the credentials of context '${this.config.context}' (401 Unauthorized); check the user of that context (token, client certificate or exec plugin)`);
    }
    throw new CannotRun(`${what}: the API server answered ${r.status} (${statusMessage(r.body) ?? r.body.slice(0, 200)})`);
  }

  private async request(path: string): Promise<{ status: number; body: string }> {
    this.requests++;
    const opts: https.RequestOptions = { headers: {} };
    try {
      await this.config.kc.applyToHTTPSOptions(opts as any);
    } catch (e: any) {
      throw new CannotRun(`context '${this.config.context}': cannot get credentials (${e.message}); check the user's exec plugin, token or certificate files`);
    }
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    const mod: typeof https | typeof http = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, {
        method: 'GET',
        agent: opts.agent,
        headers: { ...opts.headers, 'Accept': 'application/json', 'User-Agent': 'secure-metrics-server-doctor' },
        timeout: this.timeoutMs,
      }, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', e => reject(new CannotRun(`reading ${url.pathname} from ${this.server}: ${e.message}`)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (e: any) => reject(new CannotRun(`cannot reach the API server ${this.server}${this.config.proxy ? ` through the proxy ${this.config.proxy}` : ''}: ${e.message}; check the kubeconfig's server, the network and the proxy settings`)));
      req.end();
    });
  }
}

function statusMessage(body: string): string | undefined {
  try {
    const s = JSON.parse(body);
    return typeof s.message === 'string' ? s.message : undefined;
  } catch {
    return undefined;
  }
}
