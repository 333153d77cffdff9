import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/** Where the serving certificate Secret is mounted. */
export const SERVING_CERT_DIR = '/etc/metrics-server/tls';

/**
 * Everything the Deployment is built from, already validated.
 * @internal
 */
export interface WorkloadOptions {
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
}

/**
 * The metrics-server Deployment, field by field as upstream's release
 * manifest, plus the volumes and flags of the TLS mode.
 * @internal
 */
export function createDeployment(scope: Construct, options: WorkloadOptions): k8s.KubeDeployment {
  const probe = (path: string) => ({
    failureThreshold: 3,
    httpGet: { path, port: k8s.IntOrString.fromString('https'), scheme: 'HTTPS' },
    periodSeconds: 10,
  });
  return new k8s.KubeDeployment(scope, 'Deployment', {
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: options.labels,
      annotations: Object.keys(options.annotations).length ? options.annotations : undefined,
    },
    spec: {
      selector: { matchLabels: { 'k8s-app': options.labels['k8s-app'] } },
      strategy: { rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0) } },
      template: {
        metadata: { labels: options.labels },
        spec: {
          containers: [{
            name: 'metrics-server',
            image: options.image,
            imagePullPolicy: 'IfNotPresent',
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
              runAsUser: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: options.volumeMounts,
          }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          priorityClassName: 'system-cluster-critical',
          serviceAccountName: options.serviceAccountName,
          volumes: options.volumes,
        },
      },
    },
  });
}
