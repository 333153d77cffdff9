import * as https from 'https';
import { AddressInfo } from 'net';

/**
 * A strict simulated kube-apiserver on loopback HTTPS, for doctor and kubectl:
 * read endpoints only (any other method is 405 and recorded), bearer-token
 * authentication (401 without), RBAC-like denials per resource (403 with the
 * API server's message), unknown paths 404, list paging with limit/continue
 * (continue tokens are opaque and checked), legacy discovery, and
 * metrics.k8s.io only while the APIService is Available (as the aggregated
 * discovery of a real API server drops an unavailable group, which is what makes
 * kubectl top say "Metrics API not available").
 *
 * As kube-apiserver does: list items carry no kind/apiVersion (the list does); a
 * namespaced resource lists across all namespaces at /api/v1/pods; labelSelector
 * takes the whole grammar (=, ==, !=, in, notin, exists, !key) and fieldSelector
 * the fields the server supports (metadata.name, metadata.namespace, and per
 * resource spec.nodeName, status.phase, ...), anything else is 400; pod logs
 * honour `container=` (400 for a container the pod does not have, or none given
 * for a pod with several).
 *
 * Hostile behaviours, per state (`hostile`), for doctor's bounds: an HTML login
 * page with status 200, a list that ignores `limit` and streams a huge page,
 * request headers echoed into error messages and logs, answers dripped a byte at
 * a time, continue tokens that expire (410).
 */
export interface SimState {
  readonly objects: any[];
  /** `namespace/pod` -> log text */
  readonly logs?: { [pod: string]: string };
  /** resources the credentials may not read: `secrets`, `pods/log`, `certificatesigningrequests`, ... */
  readonly deny?: string[];
  /**
   * RBAC: when set, a request is allowed only by one of these ClusterRole rules
   * (anywhere) or Role rules (in their namespace), as the RBAC authorizer
   * decides (apiGroups, resources with subresources, resourceNames, verbs)
   */
  readonly rbac?: { readonly cluster: RbacRule[]; readonly namespaced: { readonly [namespace: string]: RbacRule[] } };
  /** misbehaviours of a server (or of what answers in its place) */
  readonly hostile?: Hostile;
}

/** What a hostile server (or a proxy in front of it) does. */
export interface Hostile {
  /** every request gets a proxy's HTML login page with status 200 */
  readonly html200?: boolean;
  /** a list of this plural ignores `limit` and streams one page of this many items */
  readonly hugeList?: { readonly plural: string; readonly items: number };
  /** error messages and pod logs carry the request's headers (Authorization included) */
  readonly echoHeaders?: boolean;
  /** every answer is sent one byte per this many milliseconds (the socket is never idle for long) */
  readonly dripMs?: number;
  /** the first this many continue tokens are answered 410 Expired */
  readonly expireContinue?: number;
  /** every list of this plural fails with this status code */
  readonly failList?: { readonly plural: string; readonly code: number };
}

/** A PolicyRule of a Role or ClusterRole. */
export interface RbacRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly resourceNames?: string[];
  readonly verbs?: string[];
}

function allows(rule: RbacRule, verb: string, group: string, resource: string, name: string | undefined): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).some(x => x === '*' || x === v);
  return has(rule.verbs, verb) && has(rule.apiGroups, group) && has(rule.resources, resource)
    && (!rule.resourceNames || rule.resourceNames.length === 0 || (name !== undefined && rule.resourceNames.includes(name)));
}

interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: string[];
}

const RESOURCES: Resource[] = [
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'] },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'] },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'] },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'] },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'] },
  { group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', kind: 'APIService', namespaced: false },
  { group: 'certificates.k8s.io', version: 'v1', plural: 'certificatesigningrequests', kind: 'CertificateSigningRequest', namespaced: false, shortNames: ['csr'] },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd'] },
  { group: 'cert-manager.io', version: 'v1', plural: 'certificates', kind: 'Certificate', namespaced: true },
  { group: 'cert-manager.io', version: 'v1', plural: 'issuers', kind: 'Issuer', namespaced: true },
  { group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', kind: 'ClusterIssuer', namespaced: false },
  { group: 'metrics.k8s.io', version: 'v1beta1', plural: 'nodes', kind: 'NodeMetrics', namespaced: false },
];

export interface SimOptions {
  readonly cert: string;
  readonly key: string;
  /** bearer tokens accepted */
  readonly tokens: string[];
}

export class SimCluster {
  public static async start(options: SimOptions): Promise<SimCluster> {
    const sim = new SimCluster(options);
    await new Promise<void>(resolve => sim.server.listen(0, '127.0.0.1', resolve));
    return sim;
  }

  /** every request: `METHOD path` */
  public readonly requests: string[] = [];
  /** requests that were not GET (doctor must make none) */
  public readonly writes: string[] = [];
  /** every authenticated request: its token and headers */
  public readonly seen: { token: string; path: string; headers: import('http').IncomingHttpHeaders }[] = [];
  public state: SimState = { objects: [] };
  /** states seen by other bearer tokens, so that many scenarios share one server at once */
  private readonly byToken = new Map<string, SimState>();
  private readonly server: https.Server;
  private generation = 1;
  /** continue tokens answered 410 on purpose so far */
  private expired = 0;

  private constructor(private readonly options: SimOptions) {
    this.server = https.createServer({ cert: options.cert, key: options.key }, (req, res) => this.handle(req, res));
  }

  public get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  public get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The state every token sees unless `stateFor` gave it its own. */
  public setState(state: SimState): void {
    this.state = state;
    this.generation++;
    this.requests.length = 0;
    this.writes.length = 0;
  }

  /** A state only requests with this bearer token see (the token is accepted from now on). */
  public stateFor(token: string, state: SimState): void {
    this.byToken.set(token, state);
    this.generation++;
  }

  public close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private handle(req: import('http').IncomingMessage, res: import('http').ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://sim');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (code: number, body: any, type = 'application/json') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) => send(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (token === undefined || !(this.options.tokens.includes(token) || this.byToken.has(token))) {
      return status(401, 'Unauthorized', 'Unauthorized');
    }
    const state = this.byToken.get(token) ?? this.state;
    const h = state.hostile ?? {};
    this.seen.push({ token, path: `${url.pathname}${url.search}`, headers: { ...req.headers } });
    if (h.html200) {
      return send(200, '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action="/login">Corporate proxy: sign in</form></body></html>', 'text/html; charset=utf-8');
    }
    const echo = h.echoHeaders ? ` (request headers: ${JSON.stringify(req.headers)})` : '';
    const statusEcho = (code: number, reason: string, message: string) => status(code, reason, message + echo);
    const out = h.dripMs ? (code: number, body: any, type = 'application/json') => this.drip(res, code, typeof body === 'string' ? body : JSON.stringify(body), type, h.dripMs!) : send;
    return this.serve(state, req, res, url, out, h.echoHeaders || h.dripMs ? (c, r, m) => (h.dripMs ? out(c, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: m + echo, reason: r, code: c }) : statusEcho(c, r, m)) : status, echo);
  }

  /** Sends `body` one byte per `ms` milliseconds, until the client goes away. */
  private drip(res: import('http').ServerResponse, code: number, body: string, type: string, ms: number): void {
    res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    const bytes = Buffer.from(body);
    let i = 0;
    const timer = setInterval(() => {
      if (i >= bytes.length || res.destroyed) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(bytes.subarray(i, i + 1));
      i++;
    }, ms);
    res.on('close', () => clearInterval(timer));
  }

  private serve(state: SimState, req: import('http').IncomingMessage, res: import('http').ServerResponse, url: URL, send: (c: number, b: any, t?: string) => void, status: (c: number, r: string, m: string) => void, echo: string): void {
    if (req.method !== 'GET') {
      this.writes.push(`${req.method} ${url.pathname}`);
      return status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (p === '/version') {
      return send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
    }
    if (p === '/api') {
      return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] });
    }
    if (p === '/apis') {
      const groups = [...new Set(this.served(state).filter(r => r.group).map(r => `${r.group}/${r.version}`))].map(gv => {
        const [group, version] = gv.split('/');
        return { name: group, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
      });
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/(.*))?$/.exec(p);
    if (!m) {
      return status(404, 'NotFound', 'the server could not find the requested resource');
    }
    const group = m[2] ?? '';
    const version = m[1] ?? m[3];
    const rest = m[4] ? m[4].split('/') : [];
    const inGroup = this.served(state).filter(r => r.group === group && r.version === version);
    if (inGroup.length === 0) {
      if (group === 'metrics.k8s.io') {
        return status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
      }
      return status(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (rest.length === 0) {
      return send(200, {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version,
        resources: inGroup.map(r => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'list'], ...(r.shortNames ? { shortNames: r.shortNames } : {}) })),
      });
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest.splice(0, 2);
    }
    const [plural, name, sub, ...extra] = rest;
    // a namespaced resource lists across namespaces without one (/api/v1/pods); a get needs one
    const resource = inGroup.find(r => r.plural === plural && (r.namespaced === (namespace !== undefined) || (r.namespaced && name === undefined)));
    if (!resource || extra.length > 0 || (sub !== undefined && !(plural === 'pods' && sub === 'log'))) {
      return status(404, 'NotFound', 'the server could not find the requested resource');
    }
    const verb = name === undefined ? 'list' : 'get';
    const denyKey = sub ? `${plural}/${sub}` : plural;
    const rbac = state.rbac;
    const permitted = !rbac || [...rbac.cluster, ...(namespace ? rbac.namespaced[namespace] ?? [] : [])].some(r => allows(r, verb, group, denyKey, name));
    if ((state.deny ?? []).includes(denyKey) || !permitted) {
      const what = name ? `${plural} "${name}"` : plural;
      return status(403, 'Forbidden', `${what} is forbidden: User "system:serviceaccount:default:doctor" cannot ${verb} resource "${denyKey}" in API group "${group}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`);
    }
    const all = this.objectsOf(state, resource).filter(o => !resource.namespaced || namespace === undefined || o.metadata?.namespace === namespace);
    if (name !== undefined) {
      const obj = all.find(o => o.metadata?.name === name);
      if (!obj) {
        return status(404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`);
      }
      if (sub === 'log') {
        const containers: string[] = (obj.spec?.containers ?? []).map((c: any) => c.name);
        const container = url.searchParams.get('container') ?? undefined;
        if (container === undefined && containers.length > 1) {
          return status(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
        }
        if (container !== undefined && containers.length > 0 && !containers.includes(container)) {
          return status(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
        }
        const chosen = container ?? containers[0];
        // as the kubelet answers for a container that has not started (kube-apiserver passes it on)
        const waiting = (obj.status?.containerStatuses ?? []).find((c: any) => c.name === chosen)?.state?.waiting;
        if (waiting) {
          return status(400, 'BadRequest', `container "${chosen}" in pod "${name}" is waiting to start: ${waiting.reason ?? 'ContainerCreating'}`);
        }
        let text = (chosen !== undefined ? state.logs?.[`${namespace}/${name}/${chosen}`] : undefined)
          ?? (chosen === undefined || chosen === containers[0] ? state.logs?.[`${namespace}/${name}`] : undefined) ?? '';
        if (echo) text = text.split('\n').map(l => l && `${l}${echo}`).join('\n');
        const tail = Number(url.searchParams.get('tailLines') ?? '0');
        if (tail > 0) {
          text = text.split('\n').filter(l => l).slice(-tail).join('\n') + '\n';
        }
        return send(200, text, 'text/plain');
      }
      return send(200, obj);
    }
    const fail = state.hostile?.failList;
    if (fail && fail.plural === plural) {
      return status(fail.code, 'InternalError', 'an error on the server ("etcdserver: request timed out") has prevented the request from succeeding');
    }
    const huge = state.hostile?.hugeList;
    if (huge && huge.plural === plural) {
      return this.streamHugeList(res, resource, huge.items);
    }
    return this.list(state, resource, all, url, send, status);
  }

  /** One list page of `n` items, ignoring `limit`, streamed as it is made. */
  private streamHugeList(res: import('http').ServerResponse, resource: Resource, n: number): void {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`{"kind":"${resource.kind}List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[`);
    let i = 0;
    const more = (): void => {
      while (i < n) {
        const chunk: string[] = [];
        // the smallest items, so that the test pays for the count, not for the bytes
        for (let j = 0; j < 20_000 && i < n; j++, i++) chunk.push(i ? ',{}' : '{}');
        if (!res.write(chunk.join(''))) {
          res.once('drain', more);
          return;
        }
      }
      res.end(']}');
    };
    res.on('error', () => undefined);
    more();
  }

  private list(state: SimState, resource: Resource, all: any[], url: URL, send: (c: number, b: any) => void,
    status: (c: number, r: string, m: string) => void): void {
    let items = all;
    const selector = url.searchParams.get('labelSelector');
    if (selector) {
      const reqs = parseLabelSelector(selector);
      if (typeof reqs === 'string') {
        return status(400, 'BadRequest', reqs);
      }
      items = items.filter(o => reqs.every(r => r(o.metadata?.labels ?? {})));
    }
    const fields = url.searchParams.get('fieldSelector');
    if (fields) {
      const reqs = parseFieldSelector(fields, resource);
      if (typeof reqs === 'string') {
        return status(400, 'BadRequest', reqs);
      }
      items = items.filter(o => reqs.every(r => r(o)));
    }
    let offset = 0;
    const cont = url.searchParams.get('continue');
    if (cont) {
      if ((state.hostile?.expireContinue ?? 0) > this.expired) {
        this.expired++;
        return status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      let token: any;
      try {
        token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8'));
      } catch {
        return status(400, 'BadRequest', 'continue key is not valid: illegal base64 data');
      }
      if (token.g !== this.generation) {
        return status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');
      }
      offset = token.o;
    }
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const next = offset + page.length;
    const metadata: any = { resourceVersion: String(this.generation) };
    if (limit > 0 && next < items.length) {
      metadata.continue = Buffer.from(JSON.stringify({ g: this.generation, o: next })).toString('base64');
      metadata.remainingItemCount = items.length - next;
    }
    const gv = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    // as kube-apiserver: the list has kind and apiVersion, its items do not
    send(200, { kind: `${resource.kind}List`, apiVersion: gv, metadata, items: page.map(({ kind: _k, apiVersion: _a, ...item }) => item) });
  }

  /** The resources served now: cert-manager's only with its CRDs, metrics.k8s.io only while the APIService is Available. */
  private served(state: SimState): Resource[] {
    const crds = state.objects.filter(o => o.kind === 'CustomResourceDefinition').map(o => o.metadata?.name);
    return RESOURCES.filter(r => {
      if (r.group === 'cert-manager.io') {
        return crds.includes(`${r.plural}.cert-manager.io`);
      }
      if (r.group === 'metrics.k8s.io') {
        return this.metricsAvailable(state);
      }
      return true;
    });
  }

  private metricsAvailable(state: SimState): boolean {
    const api = state.objects.find(o => o.kind === 'APIService' && o.metadata?.name === 'v1beta1.metrics.k8s.io');
    return !!api && (api.status?.conditions ?? []).some((c: any) => c.type === 'Available' && c.status === 'True');
  }

  private objectsOf(state: SimState, resource: Resource): any[] {
    if (resource.kind === 'NodeMetrics') {
      return state.objects.filter(o => o.kind === 'Node').map((n, i) => ({
        kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name: n.metadata.name, creationTimestamp: new Date().toISOString() },
        timestamp: new Date().toISOString(), window: '10s',
        usage: { cpu: `${100 + i * 10}m`, memory: `${512 + i}Mi` },
      }));
    }
    return state.objects.filter(o => o.kind === resource.kind);
  }
}

type LabelReq = (labels: { [k: string]: string }) => boolean;

/**
 * A label selector as apimachinery's labels.Parse reads it: requirements
 * separated by commas (outside parentheses): `k`, `!k`, `k=v`, `k==v`, `k!=v`,
 * `k in (a,b)`, `k notin (a,b)`. A message (as the API server's 400) when it is not one.
 */
export function parseLabelSelector(selector: string): LabelReq[] | string {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  const key = /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
  const value = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
  const reqs: LabelReq[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(p))) {
      const [, k, op, list] = m;
      const vals = list.split(',').map(v => v.trim());
      if (!key.test(k) || vals.some(v => !value.test(v))) return `unable to parse requirement: ${p}`;
      reqs.push(op === 'in' ? l => k in l && vals.includes(l[k]) : l => !(k in l) || !vals.includes(l[k]));
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(p))) {
      const [, k, op, v] = m;
      if (!key.test(k) || !value.test(v)) return `unable to parse requirement: ${p}`;
      reqs.push(op === '!=' ? l => l[k] !== v : l => k in l && l[k] === v);
    } else if ((m = /^!\s*(\S+)$/.exec(p))) {
      const k = m[1];
      if (!key.test(k)) return `unable to parse requirement: ${p}`;
      reqs.push(l => !(k in l));
    } else if (key.test(p)) {
      reqs.push(l => p in l);
    } else {
      return `unable to parse requirement: found '${p}', expected: identifier`;
    }
  }
  return reqs;
}

/** The fields each resource's fieldSelector supports (besides metadata.name and metadata.namespace), as kube-apiserver has them. */
const FIELDS: { [kind: string]: { [field: string]: (o: any) => string } } = {
  Pod: {
    'spec.nodeName': o => o.spec?.nodeName ?? '',
    'spec.serviceAccountName': o => o.spec?.serviceAccountName ?? '',
    'status.phase': o => o.status?.phase ?? '',
    'status.podIP': o => o.status?.podIP ?? '',
  },
  Node: { 'spec.unschedulable': o => String(!!o.spec?.unschedulable) },
  Secret: { type: o => o.type ?? '' },
  CertificateSigningRequest: { 'spec.signerName': o => o.spec?.signerName ?? '' },
};

/** A field selector: `f=v`, `f==v`, `f!=v`, comma-separated, on the fields the resource supports; else the API server's 400 message. */
export function parseFieldSelector(selector: string, resource: { kind: string; namespaced: boolean }): ((o: any) => boolean)[] | string {
  const fields: { [f: string]: (o: any) => string } = {
    'metadata.name': o => o.metadata?.name ?? '',
    ...(resource.namespaced ? { 'metadata.namespace': (o: any) => o.metadata?.namespace ?? '' } : {}),
    ...(FIELDS[resource.kind] ?? {}),
  };
  const reqs: ((o: any) => boolean)[] = [];
  for (const p of selector.split(',').map(x => x.trim())) {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(p);
    if (!m) return `invalid selector: '${selector}'; can't understand '${p}'`;
    const [, f, op, v] = m;
    const get = fields[f];
    if (!get) return `field label not supported: ${f}`;
    reqs.push(op === '!=' ? o => get(o) !== v : o => get(o) === v);
  }
  return reqs;
}
