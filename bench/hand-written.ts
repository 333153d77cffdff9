import { X509Certificate } from 'crypto';
import { ApiObject, Chart } from 'cdk8s';

/**
 * The PEM material a hand-written chart puts in its Secret and APIService.
 */
export interface HandWrittenPem {
  readonly caCert: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
/** A certificate's notAfter as the construct writes it (RFC 3339, seconds, UTC). */
const notAfter = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The objects `SecureMetricsServer` synthesizes with its defaults (dedicated
 * CA, kubelet CA from `kube-root-ca.crt`), written out by hand as plain
 * `ApiObject`s: the floor the construct is measured against.
 */
export function addHandWrittenObjects(chart: Chart, pem: HandWrittenPem): void {
  const name = 'metrics-server';
  const namespace = 'kube-system';
  const labels = { 'k8s-app': name };
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  // the expiry annotations on the Secret and the APIService
  const annotations = {
    'secure-metrics-server.io/ca-not-after': notAfter(pem.caCert),
    'secure-metrics-server.io/serving-not-after': notAfter(pem.tlsCert),
  };

  new ApiObject(chart, 'TlsSecret', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'metrics-server-tls', namespace, labels, annotations },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(pem.tlsCert), 'tls.key': b64(pem.tlsKey) },
  });

  new ApiObject(chart, 'ServiceAccount', {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace, labels },
  });

  new ApiObject(chart, 'AggregatedMetricsReader', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
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
  });

  new ApiObject(chart, 'ClusterRole', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:metrics-server', labels },
    rules: [
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ],
  });

  new ApiObject(chart, 'AuthReader', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${name}-auth-reader`, namespace: 'kube-system', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' },
    subjects,
  });

  new ApiObject(chart, 'AuthDelegator', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `${name}:system:auth-delegator`, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects,
  });

  new ApiObject(chart, 'ClusterRoleBinding', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'system:metrics-server', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
    subjects,
  });

  new ApiObject(chart, 'Service', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: {
      ports: [{ appProtocol: 'https', name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }],
      selector: labels,
    },
  });

  const probe = (path: string) => ({
    failureThreshold: 3,
    httpGet: { path, port: 'https', scheme: 'HTTPS' },
    periodSeconds: 10,
  });
  new ApiObject(chart, 'Deployment', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      strategy: { rollingUpdate: { maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name,
            image: 'registry.k8s.io/metrics-server/metrics-server:v0.8.1',
            imagePullPolicy: 'IfNotPresent',
            args: [
              '--secure-port=10250',
              '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
              '--kubelet-use-node-status-port',
              '--metric-resolution=15s',
              '--kubelet-certificate-authority=/etc/kubelet-ca/ca.crt',
              '--tls-cert-file=/etc/metrics-server/tls/tls.crt',
              '--tls-private-key-file=/etc/metrics-server/tls/tls.key',
            ],
            ports: [{ containerPort: 10250, name: 'https', protocol: 'TCP' }],
            livenessProbe: probe('/livez'),
            readinessProbe: { ...probe('/readyz'), initialDelaySeconds: 20 },
            resources: { requests: { cpu: '100m', memory: '200Mi' } },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              runAsUser: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: [
              { mountPath: '/tmp', name: 'tmp-dir' },
              { mountPath: '/etc/kubelet-ca', name: 'kubelet-ca', readOnly: true },
              { mountPath: '/etc/metrics-server/tls', name: 'serving-cert', readOnly: true },
            ],
          }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          priorityClassName: 'system-cluster-critical',
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          serviceAccountName: name,
          volumes: [
            { name: 'tmp-dir', emptyDir: {} },
            { name: 'kubelet-ca', configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { name: 'serving-cert', secret: { secretName: 'metrics-server-tls' } },
          ],
        },
      },
    },
  });

  new ApiObject(chart, 'ApiService', {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1beta1.metrics.k8s.io', labels, annotations },
    spec: {
      caBundle: b64(pem.caCert),
      group: 'metrics.k8s.io',
      groupPriorityMinimum: 100,
      service: { name, namespace, port: 443 },
      version: 'v1beta1',
      versionPriority: 100,
    },
  });
}
