import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ADDON_RESIZER_OPTIONS_SCHEMA, AddonResizerOptions, createAddonResizer } from './addon-resizer';
import { DeploymentExtras } from './deployment-extras';
import { EXTRA_VOLUMES_OPTIONS_SCHEMA, ExtraVolumesOptions, tmpVolume, withExtraVolumes } from './extra-volumes';
import { createServiceAccount, IDENTITY_OPTIONS_SCHEMA, IdentityOptions, resolveIdentity, ResolvedIdentity } from './identity';
import { SELECTOR_LABEL } from './metadata';
import { createMonitoring, MONITORING_OPTIONS_SCHEMA, MonitoringCaSource, MonitoringOptions, resolveMonitoring } from './monitoring';
import { POD_OPTIONS_SCHEMA, PodOptions, resolvePod } from './pod-options';
import { resolveRollout, ROLLOUT_OPTIONS_SCHEMA, RolloutOptions } from './rollout';
import { Schema, T } from './k8s/prop-types';
import { ResolvedService, resolveService, SERVICE_OPTIONS_SCHEMA, ServiceOptions } from './service-options';

/**
 * The settings of the official Helm chart's values that `ProductionProps`
 * does not cover, one group per file (docs/helm-values.md maps every chart
 * key to its prop).
 */
export interface ChartValuesProps extends IdentityOptions, RolloutOptions, PodOptions, ServiceOptions, ExtraVolumesOptions, MonitoringOptions {
  /**
   * Add the addon-resizer ("pod nanny") sidecar, which resizes
   * metrics-server's resources with the node count (the chart's
   * `addonResizer.enabled: true`), with its Role.
   * @default - no addon-resizer
   */
  readonly addonResizer?: AddonResizerOptions;
}

/** The runtime type checks of `ChartValuesProps`, merged into SecureMetricsServerProps' (lib/k8s/prop-types.ts). @internal */
export const CHART_VALUES_PROPS_SCHEMA: Schema = {
  ...IDENTITY_OPTIONS_SCHEMA, ...ROLLOUT_OPTIONS_SCHEMA, ...POD_OPTIONS_SCHEMA, ...SERVICE_OPTIONS_SCHEMA, ...EXTRA_VOLUMES_OPTIONS_SCHEMA,
  ...MONITORING_OPTIONS_SCHEMA, addonResizer: T.struct('AddonResizerOptions', ADDON_RESIZER_OPTIONS_SCHEMA),
};

/**
 * What the composing construct knows when it builds.
 * @internal
 */
export interface ChartValuesBuildContext {
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly apiServiceInsecure: boolean;
  readonly imagePullPolicy: string;
  readonly ca: MonitoringCaSource;
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
}

/**
 * What the build gives the composing construct.
 * @internal
 */
export interface BuiltChartValues {
  readonly args: string[];
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
  readonly extras: DeploymentExtras;
  readonly serviceMonitor?: import('cdk8s').ApiObject;
  readonly caConfigMap?: k8s.KubeConfigMap;
  readonly metricsReaderClusterRole?: k8s.KubeClusterRole;
  readonly addonResizerRole?: k8s.KubeRole;
  readonly addonResizerRoleBinding?: k8s.KubeRoleBinding;
  readonly addonResizerConfigMap?: k8s.KubeConfigMap;
  readonly metricsReaderClusterRoleBinding?: k8s.KubeClusterRoleBinding;
}

/**
 * The chart-values props, validated before anything is read or written.
 * @internal
 */
export interface ResolvedChartValues {
  readonly identity: ResolvedIdentity;
  readonly service: ResolvedService;
  readonly tmpVolume: k8s.Volume;
  readonly warnings: string[];
  /** the PodDisruptionBudget uses maxUnavailable or an eviction policy */
  readonly tunesDisruptionBudget: boolean;
  createServiceAccount(scope: Construct, namespace: string, labels: { [key: string]: string }): k8s.KubeServiceAccount | undefined;
  createPodDisruptionBudget(scope: Construct, namespace: string, labels: { [key: string]: string }, minAvailable: number): k8s.KubePodDisruptionBudget;
  build(scope: Construct, context: ChartValuesBuildContext): BuiltChartValues;
}

/**
 * Validates every chart-values prop, with the prop, the value and the fix.
 * @internal
 */
export function resolveChartValues(props: ChartValuesProps, context: {
  readonly name: string; readonly replicas: number; readonly extraArgs: string[]; readonly apiServiceInsecure: boolean;
}): ResolvedChartValues {
  const { name } = context;
  const identity = resolveIdentity(props, name);
  const service = resolveService(props);
  const rollout = resolveRollout(props, context.replicas, (props as { minAvailable?: number }).minAvailable !== undefined);
  const pod = resolvePod(props);
  const tmp = tmpVolume(props);
  const monitoring = resolveMonitoring(props, context.apiServiceInsecure);
  if (monitoring.metrics && monitoring.metrics._name === undefined && context.extraArgs.some(a => a.startsWith('--authorization-always-allow-paths'))) {
    throw new Error('extraArgs: --authorization-always-allow-paths is set by metrics: MetricsAuthorization.alwaysAllow(); remove it from extraArgs');
  }
  if (props.addonResizer !== undefined && (typeof props.addonResizer !== 'object' || props.addonResizer === null)) {
    throw new Error('addonResizer: pass an object (AddonResizerOptions), e.g. {}');
  }
  const tunesDisruptionBudget = rollout.podDisruptionBudgetMaxUnavailable !== undefined || rollout.unhealthyPodEvictionPolicy !== undefined;
  return {
    identity,
    service,
    tmpVolume: tmp,
    warnings: [...service.warnings],
    tunesDisruptionBudget,
    createServiceAccount: (scope, namespace, labels) => createServiceAccount(scope, identity, namespace, labels),
    createPodDisruptionBudget: (scope, namespace, labels, minAvailable) => new k8s.KubePodDisruptionBudget(scope, 'PodDisruptionBudget', {
      metadata: { name, namespace, labels },
      spec: {
        ...(rollout.podDisruptionBudgetMaxUnavailable !== undefined
          ? { maxUnavailable: k8s.IntOrString.fromNumber(rollout.podDisruptionBudgetMaxUnavailable) }
          : { minAvailable: k8s.IntOrString.fromNumber(minAvailable) }),
        selector: { matchLabels: { [SELECTOR_LABEL]: labels[SELECTOR_LABEL] } },
        unhealthyPodEvictionPolicy: rollout.unhealthyPodEvictionPolicy,
      },
    }),
    build: (scope, ctx) => {
      const mon = createMonitoring(scope, monitoring, { name, namespace: ctx.namespace, labels: ctx.labels, ca: ctx.ca, rbac: identity.rbacCreate });
      const extra = withExtraVolumes(props, ctx.volumes, ctx.volumeMounts);
      let sidecars: k8s.Container[] = [];
      let volumes = extra.volumes;
      let resizer: ReturnType<typeof createAddonResizer> | undefined;
      if (props.addonResizer) {
        resizer = createAddonResizer(scope, props.addonResizer, {
          name, namespace: ctx.namespace, labels: ctx.labels, serviceAccountName: identity.serviceAccountName,
          runAsUser: pod.runAsUser, imagePullPolicy: ctx.imagePullPolicy, rbac: identity.rbacCreate,
        });
        sidecars = [resizer.container];
        volumes = [...volumes, resizer.volume];
      }
      return {
        args: mon.args,
        volumes,
        volumeMounts: extra.volumeMounts,
        extras: { rollout, pod, sidecars },
        serviceMonitor: mon.serviceMonitor,
        caConfigMap: mon.caConfigMap,
        metricsReaderClusterRole: mon.metricsReaderClusterRole,
        addonResizerRole: resizer?.role,
        addonResizerRoleBinding: resizer?.roleBinding,
        metricsReaderClusterRoleBinding: mon.metricsReaderClusterRoleBinding,
        addonResizerConfigMap: resizer?.configMap,
      };
    },
  };
}
