/** metrics-server's recent log lines against the known errors. */
import { DoctorRules } from '../rules/doctor-rules';
import { metricsServerContainer, podTemplate } from '../rules/model';
import { ClusterClient, seg } from './client';
import { Findings, ref } from './findings';
import { InstallState } from './install';
import { matchKnownError } from './known-errors';
import { HopStatus, HopSummary, Section } from './report';

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
  // pods whose container has not started (the kubelet cannot mount a volume, the image is
  // pulling): no log yet, and the other hops' checks say why
  const waiting: string[] = [];
  const seen = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const r = await client.text(`/api/v1/namespaces/${seg(state.namespace)}/pods/${seg(name)}/log?container=${encodeURIComponent(container)}&tailLines=${lines}`, `pods/log ${state.namespace}/${name}`);
    if (r.forbidden) { denied++; continue; }
    if (r.unavailable !== undefined) { waiting.push(r.unavailable); continue; }
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
  if (waiting.length + denied === pods.length) {
    return { section: S, status: HopStatus.UNKNOWN, summary: `no log yet: ${waiting[0]}` };
  }
  return { section: S, status: seen.size ? HopStatus.PROBLEMS : HopStatus.OK, summary: `${read} line(s) of ${pods.length - denied} pod(s): ${seen.size ? `${seen.size} known error(s)` : 'no known error'}` };
}
