import { ApiObject, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RE2JS } from 're2js';
import type * as MonitoringCoreosCom from '../imports/monitoring.coreos.com';
import { clusterScoped } from './_util';
import { assertLabels } from './metadata';
import { isDnsLabel, isDnsSubdomain, serviceServerName } from './rules/k8s-names';

/**
 * Who may read metrics-server's own `/metrics` endpoint (the chart's
 * `metrics.enabled`). metrics-server authorizes every path but
 * `--authorization-always-allow-paths` with a SubjectAccessReview, so
 * Prometheus either needs RBAC for the non-resource URL `/metrics`, or the
 * path is opened to anyone who reaches the port.
 */
export class MetricsAuthorization {
  /**
   * Anyone who reaches the secure port may read `/metrics`, without a token:
   * `--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics`
   * (metrics-server's default paths plus `/metrics`). What the official chart
   * does with `metrics.enabled: true` (derived from its values and
   * metrics-server's flags: the chart's templates are not at hand). TLS stays
   * verified; only authorization is skipped for that one path.
   */
  public static alwaysAllow(): MetricsAuthorization {
    return new MetricsAuthorization(undefined, undefined);
  }

  /**
   * Only this ServiceAccount (Prometheus') may read `/metrics`: a ClusterRole
   * allowing `get` on the non-resource URL `/metrics` and a
   * ClusterRoleBinding to the ServiceAccount; the ServiceMonitor then sends
   * the Prometheus pod's token (`bearerTokenFile`).
   * @param serviceAccountNamespace the ServiceAccount's namespace (e.g. 'monitoring')
   * @param serviceAccountName the ServiceAccount's name (e.g. 'prometheus-k8s')
   */
  public static forServiceAccount(serviceAccountNamespace: string, serviceAccountName: string): MetricsAuthorization {
    return new MetricsAuthorization(serviceAccountNamespace, serviceAccountName);
  }

  private constructor(
    /** @internal */ public readonly _namespace: string | undefined,
    /** @internal */ public readonly _name: string | undefined,
  ) {}
}

/**
 * The action of a relabeling step.
 * @see https://prometheus.io/docs/prometheus/latest/configuration/configuration/#relabel_config
 */
export enum RelabelAction {
  /** replace `targetLabel` with `replacement` where `regex` matches */
  REPLACE = 'replace',
  /** keep only targets or series where `regex` matches */
  KEEP = 'keep',
  /** drop targets or series where `regex` matches */
  DROP = 'drop',
  /** `targetLabel` = hash of the source labels modulo `modulus` */
  HASHMOD = 'hashmod',
  /** copy labels whose names match `regex` */
  LABELMAP = 'labelmap',
  /** drop labels whose names match `regex` */
  LABELDROP = 'labeldrop',
  /** keep only labels whose names match `regex` */
  LABELKEEP = 'labelkeep',
  /** `targetLabel` = the source labels in lower case */
  LOWERCASE = 'lowercase',
  /** `targetLabel` = the source labels in upper case */
  UPPERCASE = 'uppercase',
  /** keep where the source labels equal `targetLabel` */
  KEEP_EQUAL = 'keepequal',
  /** drop where the source labels equal `targetLabel` */
  DROP_EQUAL = 'dropequal',
}

/**
 * A Prometheus relabeling step (`relabelings` or `metricRelabelings` of the
 * ServiceMonitor endpoint).
 */
export interface RelabelConfig {
  /**
   * Labels whose values are joined with `separator` and matched.
   * @default - none
   */
  readonly sourceLabels?: string[];
  /**
   * Separator of the joined source label values.
   * @default ';'
   */
  readonly separator?: string;
  /**
   * The label written (needed by replace, hashmod, lowercase, uppercase, keepequal and dropequal).
   * @default - none
   */
  readonly targetLabel?: string;
  /**
   * An RE2 regular expression (Go's regexp, which Prometheus uses), anchored by Prometheus.
   * @default '(.*)'
   */
  readonly regex?: string;
  /**
   * Modulus for hashmod (at least 1).
   * @default - none
   */
  readonly modulus?: number;
  /**
   * Replacement value, with `$1`-style references.
   * @default '$1'
   */
  readonly replacement?: string;
  /**
   * The action.
   * @default RelabelAction.REPLACE
   */
  readonly action?: RelabelAction;
}

/**
 * metrics-server's own metrics for Prometheus: the chart's `metrics.*` and
 * `serviceMonitor.*`.
 */
export interface MonitoringOptions {
  /**
   * Lets Prometheus read `/metrics` (see `MetricsAuthorization`).
   * @default - `/metrics` needs RBAC the construct does not grant
   */
  readonly metrics?: MetricsAuthorization;

  /**
   * Add a Prometheus Operator `ServiceMonitor` (monitoring.coreos.com/v1)
   * whose scrape verifies metrics-server's serving certificate: `tlsConfig`
   * names the CA the APIService trusts (a ConfigMap the construct writes, or
   * cert-manager's `ca.crt` in the serving Secret) and `serverName`
   * `<name>.<namespace>.svc`; never `insecureSkipVerify`. Needs `metrics`,
   * and a verified `servingTls` (the insecure test mode has no CA to trust).
   * @default false
   */
  readonly serviceMonitor?: boolean;

  /**
   * More labels of the ServiceMonitor (e.g. the `release` label a Prometheus'
   * `serviceMonitorSelector` matches).
   * @default - none
   */
  readonly serviceMonitorLabels?: { [key: string]: string };

  /**
   * How often Prometheus scrapes (whole seconds or milliseconds).
   * @default Duration.minutes(1)
   */
  readonly serviceMonitorInterval?: Duration;

  /**
   * Scrape timeout, at most `serviceMonitorInterval` (Prometheus refuses a longer one).
   * @default Duration.seconds(10)
   */
  readonly serviceMonitorScrapeTimeout?: Duration;

  /**
   * Relabelings applied to the target before the scrape.
   * @default - none
   */
  readonly serviceMonitorRelabelings?: RelabelConfig[];

  /**
   * Relabelings applied to the scraped series.
   * @default - none
   */
  readonly serviceMonitorMetricRelabelings?: RelabelConfig[];
}

/** Prometheus' label name pattern, which the CRD's sourceLabels pattern follows. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NEEDS_TARGET = new Set<string>([
  RelabelAction.REPLACE, RelabelAction.HASHMOD, RelabelAction.LOWERCASE, RelabelAction.UPPERCASE, RelabelAction.KEEP_EQUAL, RelabelAction.DROP_EQUAL,
]);

/**
 * Where the ServiceMonitor's CA is read from: the same source as the APIService's trust.
 * @internal
 */
export interface MonitoringCaSource {
  /** PEM CA bundle of the APIService (written to a ConfigMap), or */
  readonly caBundlePem?: string;
  /** the cert-manager serving Secret, whose `ca.crt` cainjector copies to the APIService */
  readonly certManagerSecretName?: string;
}

/**
 * What the monitoring objects are built from.
 * @internal
 */
export interface MonitoringContext {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly ca: MonitoringCaSource;
  /** false with `rbacCreate: false`: no ClusterRole for /metrics */
  readonly rbac: boolean;
}

/**
 * The objects made for monitoring.
 * @internal
 */
export interface MonitoringObjects {
  readonly args: string[];
  readonly serviceMonitor?: ApiObject;
  readonly caConfigMap?: k8s.KubeConfigMap;
  readonly metricsReaderClusterRole?: k8s.KubeClusterRole;
  readonly metricsReaderClusterRoleBinding?: k8s.KubeClusterRoleBinding;
}

function promDuration(prop: string, d: Duration): string {
  const ms = d.toMilliseconds();
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new Error(`${prop}: ${d.toHumanString()} must be a positive whole number of milliseconds; use e.g. Duration.seconds(30)`);
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function relabelings(prop: string, list: RelabelConfig[] | undefined): any[] | undefined {
  if (!list || list.length === 0) {
    return undefined;
  }
  return list.map((r, i) => {
    const p = `${prop}[${i}]`;
    const action = r.action ?? RelabelAction.REPLACE;
    if (!(Object.values(RelabelAction) as string[]).includes(action)) {
      throw new Error(`${p}.action: '${action}' is not a relabel action; use e.g. RelabelAction.REPLACE`);
    }
    (r.sourceLabels ?? []).forEach((l, j) => {
      if (typeof l !== 'string' || !LABEL_NAME.test(l)) {
        throw new Error(`${p}.sourceLabels[${j}]: '${l}' is not a Prometheus label name; use letters, digits and '_', not starting with a digit (e.g. '__meta_kubernetes_pod_node_name')`);
      }
    });
    if (r.targetLabel !== undefined && r.targetLabel.length === 0) {
      throw new Error(`${p}.targetLabel: must not be empty; use e.g. 'node'`);
    }
    if (NEEDS_TARGET.has(action) && r.targetLabel === undefined) {
      throw new Error(`${p}.targetLabel: action ${action} needs a targetLabel (Prometheus refuses the config); set e.g. targetLabel: 'node'`);
    }
    if (r.regex !== undefined) {
      try {
        RE2JS.compile(r.regex);
      } catch (e: any) {
        throw new Error(`${p}.regex: '${r.regex}' is not an RE2 regular expression (${e.message}); Prometheus compiles it with Go's regexp`, { cause: e });
      }
    }
    if (action === RelabelAction.HASHMOD && !(Number.isInteger(r.modulus) && r.modulus! >= 1)) {
      throw new Error(`${p}.modulus: hashmod needs a whole number of at least 1; use e.g. 4`);
    }
    return {
      action, sourceLabels: r.sourceLabels, separator: r.separator, targetLabel: r.targetLabel,
      regex: r.regex, modulus: r.modulus, replacement: r.replacement,
    };
  });
}

/** The metrics ClusterRole's name: `<name>-metrics-reader` (cluster-scoped, so the namespace is in it). */
function readerName(name: string, namespace: string): string {
  return `${namespace}:${name}:metrics-reader`;
}

/**
 * Validates the monitoring props, with the prop, the value and the fix.
 * @internal
 */
export function resolveMonitoring(props: MonitoringOptions, apiServiceInsecure: boolean): ResolvedMonitoring {
  const metrics = props.metrics;
  const wantsMonitor = props.serviceMonitor ?? false;
  const tuned = ['serviceMonitorLabels', 'serviceMonitorInterval', 'serviceMonitorScrapeTimeout', 'serviceMonitorRelabelings', 'serviceMonitorMetricRelabelings']
    .filter(k => (props as any)[k] !== undefined);
  if (!wantsMonitor && tuned.length > 0) {
    throw new Error(`${tuned[0]}: set without serviceMonitor: true, it has no effect; set serviceMonitor: true or remove it`);
  }
  if (metrics !== undefined && !(metrics instanceof MetricsAuthorization)) {
    throw new Error('metrics: got a plain object; pass a MetricsAuthorization (e.g. MetricsAuthorization.forServiceAccount(\'monitoring\', \'prometheus-k8s\'))');
  }
  if (metrics?._name !== undefined) {
    if (!isDnsLabel(metrics._namespace)) {
      throw new Error(`metrics: namespace '${metrics._namespace}' is not a DNS label; use e.g. 'monitoring'`);
    }
    if (!isDnsSubdomain(metrics._name)) {
      throw new Error(`metrics: ServiceAccount name '${metrics._name}' is not a DNS subdomain; use e.g. 'prometheus-k8s'`);
    }
  }
  if (wantsMonitor && metrics === undefined) {
    throw new Error('serviceMonitor: true without metrics: metrics-server would answer every scrape with 403; set metrics: MetricsAuthorization.forServiceAccount(<prometheus namespace>, <prometheus service account>) (or MetricsAuthorization.alwaysAllow())');
  }
  if (wantsMonitor && apiServiceInsecure) {
    throw new Error('serviceMonitor: true with the insecure test mode (ServingTls.insecure()): metrics-server then serves a certificate it makes at start-up, with no CA the scrape could verify, and the ServiceMonitor never skips verification; use a verified servingTls, or no ServiceMonitor');
  }
  const labels = props.serviceMonitorLabels ?? {};
  assertLabels('serviceMonitorLabels', labels);
  const interval = promDuration('serviceMonitorInterval', props.serviceMonitorInterval ?? Duration.minutes(1));
  const timeout = promDuration('serviceMonitorScrapeTimeout', props.serviceMonitorScrapeTimeout ?? Duration.seconds(10));
  if ((props.serviceMonitorScrapeTimeout ?? Duration.seconds(10)).toMilliseconds() > (props.serviceMonitorInterval ?? Duration.minutes(1)).toMilliseconds()) {
    throw new Error(`serviceMonitorScrapeTimeout: ${timeout} is longer than serviceMonitorInterval ${interval}, which Prometheus refuses; make it at most the interval`);
  }
  const relabel = relabelings('serviceMonitorRelabelings', props.serviceMonitorRelabelings);
  const metricRelabel = relabelings('serviceMonitorMetricRelabelings', props.serviceMonitorMetricRelabelings);
  return { metrics, wantsMonitor, labels, interval, timeout, relabel, metricRelabel };
}

/**
 * The monitoring props, validated.
 * @internal
 */
export interface ResolvedMonitoring {
  readonly metrics?: MetricsAuthorization;
  readonly wantsMonitor: boolean;
  readonly labels: { [key: string]: string };
  readonly interval: string;
  readonly timeout: string;
  readonly relabel?: any[];
  readonly metricRelabel?: any[];
}

/**
 * The flags and objects of the monitoring props: the `/metrics`
 * authorization, the CA ConfigMap and the ServiceMonitor.
 * @internal
 */
export function createMonitoring(scope: Construct, resolved: ResolvedMonitoring, context: MonitoringContext): MonitoringObjects {
  const { metrics, wantsMonitor, labels, interval, timeout, relabel, metricRelabel } = resolved;
  const { name, namespace } = context;
  const args = metrics && metrics._name === undefined ? ['--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics'] : [];
  let metricsReaderClusterRole: k8s.KubeClusterRole | undefined;
  let metricsReaderClusterRoleBinding: k8s.KubeClusterRoleBinding | undefined;
  if (metrics?._name !== undefined && context.rbac) {
    const roleName = readerName(name, namespace);
    metricsReaderClusterRole = clusterScoped(new k8s.KubeClusterRole(scope, 'MetricsReader', {
      metadata: { name: roleName, labels: context.labels },
      rules: [{ nonResourceUrLs: ['/metrics'], verbs: ['get'] }],
    }));
    metricsReaderClusterRoleBinding = clusterScoped(new k8s.KubeClusterRoleBinding(scope, 'MetricsReaderBinding', {
      metadata: { name: roleName, labels: context.labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects: [{ kind: 'ServiceAccount', name: metrics._name, namespace: metrics._namespace }],
    }));
  }
  if (!wantsMonitor) {
    return { args, metricsReaderClusterRole, metricsReaderClusterRoleBinding };
  }

  let caConfigMap: k8s.KubeConfigMap | undefined;
  let ca: MonitoringCoreosCom.ServiceMonitorSpecEndpointsTlsConfigCa;
  if (context.ca.caBundlePem !== undefined) {
    caConfigMap = new k8s.KubeConfigMap(scope, 'ServingCa', {
      metadata: { name: `${name}-serving-ca`, namespace, labels: context.labels },
      data: { 'ca.crt': context.ca.caBundlePem },
    });
    ca = { configMap: { name: `${name}-serving-ca`, key: 'ca.crt' } };
  } else if (context.ca.certManagerSecretName !== undefined) {
    ca = { secret: { name: context.ca.certManagerSecretName, key: 'ca.crt' } };
  } else {
    throw new Error('serviceMonitor: the serving certificate has no CA the construct knows; this is a bug');
  }
  const mon = monitoringCoreosCom();
  const serviceMonitor = new mon.ServiceMonitor(scope, 'ServiceMonitor', {
    metadata: { name, namespace, labels: { ...context.labels, ...labels } },
    spec: {
      selector: { matchLabels: { 'k8s-app': context.labels['k8s-app'] } },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [{
        port: 'https',
        scheme: mon.ServiceMonitorSpecEndpointsScheme.HTTPS,
        path: '/metrics',
        interval,
        scrapeTimeout: timeout,
        tlsConfig: { ca, serverName: serviceServerName(name, namespace) },
        bearerTokenFile: metrics?._name !== undefined ? '/var/run/secrets/kubernetes.io/serviceaccount/token' : undefined,
        relabelings: relabel,
        metricRelabelings: metricRelabel,
      }],
    },
  });
  return { args, serviceMonitor, caConfigMap, metricsReaderClusterRole, metricsReaderClusterRoleBinding };
}

/** The generated monitoring.coreos.com classes, loaded when first used. */
function monitoringCoreosCom(): typeof MonitoringCoreosCom {
  return require('../imports/monitoring.coreos.com');
}
