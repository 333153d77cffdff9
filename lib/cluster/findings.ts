/** Doctor's findings as they are collected, and the exit code they give. */
import { ObjectRef, Finding, Rule, Severity, severityRank } from '../rules/types';
import { DoctorFinding, Section } from './report';

/** Collects findings, with the object each is about; shared by doctor and preflight. @internal */
export class Findings {
  public readonly list: DoctorFinding[] = [];
  public add(section: Section, rule: Rule, object: ObjectRef, message: string, extra: { fix?: string; evidence?: string; severity?: Severity } = {}): void {
    this.list.push({ ruleId: rule.id, severity: extra.severity ?? rule.severity, object, message, fix: extra.fix ?? rule.fix, evidence: extra.evidence,
      section });
  }
  public problems(section?: Section): DoctorFinding[] {
    return this.list.filter(f => (section === undefined || f.section === section) && severityRank(f.severity) >= severityRank(Severity.MEDIUM));
  }
}

export function ref(kind: string, name: string, namespace?: string): ObjectRef {
  return { kind, name, namespace };
}

/** Findings of severity medium or above make the exit code 1. */
export function exitCodeOf(findings: Finding[]): number {
  return findings.some(f => severityRank(f.severity) >= severityRank(Severity.MEDIUM)) ? 1 : 0;
}
