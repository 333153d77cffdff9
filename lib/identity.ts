import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { assertDnsSubdomain } from './k8s/util';
import { assertAnnotations } from './metadata';
import { Schema, T } from './k8s/prop-types';

/**
 * Who metrics-server runs as and which cluster-wide objects the construct
 * owns: the chart's `serviceAccount.*`, `rbac.create` and `apiService.*`.
 */
export interface IdentityOptions {
  /**
   * Create the ServiceAccount. With `false`, the pods run as an existing
   * ServiceAccount named `serviceAccountName` in the namespace, which must
   * exist before the pods start (and be bound to the RBAC objects, which are
   * still created unless `rbacCreate` is `false`).
   * @default true
   */
  readonly serviceAccountCreate?: boolean;

  /**
   * Name of the ServiceAccount the pods run as (created or existing).
   * @default - the `name` prop
   */
  readonly serviceAccountName?: string;

  /**
   * Annotations of the ServiceAccount, e.g. `eks.amazonaws.com/role-arn` (IRSA)
   * or `iam.gke.io/gcp-service-account` (Workload Identity). Only with
   * `serviceAccountCreate` (an existing ServiceAccount is not written).
   * @default - none
   */
  readonly serviceAccountAnnotations?: { [key: string]: string };

  /**
   * Create the RBAC objects (the aggregated reader and metrics-server's
   * ClusterRoles, their bindings, `system:auth-delegator` and the
   * `extension-apiserver-authentication-reader` RoleBinding, and, where
   * asked for, the addon-resizer's Role and the `/metrics` reader). With `false`
   * they must be managed elsewhere, or metrics-server cannot read nodes or
   * authenticate kube-apiserver's requests.
   * @default true
   */
  readonly rbacCreate?: boolean;

  /**
   * Create the `v1beta1.metrics.k8s.io` APIService. With `false` it is
   * managed elsewhere and must carry the caBundle of `caBundle` (or the
   * cert-manager injector annotation), or kube-apiserver cannot verify
   * metrics-server.
   * @default true
   */
  readonly apiServiceCreate?: boolean;

  /**
   * More annotations of the APIService (the construct's own, such as
   * `cert-manager.io/inject-ca-from`, win: they keep the hop verified).
   * @default - none
   */
  readonly apiServiceAnnotations?: { [key: string]: string };
}

/** The runtime type checks of `IdentityOptions` (lib/k8s/prop-types.ts). @internal */
export const IDENTITY_OPTIONS_SCHEMA: Schema = {
  serviceAccountCreate: T.boolean(),
  serviceAccountName: T.string("'metrics-server'"),
  serviceAccountAnnotations: T.stringMap("{ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/metrics-server' }"),
  rbacCreate: T.boolean(),
  apiServiceCreate: T.boolean(),
  apiServiceAnnotations: T.stringMap("{ owner: 'platform' }"),
};

/**
 * The identity settings, validated.
 * @internal
 */
export interface ResolvedIdentity {
  readonly serviceAccountCreate: boolean;
  readonly serviceAccountName: string;
  readonly serviceAccountAnnotations: { [key: string]: string };
  readonly rbacCreate: boolean;
  readonly apiServiceCreate: boolean;
  readonly apiServiceAnnotations: { [key: string]: string };
}

/**
 * Validates the identity props, with the prop, the value and the fix.
 * @internal
 */
export function resolveIdentity(props: IdentityOptions, name: string): ResolvedIdentity {
  const serviceAccountCreate = props.serviceAccountCreate ?? true;
  const serviceAccountName = props.serviceAccountName ?? name;
  assertDnsSubdomain('serviceAccountName', serviceAccountName);
  const serviceAccountAnnotations = props.serviceAccountAnnotations ?? {};
  assertAnnotations('serviceAccountAnnotations', serviceAccountAnnotations);
  if (!serviceAccountCreate && Object.keys(serviceAccountAnnotations).length > 0) {
    throw new Error('serviceAccountAnnotations: set with serviceAccountCreate: false, they would be written nowhere; annotate the existing ServiceAccount, or remove them');
  }
  const apiServiceAnnotations = props.apiServiceAnnotations ?? {};
  assertAnnotations('apiServiceAnnotations', apiServiceAnnotations);
  const apiServiceCreate = props.apiServiceCreate ?? true;
  if (!apiServiceCreate && Object.keys(apiServiceAnnotations).length > 0) {
    throw new Error('apiServiceAnnotations: set with apiServiceCreate: false, they would be written nowhere; remove them or create the APIService');
  }
  return {
    serviceAccountCreate,
    serviceAccountName,
    serviceAccountAnnotations,
    rbacCreate: props.rbacCreate ?? true,
    apiServiceCreate,
    apiServiceAnnotations,
  };
}

/**
 * The ServiceAccount, when the construct creates it (construct id
 * `ServiceAccount`, as before).
 * @internal
 */
export function createServiceAccount(scope: Construct, identity: ResolvedIdentity, namespace: string,
  labels: { [key: string]: string }): k8s.KubeServiceAccount | undefined {
  if (!identity.serviceAccountCreate) {
    return undefined;
  }
  const annotations = identity.serviceAccountAnnotations;
  return new k8s.KubeServiceAccount(scope, 'ServiceAccount', {
    metadata: {
      name: identity.serviceAccountName,
      namespace,
      labels,
      annotations: Object.keys(annotations).length ? annotations : undefined,
    },
  });
}
