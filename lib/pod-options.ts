import { DnsOption, k8s, NodeLabelQuery } from 'cdk8s-plus-28';
import { assertDnsSubdomain } from './k8s/util';
import { assertAnnotations } from './metadata';
import {
  isInt32, isIpAddress, MAX_DNS_NAMESERVERS, MAX_DNS_SEARCH_LIST_CHARS, MAX_DNS_SEARCH_PATHS,
} from './k8s/pod-spec';
import { Schema, T } from './k8s/prop-types';

/**
 * Pod and Deployment settings beyond scheduling presets: the chart's
 * `hostUsers`, `schedulerName`, `dnsConfig`, `affinity.nodeAffinity`,
 * `deploymentAnnotations` and the user and group of `securityContext`.
 */
export interface PodOptions {
  /**
   * `hostUsers: false` runs the pods in a user namespace (Kubernetes 1.33+
   * on by default; the node's runtime must support it): root in the pod is
   * not root on the node.
   * @default - not written (the pods share the node's user namespace)
   */
  readonly hostUsers?: boolean;

  /**
   * The scheduler that places the pods (a DNS subdomain).
   * @default - the default scheduler
   */
  readonly schedulerName?: string;

  /**
   * `dnsConfig.nameservers`: at most 3 IP addresses.
   * @default - none
   */
  readonly dnsNameservers?: string[];

  /**
   * `dnsConfig.searches`: at most 32 search domains.
   * @default - none
   */
  readonly dnsSearches?: string[];

  /**
   * `dnsConfig.options` (e.g. `{ name: 'ndots', value: '2' }`).
   * @default - none
   */
  readonly dnsOptions?: DnsOption[];

  /**
   * Node labels the pods require (one node selector term, every query
   * must match), beside the anti-affinity of `podAntiAffinity`.
   * @default - none
   */
  readonly requiredNodeAffinity?: NodeLabelQuery[];

  /**
   * Node labels the pods prefer (one preferred term of weight 100).
   * @default - none
   */
  readonly preferredNodeAffinity?: NodeLabelQuery[];

  /**
   * Annotations of the Deployment only (not of its pods or other objects).
   * @default - none
   */
  readonly deploymentAnnotations?: { [key: string]: string };

  /**
   * The UID metrics-server (and the addon-resizer) run as: not 0, since the
   * containers run with `runAsNonRoot: true`.
   * @default 1000
   */
  readonly runAsUser?: number;

  /**
   * The primary GID of the containers' processes.
   * @default - the image's
   */
  readonly runAsGroup?: number;

  /**
   * The pod's `fsGroup` (group of the mounted volumes).
   * @default - none
   */
  readonly fsGroup?: number;
}

/** The runtime type checks of `PodOptions` (lib/k8s/prop-types.ts). @internal */
export const POD_OPTIONS_SCHEMA: Schema = {
  hostUsers: T.boolean(),
  schedulerName: T.string("'default-scheduler'"),
  dnsNameservers: T.array(T.string("'10.96.0.10'")),
  dnsSearches: T.array(T.string("'svc.cluster.local'")),
  dnsOptions: T.array(T.struct('DnsOption', { name: T.string("'ndots'"), value: T.string("'2'") })),
  requiredNodeAffinity: T.array(T.instance(NodeLabelQuery, "NodeLabelQuery.is('kubernetes.io/arch', 'amd64')")),
  preferredNodeAffinity: T.array(T.instance(NodeLabelQuery, "NodeLabelQuery.exists('node-role.kubernetes.io/infra')")),
  deploymentAnnotations: T.stringMap("{ owner: 'platform' }"),
  runAsUser: T.number('1000'),
  runAsGroup: T.number('1000'),
  fsGroup: T.number('1000'),
};

/**
 * The pod settings, validated and rendered.
 * @internal
 */
export interface ResolvedPod {
  readonly hostUsers?: boolean;
  readonly schedulerName?: string;
  readonly dnsConfig?: k8s.PodDnsConfig;
  readonly nodeAffinity?: k8s.NodeAffinity;
  readonly deploymentAnnotations: { [key: string]: string };
  readonly runAsUser: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
}

/**
 * Validates the pod props as kube-apiserver would, with the prop, the value and the fix.
 * @internal
 */
export function resolvePod(props: PodOptions): ResolvedPod {
  if (props.schedulerName !== undefined) {
    assertDnsSubdomain('schedulerName', props.schedulerName);
  }
  const nameservers = props.dnsNameservers ?? [];
  if (nameservers.length > MAX_DNS_NAMESERVERS) {
    throw new Error(`dnsNameservers: ${nameservers.length} given, kube-apiserver allows at most ${MAX_DNS_NAMESERVERS}; keep 3 or fewer`);
  }
  nameservers.forEach((n, i) => {
    if (!isIpAddress(n)) {
      throw new Error(`dnsNameservers[${i}]: '${n}' is not an IP address; use e.g. '10.96.0.10'`);
    }
  });
  const searches = props.dnsSearches ?? [];
  if (searches.length > MAX_DNS_SEARCH_PATHS || searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) {
    throw new Error(`dnsSearches: ${searches.length} domains of ${searches.join(' ').length} characters; kube-apiserver allows at most ${MAX_DNS_SEARCH_PATHS} domains and ${MAX_DNS_SEARCH_LIST_CHARS} characters`);
  }
  searches.forEach((s, i) => assertDnsSubdomain(`dnsSearches[${i}]`, s.endsWith('.') ? s.slice(0, -1) : s));
  const options = props.dnsOptions ?? [];
  options.forEach((o, i) => {
    if (typeof o?.name !== 'string' || o.name.length === 0) {
      throw new Error(`dnsOptions[${i}].name: must be a non-empty string (kube-apiserver requires it); use e.g. { name: 'ndots', value: '2' }`);
    }
  });
  const dnsConfig = nameservers.length || searches.length || options.length
    ? {
      nameservers: nameservers.length ? nameservers : undefined,
      searches: searches.length ? searches : undefined,
      options: options.length ? options.map(o => ({ name: o.name, value: o.value })) : undefined,
    }
    : undefined;

  const queries = (prop: string, list: NodeLabelQuery[] | undefined): k8s.NodeSelectorRequirement[] => (list ?? []).map((q, i) => {
    if (!(q instanceof NodeLabelQuery)) {
      throw new Error(`${prop}[${i}]: got ${typeof q}; pass a NodeLabelQuery (e.g. NodeLabelQuery.in('node.kubernetes.io/instance-type', ['m5.large']))`);
    }
    const r = q._toKube();
    if ((r.operator === 'In' || r.operator === 'NotIn') && !(r.values ?? []).length) {
      throw new Error(`${prop}[${i}]: '${r.key}' ${r.operator} needs at least one value (kube-apiserver refuses an empty list)`);
    }
    if ((r.operator === 'Gt' || r.operator === 'Lt') && !((r.values ?? []).length === 1 && /^-?[0-9]+$/.test(r.values![0]))) {
      throw new Error(`${prop}[${i}]: '${r.key}' ${r.operator} needs exactly one whole-number value (kube-apiserver refuses others)`);
    }
    return r;
  });
  const required = queries('requiredNodeAffinity', props.requiredNodeAffinity);
  const preferred = queries('preferredNodeAffinity', props.preferredNodeAffinity);
  const nodeAffinity = required.length || preferred.length ? {
    requiredDuringSchedulingIgnoredDuringExecution: required.length ? { nodeSelectorTerms: [{ matchExpressions: required }] } : undefined,
    preferredDuringSchedulingIgnoredDuringExecution: preferred.length ? [{ weight: 100, preference: { matchExpressions: preferred } }] : undefined,
  } : undefined;

  const deploymentAnnotations = props.deploymentAnnotations ?? {};
  assertAnnotations('deploymentAnnotations', deploymentAnnotations);

  const runAsUser = props.runAsUser ?? 1000;
  if (!isInt32(runAsUser, 1)) {
    throw new Error(`runAsUser: ${runAsUser} must be a whole number from 1 to 2147483647 (the containers run with runAsNonRoot: true, which refuses UID 0); use e.g. 1000`);
  }
  for (const [prop, v] of [['runAsGroup', props.runAsGroup], ['fsGroup', props.fsGroup]] as const) {
    if (v !== undefined && !isInt32(v, 0)) {
      throw new Error(`${prop}: ${v} must be a whole number from 0 to 2147483647; use e.g. 1000`);
    }
  }
  return {
    hostUsers: props.hostUsers,
    schedulerName: props.schedulerName,
    dnsConfig,
    nodeAffinity,
    deploymentAnnotations,
    runAsUser,
    runAsGroup: props.runAsGroup,
    fsGroup: props.fsGroup,
  };
}
