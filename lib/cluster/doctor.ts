import { auditObjects } from '../rules/audit';
import { DoctorRules } from '../rules/doctor-rules';
import { metricsServerContainer, podTemplate } from '../rules/model';
import { dataValue, resolveFile } from '../rules/mounts';
import { Finding, KubeObject, ObjectRef, Rule, Severity, severityRank } from '../rules/types';
import { ClusterClient } from './client';
import { goVerify, GoCert, parseGoCerts } from './go-x509';
import { mapBounded, probeKubelet } from './kubelet-probe';
import { matchKnownError } from './known-errors';
import { CsrState, KubeletFlags, kubeletFlags, kubeletServingCsrs, kubeletTarget, NodeCsr } from './nodes';
import { DoctorFinding, HopStatus, HopSummary, NodeReport, Section } from './report';

export const APISERVICE_NAME = 'v1beta1.metrics.k8s.io';
const INJECT_CA_FROM = 'cert-manager.io/inject-ca-from';
/** rule ids of the object rules that concern the kubelet hop */
const KUBELET_RULES = new Set(['SMS001', 'SMS003', 'SMS020', 'SMS021', 'SMS022', 'SMS023', 'SMS024', 'SMS025']);

/** @internal */
export interface DoctorOptions {
  /** where to look when there is no APIService @default kube-system */
  readonly namespace?: string;
  readonly probeKubelets?: boolean;
  /** @default 64 */
  readonly probeConcurrency?: number;
  /** @default 3000 */
  readonly probeTimeoutMs?: number;
  /** log lines read per pod @default 300 */
  readonly logLines?: number;
  readonly now?: Date;
}

/** Collects findings, with the object each is about; shared by doctor and preflight. @internal */
export class Findings {
  public readonly list: DoctorFinding[] = [];
  public add(section: Section, rule: Rule, object: ObjectRef, message: string, extra: { fix?: string; evidence?: string; severity?: Severity } = {}): void {
    this.list.push({ ruleId: rule.id, severity: extra.severity ?? rule.severity, object, message, fix: extra.fix ?? rule.fix, evidence: extra.evidence, section });
  }
  public problems(section?: Section): DoctorFinding[] {
    return this.list.filter(f => (section === undefined || f.section === section) && severityRank(f.severity) >= severityRank(Severity.MEDIUM));
  }
}

export function ref(kind: string, name: string, namespace?: string): ObjectRef {
  return { kind, name, namespace };
}

/** What doctor read of the cluster for one install. @internal */
export interface InstallState {
  readonly apiService?: KubeObject;
  readonly namespace: string;
  readonly serviceName: string;
  readonly service?: KubeObject;
  readonly deployment?: KubeObject;
  readonly pods: KubeObject[];
  readonly secrets: KubeObject[];
  readonly configMaps: KubeObject[];
  /** `Kind namespace/name` of objects the credentials could not read */
  readonly hidden: Set<string>;
  /** `namespace/name key` of the private keys doctor dropped from Secrets on receipt */
  readonly droppedKeys: Set<string>;
}

/**
 * Reads a Secret by name and drops every private key before anything else
 * sees it: tls.key is never printed, logged or kept.
 * @internal
 */
export function withoutKeys(secret: KubeObject, dropped: Set<string>): KubeObject {
  const data = { ...(secret.data ?? {}) };
  for (const k of Object.keys(data)) {
    if (isPrivateKeyEntry(k, data[k])) {
      delete data[k];
      dropped.add(`${secret.metadata?.namespace}/${secret.metadata?.name} ${k}`);
    }
  }
  return { ...secret, data, stringData: undefined };
}

function isPrivateKeyEntry(key: string, value: unknown): boolean {
  if (key === 'tls.key' || /\.key$/.test(key)) {
    return true;
  }
  try {
    return typeof value === 'string' && /PRIVATE KEY-----/.test(Buffer.from(value, 'base64').toString('latin1'));
  } catch {
    return false;
  }
}

/** Reads the install: APIService, Service, Deployment, its pods and the ConfigMaps/Secrets it mounts. */
export async function readInstall(client: ClusterClient, options: DoctorOptions): Promise<InstallState> {
  const hidden = new Set<string>();
  const droppedKeys = new Set<string>();
  const api = await client.get(`/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE_NAME}`, `apiservices ${APISERVICE_NAME}`);
  if (api.forbidden) hidden.add(`APIService ${APISERVICE_NAME}`);
  const apiService = api.value;
  const namespace: string = apiService?.spec?.service?.namespace ?? options.namespace ?? 'kube-system';
  const serviceName: string = apiService?.spec?.service?.name ?? 'metrics-server';
  const svc = await client.get(`/api/v1/namespaces/${namespace}/services/${serviceName}`, `services ${namespace}/${serviceName}`);
  if (svc.forbidden) hidden.add(`Service ${namespace}/${serviceName}`);
  const deps = await client.list(`/apis/apps/v1/namespaces/${namespace}/deployments`, `deployments in ${namespace}`);
  if (deps.forbidden) hidden.add(`Deployment ${namespace}/*`);
  const selector = svc.value?.spec?.selector;
  const deployment = (deps.value ?? []).find(d => selector && Object.keys(selector).length > 0 && matches(selector, d.spec?.template?.metadata?.labels))
    ?? (deps.value ?? []).find(d => d.metadata?.name === serviceName || d.metadata?.name === 'metrics-server');
  let pods: KubeObject[] = [];
  const secrets: KubeObject[] = [];
  const configMaps: KubeObject[] = [];
  if (deployment) {
    const labels = deployment.spec?.selector?.matchLabels ?? {};
    const sel = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    const p = await client.list(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(sel)}`, `pods in ${namespace}`);
    if (p.forbidden) hidden.add(`Pod ${namespace}/*`);
    pods = p.value ?? [];
    const volumes: any[] = deployment.spec?.template?.spec?.volumes ?? [];
    const wanted: { kind: 'Secret' | 'ConfigMap'; name: string }[] = [];
    for (const v of volumes) {
      if (v.secret?.secretName) wanted.push({ kind: 'Secret', name: v.secret.secretName });
      if (v.configMap?.name) wanted.push({ kind: 'ConfigMap', name: v.configMap.name });
      for (const s of v.projected?.sources ?? []) {
        if (s.secret?.name) wanted.push({ kind: 'Secret', name: s.secret.name });
        if (s.configMap?.name) wanted.push({ kind: 'ConfigMap', name: s.configMap.name });
      }
    }
    // metrics-server without --kubelet-certificate-authority verifies kubelets with the service-account CA
    wanted.push({ kind: 'ConfigMap', name: 'kube-root-ca.crt' });
    const seen = new Set<string>();
    for (const w of wanted) {
      const key = `${w.kind} ${namespace}/${w.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const plural = w.kind === 'Secret' ? 'secrets' : 'configmaps';
      const r = await client.get(`/api/v1/namespaces/${namespace}/${plural}/${w.name}`, `${plural} ${namespace}/${w.name}`);
      if (r.forbidden) hidden.add(key);
      if (r.value) {
        (w.kind === 'Secret' ? secrets : configMaps).push(w.kind === 'Secret' ? withoutKeys({ ...r.value, kind: 'Secret', apiVersion: 'v1' }, droppedKeys) : { ...r.value, kind: 'ConfigMap', apiVersion: 'v1' });
      }
    }
  }
  return {
    apiService: apiService && { ...apiService, kind: 'APIService', apiVersion: 'apiregistration.k8s.io/v1' },
    namespace,
    serviceName,
    service: svc.value && { ...svc.value, kind: 'Service', apiVersion: 'v1' },
    deployment: deployment && { ...deployment, kind: 'Deployment', apiVersion: 'apps/v1' },
    pods,
    secrets,
    configMaps,
    hidden,
    droppedKeys,
  };
}

function matches(selector: { [k: string]: string }, labels: { [k: string]: string } | undefined): boolean {
  return !!labels && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The object rules (lib/rules) on what was read; a referenced object doctor could not read is "not visible", not "missing". */
export function auditInstall(state: InstallState, findings: Findings, now: Date): void {
  const objects = [state.apiService, state.service, state.deployment, ...state.secrets, ...state.configMaps]
    .filter((o): o is KubeObject => !!o)
    .map(object => ({ object, source: { file: 'cluster' } }));
  if (objects.length === 0) {
    return;
  }
  const result = auditObjects(objects, { inputIsComplete: true, now });
  for (const f of result.findings) {
    if (f.ruleId === 'SMS091' && f.evidence && isHidden(state.hidden, f.evidence)) {
      continue;
    }
    // doctor drops private keys on receipt, so "no key tls.key" would be its own doing
    if (f.ruleId === 'SMS017' && f.object.kind === 'Secret' && state.droppedKeys.has(`${f.object.namespace}/${f.object.name} ${(f.evidence ?? '').replace(/^key /, '')}`)) {
      continue;
    }
    findings.list.push({ ...f, section: KUBELET_RULES.has(f.ruleId) ? Section.KUBELET : Section.APISERVICE });
  }
}

function isHidden(hidden: Set<string>, evidence: string): boolean {
  const [kind, where] = evidence.split(' ');
  const ns = where?.split('/')[0];
  return hidden.has(evidence) || hidden.has(`${kind} ${ns}/*`);
}

/** The APIService hop: conditions, endpoints, pods, cert-manager. */
export async function checkApiServiceHop(client: ClusterClient, state: InstallState, findings: Findings): Promise<HopSummary> {
  const S = Section.APISERVICE;
  if (!state.apiService) {
    if (state.hidden.has(`APIService ${APISERVICE_NAME}`)) {
      return { section: S, status: HopStatus.UNKNOWN, summary: `could not read APIService ${APISERVICE_NAME}` };
    }
    findings.add(S, DoctorRules.APISERVICE_MISSING, ref('APIService', APISERVICE_NAME), `APIService ${APISERVICE_NAME} does not exist: the metrics API is not registered`);
    return { section: S, status: HopStatus.PROBLEMS, summary: `APIService ${APISERVICE_NAME} not found` };
  }
  const apiRef = ref('APIService', APISERVICE_NAME);
  const conditions: any[] = state.apiService.status?.conditions ?? [];
  const available = conditions.find(c => c.type === 'Available');
  let conditionText = available ? `Available=${available.status}${available.reason ? ` (${available.reason})` : ''}` : 'no Available condition';
  if (available && available.status !== 'True') {
    const known = matchKnownError(available.message ?? '');
    findings.add(S, DoctorRules.APISERVICE_UNAVAILABLE, apiRef,
      known ? `${conditionText}: ${known.error.cause}` : `${conditionText}: ${available.message ?? 'no message'}`,
      { evidence: `status.conditions[Available]: ${available.status} ${available.reason ?? ''}: ${available.message ?? ''}`.trim(), fix: known?.error.fix });
  }
  const svcRef = ref('Service', state.serviceName, state.namespace);
  if (state.service) {
    const slices = await client.list(`/apis/discovery.k8s.io/v1/namespaces/${state.namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${state.serviceName}`)}`, `endpointslices in ${state.namespace}`);
    if (slices.value) {
      const ready = slices.value.flatMap(s => (s.endpoints ?? []).filter((e: any) => e.conditions?.ready !== false).flatMap((e: any) => e.addresses ?? []));
      const ports = slices.value.flatMap(s => (s.ports ?? []).map((p: any) => `${p.name ?? ''}:${p.port}`));
      if (ready.length === 0) {
        findings.add(S, DoctorRules.NO_ENDPOINTS, svcRef, `Service ${state.namespace}/${state.serviceName} has no ready endpoint`, { evidence: `EndpointSlices: ${slices.value.length}, ready addresses: none, ports: ${ports.join(', ') || 'none'}` });
      }
    }
  }
  if (state.deployment) {
    const depRef = ref('Deployment', state.deployment.metadata?.name ?? '', state.namespace);
    const notReady = state.pods.filter(p => !(p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'));
    if (notReady.length > 0 || (state.pods.length === 0 && !state.hidden.has(`Pod ${state.namespace}/*`))) {
      const why = notReady.map(p => {
        const cs = (p.status?.containerStatuses ?? [])[0];
        const waiting = cs?.state?.waiting;
        return `${p.metadata?.name}: ${p.status?.phase ?? '?'}${waiting ? ` (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})` : ''}`;
      });
      findings.add(S, DoctorRules.PODS_NOT_READY, depRef, state.pods.length === 0 ? 'no metrics-server pod exists' : `${notReady.length} of ${state.pods.length} metrics-server pod(s) not ready`, { evidence: why.join('; ') || undefined });
    }
  }
  const inject = state.apiService.metadata?.annotations?.[INJECT_CA_FROM];
  if (typeof inject === 'string' && inject.includes('/')) {
    const [ns, name] = inject.split('/');
    const cert = await client.get(`/apis/cert-manager.io/v1/namespaces/${ns}/certificates/${name}`, `certificates.cert-manager.io ${ns}/${name}`);
    const certRef = ref('Certificate', name, ns);
    if (cert.notFound) {
      findings.add(S, DoctorRules.CERTIFICATE_NOT_READY, certRef, `the APIService injects the CA of Certificate ${inject}, which does not exist (or cert-manager is not installed)`);
    } else if (cert.value) {
      const ready = (cert.value.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
      if (!ready || ready.status !== 'True') {
        findings.add(S, DoctorRules.CERTIFICATE_NOT_READY, certRef, `Certificate ${inject} is not Ready`, { evidence: ready ? `Ready=${ready.status} (${ready.reason}): ${ready.message}` : 'no Ready condition' });
      }
    }
    if (!state.apiService.spec?.caBundle) {
      findings.add(S, DoctorRules.CA_NOT_INJECTED, apiRef, `the APIService has ${INJECT_CA_FROM}: ${inject} but no caBundle`, { evidence: `metadata.annotations["${INJECT_CA_FROM}"]: ${inject}; spec.caBundle: empty` });
    }
  }
  const problems = findings.problems(S);
  const verified = state.apiService.spec?.insecureSkipTLSVerify ? 'not verified (insecureSkipTLSVerify)' : state.apiService.spec?.caBundle ? 'verified with caBundle' : 'verified with the system roots (no caBundle)';
  return {
    section: S,
    status: problems.length ? HopStatus.PROBLEMS : HopStatus.OK,
    summary: `${conditionText}; ${verified}${problems.length ? `; ${problems.length} finding(s)` : ''}`,
  };
}

/** The kubelet hop: node addresses, kubelet-serving CSRs, the kubelet CA, optionally a handshake with every kubelet. */
export async function checkKubeletHop(client: ClusterClient, state: InstallState, findings: Findings, options: DoctorOptions): Promise<{ summary: HopSummary; nodes: NodeReport[] }> {
  const S = Section.KUBELET;
  const now = options.now ?? new Date();
  const podSpec = podTemplate(state.deployment ?? {})?.spec;
  const container = podSpec ? metricsServerContainer(podSpec) : undefined;
  const flags = kubeletFlags([...(container?.command ?? []), ...(container?.args ?? [])]);
  const depRef = ref('Deployment', state.deployment?.metadata?.name ?? 'metrics-server', state.namespace);
  if (!state.deployment) {
    return { summary: { section: S, status: HopStatus.UNKNOWN, summary: 'no metrics-server Deployment found, so its kubelet flags are unknown' }, nodes: [] };
  }

  // the CA metrics-server verifies kubelets with
  const ca = kubeletCa(state, podSpec, container, flags);
  let roots: GoCert[] = [];
  if (ca.pem) {
    try {
      roots = parseGoCerts(ca.pem, ca.where);
    } catch (e: any) {
      findings.add(S, DoctorRules.KUBELET_CA_UNREADABLE, depRef, `the kubelet CA (${ca.where}) holds no usable certificate`, { evidence: e.message });
    }
  } else if (ca.hidden) {
    // reported under "could not see"
  } else {
    findings.add(S, DoctorRules.KUBELET_CA_UNREADABLE, depRef, `the kubelet CA (${ca.where}) does not exist`, { evidence: ca.where });
  }

  const nodesRead = await client.list('/api/v1/nodes', 'nodes');
  if (!nodesRead.value) {
    return { summary: { section: S, status: HopStatus.UNKNOWN, summary: nodesRead.forbidden ? 'could not list nodes' : 'no nodes' }, nodes: [] };
  }
  const csrRead = await client.list('/apis/certificates.k8s.io/v1/certificatesigningrequests', 'certificatesigningrequests');
  const csrs = csrRead.value ? kubeletServingCsrs(csrRead.value) : undefined;
  const targets = nodesRead.value.map(n => kubeletTarget(n, flags));

  let probes: (string | undefined)[] = [];
  let selfSigned: boolean[] = [];
  if (options.probeKubelets) {
    const concurrency = options.probeConcurrency ?? 64;
    // where doctor runs outside the node network (a laptop, private nodes), every dial times out: once the
    // first dials all failed to connect and none connected, the rest are not dialled
    const giveUpAfter = Math.max(16, concurrency);
    let connected = 0;
    let refused = 0;
    const results = await mapBounded(targets, concurrency, async t => {
      if (!t.address) return { text: undefined, self: false };
      if (connected === 0 && refused >= giveUpAfter) {
        return { text: `unreachable from here: not dialled (the first ${refused} kubelets dialled did not connect)`, self: false };
      }
      const r = await probeKubelet({ host: t.address, port: t.port }, options.probeTimeoutMs ?? 3000);
      if (r.unreachable) {
        refused++;
      } else {
        connected++;
      }
      if (r.unreachable) return { text: `unreachable from here: ${r.unreachable}`, self: false };
      if (r.handshakeError) return { text: `handshake failed: ${r.handshakeError}`, self: false };
      let chain: GoCert[];
      try {
        chain = parseGoCerts(r.chain!.join(''), `the certificate of kubelet ${t.node}`);
      } catch (e: any) {
        return { text: `x509: ${e.message}`, self: false };
      }
      const self = chain.length > 0 && (chain[0].info.selfSigned || (chain.length > 1 && chain[1].info.selfSigned && /-ca@\d+$/.test(chain[1].commonName ?? '')));
      return { text: roots.length ? goVerify(chain, roots, t.address, now) ?? 'ok' : undefined, self };
    });
    probes = results.map(r => r.text);
    selfSigned = results.map(r => r.self);
  }

  const reports: NodeReport[] = targets.map((t, i) => {
    const list = csrs?.get(t.node) ?? [];
    const newest: NodeCsr | undefined = list[0];
    const issued = list.find(c => c.state === CsrState.ISSUED);
    let issuedText: string | undefined;
    if (issued?.certificate && t.address && roots.length) {
      try {
        issuedText = goVerify(parseGoCerts(issued.certificate, `CSR ${issued.name}`), roots, t.address, now) ?? 'ok';
      } catch (e: any) {
        issuedText = e.message;
      }
    }
    return {
      node: t.node, address: t.address, addressType: t.addressType, port: t.port,
      csr: csrs ? (newest ? newest.state : 'none') : 'unknown',
      issuedCertificate: issuedText,
      probe: probes[i],
      selfSigned: options.probeKubelets ? selfSigned[i] : undefined,
    };
  });

  const nodeRef = (r: NodeReport) => ref('Node', r.node);
  const group = (rule: Rule, pick: (r: NodeReport) => string | undefined, message: (n: number, key: string) => string, fix?: (key: string) => string | undefined) => {
    const groups = new Map<string, NodeReport[]>();
    for (const r of reports) {
      const v = pick(r);
      if (v === undefined) continue;
      const key = r.address ? v.split(r.address).join('<address>') : v;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const [key, rs] of groups) {
      const evidence = rs.slice(0, 5).map(r => `${r.node} (${r.addressType ?? 'no address'} ${r.address ?? ''}:${r.port})${pick(r) !== key ? `: ${pick(r)}` : ''}`).join('; ') + (rs.length > 5 ? `; and ${rs.length - 5} more` : '');
      findings.add(S, rule, nodeRef(rs[0]), message(rs.length, key), { evidence, fix: fix?.(key) });
    }
  };
  const total = reports.length;
  const of = (n: number) => `${n} of ${total} node(s)`;
  group(DoctorRules.NO_PREFERRED_ADDRESS, r => r.address ? undefined : `addresses: ${targets.find(t => t.node === r.node)!.addresses.join(', ') || 'none'}`,
    n => `${of(n)} have no address of --kubelet-preferred-address-types=${flags.preferredAddressTypes.join(',')}`);
  if (csrs) {
    group(DoctorRules.NO_SERVING_CSRS, r => r.csr === 'none' && r.probe !== 'ok' ? 'none' : undefined,
      n => `${of(n)} never requested a kubernetes.io/kubelet-serving certificate: serverTLSBootstrap is off, so the kubelets serve self-signed certificates`);
    group(DoctorRules.CSR_PENDING, r => r.csr === CsrState.PENDING && r.issuedCertificate === undefined ? 'pending' : undefined,
      n => `${of(n)} have a kubelet-serving CSR waiting for approval: serverTLSBootstrap is on, nobody approves`);
    group(DoctorRules.CSR_NOT_ISSUED, r => r.csr === CsrState.APPROVED ? 'approved' : undefined, n => `${of(n)} have approved kubelet-serving CSRs without a certificate`);
    group(DoctorRules.CSR_DENIED, r => r.csr === CsrState.DENIED || r.csr === CsrState.FAILED ? r.csr : undefined, (n, k) => `${of(n)}: the newest kubelet-serving CSR was ${k}`);
  }
  // what the kubelet serves when doctor saw it, else what its newest issued certificate says
  const probed = (r: NodeReport) => r.probe !== undefined && !r.probe.startsWith('unreachable from here') && !r.probe.startsWith('handshake failed');
  const verdict = (r: NodeReport) => (probed(r) ? r.probe : r.issuedCertificate);
  group(DoctorRules.KUBELET_CERT_REJECTED, r => {
    const v = verdict(r);
    return v && v !== 'ok' ? v : undefined;
  }, (n, key) => `${of(n)}: ${reports.some(r => r.probe) ? 'the kubelet certificate' : 'the issued kubelet certificate'} does not verify for the address metrics-server dials: ${key}`,
  key => matchKnownError(`https://x:1/metrics/resource: ${key}`)?.error.fix);
  group(DoctorRules.KUBELET_UNREACHABLE, r => r.probe?.startsWith('unreachable from here') ? 'unreachable' : undefined,
    n => `${of(n)}: kubelet unreachable from here, certificate not checked`);
  group(DoctorRules.KUBELET_HANDSHAKE_FAILED, r => r.probe?.startsWith('handshake failed') ? r.probe : undefined, (n, k) => `${of(n)}: ${k}`);

  const ok = reports.filter(r => verdict(r) === 'ok').length;
  const failing = reports.filter(r => { const v = verdict(r); return v !== undefined && v !== 'ok'; }).length;
  // without a certificate to check, a node whose kubelet never got a kubelet-serving certificate still serves its self-signed one
  const noCertificate = reports.filter(r => verdict(r) === undefined && r.csr !== 'unknown' && r.csr !== CsrState.ISSUED).length;
  const unknown = total - ok - failing - noCertificate;
  const unreachable = reports.filter(r => r.probe?.startsWith('unreachable from here')).length;
  const insecure = flags.insecure ? ' (metrics-server runs with --kubelet-insecure-tls: this is what verification would give)' : '';
  const parts = [`${ok} verify`, `${failing + noCertificate} fail${noCertificate ? ` (${noCertificate} without an issued kubelet-serving certificate)` : ''}`];
  if (unknown) parts.push(`${unknown} not checked`);
  const probeNote = options.probeKubelets ? `; probe: ${reports.filter(probed).length} answered${unreachable ? `, ${unreachable} unreachable from here` : ''}` : '';
  const problems = findings.problems(S);
  return {
    summary: {
      section: S,
      status: problems.length ? HopStatus.PROBLEMS : (unknown === total ? HopStatus.UNKNOWN : HopStatus.OK),
      summary: `${total} node(s): ${parts.join(', ')}${probeNote}; CA: ${ca.where}${insecure}`,
    },
    nodes: reports,
  };
}

function kubeletCa(state: InstallState, podSpec: any, container: any, flags: KubeletFlags): { pem?: string; where: string; hidden?: boolean } {
  let kind: 'ConfigMap' | 'Secret' = 'ConfigMap';
  let name = 'kube-root-ca.crt';
  let key = 'ca.crt';
  if (flags.caFile && !flags.insecure) {
    const src = resolveFile(podSpec, container, flags.caFile);
    if (src?.kind && src.objectName && src.key) {
      kind = src.kind;
      name = src.objectName;
      key = src.key;
    }
  }
  const where = `${kind} ${state.namespace}/${name} key ${key}`;
  const list = kind === 'Secret' ? state.secrets : state.configMaps;
  const obj = list.find(o => o.metadata?.name === name);
  if (!obj) {
    return { where, hidden: state.hidden.has(`${kind} ${state.namespace}/${name}`) };
  }
  return { pem: dataValue(obj, key), where };
}

/** Recent metrics-server log lines matched against the known errors. */
export async function checkLogs(client: ClusterClient, state: InstallState, findings: Findings, lines: number): Promise<HopSummary> {
  const S = Section.LOGS;
  const pods = state.pods.slice(0, 3);
  if (pods.length === 0) {
    return { section: S, status: HopStatus.SKIPPED, summary: 'no metrics-server pod to read logs from' };
  }
  const container = metricsServerContainer(podTemplate(state.deployment ?? {})?.spec ?? {})?.name ?? 'metrics-server';
  let read = 0;
  let denied = 0;
  const seen = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const r = await client.text(`/api/v1/namespaces/${state.namespace}/pods/${name}/log?container=${encodeURIComponent(container)}&tailLines=${lines}`, `pods/log ${state.namespace}/${name}`);
    if (r.forbidden) { denied++; continue; }
    if (!r.value) continue;
    const text = r.value.split('\n').filter(l => l.trim() !== '');
    read += text.length;
    for (const line of text) {
      const m = matchKnownError(line.replace(/\\"/g, '"'));
      if (m && !seen.has(m.error.id)) {
        seen.add(m.error.id);
        findings.add(S, DoctorRules.LOG_ERROR, ref('Pod', name, state.namespace), `${m.error.hop} hop: ${m.error.cause}`,
          { fix: m.error.fix, evidence: line.length > 400 ? `${line.slice(0, 400)}...` : line });
      }
    }
  }
  if (denied === pods.length) {
    return { section: S, status: HopStatus.UNKNOWN, summary: 'could not read pod logs' };
  }
  return { section: S, status: seen.size ? HopStatus.PROBLEMS : HopStatus.OK, summary: `${read} line(s) of ${pods.length - denied} pod(s): ${seen.size ? `${seen.size} known error(s)` : 'no known error'}` };
}

/** Findings of severity medium or above make the exit code 1. */
export function exitCodeOf(findings: Finding[]): number {
  return findings.some(f => severityRank(f.severity) >= severityRank(Severity.MEDIUM)) ? 1 : 0;
}
