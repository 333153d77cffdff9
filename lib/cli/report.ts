import { InputError } from '../manifests/load';
import { AuditResult, Rule, Rules, Severity, severityRank } from '../rules';

/** Everything a formatter prints: the audit result plus what happened to the input. */
export interface AuditReport {
  readonly result: AuditResult;
  readonly errors: InputError[];
  readonly files: string[];
  readonly objectCount: number;
  /** undefined: never fail on findings (`--fail-on none`) */
  readonly failOn?: Severity;
  readonly exitCode: number;
  /** rules not in the registry (doctor's live checks), for formatters that list rules */
  readonly extraRules?: Rule[];
}

/** The rule of a finding, from the registry or the report's extra rules. */
export function ruleOf(report: AuditReport, id: string): Rule | undefined {
  return Rules.byId(id) ?? report.extraRules?.find(r => r.id === id);
}

/** Counts per severity, highest first, zero counts left out. */
export function countBySeverity(report: AuditReport): { severity: Severity; count: number }[] {
  const order = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO];
  return order.map(severity => ({ severity, count: report.result.findings.filter(f => f.severity === severity).length })).filter(c => c.count > 0);
}

/** Whether a severity reaches --fail-on. */
export function reaches(s: Severity, failOn: Severity | undefined): boolean {
  return failOn !== undefined && severityRank(s) >= severityRank(failOn);
}

/** The package version, read without bundling package.json twice. */
export function toolVersion(): string {
  // replaced by esbuild's --define in the bundled command
  return typeof SMS_VERSION !== 'undefined' ? SMS_VERSION : readVersion();
}

declare const SMS_VERSION: string | undefined;

function readVersion(): string {
  // lib/cli -> package root from the sources, build/lib/cli -> package root once compiled
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(p);
      if (pkg.name === 'secure-metrics-server') {
        return pkg.version;
      }
    } catch {
      // try the next
    }
  }
  return '0.0.0';
}
