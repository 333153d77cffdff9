import { readFileSync } from 'fs';
import { decodeUtf8, parseManifests } from '../manifests/load';
import { auditObjects, Finding, parseSeverity, Rules, Severity, severityRank, SourcedObject } from '../rules';

/**
 * The part of cdk8s-cli's `ValidationContext` (cdk8s-cli 2.x, lib/plugins/validation.d.ts)
 * the plugin uses; declared here so the plugin does not load cdk8s-cli at run time.
 */
export interface ValidationContextLike {
  readonly manifests: readonly string[];
  readonly metadata?: { readonly [resourceName: string]: { readonly path: string } };
  readonly report: {
    addViolation(violation: {
      ruleName: string;
      recommendation: string;
      fix: string;
      violatingResources: { resourceName: string; locations: string[]; manifestPath: string }[];
    }): void;
    submit(status: 'success' | 'failure', metadata?: { [key: string]: string }): void;
  };
  readonly logger?: { log(message: string): void };
}

/** `properties:` of the plugin in cdk8s.yaml. */
export interface SecureMetricsServerValidationProps {
  /** fail the synth on findings at or above this severity, or `none` @default 'high' */
  readonly failOn?: string;
  /** list findings at or above this severity as violations @default 'low' */
  readonly reportAt?: string;
  /** rule ids not to report @default [] */
  readonly ignore?: string[];
  /** report serving certificates expiring within this many days @default 30 */
  readonly expiryWarningDays?: number;
  /**
   * false: do not honour the `secure-metrics-server.io/audit-ignore`
   * annotation (for gates over changes that could silence their own findings)
   * @default true
   */
  readonly inlineIgnores?: boolean;
}

function severityProp(name: string, value: string | undefined, fallback: Severity | undefined): Severity | undefined {
  if (value === undefined) {
    return fallback;
  }
  if (value === 'none') {
    return undefined;
  }
  const s = parseSeverity(value);
  if (!s) {
    throw new Error(`secure-metrics-server validation plugin: properties.${name}: '${value}' is not a severity; use info, low, medium, high, critical or none`);
  }
  return s;
}

/**
 * cdk8s validation plugin: runs the audit rules (lib/rules) on every manifest
 * `cdk8s synth` writes, including objects that came in through `Include`, and
 * reports violations per rule with the construct paths cdk8s recorded.
 *
 * cdk8s.yaml:
 * ```yaml
 * validations:
 *   - package: ./node_modules/secure-metrics-server/plugin
 *     version: 0.1.0          # any fixed string; cdk8s refuses ranges
 *     class: SecureMetricsServerValidation
 *     properties:
 *       failOn: high
 * ```
 */
export class SecureMetricsServerValidation {
  private readonly failOn?: Severity;
  private readonly reportAt?: Severity;
  private readonly ignore: string[];
  private readonly expiryWarningDays?: number;
  private readonly inlineIgnores: boolean;

  constructor(props: SecureMetricsServerValidationProps = {}) {
    this.failOn = severityProp('failOn', props.failOn, Severity.HIGH);
    this.reportAt = severityProp('reportAt', props.reportAt, Severity.LOW);
    this.ignore = Array.isArray(props.ignore) ? props.ignore.map(String) : [];
    this.expiryWarningDays = props.expiryWarningDays;
    this.inlineIgnores = props.inlineIgnores !== false;
  }

  public async validate(context: ValidationContextLike): Promise<void> {
    const objects: SourcedObject[] = [];
    const parseErrors: string[] = [];
    for (const file of context.manifests) {
      let text: string;
      try {
        text = decodeUtf8(readFileSync(file));
      } catch (e: any) {
        parseErrors.push(`${file}: ${e.message}`);
        continue;
      }
      const r = parseManifests(text, file);
      for (const o of r.objects) {
        const name = o.object.metadata?.name;
        const constructPath = typeof name === 'string' ? context.metadata?.[name]?.path : undefined;
        objects.push(constructPath ? { object: o.object, source: { ...o.source, constructPath } } : o);
      }
      parseErrors.push(...r.errors.map(e => `${e.file}, doc ${e.documentIndex ?? '?'}, line ${e.line ?? '?'}: ${e.message}`));
    }
    const result = auditObjects(objects, { ignore: this.ignore, expiryWarningDays: this.expiryWarningDays, inlineIgnores: this.inlineIgnores });
    const shown = result.findings.filter(f => this.reportAt !== undefined && severityRank(f.severity) >= severityRank(this.reportAt));
    const byRule = new Map<string, Finding[]>();
    for (const f of shown) {
      byRule.set(f.ruleId, [...(byRule.get(f.ruleId) ?? []), f]);
    }
    for (const [id, findings] of byRule) {
      const rule = Rules.byId(id)!;
      context.report.addViolation({
        ruleName: `${id} [${rule.severity}] ${rule.title}`,
        recommendation: rule.reason,
        fix: rule.prop ? `${rule.fix} (SecureMetricsServer: ${rule.prop})` : rule.fix,
        violatingResources: findings.map(f => ({
          resourceName: f.object.name,
          manifestPath: f.object.file ?? '',
          locations: [`${f.object.kind} ${f.object.namespace ? `${f.object.namespace}/` : ''}${f.object.name}: ${f.message}`],
        })),
      });
    }
    for (const e of parseErrors) {
      context.report.addViolation({
        ruleName: 'manifest does not parse',
        recommendation: 'every synthesized manifest must be valid YAML',
        fix: 'report this as a bug of secure-metrics-server',
        violatingResources: [{ resourceName: '', manifestPath: e.split(':')[0], locations: [e] }],
      });
    }
    for (const e of result.checkErrors) {
      context.logger?.log(`secure-metrics-server: internal error in a check (please report it; the other checks ran): ${e}`);
    }
    if (result.checkErrors.length) {
      // a check that threw: the validation is incomplete, which must never read as success
      context.report.addViolation({
        ruleName: 'audit incomplete: a check failed',
        recommendation: 'the manifests were not fully checked, so their TLS settings are unverified',
        fix: 'report this as a bug of secure-metrics-server, with the message',
        violatingResources: result.checkErrors.map(e => ({ resourceName: '', manifestPath: '', locations: [e] })),
      });
    }
    const failing = result.findings.some(f => this.failOn !== undefined && severityRank(f.severity) >= severityRank(this.failOn));
    context.report.submit(failing || parseErrors.length || result.checkErrors.length ? 'failure' : 'success', {
      installs: String(result.installs.length),
      findings: String(result.findings.length),
      suppressed: String(result.suppressed),
      failOn: this.failOn ?? 'none',
    });
  }
}
