import { Finding, Severity } from '../rules';
import { AuditReport, countBySeverity, reaches } from './report';
import { terminalText } from './terminal-text';

/** Every string that comes from the input (names, paths, messages that quote values) passes through here. */
const t = (s: string | undefined): string => terminalText(s ?? '');

const COLOURS: { [s: string]: string } = {
  [Severity.CRITICAL]: '\x1b[1;35m',
  [Severity.HIGH]: '\x1b[1;31m',
  [Severity.MEDIUM]: '\x1b[33m',
  [Severity.LOW]: '\x1b[36m',
  [Severity.INFO]: '\x1b[2m',
};
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';

function where(f: Finding): string {
  const o = f.object;
  const parts: string[] = [];
  if (o.file) {
    parts.push(o.file === '-' ? 'stdin' : t(o.file));
  }
  if (o.documentIndex !== undefined) {
    parts.push(`doc ${o.documentIndex}`);
  }
  if (o.line !== undefined) {
    parts.push(`line ${o.line}`);
  }
  if (o.constructPath) {
    parts.push(t(o.constructPath));
  }
  return parts.join(', ');
}

function objectName(o: { kind: string; namespace?: string; name: string }): string {
  return t(`${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`);
}

/** Text for people: findings grouped by install, colour only when `colour`. */
export function formatText(report: AuditReport, colour: boolean): string {
  const c = (code: string, s: string) => (colour ? `${code}${s}${RESET}` : s);
  const out: string[] = [];
  const { installs, findings, suppressed } = report.result;
  for (const install of installs) {
    const chain = [install.apiService, install.service, install.deployment].filter(Boolean).map(o => objectName(o!)).join(' -> ');
    out.push(c(BOLD, `install ${t(install.id)}`) + (chain ? `  (${chain})` : ''));
    if (install.scope) {
      out.push(`  files: ${install.scope.map(f => t(f === '-' ? 'stdin' : f)).join(', ')}`);
    }
    const mine = findings.filter(f => f.installId === install.id);
    if (mine.length === 0) {
      out.push('  no findings');
    }
    for (const f of mine) {
      out.push(`  ${c(COLOURS[f.severity], f.severity.toUpperCase().padEnd(8))} ${f.ruleId}  ${objectName(f.object)}${where(f) ? `  (${where(f)})` : ''}`);
      out.push(`           ${t(f.message)}`);
      out.push(`           fix: ${t(f.fix)}`);
    }
    out.push('');
  }
  if (installs.length === 0) {
    out.push(`no metrics-server install found in ${report.objectCount} object(s)`);
    out.push('');
  }
  for (const e of report.errors) {
    out.push(c(COLOURS[Severity.HIGH], 'error') + ` ${t(e.file)}${e.documentIndex !== undefined ? `, doc ${e.documentIndex}` : ''}${e.line !== undefined ? `, line ${e.line}` : ''}: ${t(e.message)}`);
  }
  for (const e of report.result.checkErrors) {
    out.push(c(COLOURS[Severity.HIGH], 'error') + ` a check failed, so the audit is incomplete (please report it): ${t(e)}`);
  }
  const counts = countBySeverity(report).map(x => `${x.count} ${x.severity}`).join(', ');
  const failing = report.result.findings.filter(f => reaches(f.severity, report.failOn)).length;
  out.push(`${installs.length} install(s), ${findings.length} finding(s)${counts ? ` (${counts})` : ''}${suppressed ? `, ${suppressed} suppressed` : ''}`
    + `${report.errors.length ? `, ${report.errors.length} input error(s)` : ''}`
    + `${report.result.checkErrors.length ? `, ${report.result.checkErrors.length} failed check(s): INCOMPLETE` : ''}; `
    + `${report.failOn ? `${failing} at or above ${report.failOn}` : 'not failing on findings'}; exit ${report.exitCode}`);
  return out.join('\n') + '\n';
}
