/**
 * What doctor reads of one metrics-server install (APIService, Service, Deployment,
 * pods, and the Secrets and ConfigMaps it mounts, by name), and the object rules on it.
 */
import { auditObjects } from '../rules/audit';
import { KUBE_ROOT_CA_CONFIGMAP } from '../k8s/kube-root-ca';
import { KubeObject } from '../rules/types';
import { mentionsPrivateKey } from '../x509/pem-decode';
import { ClusterClient, seg } from './client';
import { Findings } from './findings';
import { DoctorOptions, Section } from './report';

export const APISERVICE_NAME = 'v1beta1.metrics.k8s.io';
/** rule ids of the object rules that concern the kubelet hop */
const KUBELET_RULES = new Set(['SMS001', 'SMS003', 'SMS020', 'SMS021', 'SMS022', 'SMS023', 'SMS024', 'SMS025']);

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
    return typeof value === 'string' && mentionsPrivateKey(Buffer.from(value, 'base64').toString('latin1'));
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
  const svc = await client.get(`/api/v1/namespaces/${seg(namespace)}/services/${seg(serviceName)}`, `services ${namespace}/${serviceName}`);
  if (svc.forbidden) hidden.add(`Service ${namespace}/${serviceName}`);
  const deps = await client.list(`/apis/apps/v1/namespaces/${seg(namespace)}/deployments`, `deployments in ${namespace}`);
  if (deps.forbidden) hidden.add(`Deployment ${namespace}/*`);
  const selector = svc.value?.spec?.selector;
  const deployment = (deps.value ?? []).find(d => selector && Object.keys(selector).length > 0 && matches(selector, d.spec?.template?.metadata?.labels))
    ?? (deps.value ?? []).find(d => d.metadata?.name === serviceName || d.metadata?.name === 'metrics-server');
  let pods: KubeObject[] = [];
  const secrets: KubeObject[] = [];
  const configMaps: KubeObject[] = [];
  if (deployment) {
    const sel = labelSelector(deployment.spec?.selector ?? {});
    const p = await client.list(`/api/v1/namespaces/${seg(namespace)}/pods?labelSelector=${encodeURIComponent(sel)}`, `pods in ${namespace}`);
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
    wanted.push({ kind: 'ConfigMap', name: KUBE_ROOT_CA_CONFIGMAP });
    const seen = new Set<string>();
    for (const w of wanted) {
      const key = `${w.kind} ${namespace}/${w.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const plural = w.kind === 'Secret' ? 'secrets' : 'configmaps';
      const r = await client.get(`/api/v1/namespaces/${seg(namespace)}/${plural}/${seg(w.name)}`, `${plural} ${namespace}/${w.name}`);
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

/**
 * A LabelSelector (matchLabels and matchExpressions) as the labelSelector query
 * parameter, as apimachinery's LabelSelectorAsSelector writes it.
 * @internal
 */
export function labelSelector(selector: {
  matchLabels?: { [k: string]: string }; matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): string {
  const reqs = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In': reqs.push(`${e.key} in (${values})`); break;
      case 'NotIn': reqs.push(`${e.key} notin (${values})`); break;
      case 'Exists': reqs.push(e.key); break;
      case 'DoesNotExist': reqs.push(`!${e.key}`); break;
      default: break; // kube-apiserver refuses any other operator in a Deployment
    }
  }
  return reqs.join(',');
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
