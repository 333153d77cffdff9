import * as https from 'https';
import { AddressInfo } from 'net';

/**
 * A strict simulated kube-apiserver on loopback HTTPS, for doctor and kubectl:
 * read endpoints only (any other method is 405 and recorded), bearer-token
 * authentication (401 without), RBAC-like denials per resource (403 with the
 * API server's message), unknown paths 404, list paging with limit/continue
 * (continue tokens are opaque and checked), label selectors, legacy discovery,
 * and metrics.k8s.io only while the APIService is Available (as the aggregated
 * discovery of a real API server drops an unavailable group, which is what makes
 * kubectl top say "Metrics API not available").
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
  public state: SimState = { objects: [] };
  /** states seen by other bearer tokens, so that many scenarios share one server at once */
  private readonly byToken = new Map<string, SimState>();
  private readonly server: https.Server;
  private generation = 1;

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
    return this.serve(state, req, res, url, send, status);
  }

  private serve(state: SimState, req: import('http').IncomingMessage, _res: import('http').ServerResponse, url: URL, send: (c: number, b: any, t?: string) => void, status: (c: number, r: string, m: string) => void): void {
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
    const resource = inGroup.find(r => r.plural === plural && r.namespaced === (namespace !== undefined));
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
    const all = this.objectsOf(state, resource).filter(o => !resource.namespaced || o.metadata?.namespace === namespace);
    if (name !== undefined) {
      const obj = all.find(o => o.metadata?.name === name);
      if (!obj) {
        return status(404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`);
      }
      if (sub === 'log') {
        let text = state.logs?.[`${namespace}/${name}`] ?? '';
        const tail = Number(url.searchParams.get('tailLines') ?? '0');
        if (tail > 0) {
          text = text.split('\n').filter(l => l).slice(-tail).join('\n') + '\n';
        }
        return send(200, text, 'text/plain');
      }
      return send(200, obj);
    }
    return this.list(resource, all, url, send, status);
  }

  private list(resource: Resource, all: any[], url: URL, send: (c: number, b: any) => void, status: (c: number, r: string, m: string) => void): void {
    let items = all;
    const selector = url.searchParams.get('labelSelector');
    if (selector) {
      const reqs = selector.split(',').map(s => s.split('='));
      if (reqs.some(r => r.length !== 2 || !r[0])) {
        return status(400, 'BadRequest', `unable to parse requirement: ${selector}`);
      }
      items = items.filter(o => reqs.every(([k, v]) => o.metadata?.labels?.[k] === v));
    }
    let offset = 0;
    const cont = url.searchParams.get('continue');
    if (cont) {
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
    send(200, { kind: `${resource.kind}List`, apiVersion: gv, metadata, items: page });
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
