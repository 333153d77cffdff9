import { Duration, Size } from 'cdk8s';
import { ContainerResources, Cpu, k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RE2JS } from 're2js';
import { assertDnsLabel, assertPort, clusterScoped, warn } from './_util';
import { schemaOf } from './prop-schemas';
import { checkPropTypes } from './prop-types';
import { renderGivenResources } from './resources';
import { INT32_MAX, isInt32 } from './rules/k8s-names';

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
    checkPropTypes('', props, schemaOf('KubeletServingCertApproverProps'), 'KubeletServingCertApproverProps', false);
    const p: Partial<KubeletServingCertApproverProps> = props ?? {};

    this.name = p.name ?? 'kubelet-csr-approver';
    this.namespace = p.namespace ?? 'kube-system';
    assertDnsLabel('name', this.name);
    assertDnsLabel('namespace', this.namespace);

    const regex = checkProviderRegex(p.providerRegex);
    const prefixes = p.providerIpPrefixes;
    if (prefixes !== undefined) {
      if (!Array.isArray(prefixes) || prefixes.length === 0) {
        throw new Error(`providerIpPrefixes: [${prefixes}] is empty; list the node network CIDRs (e.g. ['192.168.10.0/24']), or leave it unset to allow any address`);
      }
      prefixes.forEach(checkCidr);
    }
    const maxExpiration = p.maxExpiration ?? Duration.days(367);
    const maxMs = maxExpiration.toMilliseconds();
    if (!(maxMs % 1000 === 0 && maxMs >= MIN_EXPIRATION_SECONDS * 1000 && maxMs <= MAX_EXPIRATION_LIMIT_SECONDS * 1000)) {
      throw new Error(`maxExpiration: ${maxExpiration.toHumanString()} is out of range; use whole seconds from 10 minutes (the shortest CSR validity Kubernetes accepts) to 367 days (the approver refuses to start beyond), e.g. Duration.days(365)`);
    }
    const allowedDnsNames = p.allowedDnsNames ?? 1;
    if (!Number.isInteger(allowedDnsNames) || allowedDnsNames < 1 || allowedDnsNames > MAX_ALLOWED_DNS_NAMES) {
      throw new Error(`allowedDnsNames: ${allowedDnsNames} is out of range; use a whole number from 1 to ${MAX_ALLOWED_DNS_NAMES} (kubelets request one DNS name: use 1)`);
    }
    const bypassDnsResolution = p.bypassDnsResolution ?? false;

    const version = p.version ?? KubeletServingCertApprover.DEFAULT_VERSION;
    if (typeof version !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$/.test(version)) {
      throw new Error(`version: '${version}' is not an image tag; use e.g. '${KubeletServingCertApprover.DEFAULT_VERSION}' or '${KubeletServingCertApprover.DEFAULT_VERSION}@sha256:<digest>'`);
    }
    const repository = p.imageRepository ?? KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY;
    if (typeof repository !== 'string' || !/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(repository)) {
      throw new Error(`imageRepository: '${repository}' is not an image repository; use e.g. '${KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY}' (no tag: the tag is 'version')`);
    }
    this.image = `${repository}:${version}`;

    this.replicas = p.replicas ?? 2;
    if (!isInt32(this.replicas, 1)) {
      throw new Error(`replicas: ${this.replicas} must be a whole number from 1 to ${INT32_MAX} (int32); use 2 (one approves, one stands by)`);
    }
    this.leaderElection = p.leaderElection ?? true;
    if (this.replicas > 1 && !this.leaderElection) {
      throw new Error(`replicas: ${this.replicas} pods without leader election would all act on every CSR; set leaderElection: true, or replicas: 1`);
    }
    const metricsPort = p.metricsPort ?? 8080;
    const healthPort = p.healthPort ?? 8081;
    assertPort('metricsPort', metricsPort);
    assertPort('healthPort', healthPort);
    if (metricsPort === healthPort) {
      throw new Error(`healthPort: ${healthPort} is also metricsPort; the two endpoints need different ports (e.g. metricsPort 8080, healthPort 8081)`);
    }
    const resources = approverResources(p.resources);

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

/**
 * Checks that `value` is an anchored regular expression that Go's regexp
 * (RE2) compiles, with a real RE2 engine (re2js, a port of RE2 with the same
 * syntax and limits, e.g. repeat counts up to 1000), and returns it compiled
 * for further checks. Matching is unanchored find, as Go's MatchString.
 */
function checkProviderRegex(value: string | undefined): { test(input: string): boolean } {
  const example = `e.g. '^k8s-(control|worker)-\\d+\\.example\\.com$'`;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`providerRegex: '${value ?? ''}' is missing; it says which DNS names nodes may request, and without it the approver refuses to start: set it to your node names, ${example}`);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(value);
  } catch (e: any) {
    const message = String(e.message);
    const unsupported = [
      { re: /`\(\?<?[=!]/, what: 'lookaround' },
      { re: /invalid escape sequence: `\\[1-9k]/, what: 'backreferences' },
      { re: /`\(\?>/, what: 'atomic groups' },
    ].find(u => u.re.test(message));
    if (unsupported) {
      throw new Error(`providerRegex: '${value}' uses ${unsupported.what}, which Go's regexp (RE2) does not support, so the approver would crash at start; rewrite it without, ${example}`, { cause: e });
    }
    throw new Error(`providerRegex: '${value}' is not a valid regular expression (${message}; Go's regexp would not compile it, so the approver would crash at start); fix it, ${example}`, { cause: e });
  }
  // anchoring is checked on the text: a leading flag group such as (?i) and \A ... \z count as anchors
  const source = value.replace(/^\(\?[imsU]+\)/, '').replace(/^\\A/, '^').replace(/\\z$/, '$');
  if (!source.startsWith('^') || !endsWithAnchor(source) || hasTopLevelAlternation(source)) {
    throw new Error(`providerRegex: '${value}' is not anchored at both ends; the approver accepts a name if the regex matches any part of it, so write '^(?:${value})$' or narrower, ${example}`);
  }
  return { test: (input: string) => compiled.test(input) };
}

/** Whether the regex ends with an unescaped `$`. */
function endsWithAnchor(source: string): boolean {
  if (!source.endsWith('$')) {
    return false;
  }
  let backslashes = 0;
  for (let i = source.length - 2; i >= 0 && source[i] === '\\'; i--) {
    backslashes++;
  }
  return backslashes % 2 === 0;
}

/** Whether `|` appears outside any group or character class (so `^a|b$` is not anchored). */
function hasTopLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      inClass = c !== ']';
    } else if (c === '[') {
      inClass = true;
      if (source[i + 1] === ']') {
        i++;
      }
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
    } else if (c === '|' && depth === 0) {
      return true;
    }
  }
  return false;
}

/**
 * Throws unless `value` is a CIDR as Go's `netip.ParsePrefix` reads it, with
 * no bits set after the prefix length.
 */
function checkCidr(value: string): void {
  const bad = (why: string, fix: string) => new Error(`providerIpPrefixes: '${value}' ${why}; ${fix}`);
  const example = "write a network address and prefix length, e.g. '192.168.10.0/24' or 'fd00:10::/64'";
  if (typeof value !== 'string') {
    throw bad('is not a CIDR', example);
  }
  const m = /^([^/\s]+)\/(0|[1-9][0-9]{0,2})$/.exec(value);
  if (!m) {
    throw bad('is not a CIDR (address/prefix length, no spaces)', example);
  }
  const bytes = m[1].includes(':') ? parseIPv6(m[1]) : parseIPv4(m[1]);
  if (!bytes) {
    throw bad(`has an invalid ${m[1].includes(':') ? 'IPv6' : 'IPv4'} address`, example);
  }
  const bits = Number(m[2]);
  if (bits > bytes.length * 8) {
    throw bad(`has a prefix length above ${bytes.length * 8}`, example);
  }
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & (0xff << (8 - keep)) & 0xff;
  });
  if (masked.some((b, i) => b !== bytes[i])) {
    throw bad('has bits set after the prefix length', `use the network address '${formatAddress(masked)}/${bits}'`);
  }
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some(x => !/^(0|[1-9][0-9]{0,2})$/.test(x) || Number(x) > 255)) {
    return undefined;
  }
  return parts.map(Number);
}

function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%') || s.split('::').length > 2) {
    return undefined;
  }
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') {
      return [];
    }
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) {
          return undefined;
        }
        out.push(v4[0], v4[1], v4[2], v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        const n = parseInt(g, 16);
        out.push(n >> 8, n & 0xff);
      } else {
        return undefined;
      }
    }
    return out;
  };
  const [head, tail] = s.split('::');
  const h = parseGroups(head);
  if (tail === undefined) {
    return h && h.length === 16 ? h : undefined;
  }
  const t = parseGroups(tail);
  // an embedded IPv4 address may only end the address; '::' stands for at least one group
  if (!h || !t || head.includes('.') || h.length + t.length > 14) {
    return undefined;
  }
  return [...h, ...new Array(16 - h.length - t.length).fill(0), ...t];
}

function formatAddress(bytes: number[]): string {
  if (bytes.length === 4) {
    return bytes.join('.');
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  // compress the longest run of two or more zero groups
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') {
      j++;
    }
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  if (best < 0) {
    return groups.join(':');
  }
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** The approver's resources: the props' as given, or small defaults. */
function approverResources(resources: ContainerResources | undefined): k8s.ResourceRequirements {
  return renderGivenResources(resources ?? {
    cpu: { request: Cpu.millis(10) },
    memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
  });
}
