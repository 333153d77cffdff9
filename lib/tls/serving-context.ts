import { ApiObject } from 'cdk8s';
import { serviceServerName } from '../k8s/names';

/**
 * Where a verified serving certificate's Secret comes from and what the
 * Deployment and APIService need to know of it.
 * @internal
 */
export interface ServingTlsConfig {
  /** the APIService hop is not verified */
  readonly insecure: boolean;
  /** name of the `kubernetes.io/tls` Secret to mount */
  readonly secretName?: string;
  /** the Secret this strategy created, if any */
  readonly secret?: ApiObject;
  /** PEM bundle for the APIService's caBundle */
  readonly caBundlePem?: string;
  /** the cert-manager Certificate this strategy created, if any */
  readonly certificate?: ApiObject;
  /** extra annotations for the APIService */
  readonly apiServiceAnnotations?: { [key: string]: string };
  readonly warnings: string[];
}

/**
 * What a serving-certificate strategy is bound to.
 * @internal
 */
export interface ServingTlsContext {
  /** the prop name used in errors */
  readonly prop: string;
  readonly namespace: string;
  readonly serviceName: string;
  readonly clusterDomain: string;
  readonly labels: { [key: string]: string };
  readonly now: Date;
}

/**
 * The DNS names a serving certificate for the Service must carry.
 * @internal
 */
export function servingDnsNames(serviceName: string, namespace: string, clusterDomain: string): string[] {
  return [
    serviceName,
    `${serviceName}.${namespace}`,
    serviceServerName(serviceName, namespace),
    `${serviceServerName(serviceName, namespace)}.${clusterDomain}`,
  ];
}
