import { ApiObject, Chart, Duration } from 'cdk8s';
import { ContainerResources, k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import {
  assertDnsLabel, assertDnsSubdomain, assertPort, assertServiceName, SILENCE_WARNINGS_CONTEXT, SILENCE_WARNINGS_ENV, warn, WARNING_METADATA_TYPE,
} from './k8s/util';
import { goDurationNs, parseCommandLine, startupConflicts } from './k8s/metrics-server-flags';
import { checkExtraArgs } from './extra-args';
import { checkPropTypes, Schema, T, withPropBase } from './k8s/prop-types';
import { createApiService, createService } from './api-service';
import { CHART_VALUES_PROPS_SCHEMA, ChartValuesProps, resolveChartValues } from './chart-values';
import { assertImageReference } from './image';
import { KubeletServingCertApprover, KubeletServingCertApproverOptions } from './approver/kubelet-serving-cert-approver';
import { addObjectMetadata, assertWrittenObjects } from './metadata';
import { createNetworkPolicy } from './network-policy';
import { PRODUCTION_PROPS_SCHEMA, ProductionProps, resolveProduction } from './production';
import { createRbac } from './rbac';
import { unresolvedReferences } from './references';
import { renderResources } from './resources';
import { HOSTNAME_TOPOLOGY_KEY } from './scheduling';
import { KubeletTls } from './tls/kubelet-tls';
import { generatedKeyCount } from './x509/pki';
import { ServingTls } from './tls/serving-tls';
import { servingDnsNames } from './tls/serving-context';
import { createDeployment, createPodDisruptionBudget, SERVING_CERT_DIR } from './workload';

/**
 * A node address type, for `--kubelet-preferred-address-types`.
 */
export enum NodeAddressType {
  /** the node's InternalIP (needs an IP SAN in the kubelet's certificate) */
  INTERNAL_IP = 'InternalIP',
  /** the node's ExternalIP (needs an IP SAN in the kubelet's certificate) */
  EXTERNAL_IP = 'ExternalIP',
  /** the node's Hostname (needs a DNS SAN in the kubelet's certificate) */
  HOSTNAME = 'Hostname',
  /** the node's InternalDNS name */
  INTERNAL_DNS = 'InternalDNS',
  /** the node's ExternalDNS name */
  EXTERNAL_DNS = 'ExternalDNS',
}

/**
 * Props for `SecureMetricsServer`.
 */
export interface SecureMetricsServerProps extends ProductionProps, ChartValuesProps {
  /**
   * Name of the ServiceAccount, Service and Deployment, and the `k8s-app` label.
   * The serving certificate is made for `<name>.<namespace>.svc`. A DNS-1035
   * label (lower case, starting with a letter), as a Service name must be.
   * @default 'metrics-server'
   */
  readonly name?: string;

  /**
   * Namespace of the namespaced objects. Cluster-scoped objects never carry
   * one; the RoleBinding on `extension-apiserver-authentication-reader` is
   * always in kube-system.
   * @default - the enclosing Chart's namespace, else 'kube-system'
   */
  readonly namespace?: string;

  /**
   * Container image: `repository[:tag][@sha256:<64 hex digits>]`; pin it by
   * digest for reproducible deployments. Tags and digests are validated.
   * @default 'registry.k8s.io/metrics-server/metrics-server:v0.8.1'
   */
  readonly image?: string;

  /**
   * The port metrics-server serves on. One value drives `--secure-port`, the
   * containerPort and (through the named port `https`) the probes and the
   * Service's targetPort.
   * @default 10250
   */
  readonly securePort?: number;

  /**
   * How often metrics are scraped from the kubelets (`--metric-resolution`),
   * whole seconds, at least 10 s, and a tenth longer than the kubelet request
   * timeout (metrics-server refuses to start otherwise): at least 12 s with
   * the default timeout of 10 s.
   * @default Duration.seconds(15)
   */
  readonly metricResolution?: Duration;

  /**
   * Node address types metrics-server tries, in order, to reach the kubelets.
   * With a verified kubelet hop they must match the SANs in the kubelets'
   * certificates (IP SANs for InternalIP).
   * @default [INTERNAL_IP, EXTERNAL_IP, HOSTNAME]
   */
  readonly kubeletPreferredAddressTypes?: NodeAddressType[];

  /**
   * Use the port in the node's status (`--kubelet-use-node-status-port`).
   * @default true
   */
  readonly kubeletUseNodeStatusPort?: boolean;

  /**
   * Container resources. Requests not given stay at upstream's (cpu 100m,
   * memory 200Mi); limits are optional and may not be below their request.
   * @default - requests cpu 100m and memory 200Mi, no limits (as upstream)
   */
  readonly resources?: ContainerResources;

  /**
   * More command-line flags, each `--flag` or `--flag=value`. Flags the
   * construct manages (`--secure-port`, `--cert-dir`, `--tls-cert-file`,
   * `--tls-private-key-file`, `--kubelet-insecure-tls`,
   * `--kubelet-certificate-authority`, `--kubelet-preferred-address-types`,
   * `--kubelet-use-node-status-port`, `--metric-resolution`) are refused: use
   * the props instead. So are `--deprecated-kubelet-completely-insecure`, a
   * boolean flag with a value metrics-server cannot read, and a
   * `--tls-sni-cert-key` whose names cover the Service's (the same predicates
   * as audit rules SMS003 and SMS035); a `--tls-min-version`
   * below `VersionTLS12` is warned about and marked in the
   * `secure-metrics-server.io/insecure-tls` annotation.
   * @default - none
   */
  readonly extraArgs?: string[];

  /**
   * How metrics-server verifies the kubelets (the kubelet hop).
   * @default KubeletTls.fromKubeRootCa()
   */
  readonly kubeletTls?: KubeletTls;

  /**
   * How kube-apiserver verifies metrics-server, and where its serving
   * certificate comes from (the APIService hop).
   * @default ServingTls.fromDedicatedCa() - a CA created in `.secure-metrics-server/pki` on first synth
   */
  readonly servingTls?: ServingTls;

  /**
   * The cluster's DNS domain, for the fully qualified SAN of the serving certificate.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;

  /**
   * Deploys postfinance/kubelet-csr-approver, which approves the kubelets'
   * `kubernetes.io/kubelet-serving` CSRs after checking them, so that the
   * kubelets serve certificates the kubelet hop can verify. Its namespace
   * defaults to the metrics-server namespace.
   * @default - no approver: approve kubelet serving CSRs by other means
   */
  readonly kubeletServingCertApprover?: KubeletServingCertApproverOptions;
}

/** The runtime type checks of `SecureMetricsServerProps` (lib/k8s/prop-types.ts). */
const PROPS_SCHEMA: Schema = {
  ...PRODUCTION_PROPS_SCHEMA,
  ...CHART_VALUES_PROPS_SCHEMA,
  name: T.string("'metrics-server'"),
  namespace: T.string("'kube-system'"),
  image: T.string("'registry.k8s.io/metrics-server/metrics-server:v0.8.1'"),
  securePort: T.number('10250'),
  metricResolution: T.duration('Duration.seconds(15)'),
  kubeletPreferredAddressTypes: T.array(T.enumOf(NodeAddressType as any, 'NodeAddressType')),
  kubeletUseNodeStatusPort: T.boolean(),
  resources: T.struct('ContainerResources', {}),
  extraArgs: T.array(T.string("'--v=2'")),
  kubeletTls: T.instance(KubeletTls, 'KubeletTls.fromKubeRootCa()'),
  servingTls: T.instance(ServingTls, 'ServingTls.fromDedicatedCa()'),
  clusterDomain: T.string("'cluster.local'"),
  // its fields are checked by KubeletServingCertApprover itself
  kubeletServingCertApprover: T.struct('KubeletServingCertApproverOptions', {}),
};

/** Charts that already hold a SecureMetricsServer, with its path: one per Chart (one manifest, one cluster). */
const instances = new WeakMap<IConstruct, string>();

/**
 * Kubernetes metrics-server with both TLS hops verified: metrics-server
 * verifies the kubelets against a CA, and kube-apiserver verifies
 * metrics-server against the APIService's caBundle.
 *
 * Synthesizes the objects of upstream's release manifest (ServiceAccount,
 * RBAC, Service, Deployment, APIService) plus the TLS Secret and volumes of
 * the chosen modes.
 */
export class SecureMetricsServer extends Construct {
  /**
   * The upstream image this release is tested with.
   */
  public static readonly DEFAULT_IMAGE = 'registry.k8s.io/metrics-server/metrics-server:v0.8.1';

  /**
   * Annotation put on the Deployment and the APIService when a hop is not
   * verified; its value lists the hops (`kubelet`, `apiservice`).
   */
  public static readonly INSECURE_ANNOTATION = 'secure-metrics-server.io/insecure-tls';

  /**
   * The topology key of the pod anti-affinity (`podAntiAffinity`).
   */
  public static readonly HOSTNAME_TOPOLOGY_KEY = HOSTNAME_TOPOLOGY_KEY;

  /**
   * The construct metadata type under which warnings are recorded on the
   * construct that made them (`node.metadata`), for tests and validation plugins.
   */
  public static readonly WARNING_METADATA_TYPE = WARNING_METADATA_TYPE;

  /**
   * The context key that silences the printing of warnings on standard error
   * (they are still recorded in `warnings` and the construct metadata): set it
   * to `true` on the App, or on any construct above this one, before adding
   * children, e.g. `app.node.setContext(SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true)`.
   * It wins over `SILENCE_WARNINGS_ENV`.
   */
  public static readonly SILENCE_WARNINGS_CONTEXT = SILENCE_WARNINGS_CONTEXT;

  /**
   * The environment variable that silences the printing of warnings when set
   * to `true` or `1` (e.g. in CI: `SECURE_METRICS_SERVER_SILENCE_WARNINGS=1 cdk8s synth`).
   */
  public static readonly SILENCE_WARNINGS_ENV = SILENCE_WARNINGS_ENV;

  /**
   * Number of keys this process has generated for serving certificates and CAs.
   * @deprecated use `SecureMetricsServerTesting.generatedKeyCount()`
   */
  public static generatedKeyCount(): number {
    return generatedKeyCount();
  }

  /** Name of the ServiceAccount, Service and Deployment. */
  public readonly name: string;
  /** Namespace of the namespaced objects. */
  public readonly namespace: string;
  /** The port metrics-server serves on. */
  public readonly securePort: number;
  /** The metrics-server Deployment. */
  public readonly deployment: k8s.KubeDeployment;
  /** The Service kube-apiserver dials. */
  public readonly service: k8s.KubeService;
  /** metrics-server's ServiceAccount (unless `serviceAccountCreate: false`). */
  public readonly serviceAccount?: k8s.KubeServiceAccount;
  /** The `v1beta1.metrics.k8s.io` APIService (unless `apiServiceCreate: false`). */
  public readonly apiService?: k8s.KubeApiService;
  /** The Prometheus Operator `ServiceMonitor`, with `serviceMonitor: true`. */
  public readonly serviceMonitor?: ApiObject;
  /** The ConfigMap holding the serving CA the ServiceMonitor trusts (`<name>-serving-ca`, key `ca.crt`), when the construct knows the CA as PEM. */
  public readonly servingCaConfigMap?: k8s.KubeConfigMap;
  /** The ClusterRole allowing `get` on `/metrics`, with `MetricsAuthorization.forServiceAccount()`. */
  public readonly metricsReaderClusterRole?: k8s.KubeClusterRole;
  /** The addon-resizer's Role (get its pod, get and patch its Deployment), with `addonResizer`. */
  public readonly addonResizerRole?: k8s.KubeRole;
  /** The binding of `addonResizerRole` to metrics-server's ServiceAccount, with `addonResizer`. */
  public readonly addonResizerRoleBinding?: k8s.KubeRoleBinding;
  /** The binding of `metricsReaderClusterRole` to Prometheus' ServiceAccount. */
  public readonly metricsReaderClusterRoleBinding?: k8s.KubeClusterRoleBinding;
  /** The addon-resizer's NannyConfiguration ConfigMap, with `addonResizer`. */
  public readonly addonResizerConfigMap?: k8s.KubeConfigMap;
  /** The `system:aggregated-metrics-reader` ClusterRole (aggregated to admin, edit and view), unless `rbacCreate: false`. */
  public readonly aggregatedReaderClusterRole?: k8s.KubeClusterRole;
  /** The `system:metrics-server` ClusterRole (nodes, pods, nodes/metrics), unless `rbacCreate: false`. */
  public readonly clusterRole?: k8s.KubeClusterRole;
  /** The `system:metrics-server` ClusterRoleBinding, unless `rbacCreate: false`. */
  public readonly clusterRoleBinding?: k8s.KubeClusterRoleBinding;
  /** The `<name>:system:auth-delegator` ClusterRoleBinding, unless `rbacCreate: false`. */
  public readonly authDelegatorClusterRoleBinding?: k8s.KubeClusterRoleBinding;
  /** The `<name>-auth-reader` RoleBinding in kube-system (extension-apiserver-authentication-reader), unless `rbacCreate: false`. */
  public readonly authReaderRoleBinding?: k8s.KubeRoleBinding;
  /** The TLS Secret, when this construct makes one (not with an existing Secret, insecure or cert-manager). */
  public readonly secret?: ApiObject;
  /** The cert-manager `Certificate` for the serving certificate, with `ServingTls.fromCertManager()`. */
  public readonly certificate?: ApiObject;
  /** The PEM CA bundle written to the APIService's caBundle, when there is one. */
  public readonly caBundle?: string;
  /** Whether the kubelet hop is left unverified. */
  public readonly kubeletInsecure: boolean;
  /** Whether the APIService hop is left unverified. */
  public readonly apiServiceInsecure: boolean;
  /**
   * Warnings made during construction (insecure hops, expiring certificates),
   * also recorded as construct metadata of type `WARNING_METADATA_TYPE` and
   * printed on standard error unless silenced (`SILENCE_WARNINGS_CONTEXT`).
   */
  public readonly warnings: string[];
  /** The PodDisruptionBudget, with 2 or more replicas. */
  public readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** The NetworkPolicy, with `networkPolicy: true`. */
  public readonly networkPolicy?: k8s.KubeNetworkPolicy;
  /** The kubelet serving CSR approver, when `kubeletServingCertApprover` is set. */
  public readonly kubeletServingCertApprover?: KubeletServingCertApprover;

  /**
   * @param scope the Chart (or a construct in it) that holds the objects
   * @param id the construct id; it feeds the hashed names, so keep it stable
   * @param props metrics-server's settings, serving and kubelet TLS
   */
  constructor(scope: Construct, id: string, props: SecureMetricsServerProps = {}) {
    super(scope, id);
    checkPropTypes('', props, PROPS_SCHEMA, 'SecureMetricsServerProps');

    const chart = Chart.of(this);
    const existing = instances.get(chart);
    if (existing !== undefined) {
      throw new Error(`SecureMetricsServer: '${this.node.path}' is a second instance in chart '${chart.node.path}' ('${existing}' exists); a cluster has one v1beta1.metrics.k8s.io APIService, so put one SecureMetricsServer in each Chart (one Chart per cluster)`);
    }

    // props, checked before anything is read or written
    this.name = props.name ?? 'metrics-server';
    this.namespace = props.namespace ?? chart.namespace ?? 'kube-system';
    this.securePort = props.securePort ?? 10250;
    assertServiceName('name', this.name);
    assertDnsLabel('namespace', this.namespace);
    assertPort('securePort', this.securePort);
    const image = props.image ?? SecureMetricsServer.DEFAULT_IMAGE;
    assertImageReference('image', image);
    const clusterDomain = props.clusterDomain ?? 'cluster.local';
    assertDnsSubdomain('clusterDomain', clusterDomain);
    const resolution = props.metricResolution ?? Duration.seconds(15);
    const resolutionMs = resolution.toMilliseconds();
    if (!(resolutionMs >= 10000) || resolutionMs % 1000 !== 0) {
      throw new Error(`metricResolution: ${resolution.toHumanString()} must be whole seconds and at least 10 seconds (metrics-server's minimum); use e.g. Duration.seconds(15)`);
    }
    if (goDurationNs(`${resolutionMs / 1000}s`) === undefined) {
      throw new Error(`metricResolution: ${resolution.toHumanString()} is longer than a Go duration can be (about 292 years), so metrics-server would not start; use e.g. Duration.seconds(15)`);
    }
    const addressTypes = props.kubeletPreferredAddressTypes ?? [NodeAddressType.INTERNAL_IP, NodeAddressType.EXTERNAL_IP, NodeAddressType.HOSTNAME];
    const knownTypes = Object.values(NodeAddressType) as string[];
    if (addressTypes.length === 0 || addressTypes.some(t => !knownTypes.includes(t)) || new Set(addressTypes).size !== addressTypes.length) {
      throw new Error(`kubeletPreferredAddressTypes: [${addressTypes.join(', ')}] must be a non-empty list of distinct values of ${knownTypes.join(', ')}; use e.g. [NodeAddressType.INTERNAL_IP, NodeAddressType.HOSTNAME]`);
    }
    const kubeletTls = props.kubeletTls ?? KubeletTls.fromKubeRootCa();
    const servingTls = props.servingTls ?? ServingTls.fromDedicatedCa();
    const extraArgs = props.extraArgs ?? [];
    const extraArgsFindings = checkExtraArgs(extraArgs, {
      prop: 'extraArgs',
      serviceNames: servingDnsNames(this.name, this.namespace, clusterDomain),
      kubeletInsecure: kubeletTls.isInsecure,
      refuseManaged: true,
    });
    if (extraArgsFindings.errors.length > 0) {
      throw new Error(extraArgsFindings.errors[0]);
    }
    assertMetricsServerStarts(`${resolutionMs / 1000}s`, extraArgs);
    const resources = renderResources(props.resources);
    const production = resolveProduction(props, { name: this.name, namespace: this.namespace, securePort: this.securePort });
    const values = resolveChartValues(props, { name: this.name, replicas: production.workload.replicas, extraArgs, apiServiceInsecure: servingTls.isInsecure });

    // the approver's props are checked here too, before any certificate is read or written
    // its errors name its props under kubeletServingCertApprover, not this
    // construct's props of the same name (replicas, name, namespace, resources)
    if (props.kubeletServingCertApprover) {
      const approver = props.kubeletServingCertApprover;
      this.kubeletServingCertApprover = withPropBase(this, 'kubeletServingCertApprover', () => new KubeletServingCertApprover(this, 'KubeletServingCertApprover', {
        ...approver,
        namespace: approver.namespace ?? this.namespace,
      }));
    }

    // TLS, both hops
    const labels = { 'k8s-app': this.name };
    const kubelet = kubeletTls._bind('kubeletTls');
    const serving = servingTls._bind(this, {
      prop: 'servingTls',
      namespace: this.namespace,
      serviceName: this.name,
      clusterDomain,
      labels,
      now: new Date(),
    });
    this.kubeletInsecure = kubelet.insecure;
    this.apiServiceInsecure = serving.insecure;
    this.secret = serving.secret;
    this.certificate = serving.certificate;
    this.caBundle = serving.caBundlePem;

    const insecureHops = [
      ...(kubelet.insecure ? ['kubelet'] : []),
      ...(serving.insecure ? ['apiservice'] : []),
      ...extraArgsFindings.insecure,
    ];
    this.warnings = [...kubelet.warnings, ...serving.warnings, ...extraArgsFindings.warnings].map(w => warn(this, w));
    if (kubelet.insecure) {
      this.warnings.push(warn(this, `${this.node.path}: the kubelet hop is NOT verified (--kubelet-insecure-tls): metrics-server accepts any kubelet certificate. For test clusters only; use KubeletTls.fromKubeRootCa() in production`));
    }
    if (serving.insecure) {
      this.warnings.push(warn(this, `${this.node.path}: the APIService hop is NOT verified (insecureSkipTLSVerify: true): kube-apiserver accepts any certificate from metrics-server. For test clusters only; use a verified ServingTls in production`));
    }
    const insecureAnnotations: { [key: string]: string } = insecureHops.length ? { [SecureMetricsServer.INSECURE_ANNOTATION]: insecureHops.join(',') } : {};

    // Deployment: flags and volumes of both hops
    const args = [
      ...(serving.insecure ? ['--cert-dir=/tmp'] : []),
      `--secure-port=${this.securePort}`,
      `--kubelet-preferred-address-types=${addressTypes.join(',')}`,
      ...(props.kubeletUseNodeStatusPort ?? true ? ['--kubelet-use-node-status-port'] : []),
      `--metric-resolution=${resolutionMs / 1000}s`,
      ...(kubelet.insecure ? ['--kubelet-insecure-tls'] : [`--kubelet-certificate-authority=${kubelet.caFile}`]),
      ...(serving.secretName ? [`--tls-cert-file=${SERVING_CERT_DIR}/tls.crt`, `--tls-private-key-file=${SERVING_CERT_DIR}/tls.key`] : []),
      ...extraArgs,
    ];
    const volumes: k8s.Volume[] = [values.tmpVolume];
    const volumeMounts: k8s.VolumeMount[] = [{ name: 'tmp-dir', mountPath: '/tmp' }];
    if (kubelet.volume && kubelet.volumeMount) {
      volumes.push(kubelet.volume);
      volumeMounts.push(kubelet.volumeMount);
    }
    if (serving.secretName) {
      // no subPath: the kubelet then updates the files in place when the
      // Secret changes, and metrics-server reloads them
      volumes.push({ name: 'serving-cert', secret: { secretName: serving.secretName } });
      volumeMounts.push({ name: 'serving-cert', mountPath: SERVING_CERT_DIR, readOnly: true });
    }

    this.serviceAccount = values.createServiceAccount(this, this.namespace, labels);
    if (values.identity.rbacCreate) {
      const rbac = createRbac(this, { name: this.name, namespace: this.namespace, labels, serviceAccountName: values.identity.serviceAccountName });
      this.aggregatedReaderClusterRole = rbac.aggregatedReader;
      this.clusterRole = rbac.clusterRole;
      this.clusterRoleBinding = rbac.clusterRoleBinding;
      this.authDelegatorClusterRoleBinding = rbac.authDelegator;
      this.authReaderRoleBinding = rbac.authReader;
    }
    this.service = createService(this, { name: this.name, namespace: this.namespace, labels }, values.service);
    const built = values.build(this, {
      namespace: this.namespace, labels, apiServiceInsecure: serving.insecure, imagePullPolicy: production.workload.imagePullPolicy,
      ca: { caBundlePem: serving.caBundlePem, certManagerSecretName: serving.certificate ? serving.secretName : undefined },
      volumes, volumeMounts,
    });
    this.serviceMonitor = built.serviceMonitor;
    this.servingCaConfigMap = built.caConfigMap;
    this.metricsReaderClusterRole = built.metricsReaderClusterRole;
    this.addonResizerRole = built.addonResizerRole;
    this.addonResizerRoleBinding = built.addonResizerRoleBinding;
    this.metricsReaderClusterRoleBinding = built.metricsReaderClusterRoleBinding;
    this.addonResizerConfigMap = built.addonResizerConfigMap;
    this.deployment = createDeployment(this, {
      name: this.name,
      namespace: this.namespace,
      labels,
      annotations: insecureAnnotations,
      image,
      args: [...args, ...built.args],
      securePort: this.securePort,
      resources,
      serviceAccountName: values.identity.serviceAccountName,
      volumes: built.volumes,
      volumeMounts: built.volumeMounts,
      ...production.workload,
      extras: built.extras,
    });
    if (production.minAvailable !== undefined && values.tunesDisruptionBudget) {
      this.podDisruptionBudget = values.createPodDisruptionBudget(this, this.namespace, labels, production.minAvailable);
    } else if (production.minAvailable !== undefined) {
      this.podDisruptionBudget = createPodDisruptionBudget(this, {
        name: this.name, namespace: this.namespace, labels, minAvailable: production.minAvailable,
      });
    }
    if (production.networkPolicy) {
      this.networkPolicy = createNetworkPolicy(this, {
        name: this.name, namespace: this.namespace, labels, securePort: this.securePort, ...production.networkPolicy,
      });
    }
    this.warnings.push(...[...production.warnings, ...values.warnings].map(w => warn(this, `${this.node.path}: ${w}`)));
    this.apiService = !values.identity.apiServiceCreate ? undefined : createApiService(this, {
      name: this.name,
      namespace: this.namespace,
      labels,
      annotations: { ...values.identity.apiServiceAnnotations, ...insecureAnnotations, ...serving.apiServiceAnnotations },
      caBundlePem: serving.caBundlePem,
      insecure: serving.insecure,
      port: values.service.port,
    });

    addObjectMetadata(this, production.labels, production.annotations);

    // every reference between the objects written here resolves (lib/references.ts)
    const written = this.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map(o => o.toJson());
    const unresolved = unresolvedReferences(written, this.namespace, {
      volumeProps: { ...(kubelet.volume ? { [kubelet.volume.name]: 'kubeletTls' } : {}), 'serving-cert': 'servingTls' },
      flagProps: { 'kubelet-certificate-authority': 'kubeletTls', 'tls-cert-file': 'servingTls', 'tls-private-key-file': 'servingTls' },
      externalServiceAccounts: [
        ...(values.identity.serviceAccountCreate ? [] : [`${this.namespace}/${values.identity.serviceAccountName}`]),
        ...(props.metrics?._name !== undefined ? [`${props.metrics._namespace}/${props.metrics._name}`] : []),
      ],
    });
    assertWrittenObjects(written);
    if (unresolved.length > 0) {
      throw new Error(unresolved[0].prop === '(internal)'
        ? `${unresolved[0].message} (a reference the construct makes itself: please report this as a bug)`
        : unresolved[0].message);
    }
    instances.set(chart, this.node.path);
  }
}

/**
 * Refuses a command line that metrics-server v0.8 would refuse at start
 * (its Options.Validate, as lib/k8s/metrics-server-flags.ts states it): the
 * construct's `--metric-resolution` together with what `extraArgs` sets.
 */
function assertMetricsServerStarts(resolution: string, extraArgs: readonly string[]): void {
  // the one flag grammar (pflag's, lib/k8s/metrics-server-flags.ts): the last value of a flag wins
  const flags = parseCommandLine(extraArgs).flags;
  const last = (name: string): string | undefined => flags.filter(f => f.name === name).pop()?.value;
  const conflicts = startupConflicts(name => (name === 'metric-resolution' ? resolution : last(name)));
  if (conflicts.length === 0) {
    return;
  }
  const timeout = last('kubelet-request-timeout');
  if (conflicts.some(c => c.startsWith('--metric-resolution'))) {
    throw new Error(`metricResolution: ${resolution} must exceed the kubelet request timeout (${timeout ?? '10s'}, metrics-server's default${timeout ? ' overridden in extraArgs' : ''}) by a tenth, or metrics-server refuses to start; use e.g. Duration.seconds(15)${timeout ? ', or a shorter --kubelet-request-timeout' : ''}`);
  }
  throw new Error(`extraArgs: ${conflicts[0]}, so metrics-server would not start; fix or remove those flags`);
}

