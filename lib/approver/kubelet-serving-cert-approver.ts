import { Duration, Size } from 'cdk8s';
import { ContainerResources, Cpu, k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { assertDnsLabel, assertPort, clusterScoped, warn } from '../k8s/util';
import { checkPropTypes, propBase, propPath, Schema, T } from '../k8s/prop-types';
import { renderGivenResources } from '../resources';
import { INT32_MAX, isInt32 } from '../k8s/names';
import { checkCidr, checkProviderRegex } from './provider-policy';

/** The largest `MAX_EXPIRATION_SEC` the approver starts with: 367 days. */
const MAX_EXPIRATION_LIMIT_SECONDS = 367 * 24 * 3600;
/** The smallest `spec.expirationSeconds` the API server accepts on a CSR. */
const MIN_EXPIRATION_SECONDS = 600;
/** The approver's own bounds on `ALLOWED_DNS_NAMES`. */
const MAX_ALLOWED_DNS_NAMES = 1000;
/** Names a node must never get a certificate for; a regex that accepts them approves anything. */
const FOREIGN_NAMES = ['attacker.invalid', 'kubernetes.default.svc.cluster.local'];
/** Non-root user and group of the image (distroless "nonroot"). */
const NONROOT_ID = 65532;

/**
 * Settings of the kubelet-serving CSR approver, as given to
 * `SecureMetricsServer` (`kubeletServingCertApprover`) or to
 * `KubeletServingCertApprover` itself.
 */
export interface KubeletServingCertApproverOptions {
  /**
   * Which DNS names a node may put in its serving certificate
   * (`PROVIDER_REGEX`), as a Go (RE2) regular expression. It must be anchored
   * with `^` and `$`: the approver matches it anywhere in the name. Make it as
   * narrow as your node naming allows, e.g. `^k8s-(control|worker)-\d+\.example\.com$`.
   *
   * The approver also requires that the DNS name begins with the node's own
   * name and, unless `bypassDnsResolution` is set, that it resolves to the
   * IP addresses requested.
   */
  readonly providerRegex: string;

  /**
   * CIDRs (IPv4 and IPv6) every IP SAN of a kubelet's serving certificate
   * must fall in (`PROVIDER_IP_PREFIXES`): the node network, e.g.
   * `['192.168.10.0/24', 'fd00:10::/64']`.
   * @default - any address (the approver's default `0.0.0.0/0,::/0`); a warning is printed
   */
  readonly providerIpPrefixes?: string[];

  /**
   * The longest validity a CSR may ask for in `spec.expirationSeconds`
   * (`MAX_EXPIRATION_SEC`); longer requests are denied. Whole seconds, from
   * 10 minutes to 367 days (the approver refuses to start beyond 367 days).
   * Kubelets do not set `spec.expirationSeconds`: their certificates live as
   * long as kube-controller-manager's `--cluster-signing-duration`.
   * @default Duration.days(367)
   */
  readonly maxExpiration?: Duration;

  /**
   * How many DNS SANs a CSR may carry (`ALLOWED_DNS_NAMES`), 1 to 1000.
   * @default 1
   */
  readonly allowedDnsNames?: number;

  /**
   * Skip the check that the requested DNS name resolves to the requested IP
   * addresses (`BYPASS_DNS_RESOLUTION`). Needed where node names are not in
   * DNS; then `providerIpPrefixes` is the only check on the IP SANs.
   * @default false
   */
  readonly bypassDnsResolution?: boolean;

  /**
   * Name of the ServiceAccount, ClusterRole, ClusterRoleBinding, Role,
   * RoleBinding, Deployment and PodDisruptionBudget, and the `k8s-app` label.
   * @default 'kubelet-csr-approver'
   */
  readonly name?: string;

  /**
   * Namespace of the namespaced objects; the leader-election lease lives there.
   * @default - 'kube-system'; inside `SecureMetricsServer`, the metrics-server namespace
   */
  readonly namespace?: string;

  /**
   * Image tag of `ghcr.io/postfinance/kubelet-csr-approver`, optionally with a
   * digest (`v1.2.15@sha256:...`).
   * @default 'v1.2.15'
   */
  readonly version?: string;

  /**
   * Image repository, for a mirror of the upstream image.
   * @default 'ghcr.io/postfinance/kubelet-csr-approver'
   */
  readonly imageRepository?: string;

  /**
   * Number of pods. With more than one, leader election must be on.
   * @default 2
   */
  readonly replicas?: number;

  /**
   * Leader election (`-leader-election`), through the Lease
   * `kubelet-csr-approver` in `namespace`: one pod approves, the others wait.
   * @default true
   */
  readonly leaderElection?: boolean;

  /**
   * Port of the Prometheus metrics endpoint (`-metrics-bind-address`).
   * @default 8080
   */
  readonly metricsPort?: number;

  /**
   * Port of the health endpoint `/healthz` (`-health-probe-bind-address`),
   * used by the liveness and readiness probes.
   * @default 8081
   */
  readonly healthPort?: number;

  /**
   * Container resources, used as given (the defaults are not merged in);
   * a limit may not be below its request.
   * @default - requests cpu 10m and memory 32Mi, limit memory 128Mi
   */
  readonly resources?: ContainerResources;
}

/**
 * Props for `KubeletServingCertApprover`.
 */
export interface KubeletServingCertApproverProps extends KubeletServingCertApproverOptions {
}

/** The runtime type checks of `KubeletServingCertApproverProps` (and its options, lib/k8s/prop-types.ts). */
const PROPS_SCHEMA: Schema = {
  providerRegex: T.string("'^k8s-(control|worker)-\\\\d+\\\\.example\\\\.com$'"),
  providerIpPrefixes: T.array(T.string("'192.168.10.0/24'")),
  maxExpiration: T.duration('Duration.days(367)'),
  allowedDnsNames: T.number('1'),
  bypassDnsResolution: T.boolean(),
  name: T.string("'kubelet-csr-approver'"),
  namespace: T.string("'kube-system'"),
  version: T.string("'v1.2.10'"),
  imageRepository: T.string("'ghcr.io/postfinance/kubelet-csr-approver'"),
  replicas: T.number('2'),
  leaderElection: T.boolean(),
  metricsPort: T.number('8080'),
  healthPort: T.number('8081'),
  resources: T.struct('ContainerResources', {}),
};

/**
 * Approves kubelet serving certificates automatically and safely:
 * postfinance/kubelet-csr-approver, which approves a
 * `kubernetes.io/kubelet-serving` CSR only when it comes from the node itself
 * and its names and addresses pass the checks configured here, and denies it
 * otherwise.
 *
 * This replaces `kubectl certificate approve` for each node after
 * `serverTLSBootstrap: true`, at first start and at every rotation. The
 * approver's RBAC allows it to approve for the kubelet-serving signer only.
 */
export class KubeletServingCertApprover extends Construct {
  /**
   * The image repository of postfinance/kubelet-csr-approver.
   */
  public static readonly DEFAULT_IMAGE_REPOSITORY = 'ghcr.io/postfinance/kubelet-csr-approver';

  /**
   * The kubelet-csr-approver release this library is written against.
   */
  public static readonly DEFAULT_VERSION = 'v1.2.15';

  /**
   * The only signer the approver may approve for.
   */
  public static readonly SIGNER_NAME = 'kubernetes.io/kubelet-serving';

  /**
   * The lease the approver takes for leader election: a fixed name in the
   * approver's own namespace.
   */
  public static readonly LEASE_NAME = 'kubelet-csr-approver';

  /** Name of the objects. */
  public readonly name: string;
  /** Namespace of the namespaced objects. */
  public readonly namespace: string;
  /** The container image. */
  public readonly image: string;
  /** Number of pods. */
  public readonly replicas: number;
  /** Whether leader election is on. */
  public readonly leaderElection: boolean;
  /** The approver's ServiceAccount. */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** The ClusterRole: read CSRs, update their approval, approve for the kubelet-serving signer. */
  public readonly clusterRole: k8s.KubeClusterRole;
  /** Binds the ClusterRole to the ServiceAccount. */
  public readonly clusterRoleBinding: k8s.KubeClusterRoleBinding;
  /** The Role for the leader-election lease and its events, when leader election is on. */
  public readonly role?: k8s.KubeRole;
  /** Binds the Role to the ServiceAccount, when leader election is on. */
  public readonly roleBinding?: k8s.KubeRoleBinding;
  /** The approver Deployment. */
  public readonly deployment: k8s.KubeDeployment;
  /** Keeps one pod running through voluntary disruptions such as node drains. */
  public readonly podDisruptionBudget: k8s.KubePodDisruptionBudget;
  /**
   * Warnings made during construction (permissive checks), also recorded as
   * construct metadata and printed unless silenced (see `SecureMetricsServer.SILENCE_WARNINGS_CONTEXT`).
   */
  public readonly warnings: string[];

  /**
   * @param scope the Chart (or a construct in it) that holds the objects
   * @param id the construct id
   * @param props the approver's policy and settings
   */
  constructor(scope: Construct, id: string, props: KubeletServingCertApproverProps) {
    super(scope, id);
    // the prop path of these props: '' as a construct of its own, kubeletServingCertApprover inside SecureMetricsServer
    const base = propBase(scope);
    const at = (prop: string) => propPath(base, prop);
    checkPropTypes(base, props, PROPS_SCHEMA, 'KubeletServingCertApproverProps', false);
    const p: Partial<KubeletServingCertApproverProps> = props ?? {};

    this.name = p.name ?? 'kubelet-csr-approver';
    this.namespace = p.namespace ?? 'kube-system';
    assertDnsLabel(at('name'), this.name);
    assertDnsLabel(at('namespace'), this.namespace);

    const regex = checkProviderRegex(at('providerRegex'), p.providerRegex);
    const prefixes = p.providerIpPrefixes;
    if (prefixes !== undefined) {
      if (!Array.isArray(prefixes) || prefixes.length === 0) {
        throw new Error(`${at('providerIpPrefixes')}: [${prefixes}] is empty; list the node network CIDRs (e.g. ['192.168.10.0/24']), or leave it unset to allow any address`);
      }
      prefixes.forEach(cidr => checkCidr(at('providerIpPrefixes'), cidr));
    }
    const maxExpiration = p.maxExpiration ?? Duration.days(367);
    const maxMs = maxExpiration.toMilliseconds();
    if (!(maxMs % 1000 === 0 && maxMs >= MIN_EXPIRATION_SECONDS * 1000 && maxMs <= MAX_EXPIRATION_LIMIT_SECONDS * 1000)) {
      throw new Error(`${at('maxExpiration')}: ${maxExpiration.toHumanString()} is out of range; use whole seconds from 10 minutes (the shortest CSR validity Kubernetes accepts) to 367 days (the approver refuses to start beyond), e.g. Duration.days(365)`);
    }
    const allowedDnsNames = p.allowedDnsNames ?? 1;
    if (!Number.isInteger(allowedDnsNames) || allowedDnsNames < 1 || allowedDnsNames > MAX_ALLOWED_DNS_NAMES) {
      throw new Error(`${at('allowedDnsNames')}: ${allowedDnsNames} is out of range; use a whole number from 1 to ${MAX_ALLOWED_DNS_NAMES} (kubelets request one DNS name: use 1)`);
    }
    const bypassDnsResolution = p.bypassDnsResolution ?? false;

    const version = p.version ?? KubeletServingCertApprover.DEFAULT_VERSION;
    if (typeof version !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$/.test(version)) {
      throw new Error(`${at('version')}: '${version}' is not an image tag; use e.g. '${KubeletServingCertApprover.DEFAULT_VERSION}' or '${KubeletServingCertApprover.DEFAULT_VERSION}@sha256:<digest>'`);
    }
    const repository = p.imageRepository ?? KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY;
    if (typeof repository !== 'string' || !/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repository)) {
      throw new Error(`${at('imageRepository')}: '${repository}' is not an image repository; use e.g. '${KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY}' (no tag: the tag is 'version')`);
    }
    this.image = `${repository}:${version}`;

    this.replicas = p.replicas ?? 2;
    if (!isInt32(this.replicas, 1)) {
      throw new Error(`${at('replicas')}: ${this.replicas} must be a whole number from 1 to ${INT32_MAX} (int32); use 2 (one approves, one stands by)`);
    }
    this.leaderElection = p.leaderElection ?? true;
    if (this.replicas > 1 && !this.leaderElection) {
      throw new Error(`${at('replicas')}: ${this.replicas} pods without leader election would all act on every CSR; set leaderElection: true, or replicas: 1`);
    }
    const metricsPort = p.metricsPort ?? 8080;
    const healthPort = p.healthPort ?? 8081;
    assertPort(at('metricsPort'), metricsPort);
    assertPort(at('healthPort'), healthPort);
    if (metricsPort === healthPort) {
      throw new Error(`${at('healthPort')}: ${healthPort} is also metricsPort; the two endpoints need different ports (e.g. metricsPort 8080, healthPort 8081)`);
    }
    const resources = approverResources(at('resources'), p.resources);

    this.warnings = [];
    const matched = FOREIGN_NAMES.filter(n => regex.test(n));
    if (matched.length) {
      this.warnings.push(warn(this, `${this.node.path}: providerRegex '${p.providerRegex}' accepts ${matched.map(n => `'${n}'`).join(' and ')}: it lets a node ask for nearly any DNS name; narrow it to your node names`));
    }
    if (prefixes === undefined) {
      this.warnings.push(warn(this, `${this.node.path}: providerIpPrefixes is not set, so a node may put any IP address in its serving certificate${bypassDnsResolution ? ' (and bypassDnsResolution turns off the DNS check as well)' : ''}; set it to the node network, e.g. ['192.168.10.0/24']`));
    }

    // RBAC
    const labels = { 'k8s-app': this.name };
    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.name, namespace: this.namespace, labels },
      automountServiceAccountToken: true,
    });
    const subjects = [{ kind: 'ServiceAccount', name: this.name, namespace: this.namespace }];
    this.clusterRole = clusterScoped(new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata: { name: this.name, labels },
      rules: [
        { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: [KubeletServingCertApprover.SIGNER_NAME], verbs: ['approve'] },
      ],
    }));
    this.clusterRoleBinding = clusterScoped(new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: { name: this.name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.name },
      subjects,
    }));
    if (this.leaderElection) {
      this.role = new k8s.KubeRole(this, 'LeaderElectionRole', {
        metadata: { name: this.name, namespace: this.namespace, labels },
        rules: [
          // create cannot be limited by name; get and update are
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [KubeletServingCertApprover.LEASE_NAME], verbs: ['get', 'update'] },
          { apiGroups: [''], resources: ['events'], verbs: ['create'] },
        ],
      });
      this.roleBinding = new k8s.KubeRoleBinding(this, 'LeaderElectionRoleBinding', {
        metadata: { name: this.name, namespace: this.namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.name },
        subjects,
      });
    }

    // Deployment
    const env: k8s.EnvVar[] = [
      { name: 'PROVIDER_REGEX', value: p.providerRegex! },
      ...(prefixes ? [{ name: 'PROVIDER_IP_PREFIXES', value: prefixes.join(',') }] : []),
      { name: 'MAX_EXPIRATION_SEC', value: String(maxMs / 1000) },
      { name: 'ALLOWED_DNS_NAMES', value: String(allowedDnsNames) },
      { name: 'BYPASS_DNS_RESOLUTION', value: String(bypassDnsResolution) },
    ];
    const args = [
      `-metrics-bind-address=:${metricsPort}`,
      `-health-probe-bind-address=:${healthPort}`,
      ...(this.leaderElection ? ['-leader-election'] : []),
    ];
    const probe = { httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('health') }, periodSeconds: 10, failureThreshold: 3 };
    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name: this.name, namespace: this.namespace, labels },
      spec: {
        replicas: this.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: true,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: NONROOT_ID,
              runAsGroup: NONROOT_ID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [{
              name: 'kubelet-csr-approver',
              image: this.image,
              imagePullPolicy: 'IfNotPresent',
              args,
              env,
              ports: [
                { name: 'metrics', containerPort: metricsPort, protocol: 'TCP' },
                { name: 'health', containerPort: healthPort, protocol: 'TCP' },
              ],
              livenessProbe: probe,
              readinessProbe: probe,
              resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: NONROOT_ID,
                runAsGroup: NONROOT_ID,
                seccompProfile: { type: 'RuntimeDefault' },
              },
            }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
            topologySpreadConstraints: [{
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: labels },
            }],
          },
        },
      },
    });
    this.podDisruptionBudget = new k8s.KubePodDisruptionBudget(this, 'PodDisruptionBudget', {
      metadata: { name: this.name, namespace: this.namespace, labels },
      spec: {
        // with 2 pods one stays; with 1 pod a drain is not blocked for good
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: labels },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}

/** The approver's resources: the props' as given, or small defaults. */
function approverResources(prop: string, resources: ContainerResources | undefined): k8s.ResourceRequirements {
  return renderGivenResources(resources ?? {
    cpu: { request: Cpu.millis(10) },
    memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
  }, prop);
}
