import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { IConstruct } from 'constructs';
import { isDataKey, isDns1035Label, isDnsLabel, isDnsSubdomain, isPort } from './names';
import { terminalText } from './terminal-text';

// The predicates live in lib/k8s/names.ts, shared with the audit rules;
// these functions turn a `false` into an error naming the prop and the fix.

/**
 * Throws unless `value` is an RFC 1123 DNS label (namespaces, Service names).
 * @internal
 */
export function assertDnsLabel(prop: string, value: string): void {
  if (!isDnsLabel(value)) {
    throw new Error(`${prop}: '${value}' is not a valid DNS label; use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. 'kube-system')`);
  }
}

/**
 * Throws unless `value` is a DNS-1035 label, as a Service name must be
 * (starts with a letter).
 * @internal
 */
export function assertServiceName(prop: string, value: string): void {
  if (!isDns1035Label(value)) {
    throw new Error(`${prop}: '${value}' is not a valid DNS label for a Service name (DNS-1035); use at most 63 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. 'metrics-server')`);
  }
}

/**
 * Throws unless `value` is an RFC 1123 DNS subdomain (most object names).
 * @internal
 */
export function assertDnsSubdomain(prop: string, value: string): void {
  if (!isDnsSubdomain(value)) {
    throw new Error(`${prop}: '${value}' is not a valid DNS subdomain name; use at most 253 lower-case letters, digits, '-' and '.' (e.g. 'metrics-server-tls')`);
  }
}

/**
 * Throws unless `value` is a valid ConfigMap or Secret data key.
 * @internal
 */
export function assertDataKey(prop: string, value: string): void {
  if (!isDataKey(value)) {
    throw new Error(`${prop}: '${value}' is not a valid ConfigMap/Secret key; use letters, digits, '-', '_' and '.' (e.g. 'ca.crt')`);
  }
}

/**
 * Throws unless `value` is a TCP port number.
 * @internal
 */
export function assertPort(prop: string, value: number): void {
  if (!isPort(value)) {
    throw new Error(`${prop}: ${value} is not a valid port; use a whole number from 1 to 65535 (e.g. 10250)`);
  }
}

/**
 * Makes a cluster-scoped object drop the namespace that cdk8s copies from the
 * enclosing chart: ClusterRoles, ClusterRoleBindings and APIServices have none.
 * @internal
 */
export function clusterScoped<T extends ApiObject>(obj: T): T {
  if (Chart.of(obj).namespace !== undefined) {
    obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
  return obj;
}

/**
 * The construct metadata type under which warnings are recorded.
 * @internal
 */
export const WARNING_METADATA_TYPE = 'secure-metrics-server:warning';

/**
 * The context key that silences the printing of warnings.
 * @internal
 */
export const SILENCE_WARNINGS_CONTEXT = 'secure-metrics-server:silenceWarnings';

/**
 * The environment variable that silences the printing of warnings.
 * @internal
 */
export const SILENCE_WARNINGS_ENV = 'SECURE_METRICS_SERVER_SILENCE_WARNINGS';

function flag(source: string, value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false || value === 0) {
    return false;
  }
  if (value === true || value === 1) {
    return true;
  }
  const text = String(value).toLowerCase();
  if (text === 'true' || text === '1') {
    return true;
  }
  if (text === 'false' || text === '0') {
    return false;
  }
  throw new Error(`${source}: '${String(value)}' is not a boolean; use true or false`);
}

/**
 * Whether printing warnings is silenced for `scope`: the context key
 * `secure-metrics-server:silenceWarnings` (on the App or any construct above
 * `scope`) or the environment variable `SECURE_METRICS_SERVER_SILENCE_WARNINGS`.
 * The context wins when both are set.
 * @internal
 */
export function warningsSilenced(scope: IConstruct): boolean {
  const context = scope.node.tryGetContext(SILENCE_WARNINGS_CONTEXT);
  if (context !== undefined) {
    return flag(`context '${SILENCE_WARNINGS_CONTEXT}'`, context);
  }
  return flag(SILENCE_WARNINGS_ENV, process.env[SILENCE_WARNINGS_ENV]);
}

/**
 * Records a warning on `scope` (construct metadata of type
 * `secure-metrics-server:warning`) and prints it once on standard error
 * unless printing is silenced; returns the message, so that callers can keep
 * a record of what they warned about.
 * @internal
 */
export function warn(scope: IConstruct, message: string): string {
  scope.node.addMetadata(WARNING_METADATA_TYPE, message);
  if (!warningsSilenced(scope)) {
    // the message can carry user input (a CA's name, a path, an extraArgs value): escaped for the terminal
    process.stderr.write(`[secure-metrics-server] WARNING: ${terminalText(message)}\n`);
  }
  return message;
}
