import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { ContainerResources, Cpu, k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { assertImageReference } from './image';
import { renderGivenResources } from './resources';
import { Schema, T } from './k8s/prop-types';

/**
 * The addon-resizer ("pod nanny") sidecar, which resizes metrics-server's
 * resources with the cluster's node count: the chart's `addonResizer.*`,
 * with its defaults.
 * @see https://github.com/kubernetes/autoscaler/tree/master/addon-resizer
 */
export interface AddonResizerOptions {
  /**
   * The addon-resizer image (`repository[:tag][@sha256:...]`).
   * @default 'registry.k8s.io/autoscaling/addon-resizer:1.8.23'
   */
  readonly image?: string;
  /**
   * The sidecar's own resources.
   * @default - requests and limits cpu 40m, memory 25Mi (the chart's)
   */
  readonly resources?: ContainerResources;
  /**
   * metrics-server's base CPU (NannyConfiguration `baseCPU`).
   * @default Cpu.millis(0)
   */
  readonly baseCpu?: Cpu;
  /**
   * metrics-server's CPU per node (`cpuPerNode`).
   * @default Cpu.millis(1)
   */
  readonly cpuPerNode?: Cpu;
  /**
   * metrics-server's base memory (`baseMemory`).
   * @default Size.mebibytes(0)
   */
  readonly baseMemory?: Size;
  /**
   * metrics-server's memory per node (`memoryPerNode`).
   * @default Size.mebibytes(2)
   */
  readonly memoryPerNode?: Size;
  /**
   * The node count below which the nanny sizes as for this many nodes (`--minClusterSize`).
   * @default 100
   */
  readonly minClusterSize?: number;
  /**
   * How often the nanny checks (`--poll-period`, whole milliseconds).
   * @default Duration.minutes(5)
   */
  readonly pollPeriod?: Duration;
  /**
   * Percentage of deviation before the nanny resizes (`--threshold`, 0 to 100).
   * @default 5
   */
  readonly threshold?: number;
}

/** The runtime type checks of `AddonResizerOptions` (lib/k8s/prop-types.ts). @internal */
export const ADDON_RESIZER_OPTIONS_SCHEMA: Schema = {
  image: T.string("'registry.k8s.io/autoscaling/addon-resizer:1.8.23'"),
  resources: T.struct('ContainerResources', {}),
  baseCpu: T.instance(Cpu, 'Cpu.millis(0)'),
  cpuPerNode: T.instance(Cpu, 'Cpu.millis(1)'),
  baseMemory: T.size('Size.mebibytes(0)'),
  memoryPerNode: T.size('Size.mebibytes(2)'),
  minClusterSize: T.number('100'),
  pollPeriod: T.duration('Duration.minutes(5)'),
  threshold: T.number('5'),
};

/**
 * The sidecar's container, ConfigMap and Role.
 * @internal
 */
export interface AddonResizer {
  readonly container: k8s.Container;
  readonly volume: k8s.Volume;
  readonly configMap: k8s.KubeConfigMap;
  /** undefined with `rbacCreate: false` */
  readonly role?: k8s.KubeRole;
  readonly roleBinding?: k8s.KubeRoleBinding;
}

const VOLUME = 'nanny-config-volume';

/**
 * The addon-resizer sidecar as the chart makes it: `/pod_nanny` with the
 * NannyConfiguration in a ConfigMap at `/etc/config`, the exponential
 * estimator, the pod's name and namespace from the downward API, and a Role
 * (bound to metrics-server's ServiceAccount) that may get its pod and get
 * and patch its own Deployment only. Hardened as the main container.
 * @internal
 */
export function createAddonResizer(scope: Construct, options: AddonResizerOptions, context: {
  readonly name: string; readonly namespace: string; readonly labels: { [key: string]: string };
  readonly serviceAccountName: string; readonly runAsUser: number; readonly imagePullPolicy: string; readonly rbac: boolean;
}): AddonResizer {
  const image = options.image ?? 'registry.k8s.io/autoscaling/addon-resizer:1.8.23';
  assertImageReference('addonResizer.image', image);
  const minClusterSize = options.minClusterSize ?? 100;
  if (!Number.isInteger(minClusterSize) || minClusterSize < 0) {
    throw new Error(`addonResizer.minClusterSize: ${minClusterSize} must be a whole number of at least 0; use e.g. 100`);
  }
  const threshold = options.threshold ?? 5;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 100) {
    throw new Error(`addonResizer.threshold: ${threshold} must be a whole percentage from 0 to 100; use e.g. 5`);
  }
  const poll = (options.pollPeriod ?? Duration.minutes(5)).toMilliseconds();
  if (!Number.isInteger(poll) || poll < 1) {
    throw new Error(`addonResizer.pollPeriod: ${poll} ms must be a positive whole number of milliseconds; use e.g. Duration.minutes(5)`);
  }
  const cpu = (prop: string, c: Cpu | undefined, dflt: string) => {
    const v = c === undefined ? dflt : String(c.amount);
    if (!/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/.test(v)) {
      throw new Error(`addonResizer.${prop}: '${v}' is not a CPU quantity of at least 0; use e.g. Cpu.millis(1)`);
    }
    return v;
  };
  const mem = (prop: string, s: Size | undefined, dflt: string) => {
    if (s === undefined) {
      return dflt;
    }
    const mib = s.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!(mib >= 0)) {
      throw new Error(`addonResizer.${prop}: ${s.asString()} must not be negative; use e.g. Size.mebibytes(2)`);
    }
    return Number.isInteger(mib) ? `${mib}Mi` : s.asString();
  };
  const nanny = [
    'apiVersion: nannyconfig/v1alpha1',
    'kind: NannyConfiguration',
    `baseCPU: ${cpu('baseCpu', options.baseCpu, '0m')}`,
    `cpuPerNode: ${cpu('cpuPerNode', options.cpuPerNode, '1m')}`,
    `baseMemory: ${mem('baseMemory', options.baseMemory, '0Mi')}`,
    `memoryPerNode: ${mem('memoryPerNode', options.memoryPerNode, '2Mi')}`,
    '',
  ].join('\n');
  let resources: k8s.ResourceRequirements;
  try {
    resources = renderGivenResources(options.resources ?? {
      cpu: { request: Cpu.millis(40), limit: Cpu.millis(40) },
      memory: { request: Size.mebibytes(25), limit: Size.mebibytes(25) },
    });
  } catch (e: any) {
    throw new Error(`addonResizer.${e.message}`, { cause: e });
  }
  const { name, namespace, labels } = context;
  const configName = `${name}-nanny-config`;
  const configMap = new k8s.KubeConfigMap(scope, 'NannyConfig', {
    metadata: { name: configName, namespace, labels },
    data: { NannyConfiguration: nanny },
  });
  const roleName = `${name}-nanny`;
  const role = !context.rbac ? undefined : new k8s.KubeRole(scope, 'NannyRole', {
    metadata: { name: roleName, namespace, labels },
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: [name], verbs: ['get', 'patch'] },
    ],
  });
  const roleBinding = !context.rbac ? undefined : new k8s.KubeRoleBinding(scope, 'NannyRoleBinding', {
    metadata: { name: roleName, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: [{ kind: 'ServiceAccount', name: context.serviceAccountName, namespace }],
  });
  const fieldEnv = (env: string, fieldPath: string): k8s.EnvVar => ({ name: env, valueFrom: { fieldRef: { fieldPath } } });
  const container: k8s.Container = {
    name: 'metrics-server-nanny',
    image,
    imagePullPolicy: context.imagePullPolicy,
    command: [
      '/pod_nanny',
      '--config-dir=/etc/config',
      `--deployment=${name}`,
      '--container=metrics-server',
      `--threshold=${threshold}`,
      `--poll-period=${poll}`,
      '--estimator=exponential',
      `--minClusterSize=${minClusterSize}`,
    ],
    env: [fieldEnv('MY_POD_NAME', 'metadata.name'), fieldEnv('MY_POD_NAMESPACE', 'metadata.namespace')],
    resources,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: context.runAsUser,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [{ name: VOLUME, mountPath: '/etc/config', readOnly: true }],
  };
  return { container, volume: { name: VOLUME, configMap: { name: configName } }, configMap, role, roleBinding };
}
