/**
 * The rule module: every check on metrics-server manifests, with stable ids.
 * One module, four consumers: `secure-metrics-server audit` (files), the cdk8s
 * validation plugin (a synthesized app), `secure-metrics-server doctor` (a live
 * cluster) and, where it asks the same question, the construct itself.
 *
 * Data flows one way: plain-JSON Kubernetes objects -> `auditObjects` ->
 * `AuditResult { installs, findings }` -> a formatter (lib/cli/format-*.ts).
 *
 * How a new consumer (doctor) uses it:
 *
 * ```ts
 * import { auditObjects, Rules, Severity, severityRank } from '../rules';
 * const objects = [apiService, service, deployment, ...secrets, ...configMaps]; // plain JSON, as `kubectl get -o json` returns
 * const result = auditObjects(objects.map(object => ({ object, source: { file: 'cluster' } })), {
 *   inputIsComplete: true, // a referenced-but-absent object is SMS091 (high), not SMS090 (info)
 * });
 * for (const f of result.findings) { ... f.ruleId, f.severity, f.object.kind/namespace/name, f.message, f.fix }
 * ```
 *
 * - Objects are read defensively: any shape, any kind; unknown kinds are ignored,
 *   malformed fields never throw.
 * - Installs are found from the `v1beta1.metrics.k8s.io` APIService -> its Service ->
 *   the Deployment the Service selects; a metrics-server Deployment without an
 *   APIService is an install of its own. Every finding carries `installId`.
 * - Suppression: `options.ignore` (rule ids) and the annotation
 *   `secure-metrics-server.io/audit-ignore: "SMS005,SMS040"` (or `all`) on the object
 *   (`Rules.IGNORE_ANNOTATION`).
 * - Live-only checks (APIService conditions, endpoints, a real handshake) belong to
 *   doctor; give them their own `Rule` objects (ids `SMD...`, same `Rule`/`Finding`
 *   types, see doctor-rules.ts) so the same formatters print them (lib/cli/format-*.ts
 *   take an `AuditReport` whose `extraRules` lists them).
 * - `result.checkErrors` lists checks that threw (a bug; the other checks still ran).
 * - model.ts (`podTemplate`, `metricsServerContainer`, `Flags`) and mounts.ts
 *   (`resolveFile`, `dataValue`) are the readers the checks use; doctor uses them too,
 *   so their signatures are kept stable.
 * - To add a rule: add it to `Rules` (registry.ts) with the next free id, check it in
 *   checks-*.ts, document it in docs/rules.md, add its trigger (and, where the base install is not the
 *   near miss, its clean case) to RULE_FIXTURES in test/support/audit-fixtures.ts.
 */
export * from './types';
export { Rules } from './registry';
export { auditObjects, findInstalls } from './audit';
