/** The APIService hop (kube-apiserver -> metrics-server) as the live cluster shows it. */
import { DoctorRules } from '../rules/doctor-rules';
import { ClusterClient, seg } from './client';
import { Findings, ref } from './findings';
import { APISERVICE_NAME, InstallState } from './install';
import { matchKnownError } from './known-errors';
import { HopStatus, HopSummary, Section } from './report';

const INJECT_CA_FROM = 'cert-manager.io/inject-ca-from';

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
  const conditionText = available ? `Available=${available.status}${available.reason ? ` (${available.reason})` : ''}` : 'no Available condition';
  if (available && available.status !== 'True') {
    const known = matchKnownError(available.message ?? '');
    findings.add(S, DoctorRules.APISERVICE_UNAVAILABLE, apiRef,
      known ? `${conditionText}: ${known.error.cause}` : `${conditionText}: ${available.message ?? 'no message'}`,
      { evidence: `status.conditions[Available]: ${available.status} ${available.reason ?? ''}: ${available.message ?? ''}`.trim(), fix: known?.error.fix });
  }
  const svcRef = ref('Service', state.serviceName, state.namespace);
  if (state.service) {
    const slices = await client.list(`/apis/discovery.k8s.io/v1/namespaces/${seg(state.namespace)}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${state.serviceName}`)}`, `endpointslices in ${state.namespace}`);
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
    const cert = await client.get(`/apis/cert-manager.io/v1/namespaces/${seg(ns)}/certificates/${seg(name)}`, `certificates.cert-manager.io ${ns}/${name}`);
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
