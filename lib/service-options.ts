import { ServiceType } from 'cdk8s-plus-28';
import { assertPort } from './k8s/util';
import { assertAnnotations, assertLabels } from './metadata';
import { Schema, T } from './k8s/prop-types';

/**
 * The Service kube-apiserver dials: the chart's `service.*`.
 */
export interface ServiceOptions {
  /**
   * The Service type. `ExternalName` is refused: it has no selector, so the
   * APIService could not reach the pods. `NodePort` and `LoadBalancer` also
   * expose metrics-server outside the cluster (warned about).
   * @default ServiceType.CLUSTER_IP
   */
  readonly serviceType?: ServiceType;

  /**
   * The Service port, which the APIService's `spec.service.port` follows.
   * @default 443
   */
  readonly servicePort?: number;

  /**
   * Annotations of the Service only.
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };

  /**
   * Labels of the Service only (e.g. `kubernetes.io/cluster-service: 'true'`
   * for `kubectl cluster-info`). `k8s-app` cannot be set.
   * @default - none
   */
  readonly serviceLabels?: { [key: string]: string };
}

/** The runtime type checks of `ServiceOptions` (lib/k8s/prop-types.ts). @internal */
export const SERVICE_OPTIONS_SCHEMA: Schema = {
  serviceType: T.enumOf(ServiceType as any, 'ServiceType'),
  servicePort: T.number('443'),
  serviceAnnotations: T.stringMap("{ owner: 'platform' }"),
  serviceLabels: T.stringMap("{ 'kubernetes.io/cluster-service': 'true' }"),
};

/**
 * The Service settings, validated.
 * @internal
 */
export interface ResolvedService {
  readonly type?: string;
  readonly port: number;
  readonly annotations: { [key: string]: string };
  readonly labels: { [key: string]: string };
  readonly warnings: string[];
}

/**
 * Validates the Service props, with the prop, the value and the fix.
 * @internal
 */
export function resolveService(props: ServiceOptions): ResolvedService {
  const type = props.serviceType;
  const types = Object.values(ServiceType) as string[];
  if (type !== undefined && !types.includes(type)) {
    throw new Error(`serviceType: '${type}' is not a Service type; use ServiceType.CLUSTER_IP, ServiceType.NODE_PORT or ServiceType.LOAD_BALANCER`);
  }
  if (type === ServiceType.EXTERNAL_NAME) {
    throw new Error('serviceType: ExternalName has no selector, so kube-apiserver could not reach the metrics-server pods through it; use ServiceType.CLUSTER_IP');
  }
  const port = props.servicePort ?? 443;
  assertPort('servicePort', port);
  const annotations = props.serviceAnnotations ?? {};
  const labels = props.serviceLabels ?? {};
  assertAnnotations('serviceAnnotations', annotations);
  assertLabels('serviceLabels', labels);
  const warnings = type === ServiceType.NODE_PORT || type === ServiceType.LOAD_BALANCER
    ? [`serviceType ${type} exposes metrics-server outside the cluster; kube-apiserver needs only ClusterIP`]
    : [];
  return { type: type === ServiceType.CLUSTER_IP ? undefined : type, port, annotations, labels, warnings };
}

