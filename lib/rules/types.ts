/**
 * Severities, in order. The string values are what `--fail-on`, the JSON
 * output and the docs use.
 */
export enum Severity {
  INFO = 'info',
  LOW = 'low',
  MEDIUM = 'medium',
  HIGH = 'high',
  CRITICAL = 'critical',
}

const ORDER: Severity[] = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL];

/** The rank of a severity: info 0 < low 1 < medium 2 < high 3 < critical 4. */
export function severityRank(s: Severity): number {
  return ORDER.indexOf(s);
}

/** Parses `info|low|medium|high|critical` (case-insensitive); undefined otherwise. */
export function parseSeverity(value: string): Severity | undefined {
  return ORDER.find(s => s === value.toLowerCase());
}

/** A check with a stable id. The registry (`Rules`) holds every rule once. */
export interface Rule {
  /** stable id, `SMS` + three digits; never reused for another meaning */
  readonly id: string;
  readonly severity: Severity;
  /** short name, e.g. 'kubelet TLS verification disabled' */
  readonly title: string;
  /** why it matters, one line */
  readonly reason: string;
  /** how to fix it in any manifest, one line */
  readonly fix: string;
  /** the `SecureMetricsServer` prop that does it right, e.g. `kubeletTls` */
  readonly prop?: string;
}

/** Where an object came from, as far as the caller knows. */
export interface ObjectSource {
  /** file path as given (`-` for stdin), or a cluster URL for doctor */
  readonly file?: string;
  /** 0-based index of the YAML document within the file */
  readonly documentIndex?: number;
  /** 1-based line where the document (or List item) starts */
  readonly line?: number;
  /** cdk8s construct path, when the validation plugin knows it */
  readonly constructPath?: string;
}

/** The object a finding is about. */
export interface ObjectRef extends ObjectSource {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly object: ObjectRef;
  /** one line: what is wrong in this object */
  readonly message: string;
  /** one line: how to fix it here (rule fix, made concrete) */
  readonly fix: string;
  /** the offending value or field, e.g. `spec.insecureSkipTLSVerify: true` (never key material) */
  readonly evidence?: string;
  /** id of the install it belongs to (see `Install.id`); undefined for objects outside any install */
  readonly installId?: string;
}

/** A Kubernetes object as plain JSON with where it came from. */
export interface SourcedObject {
  readonly object: KubeObject;
  readonly source?: ObjectSource;
}

/** The minimum shape of a Kubernetes object; everything else is read defensively. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string; readonly namespace?: string; readonly annotations?: { [key: string]: string }; readonly labels?: { [key: string]: string };
  };
  readonly [field: string]: any;
}

/** One metrics-server install: the APIService, the Service it points at, the Deployment that Service selects. */
export interface Install {
  /** `<namespace>/<deployment or service name>`, or the APIService name when nothing else is there; unique per audit */
  readonly id: string;
  readonly apiService?: ObjectRef;
  readonly service?: ObjectRef;
  readonly deployment?: ObjectRef;
  /**
   * the files read together for this install, when the input held several
   * clusters (a fleet's one file per cluster); undefined when it is all one
   * (docs/audit.md, "How audit decides what belongs together")
   */
  readonly scope?: string[];
}

export interface AuditOptions {
  /** clock for expiry checks @default new Date() */
  readonly now?: Date;
  /** a certificate expiring within this many days is reported @default 30 */
  readonly expiryWarningDays?: number;
  /** rule ids to drop from the result @default [] */
  readonly ignore?: string[];
  /**
   * true when the input is everything that exists (doctor reading a live
   * cluster): a referenced object that is absent is then a real error
   * (SMS091, high) instead of an info (SMS090).
   * @default false
   */
  readonly inputIsComplete?: boolean;
  /**
   * false: the `secure-metrics-server.io/audit-ignore` annotation is not
   * honoured (a CI gate over changes it does not trust: the change could
   * silence its own findings)
   * @default true
   */
  readonly inlineIgnores?: boolean;
}

export interface AuditResult {
  readonly installs: Install[];
  /** sorted by install, then severity (highest first), then rule id */
  readonly findings: Finding[];
  /** findings dropped by `ignore` or by the object annotation */
  readonly suppressed: number;
  /**
   * the high and critical findings the object annotation (audit-ignore, in
   * the source) dropped, so that reports can show them as suppressed (SARIF
   * `suppressions`) instead of not at all
   */
  readonly suppressedInSource?: Finding[];
  /** checks that threw (a bug: the other checks still ran, but the audit is incomplete: exit 2); empty normally */
  readonly checkErrors: string[];
}
