import { KubeletTls, ServingTls } from '../lib';
import { find, synth } from './helpers';

// Upstream's release manifest (metrics-server v0.8.1 components.yaml), written
// out object by object. The defaults must reproduce it field by field; only the
// TLS wiring differs, and the tests below say exactly where.

const LABELS = { 'k8s-app': 'metrics-server' };

const SERVICE_ACCOUNT = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { labels: LABELS, name: 'metrics-server', namespace: 'kube-system' },
};

const AGGREGATED_READER = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: {
    labels: {
      'k8s-app': 'metrics-server',
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
      'rbac.authorization.k8s.io/aggregate-to-view': 'true',
    },
    name: 'system:aggregated-metrics-reader',
  },
  rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
};

const CLUSTER_ROLE = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { labels: LABELS, name: 'system:metrics-server' },
  rules: [
    { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
  ],
};

const SUBJECTS = [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: 'kube-system' }];

const AUTH_READER = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { labels: LABELS, name: 'metrics-server-auth-reader', namespace: 'kube-system' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
  subjects: SUBJECTS,
};

const AUTH_DELEGATOR = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { labels: LABELS, name: 'metrics-server:system:auth-delegator' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
  subjects: SUBJECTS,
};

const CLUSTER_ROLE_BINDING = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { labels: LABELS, name: 'system:metrics-server' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
  subjects: SUBJECTS,
};

const SERVICE = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { labels: LABELS, name: 'metrics-server', namespace: 'kube-system' },
  spec: {
    ports: [{ appProtocol: 'https', name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }],
    selector: LABELS,
  },
};

const UPSTREAM_ARGS = [
  '--cert-dir=/tmp',
  '--secure-port=10250',
  '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
  '--kubelet-use-node-status-port',
  '--metric-resolution=15s',
];

function deployment(args: string[], volumeMounts: any[], volumes: any[], annotations?: any) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...(annotations ? { annotations } : {}), labels: LABELS, name: 'metrics-server', namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: LABELS },
      strategy: { rollingUpdate: { maxUnavailable: 0 } },
      template: {
        metadata: { labels: LABELS },
        spec: {
          containers: [{
            args,
            image: 'registry.k8s.io/metrics-server/metrics-server:v0.8.1',
            imagePullPolicy: 'IfNotPresent',
            livenessProbe: {
              failureThreshold: 3,
              httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' },
              periodSeconds: 10,
            },
            name: 'metrics-server',
            ports: [{ containerPort: 10250, name: 'https', protocol: 'TCP' }],
            readinessProbe: {
              failureThreshold: 3,
              httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' },
              initialDelaySeconds: 20,
              periodSeconds: 10,
            },
            resources: { requests: { cpu: '100m', memory: '200Mi' } },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              runAsUser: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts,
          }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          priorityClassName: 'system-cluster-critical',
          // the one deliberate addition to upstream's pod: a pod-level securityContext,
          // so that the restricted Pod Security profile holds for every container
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          serviceAccountName: 'metrics-server',
          volumes,
        },
      },
    },
  };
}

const TMP_MOUNT = { mountPath: '/tmp', name: 'tmp-dir' };
const TMP_VOLUME = { emptyDir: {}, name: 'tmp-dir' };

describe('upstream parity', () => {
  const { objects } = synth();

  test('synthesizes the nine upstream objects plus the TLS Secret, nothing else', () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'APIService/v1beta1.metrics.k8s.io',
      'ClusterRole/system:aggregated-metrics-reader',
      'ClusterRole/system:metrics-server',
      'ClusterRoleBinding/metrics-server:system:auth-delegator',
      'ClusterRoleBinding/system:metrics-server',
      'Deployment/metrics-server',
      'RoleBinding/metrics-server-auth-reader',
      'Secret/metrics-server-tls',
      'Service/metrics-server',
      'ServiceAccount/metrics-server',
    ]);
  });

  test('ServiceAccount equals upstream (token automount left at its default: metrics-server needs it)', () => {
    const sa = find(objects, 'ServiceAccount');
    expect(sa).toEqual(SERVICE_ACCOUNT);
    expect(sa.automountServiceAccountToken).toBeUndefined();
    expect(find(objects, 'Deployment').spec.template.spec.automountServiceAccountToken).toBeUndefined();
  });

  test('ClusterRoles equal upstream', () => {
    expect(find(objects, 'ClusterRole', 'system:aggregated-metrics-reader')).toEqual(AGGREGATED_READER);
    expect(find(objects, 'ClusterRole', 'system:metrics-server')).toEqual(CLUSTER_ROLE);
  });

  test('RoleBinding and ClusterRoleBindings equal upstream', () => {
    expect(find(objects, 'RoleBinding')).toEqual(AUTH_READER);
    expect(find(objects, 'ClusterRoleBinding', 'metrics-server:system:auth-delegator')).toEqual(AUTH_DELEGATOR);
    expect(find(objects, 'ClusterRoleBinding', 'system:metrics-server')).toEqual(CLUSTER_ROLE_BINDING);
  });

  test('Service equals upstream', () => {
    expect(find(objects, 'Service')).toEqual(SERVICE);
  });

  test('Deployment equals upstream but for the verified TLS wiring', () => {
    const args = [
      ...UPSTREAM_ARGS.filter(a => a !== '--cert-dir=/tmp'),
      '--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt',
      '--tls-cert-file=/etc/metrics-server/tls/tls.crt',
      '--tls-private-key-file=/etc/metrics-server/tls/tls.key',
    ];
    expect(find(objects, 'Deployment')).toEqual(deployment(args, [
      TMP_MOUNT,
      { mountPath: '/etc/kubelet-ca', name: 'kubelet-ca', readOnly: true },
      { mountPath: '/etc/metrics-server/tls', name: 'serving-cert', readOnly: true },
    ], [
      TMP_VOLUME,
      { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' }, name: 'kubelet-ca' },
      { name: 'serving-cert', secret: { secretName: 'metrics-server-tls' } },
    ]));
  });

  test('APIService equals upstream but with a caBundle instead of insecureSkipTLSVerify', () => {
    const api = find(objects, 'APIService');
    expect(api).toEqual({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      // one addition to upstream's metadata: the expiry of the CA and serving certificate (docs/rotation.md)
      metadata: {
        annotations: { 'secure-metrics-server.io/ca-not-after': expect.any(String), 'secure-metrics-server.io/serving-not-after': expect.any(String) },
        labels: LABELS, name: 'v1beta1.metrics.k8s.io',
      },
      spec: {
        caBundle: expect.any(String),
        group: 'metrics.k8s.io',
        groupPriorityMinimum: 100,
        service: { name: 'metrics-server', namespace: 'kube-system', port: 443 },
        version: 'v1beta1',
        versionPriority: 100,
      },
    });
    expect('insecureSkipTLSVerify' in api.spec).toBe(false);
  });

  test('insecure test mode is upstream plus --kubelet-insecure-tls, the usual quick install, and says so', () => {
    const insecure = synth({ kubeletTls: KubeletTls.insecure(), servingTls: ServingTls.insecure() }).objects;
    const annotations = { 'secure-metrics-server.io/insecure-tls': 'kubelet,apiservice' };
    expect(find(insecure, 'Deployment')).toEqual(
      deployment([...UPSTREAM_ARGS, '--kubelet-insecure-tls'], [TMP_MOUNT], [TMP_VOLUME], annotations));
    expect(find(insecure, 'APIService')).toEqual({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { annotations, labels: LABELS, name: 'v1beta1.metrics.k8s.io' },
      spec: {
        group: 'metrics.k8s.io',
        groupPriorityMinimum: 100,
        insecureSkipTLSVerify: true,
        service: { name: 'metrics-server', namespace: 'kube-system', port: 443 },
        version: 'v1beta1',
        versionPriority: 100,
      },
    });
    for (const o of [SERVICE_ACCOUNT, AGGREGATED_READER, CLUSTER_ROLE, AUTH_READER, AUTH_DELEGATOR, CLUSTER_ROLE_BINDING, SERVICE]) {
      expect(find(insecure, o.kind, o.metadata.name)).toEqual(o);
    }
    expect(insecure.filter(o => o.kind === 'Secret')).toEqual([]);
  });
});
