import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { applyDeploymentExtras, DeploymentExtras } from './deployment-extras';
import { SELECTOR_LABEL } from './metadata';

/** Where the serving certificate Secret is mounted. */
export const SERVING_CERT_DIR = '/etc/metrics-server/tls';

/** The UID upstream runs metrics-server as. */
export const RUN_AS_USER = 1000;

/**
 * The pod-level securityContext, the one field that upstream's manifest does
 * not have: it makes the pod itself (not just its one container) meet the
 * Pod Security Standard "restricted", so that containers added later (by a
 * patch or a mutating webhook) inherit non-root and RuntimeDefault seccomp.
 */
const POD_SECURITY_CONTEXT: k8s.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  seccompProfile: { type: 'RuntimeDefault' },
};

/**
 * The pod settings that the production props resolve to.
 * @internal
 */
export interface PodSettings {
  /** 1 gives upstream's manifest (no `replicas` field, `maxUnavailable: 0`) */
  readonly replicas: number;
  /** labels of the pod template, on top of the object labels */
  readonly podLabels: { [key: string]: string };
  readonly podAnnotations: { [key: string]: string };
  readonly imagePullPolicy: string;
  readonly imagePullSecrets: string[];
  readonly nodeSelector: { [key: string]: string };
  readonly priorityClassName: string;
  readonly tolerations: k8s.Toleration[];
  readonly affinity?: k8s.Affinity;
  readonly topologySpreadConstraints: k8s.TopologySpreadConstraint[];
  readonly hostNetwork: boolean;
}

/**
 * Everything the Deployment is built from, already validated.
 * @internal
 */
export interface WorkloadOptions extends PodSettings {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
  readonly image: string;
  readonly args: string[];
  readonly securePort: number;
  readonly resources: k8s.ResourceRequirements;
  readonly serviceAccountName: string;
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
  /** the chart-values props (lib/deployment-extras.ts) */
  readonly extras?: DeploymentExtras;
}

/**
 * The metrics-server Deployment, field by field as upstream's release
 * manifest (or its high-availability variant with 2 or more replicas), plus
 * the volumes and flags of the TLS mode and a pod-level securityContext.
 * @internal
 */
export function createDeployment(scope: Construct, options: WorkloadOptions): k8s.KubeDeployment {
  const probe = (path: string) => ({
    failureThreshold: 3,
    httpGet: { path, port: k8s.IntOrString.fromString('https'), scheme: 'HTTPS' },
    periodSeconds: 10,
  });
  const replicas = options.replicas;
  const nonEmpty = <T>(list: T[]) => (list.length ? list : undefined);
  const podAnnotations = options.podAnnotations;
  return new k8s.KubeDeployment(scope, 'Deployment', applyDeploymentExtras({
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: options.labels,
      annotations: Object.keys(options.annotations).length ? options.annotations : undefined,
    },
    spec: {
      replicas: replicas > 1 ? replicas : undefined,
      selector: { matchLabels: { [SELECTOR_LABEL]: options.labels[SELECTOR_LABEL] } },
      // one replica: never take it down before its successor is ready;
      // several: replace one at a time (the others keep serving)
      strategy: { rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(replicas > 1 ? 1 : 0) } },
      template: {
        metadata: {
          labels: { ...options.podLabels, ...options.labels },
          annotations: Object.keys(podAnnotations).length ? podAnnotations : undefined,
        },
        spec: {
          affinity: options.affinity,
          containers: [{
            name: 'metrics-server',
            image: options.image,
            imagePullPolicy: options.imagePullPolicy,
            args: options.args,
            ports: [{ containerPort: options.securePort, name: 'https', protocol: 'TCP' }],
            livenessProbe: probe('/livez'),
            readinessProbe: { ...probe('/readyz'), initialDelaySeconds: 20 },
            resources: options.resources,
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              runAsUser: RUN_AS_USER,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: options.volumeMounts,
          }],
          dnsPolicy: options.hostNetwork ? 'ClusterFirstWithHostNet' : undefined,
          hostNetwork: options.hostNetwork ? true : undefined,
          imagePullSecrets: nonEmpty(options.imagePullSecrets.map(name => ({ name }))),
          nodeSelector: options.nodeSelector,
          priorityClassName: options.priorityClassName,
          securityContext: POD_SECURITY_CONTEXT,
          serviceAccountName: options.serviceAccountName,
          tolerations: nonEmpty(options.tolerations),
          topologySpreadConstraints: nonEmpty(options.topologySpreadConstraints),
          volumes: options.volumes,
        },
      },
    },
  }, options.extras));
}

/**
 * What the PodDisruptionBudget is built from, already validated.
 * @internal
 */
export interface DisruptionBudgetOptions {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly minAvailable: number;
}

/**
 * The `policy/v1` PodDisruptionBudget of upstream's high-availability
 * manifest: voluntary evictions (node drains) keep `minAvailable` pods serving.
 * @internal
 */
export function createPodDisruptionBudget(scope: Construct, options: DisruptionBudgetOptions): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, 'PodDisruptionBudget', {
    metadata: { name: options.name, namespace: options.namespace, labels: options.labels },
    spec: {
      minAvailable: k8s.IntOrString.fromNumber(options.minAvailable),
      selector: { matchLabels: { [SELECTOR_LABEL]: options.labels[SELECTOR_LABEL] } },
    },
  });
}
