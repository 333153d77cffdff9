import { findInstalls } from '../rules/audit';
import { DoctorRules } from '../rules/doctor-rules';
import { KUBE_ROOT_CA_CONFIGMAP } from '../k8s/kube-root-ca';
import { KubeObject, SourcedObject } from '../rules/types';
import { ClusterClient, seg } from './client';
import { Findings, ref } from './findings';
import { APISERVICE_NAME, InstallState, withoutKeys } from './install';
import { HopStatus, HopSummary, Section } from './report';

/** Labels and annotations by which other installers mark what they own. */
const OWNER_MARKS: { key: RegExp; who: (v: string, k: string) => string }[] = [
  { key: /^meta\.helm\.sh\/release-name$/, who: v => `Helm release '${v}'` },
  { key: /^app\.kubernetes\.io\/managed-by$/, who: v => `${v} (app.kubernetes.io/managed-by)` },
  { key: /^addonmanager\.kubernetes\.io\/mode$/, who: v => `the addon manager (mode ${v}${v === 'Reconcile' ? ': it reverts changes' : ''})` },
  { key: /^objectset\.rio\.cattle\.io\//, who: (v, k) => `k3s/RKE2 (${k}: ${v})` },
];

/**
 * `doctor --preflight DIR`: what applying the synthesized manifests would meet
 * in the live cluster: the namespace, cert-manager and the issuer, and another
 * install owning the APIService. Returns the install state the manifests
 * describe, with the live ConfigMaps it needs, for the kubelet hop prediction.
 * @internal
 */
export async function preflight(client: ClusterClient, objects: SourcedObject[], findings: Findings): Promise<{ summary: HopSummary; state: InstallState }> {
  const S = Section.PREFLIGHT;
  const all = objects.map(o => o.object);
  const install = findInstalls(objects)[0];
  const dep = all.find(o => o.kind === 'Deployment' && install?.deployment && o.metadata?.name === install.deployment.name);
  const svc = all.find(o => o.kind === 'Service' && install?.service && o.metadata?.name === install.service.name);
  const api = all.find(o => o.kind === 'APIService' && o.metadata?.name === APISERVICE_NAME);
  const namespace = dep?.metadata?.namespace ?? svc?.metadata?.namespace ?? api?.spec?.service?.namespace ?? 'kube-system';
  const checks: string[] = [];

  // the namespace
  const nsRead = await client.get(`/api/v1/namespaces/${seg(namespace)}`, `namespaces ${namespace}`);
  const createsNs = all.some(o => o.kind === 'Namespace' && o.metadata?.name === namespace);
  if (nsRead.notFound && !createsNs) {
    findings.add(S, DoctorRules.NAMESPACE_MISSING, ref('Namespace', namespace), `namespace ${namespace} does not exist and the manifests do not create it`);
  }
  checks.push(`namespace ${namespace}: ${nsRead.value ? 'exists' : nsRead.notFound ? (createsNs ? 'created by the manifests' : 'missing') : 'not visible'}`);

  // cert-manager
  const cmKinds = all.filter(o => typeof o.apiVersion === 'string' && o.apiVersion.startsWith('cert-manager.io/'));
  if (cmKinds.length) {
    const crds = ['certificates.cert-manager.io', 'issuers.cert-manager.io', 'clusterissuers.cert-manager.io'];
    const missing: string[] = [];
    for (const crd of crds) {
      const r = await client.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`, `customresourcedefinitions ${crd}`);
      if (r.notFound) missing.push(crd);
    }
    if (missing.length) {
      findings.add(S, DoctorRules.CERT_MANAGER_MISSING, ref('CustomResourceDefinition', missing[0]), `cert-manager is not installed: missing CRD(s) ${missing.join(', ')}`);
    }
    for (const cert of cmKinds.filter(o => o.kind === 'Certificate')) {
      const issuer = cert.spec?.issuerRef ?? {};
      const kind = issuer.kind ?? 'Issuer';
      const name = issuer.name;
      if (!name) continue;
      const certNs = cert.metadata?.namespace ?? namespace;
      if (all.some(o => o.kind === kind && o.metadata?.name === name)) continue; // the manifests create it
      const path = kind === 'ClusterIssuer'
        ? `/apis/cert-manager.io/v1/clusterissuers/${seg(name)}`
        : `/apis/cert-manager.io/v1/namespaces/${seg(certNs)}/issuers/${seg(name)}`;
      if (missing.length) continue; // reported above
      const r = await client.get(path, `${kind.toLowerCase()}s ${name}`);
      if (r.notFound) {
        findings.add(S, DoctorRules.ISSUER_MISSING, ref(kind, name, kind === 'ClusterIssuer' ? undefined : certNs), `Certificate ${certNs}/${cert.metadata?.name} names ${kind} ${name}, which does not exist`);
      }
    }
    checks.push(`cert-manager: ${missing.length ? 'missing' : 'installed'}`);
  }

  // another install owning the APIService
  const live = await client.get(`/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE_NAME}`, `apiservices ${APISERVICE_NAME}`);
  if (live.value) {
    const marks = { ...(live.value.metadata?.labels ?? {}), ...(live.value.metadata?.annotations ?? {}) };
    const owners: string[] = [];
    for (const [k, v] of Object.entries(marks)) {
      const m = OWNER_MARKS.find(o => o.key.test(k));
      if (m && typeof v === 'string' && !(k === 'app.kubernetes.io/managed-by' && /^cdk8s|secure-metrics-server$/i.test(v))) {
        owners.push(m.who(v, k));
      }
    }
    const liveSvc = live.value.spec?.service;
    const ours = api?.spec?.service;
    const otherService = liveSvc && ours && (liveSvc.namespace !== ours.namespace || liveSvc.name !== ours.name);
    if (owners.length || otherService) {
      findings.add(S, DoctorRules.APISERVICE_OWNED, ref('APIService', APISERVICE_NAME),
        `APIService ${APISERVICE_NAME} already exists${owners.length ? `, owned by ${owners.join(', ')}` : ''}${otherService ? `, pointing at Service ${liveSvc.namespace}/${liveSvc.name}` : ''}; applying would take it over`,
        { evidence: Object.entries(marks).filter(([k]) => OWNER_MARKS.some(o => o.key.test(k))).map(([k, v]) => `${k}: ${v}`).join(', ') || `spec.service: ${liveSvc?.namespace}/${liveSvc?.name}` });
    }
    checks.push(`APIService: exists${owners.length || otherService ? ' (another install)' : ''}`);
  } else {
    checks.push(`APIService: ${live.notFound ? 'free' : 'not visible'}`);
  }

  // the kubelet CA the manifests name: a ConfigMap or Secret from the manifests, else the live one
  const hidden = new Set<string>();
  const configMaps: KubeObject[] = all.filter(o => o.kind === 'ConfigMap');
  const droppedKeys = new Set<string>();
  // the manifests' Secret holds tls.key too: drop it before anything else sees it
  const secrets: KubeObject[] = all.filter(o => o.kind === 'Secret').map(o => withoutKeys(o, droppedKeys));
  const volumes: any[] = dep?.spec?.template?.spec?.volumes ?? [];
  const names = new Set<string>([KUBE_ROOT_CA_CONFIGMAP, ...volumes.map(v => v.configMap?.name).filter(Boolean)]);
  for (const name of names) {
    if (configMaps.some(c => c.metadata?.name === name)) continue;
    // kube-root-ca.crt appears in a namespace with it; before the namespace exists, read it from kube-system
    const ns = nsRead.value || name !== KUBE_ROOT_CA_CONFIGMAP ? namespace : 'kube-system';
    const r = await client.get(`/api/v1/namespaces/${seg(ns)}/configmaps/${seg(name)}`, `configmaps ${ns}/${name}`);
    if (r.forbidden) hidden.add(`ConfigMap ${namespace}/${name}`);
    if (r.value) configMaps.push({ ...r.value, kind: 'ConfigMap', metadata: { ...r.value.metadata, namespace } });
  }
  const problems = findings.problems(S);
  return {
    summary: { section: S, status: problems.length ? HopStatus.PROBLEMS : HopStatus.OK, summary: checks.join('; ') },
    state: {
      apiService: api, namespace, serviceName: svc?.metadata?.name ?? 'metrics-server', service: svc, deployment: dep,
      pods: [], secrets, configMaps, hidden, droppedKeys,
    },
  };
}
