import { DoctorReport, HopStatus, Section } from '../cluster/report';

const ORDER = [Section.ACCESS, Section.PREFLIGHT, Section.APISERVICE, Section.KUBELET, Section.LOGS];
const TITLE: { [s: string]: string } = {
  [Section.ACCESS]: 'access',
  [Section.PREFLIGHT]: 'preflight',
  [Section.APISERVICE]: 'APIService hop (kube-apiserver -> metrics-server)',
  [Section.KUBELET]: 'kubelet hop (metrics-server -> kubelets)',
  [Section.LOGS]: 'metrics-server logs',
};
const MARK: { [s: string]: string } = {
  [HopStatus.OK]: 'ok',
  [HopStatus.PROBLEMS]: 'PROBLEMS',
  [HopStatus.UNKNOWN]: 'unknown',
  [HopStatus.SKIPPED]: 'skipped',
};

/** Text for people: a summary line per hop, then each finding with its evidence and fix. */
export function formatDoctorText(report: DoctorReport): string {
  const out: string[] = [];
  out.push(`cluster: ${report.cluster.server} (context ${report.cluster.context}, from ${report.cluster.source}${report.cluster.proxy ? `, via proxy ${report.cluster.proxy}` : ''})`);
  out.push('');
  for (const s of ORDER) {
    const hop = report.hops.find(h => h.section === s);
    if (hop) {
      out.push(`${MARK[hop.status].padEnd(8)} ${TITLE[s]}: ${hop.summary}`);
    }
  }
  // access findings are the "could not see" list below
  for (const s of ORDER.filter(x => x !== Section.ACCESS)) {
    const fs = report.findings.filter(f => f.section === s);
    if (fs.length === 0) continue;
    out.push('', `${TITLE[s]}:`);
    for (const f of fs) {
      const o = f.object;
      out.push(`  [${f.severity}] ${f.ruleId} ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}: ${f.message}`);
      if (f.evidence) out.push(`      evidence: ${f.evidence}`);
      out.push(`      fix: ${f.fix}`);
    }
  }
  if (report.couldNotSee.length) {
    out.push('', 'could not see (permission denied; what depends on it was not checked):');
    for (const c of report.couldNotSee) out.push(`  - ${c}`);
  }
  out.push('', report.exitCode === 0 ? 'healthy: no problem found' : `${report.findings.filter(f => f.severity !== 'info' && f.severity !== 'low').length} problem(s) found`);
  return out.join('\n') + '\n';
}

/** JSON for tools: the whole report. */
export function formatDoctorJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
