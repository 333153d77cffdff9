import { AuditReport, countBySeverity, toolVersion } from './report';

/** `--format json`: one document, stable field names (version 1). */
export function formatJson(report: AuditReport): string {
  const { installs, findings, suppressed } = report.result;
  return JSON.stringify({
    formatVersion: 1,
    tool: { name: 'secure-metrics-server', version: toolVersion() },
    summary: {
      files: report.files.length,
      objects: report.objectCount,
      installs: installs.length,
      findings: findings.length,
      bySeverity: Object.fromEntries(countBySeverity(report).map(c => [c.severity, c.count])),
      suppressed,
      inputErrors: report.errors.length,
      complete: report.errors.length === 0 && report.result.checkErrors.length === 0,
      failOn: report.failOn ?? 'none',
      exitCode: report.exitCode,
    },
    installs,
    findings,
    errors: report.errors,
    checkErrors: report.result.checkErrors,
    suppressedInSource: report.result.suppressedInSource ?? [],
  }, null, 2) + '\n';
}
