import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { clusterScoped } from './k8s/util';

/**
 * Names and labels the RBAC objects are built from.
 * @internal
 */
export interface RbacOptions {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  /** the ServiceAccount the pods run as (lib/identity.ts makes it, or it exists) */
  readonly serviceAccountName: string;
}

/**
 * The RBAC objects of upstream's release manifest:
 * the aggregated reader ClusterRole, metrics-server's own ClusterRole and
 * binding, `system:auth-delegator`, and the RoleBinding to
 * `extension-apiserver-authentication-reader`, which lives in kube-system
 * whatever namespace metrics-server runs in.
 * @internal
 */
export function createRbac(scope: Construct, options: RbacOptions): RbacObjects {
  const { name, namespace, labels } = options;
  const subjects = [{ kind: 'ServiceAccount', name: options.serviceAccountName, namespace }];

  const aggregatedReader = clusterScoped(new k8s.KubeClusterRole(scope, 'AggregatedMetricsReader', {
    metadata: {
      name: 'system:aggregated-metrics-reader',
      labels: {
        ...labels,
        'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
        'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
        'rbac.authorization.k8s.io/aggregate-to-view': 'true',
      },
    },
    rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
  }));

  const clusterRole = clusterScoped(new k8s.KubeClusterRole(scope, 'ClusterRole', {
    metadata: { name: 'system:metrics-server', labels },
    rules: [
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ],
  }));

  const authReader = new k8s.KubeRoleBinding(scope, 'AuthReader', {
    metadata: { name: `${name}-auth-reader`, namespace: 'kube-system', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
    subjects,
  });

  const authDelegator = clusterScoped(new k8s.KubeClusterRoleBinding(scope, 'AuthDelegator', {
    metadata: { name: `${name}:system:auth-delegator`, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects,
  }));

  const clusterRoleBinding = clusterScoped(new k8s.KubeClusterRoleBinding(scope, 'ClusterRoleBinding', {
    metadata: { name: 'system:metrics-server', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
    subjects,
  }));
  return { aggregatedReader, clusterRole, authReader, authDelegator, clusterRoleBinding };
}

/**
 * The RBAC objects, as handles.
 * @internal
 */
export interface RbacObjects {
  readonly aggregatedReader: k8s.KubeClusterRole;
  readonly clusterRole: k8s.KubeClusterRole;
  readonly authReader: k8s.KubeRoleBinding;
  readonly authDelegator: k8s.KubeClusterRoleBinding;
  readonly clusterRoleBinding: k8s.KubeClusterRoleBinding;
}
