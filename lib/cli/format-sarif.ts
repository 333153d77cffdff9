import * as path from 'path';
import { pathToFileURL } from 'url';
import { Finding, Rule, Rules, Severity } from '../rules';
import { AuditReport, ruleOf, toolVersion } from './report';

/** SARIF `level` for each severity: error fails a code-scanning check, warning and note do not. */
const LEVEL: { [s: string]: 'error' | 'warning' | 'note' } = {
  [Severity.CRITICAL]: 'error',
  [Severity.HIGH]: 'error',
  [Severity.MEDIUM]: 'warning',
  [Severity.LOW]: 'note',
  [Severity.INFO]: 'note',
};

/** GitHub code scanning reads `security-severity` (0.0-10.0) to rank security results. */
const SECURITY_SEVERITY: { [s: string]: string } = {
  [Severity.CRITICAL]: '9.5',
  [Severity.HIGH]: '8.0',
  [Severity.MEDIUM]: '5.5',
  [Severity.LOW]: '3.0',
  [Severity.INFO]: '0.0',
};

/** A path inside the working directory as a relative URI reference, anything else as a file:// URI. */
function uriOf(file: string, cwd: string): string {
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    return pathToFileURL(abs).href;
  }
  return rel.split(path.sep).map(encodeURIComponent).join('/');
}

function camel(title: string): string {
  return title.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ? ch.toUpperCase() : '')).replace(/^./, ch => ch.toUpperCase());
}

function ruleDescriptor(r: Rule) {
  return {
    id: r.id,
    name: camel(r.title),
    shortDescription: { text: r.title },
    fullDescription: { text: r.reason },
    help: { text: r.prop ? `${r.fix} (SecureMetricsServer: ${r.prop})` : r.fix },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: { 'tags': ['security', 'kubernetes', 'metrics-server'], 'severity': r.severity, 'security-severity': SECURITY_SEVERITY[r.severity] },
  };
}

function result(f: Finding, ruleIndex: number, cwd: string, suppressed = false) {
  const o = f.object;
  const fqn = `${o.namespace ? `${o.namespace}/` : ''}${o.kind}/${o.name}`;
  const location: { [k: string]: unknown } = {
    logicalLocations: [{ fullyQualifiedName: o.constructPath ?? fqn, kind: 'resource' }],
  };
  if (o.file && o.file !== '-') {
    location.physicalLocation = {
      artifactLocation: { uri: uriOf(o.file, cwd) },
      ...(o.line !== undefined && o.line >= 1 ? { region: { startLine: o.line } } : {}),
    };
  }
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: `${fqn}: ${f.message}. Fix: ${f.fix}` },
    locations: [location],
    partialFingerprints: { 'objectRule/v1': `${f.ruleId}:${fqn}:${f.installId ?? ''}` },
    // the audit-ignore annotation is in the manifest itself: a reviewer (and code scanning) sees the silenced finding
    ...(suppressed ? { suppressions: [{ kind: 'inSource', status: 'accepted', justification: `annotation ${Rules.IGNORE_ANNOTATION} on ${fqn}` }] } : {}),
    properties: {
      severity: f.severity,
      installId: f.installId,
      documentIndex: o.documentIndex,
      fix: f.fix,
      ...(f.evidence !== undefined ? { evidence: f.evidence } : {}),
    },
  };
}

/** `--format sarif`: SARIF 2.1.0, one run, every rule in the driver. */
export function formatSarif(report: AuditReport, cwd: string): string {
  const used = new Set([...report.result.findings, ...(report.result.suppressedInSource ?? [])].map(f => f.ruleId));
  const rules: Rule[] = [...Rules.all(), ...(report.extraRules ?? [])];
  for (const id of used) {
    if (!rules.some(r => r.id === id)) {
      const r = ruleOf(report, id);
      if (r) {
        rules.push(r);
      }
    }
  }
  const indexOf = new Map(rules.map((r, i) => [r.id, i]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'secure-metrics-server',
          semanticVersion: toolVersion(),
          rules: rules.map(ruleDescriptor),
        },
      },
      invocations: [{
        executionSuccessful: report.errors.length === 0 && report.result.checkErrors.length === 0,
        exitCode: report.exitCode,
        toolExecutionNotifications: [...report.result.checkErrors.map(e => ({
          level: 'error',
          message: { text: `a check failed, so the audit is incomplete (please report it): ${e}` },
        })), ...report.errors.map(e => ({
          level: 'error',
          message: { text: `${e.file}${e.documentIndex !== undefined ? `, doc ${e.documentIndex}` : ''}: ${e.message}` },
          ...(e.file !== '-' ? { locations: [{ physicalLocation: { artifactLocation: { uri: uriOf(e.file, cwd) }, ...(e.line !== undefined && e.line >= 1 ? { region: { startLine: e.line } } : {}) } }] } : {}),
        }))],
      }],
      results: [
        ...report.result.findings.map(f => result(f, indexOf.get(f.ruleId) ?? -1, cwd)),
        ...(report.result.suppressedInSource ?? []).map(f => result(f, indexOf.get(f.ruleId) ?? -1, cwd, true)),
      ],
      columnKind: 'utf16CodeUnits',
    }],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
