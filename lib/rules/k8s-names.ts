/**
 * What Kubernetes accepts as a name, a data key or a port, as predicates:
 * defined once for the construct (lib/_util.ts turns a `false` into an error
 * naming the prop) and the audit rules (which turn it into a finding, e.g.
 * SMS023 for a volume name). Pure; no cdk8s, so the command bundles it.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
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
