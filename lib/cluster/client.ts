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
  /**
   * 400 on a subresource that cannot answer yet, e.g. the log of a container
   * that is waiting to start (`container "x" in pod "y" is waiting to start:
   * ContainerCreating`): what the API server said
   */
  readonly unavailable?: string;
}

/**
 * Thrown when the cluster cannot be asked at all (no connection, TLS failure
 * to the API server, credentials refused, an answer that is not the API
 * server's, a limit reached): doctor exits 2.
 * @internal
 */
export class CannotRun extends Error {}

/**
 * How long and how much doctor reads. Every read is bounded twice: by its own
 * deadline (connect to last byte, not only an idle socket) and by the run's.
 * @internal
 */
export interface ClientLimits {
  /** one request, from connecting to the last byte (default 30 s) */
  readonly requestMs: number;
  /** the whole run: no request starts, and none continues, after it (default 300 s) */
  readonly runMs: number;
  /** no byte for this long ends a request (default 15 s) */
  readonly idleMs: number;
  /** the largest answer read (default 64 MiB) */
  readonly maxResponseBytes: number;
  /** the most items one list may have, over all its pages (default 100 000) */
  readonly maxListItems: number;
  /** how often a list starts again after its continue token expired (410), as client-go's pager does (default 3) */
  readonly relists: number;
}

/** @internal */
export const DEFAULT_LIMITS: ClientLimits = {
  requestMs: 30_000,
  runMs: 300_000,
  idleMs: 15_000,
  maxResponseBytes: 64 * 1024 * 1024,
  maxListItems: 100_000,
  relists: 3,
};

const LIST_PAGE = 500;

/** A path segment taken from a cluster object or the user (a name, a namespace), encoded for a URL path. @internal */
export function seg(s: string): string {
  return encodeURIComponent(s);
}

/** What every request carries: the agent (TLS as the kubeconfig says) and the credentials, made once per run. */
interface Prepared {
  readonly agent?: http.Agent;
  readonly headers: { [name: string]: string };
  readonly auth?: string;
}

/**
 * A read-only client: GET only, with the authentication, TLS and proxy of the
 * kubeconfig (client-node applies them to an https.Agent and headers, once per
 * run: an exec credential plugin runs once). The server is always verified as
 * the kubeconfig says (its CA, or insecure-skip-tls-verify), whatever
 * NODE_TLS_REJECT_UNAUTHORIZED says. Every forbidden read is remembered so that
 * the report can say what it could not see.
 * @internal
 */
export class ClusterClient {
  /** `verb resource` the credentials were refused, in the order met */
  public readonly denied: string[] = [];
  /** requests made, for the report and the benchmark */
  public requests = 0;
  public readonly limits: ClientLimits;
  private readonly deadline: number;
  private prepared?: Promise<Prepared>;
  /** credentials that must never be printed: tokens, passwords, basic-auth values */
  private readonly secrets = new Set<string>();

  constructor(private readonly config: LoadedKubeconfig, limits: Partial<ClientLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.deadline = Date.now() + this.limits.runMs;
    for (const u of [config.server, config.kc.getCurrentCluster()?.proxyUrl]) {
      this.rememberUrl(u);
    }
  }

  public get server(): string {
    return this.config.server;
  }

  /**
   * `text` with every credential this client knows replaced by `[redacted]`: the
   * bearer token, the basic-auth value and password, URL passwords, in the forms
   * they take in text and in JSON. Everything doctor prints goes through it, so
   * that a server echoing the request headers back cannot make doctor print them.
   */
  public redact(text: string): string {
    let out = text;
    const forms = new Set<string>();
    for (const s of this.secrets) {
      forms.add(s);
      forms.add(JSON.stringify(s).slice(1, -1));
      forms.add(encodeURIComponent(s));
    }
    for (const f of [...forms].sort((a, b) => b.length - a.length)) {
      if (f.length >= 4) {
        out = out.split(f).join('[redacted]');
      }
    }
    return out;
  }

  /** GET one object. */
  public async get<T = any>(path: string, what: string): Promise<Read<T>> {
    const r = await this.request(path, `get ${what}`);
    return this.outcome<T>(r, `get ${what}`, () => this.json(r, `get ${what}`));
  }

  /**
   * GET a list, page by page (limit/continue), all items; at most
   * `maxListItems`. A continue token that expired (410) starts the list again
   * from the first page, at most `relists` times, as client-go's pager does.
   */
  public async list<T = any>(path: string, what: string, pageSize = LIST_PAGE): Promise<Read<T[]>> {
    let relisted = 0;
    let items: T[] = [];
    let cont: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const r = await this.request(`${path}${sep}limit=${pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, `list ${what}`);
      if (r.status === 410 && cont !== undefined) {
        if (relisted >= this.limits.relists) {
          throw new CannotRun(`list ${what}: the list changed faster than it could be read (its continue token expired ${relisted + 1} times); try again`);
        }
        relisted++;
        items = [];
        cont = undefined;
        continue;
      }
      if (r.status !== 200) {
        return this.outcome<T[]>(r, `list ${what}`, () => []);
      }
      const body = this.json(r, `list ${what}`);
      if (!body || typeof body !== 'object' || !Array.isArray(body.items)) {
        throw new CannotRun(`list ${what}: the answer of ${this.shownServer} is JSON but not a list (no items); something other than the API server answered? check the server URL and the proxy`);
      }
      if (items.length + body.items.length > this.limits.maxListItems) {
        throw new CannotRun(`list ${what}: more than ${this.limits.maxListItems} items; doctor reads at most that many (a list page of ${body.items.length} items arrived)`);
      }
      for (const item of body.items) {
        items.push(item);
      }
      cont = typeof body.metadata?.continue === 'string' && body.metadata.continue !== '' ? body.metadata.continue : undefined;
      if (!cont) {
        return { value: items };
      }
    }
    throw new CannotRun(`list ${what}: the API server kept returning continue tokens; giving up`);
  }

  /** GET text (pod logs). */
  public async text(path: string, what: string): Promise<Read<string>> {
    const r = await this.request(path, `get ${what}`);
    if (r.status === 400) {
      return { unavailable: statusMessage(r.body) ?? r.body.slice(0, 200) };
    }
    return this.outcome<string>(r, `get ${what}`, () => r.body);
  }

  private get shownServer(): string {
    return this.redact(this.server);
  }

  private json(r: { body: string; type?: string }, what: string): any {
    try {
      return JSON.parse(r.body);
    } catch {
      const start = r.body.slice(0, 60).replace(/\s+/g, ' ').trim();
      throw new CannotRun(`${what}: the answer of ${this.shownServer} is not JSON (Content-Type ${r.type ?? 'none'}, begins '${start}'); `
        + 'something other than the API server answered, such as a proxy\'s login page; check the kubeconfig\'s server, the proxy settings and the network');
    }
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
      throw new CannotRun(`the API server at ${this.shownServer} refused the credentials of context '${this.config.context}' (401 Unauthorized); check the user of that context (token, client certificate or exec plugin)`);
    }
    throw new CannotRun(`${what}: the API server answered ${r.status} (${statusMessage(r.body) ?? r.body.slice(0, 200)})`);
  }

  /** The agent and the credentials, once per run (an exec plugin runs once). */
  private prepare(): Promise<Prepared> {
    return this.prepared ??= (async () => {
      // rejectUnauthorized set before client-node applies the kubeconfig: it turns it off only for
      // insecure-skip-tls-verify, and Node's default (which NODE_TLS_REJECT_UNAUTHORIZED=0 turns off) never applies
      const opts: https.RequestOptions = { headers: {}, rejectUnauthorized: true };
      try {
        await this.config.kc.applyToHTTPSOptions(opts as any);
      } catch (e: any) {
        throw new CannotRun(`context '${this.config.context}': cannot get credentials (${e.message}); check the user's exec plugin, token or certificate files`);
      }
      const headers: { [name: string]: string } = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) {
        if (v !== undefined) headers[k] = String(v);
      }
      const authorization = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
      if (authorization) {
        this.rememberSecret(authorization);
        const [scheme, value] = authorization.split(/\s+/, 2);
        if (value) {
          this.rememberSecret(value);
          if (/^basic$/i.test(scheme)) this.rememberBasic(Buffer.from(value, 'base64').toString('utf8'));
        }
      }
      if (typeof opts.auth === 'string') {
        this.rememberBasic(opts.auth);
      }
      const user = this.config.kc.getCurrentUser();
      if (user?.token) this.rememberSecret(user.token);
      if (user?.password) this.rememberSecret(user.password);
      return { agent: opts.agent as http.Agent | undefined, headers, auth: opts.auth ?? undefined };
    })();
  }

  private rememberBasic(userPass: string): void {
    this.rememberSecret(Buffer.from(userPass).toString('base64'));
    const i = userPass.indexOf(':');
    if (i >= 0 && i < userPass.length - 1) this.rememberSecret(userPass.slice(i + 1));
  }

  private rememberSecret(s: string | undefined): void {
    if (s) this.secrets.add(s);
  }

  private rememberUrl(u: string | undefined): void {
    if (!u) return;
    try {
      const url = new URL(u);
      if (url.password) {
        this.rememberSecret(url.password);
        this.rememberBasic(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
      }
    } catch {
      // not a URL: nothing to remember
    }
  }

  private async request(path: string, what: string): Promise<{ status: number; body: string; type?: string }> {
    const left = this.deadline - Date.now();
    if (left <= 0) {
      throw new CannotRun(`${what}: doctor did not finish within ${this.limits.runMs / 1000} s (--timeout)`);
    }
    const prepared = await this.prepare();
    this.requests++;
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    const mod: typeof https | typeof http = url.protocol === 'http:' ? http : https;
    const { requestMs, idleMs, maxResponseBytes } = this.limits;
    const runEnds = left < requestMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: CannotRun) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(e);
        }
      };
      const req = mod.request(url, {
        method: 'GET',
        agent: prepared.agent,
        auth: prepared.auth,
        headers: { ...prepared.headers, 'Accept': 'application/json', 'User-Agent': 'secure-metrics-server-doctor' },
        timeout: idleMs,
      }, res => {
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers['content-length']);
        if (declared > maxResponseBytes) {
          req.destroy();
          return fail(new CannotRun(`${what}: the answer of ${this.shownServer} is ${declared} bytes, more than doctor reads (${maxResponseBytes})`));
        }
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxResponseBytes) {
            req.destroy();
            return fail(new CannotRun(`${what}: the answer of ${this.shownServer} is more than ${maxResponseBytes} bytes, more than doctor reads`));
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), type: res.headers['content-type'] });
          }
        });
        res.on('error', e => fail(new CannotRun(`reading ${url.pathname} from ${this.shownServer}: ${e.message}`)));
      });
      // the whole request has a deadline, not only an idle socket: a server that drips one byte at a time ends here
      const timer = setTimeout(() => {
        req.destroy();
        fail(new CannotRun(runEnds
          ? `${what}: doctor did not finish within ${this.limits.runMs / 1000} s (--timeout)`
          : `${what}: no complete answer from ${this.shownServer} within ${requestMs / 1000} s (--request-timeout)`));
      }, Math.min(left, requestMs));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${idleMs / 1000} s`)));
      req.on('error', (e: any) => fail(new CannotRun(`cannot reach the API server ${this.shownServer}${this.config.proxy ? ` through the proxy ${this.config.proxy}` : ''}: ${e.message}; check the kubeconfig's server, the network and the proxy settings`)));
      req.end();
    });
  }
}

function statusMessage(body: string): string | undefined {
  try {
    const s = JSON.parse(body);
    return typeof s?.message === 'string' ? s.message : undefined;
  } catch {
    return undefined;
  }
}
