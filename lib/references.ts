import { resolveFile } from './rules/mounts';

/**
 * References between the objects one construct synthesizes, checked before
 * anything is written: a reference from one object to another that the same
 * construct writes must resolve, or the pod never starts (a volume key the
 * Secret lacks), kube-apiserver never reaches metrics-server (an APIService
 * port the Service lacks), or a policy selects nothing (a PDB selector no pod
 * carries). References to objects the construct does not write (the
 * cluster's kube-root-ca.crt, an existing Secret, a user's ClusterIssuer) are
 * the user's to provide and are not checked here.
 *
 * What is checked:
 * - pod volumes (secret, configMap, projected): the keys named in `items`,
 *   and the keys behind the files named by file flags (`--kubelet-certificate-authority`,
 *   `--tls-cert-file`, ...), exist in a Secret or ConfigMap the construct writes,
 *   including the Secret a cert-manager Certificate it writes fills;
 * - `volumeMounts[].name` names a volume of the pod;
 * - `serviceAccountName` names a ServiceAccount the construct writes;
 * - `imagePullSecrets` do not name a Secret the construct writes that is not
 *   a registry credential;
 * - a Deployment's selector matches its pod template's labels;
 * - a Service's selector matches a pod template the construct writes, and each
 *   port's targetPort is a port of that pod's containers;
 * - the APIService's service names a Service the construct writes, with that port;
 * - PodDisruptionBudget and NetworkPolicy selectors match a pod template;
 * - Role/ClusterRoleBinding subjects of kind ServiceAccount name a
 *   ServiceAccount the construct writes, and roleRef a Role/ClusterRole it
 *   writes or one Kubernetes creates itself;
 * - cert-manager: a Certificate's issuerRef to an Issuer names one the
 *   construct writes, when it writes any; a CA Issuer's secretName is the
 *   Secret of a CA Certificate the construct writes.
 * @internal
 */

/** One reference that does not resolve. @internal */
export interface UnresolvedReference {
  /** the prop the reference comes from (`kubeletTls`, `servingTls`, ...), or `(internal)` */
  readonly prop: string;
  readonly message: string;
}

/** @internal */
export interface ReferenceContext {
  /** the prop behind each pod volume the construct adds, by volume name */
  readonly volumeProps?: { readonly [volumeName: string]: string };
  /** the prop behind a file flag, by flag name without dashes */
  readonly flagProps?: { readonly [flag: string]: string };
  /**
   * ServiceAccounts (`<namespace>/<name>`) that the user's props say exist
   * outside the construct: `serviceAccountName` with `serviceAccountCreate:
   * false`, Prometheus' account in `MetricsAuthorization.forServiceAccount()`
   */
  readonly externalServiceAccounts?: readonly string[];
}

/** Roles and ClusterRoles kube-apiserver creates itself (its RBAC bootstrap policy). */
const BUILTIN_CLUSTER_ROLES: ReadonlySet<string> = new Set(['system:auth-delegator', 'cluster-admin', 'admin', 'edit', 'view']);
const BUILTIN_ROLES: ReadonlySet<string> = new Set(['kube-system/extension-apiserver-authentication-reader']);

/** The keys cert-manager writes to a Certificate's Secret. */
const CERT_MANAGER_SECRET_KEYS = ['ca.crt', 'tls.crt', 'tls.key'];

/** Flags whose value is a file the container reads. */
const FILE_FLAGS = ['kubelet-certificate-authority', 'tls-cert-file', 'tls-private-key-file', 'requestheader-client-ca-file', 'client-ca-file', 'kubelet-client-certificate', 'kubelet-client-key', 'kubeconfig', 'authentication-kubeconfig', 'authorization-kubeconfig'];

type Obj = { [k: string]: any };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

function matches(selector: unknown, labels: Obj): boolean {
  if (!isObj(selector)) {
    return false;
  }
  const ml = isObj(selector.matchLabels) ? selector.matchLabels : {};
  if (Object.keys(ml).length === 0 && list(selector.matchExpressions).length === 0) {
    // an empty selector selects every pod
    return true;
  }
  return Object.entries(ml).every(([k, v]) => labels[k] === v);
}

function showLabels(labels: Obj): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

interface Pod {
  readonly owner: string;
  readonly namespace: string;
  readonly labels: Obj;
  readonly spec: Obj;
}

/**
 * Returns every reference among `objects` (plain JSON, as synthesized) that
 * does not resolve; empty when all do.
 * @internal
 */
export function unresolvedReferences(objects: readonly Obj[], defaultNamespace: string, context: ReferenceContext = {}): UnresolvedReference[] {
  const problems: UnresolvedReference[] = [];
  const fail = (prop: string, message: string) => problems.push({ prop, message });
  const nsOf = (o: Obj) => (isObj(o.metadata) && typeof o.metadata.namespace === 'string' ? o.metadata.namespace : defaultNamespace);
  const nameOf = (o: Obj) => (isObj(o.metadata) ? String(o.metadata.name) : '');
  const byKind = (kind: string) => objects.filter(o => o.kind === kind);
  const find = (kind: string, ns: string | undefined, name: string) =>
    objects.find(o => o.kind === kind && nameOf(o) === name && (ns === undefined || nsOf(o) === ns));
  const external = new Set(context.externalServiceAccounts ?? []);
  const serviceAccountExists = (ns: string, name: string) => external.has(`${ns}/${name}`) || find('ServiceAccount', ns, name) !== undefined;
  const volumeProp = (volume: string) => context.volumeProps?.[volume] ?? '(internal)';

  // what each Secret and ConfigMap the construct writes holds
  const stores = new Map<string, { keys: string[]; type?: string; writer: string }>();
  for (const o of objects) {
    if (o.kind === 'Secret' || o.kind === 'ConfigMap') {
      const keys = [...Object.keys(isObj(o.data) ? o.data : {}), ...Object.keys(isObj(o.stringData) ? o.stringData : {}),
        ...Object.keys(isObj(o.binaryData) ? o.binaryData : {})];
      stores.set(`${o.kind}/${nsOf(o)}/${nameOf(o)}`, { keys: [...new Set(keys)].sort(), type: o.type, writer: `this construct's ${o.kind}` });
    } else if (o.kind === 'Certificate' && String(o.apiVersion).startsWith('cert-manager.io/') && isObj(o.spec) && typeof o.spec.secretName === 'string') {
      stores.set(`Secret/${nsOf(o)}/${o.spec.secretName}`, { keys: CERT_MANAGER_SECRET_KEYS, type: 'kubernetes.io/tls', writer: `the Secret cert-manager fills for this construct's Certificate ${nameOf(o)}` });
    }
  }

  // pod templates
  const pods: Pod[] = [];
  for (const o of objects) {
    const template = isObj(o.spec) && isObj(o.spec.template) ? o.spec.template : undefined;
    if (!template || !isObj(template.spec)) {
      continue;
    }
    const labels = isObj(template.metadata) && isObj(template.metadata.labels) ? template.metadata.labels : {};
    const pod: Pod = { owner: `${o.kind} ${nsOf(o)}/${nameOf(o)}`, namespace: nsOf(o), labels, spec: template.spec };
    pods.push(pod);
    if (o.kind === 'Deployment' && !matches(o.spec.selector, labels)) {
      fail('(internal)', `${pod.owner}: spec.selector ${JSON.stringify(o.spec.selector)} does not match the pod template's labels ${showLabels(labels)}; kube-apiserver refuses the Deployment`);
    }
    checkPod(pod);
  }

  function checkPod(pod: Pod): void {
    const spec = pod.spec;
    const volumes = list(spec.volumes);
    const volumeNames = new Set(volumes.map(v => v.name));
    const checkKey = (prop: string, kind: 'Secret' | 'ConfigMap', name: unknown, key: string, what: string) => {
      const store = stores.get(`${kind}/${pod.namespace}/${String(name)}`);
      if (store && !store.keys.includes(key)) {
        fail(prop, `${prop}: ${what} reads key '${key}' of ${kind} ${pod.namespace}/${String(name)}, which is ${store.writer} and holds only ${store.keys.map(k => `'${k}'`).join(', ') || 'no keys'}, so the pod would never start; use one of those keys, or a ${kind} this construct does not write${prop === 'kubeletTls' ? ' (for the cluster CA: KubeletTls.fromKubeRootCa())' : ''}`);
      }
    };
    for (const v of volumes) {
      const prop = volumeProp(v.name);
      const sources: { kind: 'Secret' | 'ConfigMap'; src: Obj }[] = [];
      if (isObj(v.secret)) {
        sources.push({ kind: 'Secret', src: { ...v.secret, name: v.secret.secretName } });
      }
      if (isObj(v.configMap)) {
        sources.push({ kind: 'ConfigMap', src: v.configMap });
      }
      if (isObj(v.projected)) {
        for (const s of list(v.projected.sources)) {
          if (isObj(s.secret)) {
            sources.push({ kind: 'Secret', src: s.secret });
          }
          if (isObj(s.configMap)) {
            sources.push({ kind: 'ConfigMap', src: s.configMap });
          }
        }
      }
      for (const { kind, src } of sources) {
        if (src.optional === true) {
          continue;
        }
        for (const item of list(src.items)) {
          checkKey(prop, kind, src.name, String(item.key), `volume '${v.name}' of ${pod.owner}`);
        }
      }
    }
    for (const c of [...list(spec.initContainers), ...list(spec.containers)]) {
      for (const m of list(c.volumeMounts)) {
        if (!volumeNames.has(m.name)) {
          fail(volumeProp(String(m.name)), `${pod.owner}: container '${c.name}' mounts volume '${m.name}', which the pod does not define; kube-apiserver refuses the pod`);
        }
      }
      const args = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].map(String);
      for (const arg of args) {
        const m = /^--?([a-z0-9-]+)=(.+)$/.exec(arg);
        if (!m || !FILE_FLAGS.includes(m[1])) {
          continue;
        }
        const file = resolveFile(spec, c, m[2]);
        if (file?.kind && file.objectName !== undefined) {
          const prop = context.flagProps?.[m[1]] ?? (context.flagProps ? 'extraArgs' : volumeProp(file.volumeName));
          if (file.key === undefined) {
            if (stores.has(`${file.kind}/${pod.namespace}/${file.objectName}`)) {
              fail(prop, `${prop}: --${m[1]}=${m[2]} is not a key of ${file.kind} ${pod.namespace}/${file.objectName} as volume '${file.volumeName}' mounts it, so the file would not exist; mount the key the flag names`);
            }
          } else {
            checkKey(prop, file.kind, file.objectName, file.key, `--${m[1]}=${m[2]} (volume '${file.volumeName}')`);
          }
        }
      }
    }
    const sa = spec.serviceAccountName;
    if (typeof sa === 'string' && sa !== 'default' && !serviceAccountExists(pod.namespace, sa)) {
      fail('(internal)', `${pod.owner}: serviceAccountName '${sa}' is not a ServiceAccount this construct writes in ${pod.namespace}; the pod would never be created`);
    }
    for (const s of list(spec.imagePullSecrets)) {
      const store = stores.get(`Secret/${pod.namespace}/${String(s.name)}`);
      if (store && store.type !== 'kubernetes.io/dockerconfigjson' && store.type !== 'kubernetes.io/dockercfg') {
        fail('imagePullSecrets', `imagePullSecrets: '${s.name}' is ${store.writer}, of type ${store.type ?? 'Opaque'}, not a registry credential (kubernetes.io/dockerconfigjson); name the Secret that holds your registry credentials`);
      }
    }
  }

  const podsSelectedBy = (selector: unknown, ns: string) => pods.filter(p => p.namespace === ns && matches(selector, p.labels));
  const allPodLabels = (ns: string) => pods.filter(p => p.namespace === ns).map(p => showLabels(p.labels)).join(', ') || 'none';

  for (const svc of byKind('Service')) {
    const ns = nsOf(svc);
    const selector = isObj(svc.spec) ? svc.spec.selector : undefined;
    if (!isObj(selector)) {
      continue;
    }
    const selected = podsSelectedBy({ matchLabels: selector }, ns);
    if (selected.length === 0) {
      fail('(internal)', `Service ${ns}/${nameOf(svc)}: selector ${showLabels(selector)} matches no pod this construct writes (pod labels: ${allPodLabels(ns)}); the Service would have no endpoints`);
      continue;
    }
    for (const port of list(svc.spec.ports)) {
      const target = port.targetPort ?? port.port;
      const ok = selected.some(p => list(p.spec.containers).some(c => list(c.ports).some(cp => (typeof target === 'string' ? cp.name === target : cp.containerPort === target))));
      if (!ok) {
        fail('(internal)', `Service ${ns}/${nameOf(svc)}: port ${port.port} targets ${JSON.stringify(target)}, which no container of the selected pods declares; connections would be refused`);
      }
    }
  }

  for (const api of byKind('APIService')) {
    const ref = isObj(api.spec) ? api.spec.service : undefined;
    if (!isObj(ref)) {
      continue;
    }
    const svc = find('Service', String(ref.namespace), String(ref.name));
    if (!svc) {
      fail('(internal)', `APIService ${nameOf(api)}: spec.service ${ref.namespace}/${ref.name} is not a Service this construct writes; kube-apiserver could not reach metrics-server`);
      continue;
    }
    const port = ref.port ?? 443;
    if (!list(svc.spec?.ports).some(p => p.port === port)) {
      fail('(internal)', `APIService ${nameOf(api)}: spec.service port ${port} is not a port of Service ${ref.namespace}/${ref.name}; kube-apiserver could not reach metrics-server`);
    }
  }

  for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
    for (const o of byKind(kind)) {
      const ns = nsOf(o);
      const selector = kind === 'PodDisruptionBudget' ? o.spec?.selector : o.spec?.podSelector;
      if (podsSelectedBy(selector, ns).length === 0) {
        fail('(internal)', `${kind} ${ns}/${nameOf(o)}: selector ${JSON.stringify(selector)} matches no pod this construct writes (pod labels: ${allPodLabels(ns)}); it would protect nothing`);
      }
    }
  }

  for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
    for (const b of byKind(kind)) {
      const where = kind === 'RoleBinding' ? `${kind} ${nsOf(b)}/${nameOf(b)}` : `${kind} ${nameOf(b)}`;
      for (const s of list(b.subjects)) {
        if (s.kind === 'ServiceAccount') {
          const ns = typeof s.namespace === 'string' ? s.namespace : nsOf(b);
          if (!serviceAccountExists(ns, String(s.name))) {
            fail('(internal)', `${where}: subject ServiceAccount ${ns}/${s.name} is not one this construct writes; the binding would grant nothing to its pods`);
          }
        }
      }
      const ref = isObj(b.roleRef) ? b.roleRef : {};
      if (ref.kind === 'ClusterRole') {
        if (!find('ClusterRole', undefined, String(ref.name)) && !BUILTIN_CLUSTER_ROLES.has(String(ref.name))) {
          fail('(internal)', `${where}: roleRef ClusterRole ${ref.name} is neither written by this construct nor created by Kubernetes; the binding would grant nothing`);
        }
      } else if (ref.kind === 'Role') {
        const ns = nsOf(b);
        if (!find('Role', ns, String(ref.name)) && !BUILTIN_ROLES.has(`${ns}/${ref.name}`)) {
          fail('(internal)', `${where}: roleRef Role ${ns}/${ref.name} is neither written by this construct nor created by Kubernetes; the binding would grant nothing`);
        }
      }
    }
  }

  const issuers = objects.filter(o => o.kind === 'Issuer' && String(o.apiVersion).startsWith('cert-manager.io/'));
  for (const cert of objects.filter(o => o.kind === 'Certificate' && String(o.apiVersion).startsWith('cert-manager.io/'))) {
    const ref = isObj(cert.spec?.issuerRef) ? cert.spec.issuerRef : {};
    const kind = ref.kind ?? 'Issuer';
    if (kind === 'Issuer' && (ref.group ?? 'cert-manager.io') === 'cert-manager.io' && issuers.length > 0
      && !issuers.some(i => nameOf(i) === ref.name && nsOf(i) === nsOf(cert))) {
      fail('servingTls', `Certificate ${nsOf(cert)}/${nameOf(cert)}: issuerRef Issuer '${ref.name}' is not one of the Issuers this construct writes (${issuers.map(nameOf).join(', ')}); cert-manager would never issue it`);
    }
  }
  for (const issuer of issuers) {
    const secretName = issuer.spec?.ca?.secretName;
    if (typeof secretName !== 'string') {
      continue;
    }
    const ns = nsOf(issuer);
    const caCert = objects.some(o => o.kind === 'Certificate' && nsOf(o) === ns && o.spec?.secretName === secretName && o.spec?.isCA === true);
    if (!caCert) {
      fail('servingTls', `Issuer ${ns}/${nameOf(issuer)}: spec.ca.secretName '${secretName}' is not the Secret of a CA Certificate this construct writes; cert-manager could not sign with it`);
    }
  }
  return problems;
}
