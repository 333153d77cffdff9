import { DoctorReport, HopStatus, Section } from '../cluster/report';
import { terminalText } from './terminal-text';

/** every string from the cluster, its logs or the kubeconfig, as it may reach a terminal */
const t = (s: string | undefined) => terminalText(s ?? '');

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

/**
 * Text for people: a summary line per hop, then each finding with its evidence
 * and fix. Every string that comes from the cluster, its logs or the kubeconfig
 * goes through `terminalText`, so that no control character of theirs reaches the terminal.
 */
export function formatDoctorText(report: DoctorReport): string {
  const out: string[] = [];
  const c = report.cluster;
  out.push(`cluster: ${t(c.server)} (context ${t(c.context)}, from ${t(c.source)}${c.proxy ? `, via proxy ${t(c.proxy)}` : ''})`);
  out.push('');
  for (const s of ORDER) {
    const hop = report.hops.find(h => h.section === s);
    if (hop) {
      out.push(`${MARK[hop.status].padEnd(8)} ${TITLE[s]}: ${t(hop.summary)}`);
    }
  }
  // access findings are the "could not see" list below
  for (const s of ORDER.filter(x => x !== Section.ACCESS)) {
    const fs = report.findings.filter(f => f.section === s);
    if (fs.length === 0) continue;
    out.push('', `${TITLE[s]}:`);
    for (const f of fs) {
      const o = f.object;
      out.push(`  [${f.severity}] ${f.ruleId} ${t(o.kind)} ${o.namespace ? `${t(o.namespace)}/` : ''}${t(o.name)}: ${t(f.message)}`);
      if (f.evidence) out.push(`      evidence: ${t(f.evidence)}`);
      out.push(`      fix: ${t(f.fix)}`);
    }
  }
  if (report.couldNotSee.length) {
    out.push('', 'could not see (permission denied; what depends on it was not checked):');
    for (const x of report.couldNotSee) out.push(`  - ${t(x)}`);
  }
  out.push('', report.exitCode === 0 ? 'healthy: no problem found' : `${report.findings.filter(f => f.severity !== 'info' && f.severity !== 'low').length} problem(s) found`);
  return out.join('\n') + '\n';
}

/** JSON for tools: the whole report. */
export function formatDoctorJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

/** The JSON document of a run that could not happen (exit 2): `--format json` always prints JSON. */
export function formatDoctorError(kind: 'usage' | 'cannot-run', message: string): string {
  return JSON.stringify({ error: { kind, message }, exitCode: 2 }, null, 2) + '\n';
}
