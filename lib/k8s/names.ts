/**
 * What Kubernetes accepts as a name, a data key or a port, as predicates:
 * defined once for the construct (lib/k8s/util.ts turns a `false` into an error
 * naming the prop) and the audit rules (which turn it into a finding, e.g.
 * SMS023 for a volume name). Pure; no cdk8s, so the command bundles it.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
 *
 * Every fact below is taken from kube-apiserver's own validation, read in
 * k8s.io/apimachinery v0.34.1 and k8s.io/kubernetes v1.34.1 (from the Go
 * module proxy); the file and identifier are named at each one, and
 * test/validation.test.ts checks the boundary values.
 * @internal
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Whether `value` is an RFC 1123 DNS label (namespaces, volume names): at
 * most 63 lower-case letters, digits and '-', starting and ending with a
 * letter or digit.
 * @internal
 */
export function isDnsLabel(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 63 && DNS_LABEL.test(value);
}

/**
 * Whether `value` is a DNS-1035 label, as a Service name must be (an RFC 1123
 * label that starts with a letter).
 * @internal
 */
export function isDns1035Label(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 63 && DNS_1035_LABEL.test(value);
}

/**
 * Whether `value` is an RFC 1123 DNS subdomain (most object names).
 * @internal
 */
export function isDnsSubdomain(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

/**
 * Whether `value` is a valid ConfigMap or Secret data key.
 * @internal
 */
export function isDataKey(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 253 && DATA_KEY.test(value) && value !== '.' && value !== '..';
}

/**
 * Whether `value` is a TCP port number (1 to 65535).
 * @internal
 */
export function isPort(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * The name kube-apiserver dials a Service by, and so the DNS SAN a serving
 * certificate must carry: `<service>.<namespace>.svc`, without the cluster
 * domain.
 * @internal
 */
export function serviceServerName(service: string, namespace: string): string {
  return `${service}.${namespace}.svc`;
}

// apimachinery pkg/util/validation/validation.go: qualifiedNameFmt,
// qualifiedNameMaxLength (63), IsQualifiedName (an optional DNS-1123
// subdomain prefix and '/'), labelValueFmt, LabelValueMaxLength (63).
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Whether `key` is a Kubernetes qualified name (IsQualifiedName): an optional
 * DNS subdomain prefix (at most 253 characters) and '/', then a name of at
 * most 63 letters, digits, '-', '_' and '.', starting and ending with a
 * letter or digit. Label keys, taint and toleration keys, topology keys.
 * @internal
 */
export function isQualifiedName(key: unknown): boolean {
  if (typeof key !== 'string') {
    return false;
  }
  const parts = key.split('/');
  if (parts.length > 2) {
    return false;
  }
  const name = parts[parts.length - 1];
  if (name.length > 63 || !QUALIFIED_NAME_PART.test(name)) {
    return false;
  }
  return parts.length === 1 || (parts[0].length > 0 && isDnsSubdomain(parts[0]));
}

/**
 * Whether `key` is an annotation key: apimachinery pkg/api/validation/objectmeta.go
 * ValidateAnnotations checks `IsQualifiedName(strings.ToLower(k))`, so the
 * prefix may have upper-case letters where a label key's may not.
 * @internal
 */
export function isAnnotationKey(key: unknown): boolean {
  return typeof key === 'string' && isQualifiedName(key.toLowerCase());
}

/**
 * Whether `value` is a label value (IsValidLabelValue): empty, or at most 63
 * letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
 * @internal
 */
export function isLabelValue(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * The most bytes all annotations of one object may take, keys and values
 * together: apimachinery pkg/api/validation/objectmeta.go
 * TotalAnnotationSizeLimitB (256 KiB), which ValidateAnnotationsSize compares
 * with the sum of len(key) + len(value) (Go's len: UTF-8 bytes). It applies
 * to an object's metadata and, separately, to a pod template's.
 * @internal
 */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * (1 << 10);

/**
 * The bytes `annotations` take by kube-apiserver's count (UTF-8 bytes of
 * every key and value).
 * @internal
 */
export function annotationsSize(annotations: { readonly [key: string]: unknown }): number {
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    total += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(String(v), 'utf8');
  }
  return total;
}

/**
 * The largest int32: `replicas` (apps types.go DeploymentSpec.Replicas int32),
 * `maxSkew` and `minDomains` (core types.go TopologySpreadConstraint, int32),
 * a PDB's integer `minAvailable` (intstr.IntOrString IntVal int32). A larger
 * number does not decode into the API type, so kube-apiserver refuses the object.
 * @internal
 */
export const INT32_MAX = 2147483647;

/**
 * Whether `value` is a whole number from `min` to the largest int32.
 * @internal
 */
export function isInt32(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= INT32_MAX;
}

/**
 * Whether `value` is a whole number from `min` that survives the trip to an
 * int64 field exactly (`tolerationSeconds`, `terminationGracePeriodSeconds`,
 * both int64 in core types.go): JSON numbers past 2^53 lose digits in
 * JavaScript, so the bound is Number.MAX_SAFE_INTEGER, below int64's.
 * @internal
 */
export function isSafeInt64(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

/**
 * The prefix of the PriorityClass names Kubernetes reserves: kubernetes
 * pkg/apis/scheduling/types.go SystemPriorityClassPrefix; the PriorityClass
 * validation (pkg/apis/scheduling/validation/validation.go
 * ValidatePriorityClass) refuses any other name with it, so a pod can only
 * name the two that kube-apiserver creates itself.
 * @internal
 */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';

/** kubernetes pkg/apis/scheduling/types.go SystemClusterCritical, SystemNodeCritical. @internal */
export const SYSTEM_PRIORITY_CLASSES: readonly string[] = ['system-cluster-critical', 'system-node-critical'];

/**
 * Whether a pod's `priorityClassName` can ever exist: a DNS subdomain
 * (core validation.go ValidatePriorityClassName = NameIsDNSSubdomain) that,
 * with the reserved `system-` prefix, is one of the two system classes.
 * @internal
 */
export function isPriorityClassName(value: unknown): boolean {
  return isDnsSubdomain(value) && (!value.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX) || SYSTEM_PRIORITY_CLASSES.includes(value));
}

/**
 * Whether a DNS SAN matches a host name the way Go's crypto/x509 VerifyHostname
 * does: ASCII case-insensitive, a trailing dot on the host ignored, and a
 * wildcard only as the whole leftmost label, standing for exactly one label.
 * @internal
 */
export function matchesHostname(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, '');
  if (p === '' || h === '') {
    return false;
  }
  const pl = p.split('.');
  const hl = h.split('.');
  return pl.length === hl.length && pl.every((label, i) => (i === 0 && label === '*' && hl[0] !== '') || label === hl[i]);
}
