import { k8s } from 'cdk8s-plus-28';
import { ResolvedPod } from './pod-options';
import { ResolvedRollout } from './rollout';

/**
 * What the chart-values props change in the Deployment the construct builds
 * (lib/workload.ts): probes, strategy, revision history, pod settings,
 * sidecars. Undefined: the Deployment is exactly upstream's.
 * @internal
 */
export interface DeploymentExtras {
  readonly rollout: ResolvedRollout;
  readonly pod: ResolvedPod;
  /** more containers after metrics-server (the addon-resizer) */
  readonly sidecars: k8s.Container[];
}

const nonEmpty = (o: { [key: string]: unknown }) => Object.values(o).some(v => v !== undefined);

/**
 * The Deployment's props with the extras applied; fields the extras leave
 * unset are as given (so the defaults give byte-identical output).
 * @internal
 */
export function applyDeploymentExtras(props: k8s.KubeDeploymentProps, extras: DeploymentExtras | undefined): k8s.KubeDeploymentProps {
  if (!extras) {
    return props;
  }
  const { rollout, pod } = extras;
  const spec = props.spec!;
  const podSpec = spec.template.spec!;
  const [main, ...others] = podSpec.containers;
  const annotations = { ...props.metadata?.annotations, ...pod.deploymentAnnotations };
  const affinity = pod.nodeAffinity ? { ...podSpec.affinity, nodeAffinity: pod.nodeAffinity } : podSpec.affinity;
  const podSecurityContext: k8s.PodSecurityContext = { ...podSpec.securityContext, runAsUser: pod.runAsUser, runAsGroup: pod.runAsGroup, fsGroup: pod.fsGroup };
  return {
    ...props,
    metadata: { ...props.metadata, annotations: nonEmpty(annotations) ? annotations : undefined },
    spec: {
      ...spec,
      revisionHistoryLimit: rollout.revisionHistoryLimit,
      strategy: rollout.strategy ?? spec.strategy,
      template: {
        ...spec.template,
        spec: {
          ...podSpec,
          affinity,
          containers: [{
            ...main,
            livenessProbe: rollout.livenessProbe,
            readinessProbe: rollout.readinessProbe,
            securityContext: { ...main.securityContext, runAsUser: pod.runAsUser, runAsGroup: pod.runAsGroup },
          }, ...others, ...extras.sidecars],
          dnsConfig: pod.dnsConfig,
          hostUsers: pod.hostUsers,
          schedulerName: pod.schedulerName,
          securityContext: podSecurityContext,
        },
      },
    },
  };
}
