import { ImagePullPolicy } from 'cdk8s-plus-28';
import { assertDnsSubdomain } from './k8s/util';
import { assertAnnotations, assertLabels } from './metadata';
import { assertNetworkPolicyPorts, DEFAULT_API_SERVER_PORTS, DEFAULT_KUBELET_PORT } from './network-policy';
import {
  PodAntiAffinity, renderAntiAffinity, renderNodeSelector, renderTolerations, renderTopologySpread,
  Toleration, TOLERATION_SCHEMA, TOPOLOGY_SPREAD_CONSTRAINT_SCHEMA, TopologySpreadConstraint,
} from './scheduling';
import { Schema, T } from './k8s/prop-types';
import { INT32_MAX, isInt32, isPriorityClassName, SYSTEM_PRIORITY_CLASS_PREFIX, SYSTEM_PRIORITY_CLASSES } from './k8s/names';
import { PodSettings } from './workload';

/** The lowest port a process without CAP_NET_BIND_SERVICE may bind on a node (net.ipv4.ip_unprivileged_port_start). */
const UNPRIVILEGED_PORT_START = 1024;

/**
 * Production settings of `SecureMetricsServer`: high availability,
 * scheduling, image pulling, extra metadata, a NetworkPolicy and host
 * networking. With none set, the objects are upstream's.
 */
export interface ProductionProps {
  /**
   * Number of metrics-server pods. With 2 or more, as upstream's
   * high-availability manifest: a PodDisruptionBudget, pod anti-affinity on
   * `kubernetes.io/hostname` and rolling updates with `maxUnavailable: 1`.
   * With 1, upstream's manifest: `maxUnavailable: 0`, no budget, no affinity.
   * High availability also wants `--enable-aggregator-routing=true` on
   * kube-apiserver (see docs/production.md, "High availability").
   * @default 1
   */
  readonly replicas?: number;

  /**
   * `minAvailable` of the PodDisruptionBudget (only with 2 or more replicas):
   * at least 1 and below `replicas`.
   * @default 1
   */
  readonly minAvailable?: number;

  /**
   * How replicas keep off each other's nodes (only with 2 or more replicas).
   * @default PodAntiAffinity.REQUIRED
   */
  readonly podAntiAffinity?: PodAntiAffinity;

  /**
   * Topology spread constraints (e.g. across zones); the label selector is
   * filled in.
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
   */
  readonly topologySpreadConstraints?: TopologySpreadConstraint[];

  /**
   * The pods' PriorityClass.
   * @default 'system-cluster-critical'
   */
  readonly priorityClassName?: string;

  /**
   * More node labels the pods must be scheduled on, on top of upstream's
   * `kubernetes.io/os: linux` (which an entry with that key replaces).
   * @default - only `kubernetes.io/os: linux`
   */
  readonly nodeSelector?: { [key: string]: string };

  /**
   * Taints the pods tolerate.
   * @default - none
   */
  readonly tolerations?: Toleration[];

  /**
   * Labels added to every object the construct synthesizes, and to the pods.
   * `k8s-app` is the construct's (it selects the pods) and cannot be set.
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Annotations added to every object the construct synthesizes (not to the
   * pods: see `podAnnotations`).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };

  /**
   * Labels added to the pods only. `k8s-app` cannot be set.
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations added to the pods only.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * When the kubelet pulls the image (cdk8s-plus-28's `ImagePullPolicy`).
   * @see https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: ImagePullPolicy;

  /**
   * Names of `kubernetes.io/dockerconfigjson` Secrets, in the namespace, to
   * pull the image with (a private registry or mirror).
   * @default - none
   */
  readonly imagePullSecrets?: string[];

  /**
   * Add a NetworkPolicy: ingress only to the secure port (from any source:
   * kube-apiserver often connects from the host network), egress only to the
   * kubelets, the API server and DNS.
   * @default false
   */
  readonly networkPolicy?: boolean;

  /**
   * The kubelets' port the NetworkPolicy lets metrics-server reach (only with `networkPolicy`).
   * @default 10250
   */
  readonly networkPolicyKubeletPort?: number;

  /**
   * The API server ports the NetworkPolicy lets metrics-server reach (only
   * with `networkPolicy`): the `kubernetes` Service port and the port of the
   * endpoints behind it, since CNIs match either.
   * @default [443, 6443]
   */
  readonly networkPolicyApiServerPorts?: number[];

  /**
   * Run the pods in the nodes' network namespace (`hostNetwork: true`, with
   * `dnsPolicy: ClusterFirstWithHostNet`), for clusters where kube-apiserver
   * cannot reach pod IPs (some CNIs on managed control planes). The kubelet
   * owns port 10250 on every node, so `securePort` must be another port (e.g. 4443),
   * and at least 1024: the non-root process cannot bind a privileged port on the node.
   * Host networking does not pass the Pod Security Standard "baseline".
   * @default false
   */
  readonly hostNetwork?: boolean;
}

/**
 * The runtime type checks of `ProductionProps` (lib/k8s/prop-types.ts), part
 * of `SecureMetricsServerProps`'; enum-typed props (podAntiAffinity,
 * imagePullPolicy) are checked where they are resolved, with messages of their own.
 * @internal
 */
export const PRODUCTION_PROPS_SCHEMA: Schema = {
  replicas: T.number('2'),
  minAvailable: T.number('1'),
  topologySpreadConstraints: T.array(T.struct('TopologySpreadConstraint', TOPOLOGY_SPREAD_CONSTRAINT_SCHEMA)),
  priorityClassName: T.string("'system-cluster-critical'"),
  nodeSelector: T.stringMap("{ 'kubernetes.io/os': 'linux' }"),
  tolerations: T.array(T.struct('Toleration', TOLERATION_SCHEMA)),
  labels: T.stringMap("{ team: 'platform' }"),
  annotations: T.stringMap("{ owner: 'platform' }"),
  podLabels: T.stringMap("{ team: 'platform' }"),
  podAnnotations: T.stringMap("{ owner: 'platform' }"),
  imagePullSecrets: T.array(T.string("'registry-credentials'")),
  networkPolicy: T.boolean(),
  networkPolicyKubeletPort: T.number('10250'),
  networkPolicyApiServerPorts: T.array(T.number('6443')),
  hostNetwork: T.boolean(),
};

/**
 * What the composing construct needs besides the props it checks itself.
 * @internal
 */
export interface ProductionContext {
  readonly name: string;
  readonly namespace: string;
  readonly securePort: number;
}

/**
 * Validated and rendered production settings.
 * @internal
 */
export interface ResolvedProduction {
  /** undefined with one replica: no PodDisruptionBudget */
  readonly minAvailable?: number;
  readonly workload: PodSettings;
  /** undefined without a NetworkPolicy */
  readonly networkPolicy?: { readonly kubeletPort: number; readonly apiServerPorts: number[] };
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
  readonly warnings: string[];
}

/**
 * Validates the production props; throws before anything is written, with
 * the prop, the bad value and the fix.
 * @internal
 */
export function resolveProduction(props: ProductionProps, context: ProductionContext): ResolvedProduction {
  const replicas = props.replicas ?? 1;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
    throw new Error(`replicas: ${replicas} must be a whole number; use e.g. 2 for high availability`);
  }
  if (replicas < 1) {
    throw new Error(`replicas: ${replicas} must be at least 1; use e.g. 2 for high availability`);
  }
  if (!isInt32(replicas, 1)) {
    throw new Error(`replicas: ${replicas} is over ${INT32_MAX}, the largest int32 kube-apiserver accepts; use e.g. 2 for high availability`);
  }
  let minAvailable: number | undefined;
  if (props.minAvailable !== undefined || replicas > 1) {
    minAvailable = props.minAvailable ?? 1;
    if (!Number.isInteger(minAvailable) || minAvailable < 1) {
      throw new Error(`minAvailable: ${minAvailable} must be a whole number of at least 1; use e.g. 1`);
    }
    if (minAvailable >= replicas) {
      throw new Error(`minAvailable: ${minAvailable} must be below replicas (${replicas}), or no pod could ever be evicted and node drains would hang; use e.g. minAvailable ${Math.max(1, replicas - 1)} with replicas ${Math.max(2, replicas)}`);
    }
  }
  const antiAffinity = props.podAntiAffinity ?? PodAntiAffinity.REQUIRED;
  const affinity = renderAntiAffinity(antiAffinity, context.name, context.namespace);

  const priorityClassName = props.priorityClassName ?? 'system-cluster-critical';
  assertDnsSubdomain('priorityClassName', priorityClassName);
  if (!isPriorityClassName(priorityClassName)) {
    throw new Error(`priorityClassName: '${priorityClassName}' can never exist: Kubernetes reserves the prefix '${SYSTEM_PRIORITY_CLASS_PREFIX}' for ${SYSTEM_PRIORITY_CLASSES.join(' and ')}; use one of those or a class of your own without the prefix`);
  }
  const pullPolicies = Object.values(ImagePullPolicy) as string[];
  const imagePullPolicy = props.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT;
  if (!pullPolicies.includes(imagePullPolicy)) {
    throw new Error(`imagePullPolicy: '${imagePullPolicy}' is not a pull policy; use ImagePullPolicy.ALWAYS, ImagePullPolicy.IF_NOT_PRESENT or ImagePullPolicy.NEVER`);
  }
  const imagePullSecrets = props.imagePullSecrets ?? [];
  imagePullSecrets.forEach((s, i) => assertDnsSubdomain(`imagePullSecrets[${i}]`, s));
  if (new Set(imagePullSecrets).size !== imagePullSecrets.length) {
    throw new Error(`imagePullSecrets: [${imagePullSecrets.join(', ')}] lists a Secret twice; list each once`);
  }

  const labels = props.labels ?? {};
  const annotations = props.annotations ?? {};
  const podLabels = props.podLabels ?? {};
  const podAnnotations = props.podAnnotations ?? {};
  assertLabels('labels', labels);
  assertAnnotations('annotations', annotations);
  assertLabels('podLabels', podLabels);
  assertAnnotations('podAnnotations', podAnnotations);

  const hostNetwork = props.hostNetwork ?? false;
  if (hostNetwork && context.securePort === DEFAULT_KUBELET_PORT) {
    throw new Error(`hostNetwork: true with securePort ${DEFAULT_KUBELET_PORT} would bind the kubelet's own port on every node; set securePort to another free port, e.g. 4443`);
  }
  if (hostNetwork && context.securePort < UNPRIVILEGED_PORT_START) {
    throw new Error(`hostNetwork: true with securePort ${context.securePort}: metrics-server runs as a non-root user with every capability dropped, so it cannot bind a port below ${UNPRIVILEGED_PORT_START} in the node's network namespace; set securePort to a free port from ${UNPRIVILEGED_PORT_START} up, e.g. 4443`);
  }

  const warnings: string[] = [];
  let networkPolicy: ResolvedProduction['networkPolicy'];
  const kubeletPort = props.networkPolicyKubeletPort ?? DEFAULT_KUBELET_PORT;
  const apiServerPorts = props.networkPolicyApiServerPorts ?? DEFAULT_API_SERVER_PORTS;
  if (props.networkPolicy) {
    assertNetworkPolicyPorts(kubeletPort, apiServerPorts);
    networkPolicy = { kubeletPort, apiServerPorts: [...apiServerPorts] };
    if (hostNetwork) {
      warnings.push('networkPolicy with hostNetwork: most CNIs do not apply NetworkPolicies to host-network pods, so the policy is likely to have no effect');
    }
  } else if (props.networkPolicyKubeletPort !== undefined || props.networkPolicyApiServerPorts !== undefined) {
    throw new Error('networkPolicyKubeletPort/networkPolicyApiServerPorts: set without networkPolicy: true, they have no effect; set networkPolicy: true or remove them');
  }

  return {
    minAvailable: replicas > 1 ? minAvailable : undefined,
    workload: {
      replicas,
      podLabels: { ...labels, ...podLabels },
      podAnnotations,
      imagePullPolicy,
      imagePullSecrets,
      nodeSelector: renderNodeSelector('nodeSelector', props.nodeSelector ?? {}),
      priorityClassName,
      tolerations: renderTolerations('tolerations', props.tolerations ?? []),
      affinity: replicas > 1 ? affinity : undefined,
      topologySpreadConstraints: renderTopologySpread('topologySpreadConstraints', props.topologySpreadConstraints ?? [], context.name),
      hostNetwork,
    },
    networkPolicy,
    labels,
    annotations,
    warnings,
  };
}
