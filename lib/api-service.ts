import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { clusterScoped } from './k8s/util';

/** The Service port kube-apiserver dials. */
export const SERVICE_PORT = 443;

/**
 * What the Service and APIService are built from.
 * @internal
 */
export interface ApiServiceOptions {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
  /** PEM bundle; undefined with insecure */
  readonly caBundlePem?: string;
  readonly insecure: boolean;
  /** the Service port (servicePort) */
  readonly port?: number;
}

/**
 * The Service's settings beyond name and labels (lib/service-options.ts).
 * @internal
 */
export interface ServiceExtras {
  readonly type?: string;
  readonly port: number;
  readonly annotations: { [key: string]: string };
  readonly labels: { [key: string]: string };
}

/**
 * The Service in front of metrics-server (port 443 to the named port
 * `https`, so that one securePort drives everything).
 * @internal
 */
export function createService(scope: Construct, options: Pick<ApiServiceOptions, 'name' | 'namespace' | 'labels'>, extras?: ServiceExtras): k8s.KubeService {
  const annotations = extras?.annotations ?? {};
  return new k8s.KubeService(scope, 'Service', {
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { ...extras?.labels, ...options.labels },
      annotations: Object.keys(annotations).length ? annotations : undefined,
    },
    spec: {
      ports: [{ appProtocol: 'https', name: 'https', port: extras?.port ?? SERVICE_PORT, protocol: 'TCP', targetPort: k8s.IntOrString.fromString('https') }],
      selector: { 'k8s-app': options.labels['k8s-app'] },
      type: extras?.type,
    },
  });
}

/**
 * The `v1beta1.metrics.k8s.io` APIService. Verified: `caBundle` set and
 * `insecureSkipTLSVerify` omitted (the API server drops `false`, so writing it
 * would drift forever, and it refuses `true` together with a caBundle).
 * @internal
 */
export function createApiService(scope: Construct, options: ApiServiceOptions): k8s.KubeApiService {
  if (!options.insecure && options.caBundlePem === undefined && !Object.keys(options.annotations).some(k => k.startsWith('cert-manager.io/'))) {
    throw new Error('a verified APIService needs a caBundle or a CA injector annotation');
  }
  return clusterScoped(new k8s.KubeApiService(scope, 'ApiService', {
    metadata: {
      name: 'v1beta1.metrics.k8s.io',
      labels: options.labels,
      annotations: Object.keys(options.annotations).length ? options.annotations : undefined,
    },
    spec: {
      group: 'metrics.k8s.io',
      groupPriorityMinimum: 100,
      version: 'v1beta1',
      versionPriority: 100,
      service: { name: options.name, namespace: options.namespace, port: options.port ?? SERVICE_PORT },
      ...(options.insecure
        ? { insecureSkipTlsVerify: true }
        : options.caBundlePem !== undefined ? { caBundle: Buffer.from(options.caBundlePem).toString('base64') } : {}),
    },
  }));
}
