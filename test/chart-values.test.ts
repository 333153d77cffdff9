import { Duration, Size } from 'cdk8s';
import { ConfigMap, Cpu, DeploymentStrategy, EmptyDirMedium, NodeLabelQuery, PercentOrAbsolute, ServiceType, Volume } from 'cdk8s-plus-28';
import {
  CertManagerIssuer, MetricsAuthorization, RelabelAction, ServingTls, UnhealthyPodEvictionPolicy,
} from '../lib';
import { container, find, synth } from './helpers';

const insecure = { servingTls: ServingTls.insecure() };
const deployment = (objects: any[]) => find(objects, 'Deployment');
const podSpec = (objects: any[]) => deployment(objects).spec.template.spec;

describe('identity and RBAC', () => {
  test('an annotated ServiceAccount of another name, bound by every RBAC object, run by the pods', () => {
    const { objects } = synth({ ...insecure, serviceAccountName: 'ms', serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' } });
    expect(find(objects, 'ServiceAccount').metadata).toMatchObject({ name: 'ms', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' } });
    expect(podSpec(objects).serviceAccountName).toBe('ms');
    const bindings = objects.filter(o => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
    expect(bindings.length).toBe(3);
    bindings.forEach(b => expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'ms', namespace: 'kube-system' }]));
  });

  test('serviceAccountCreate, rbacCreate and apiServiceCreate false leave those objects out', () => {
    const { objects, construct } = synth({ ...insecure, serviceAccountCreate: false, rbacCreate: false, apiServiceCreate: false });
    expect(objects.map(o => o.kind).sort()).toEqual(['Deployment', 'Service']);
    expect(construct.serviceAccount).toBeUndefined();
    expect(construct.apiService).toBeUndefined();
  });

  test('apiServiceAnnotations are written; the construct\'s own win', () => {
    const { objects } = synth({ servingTls: ServingTls.fromCertManager({ issuer: CertManagerIssuer.clusterIssuer('ca') }), apiServiceAnnotations: { owner: 'platform' } });
    expect(find(objects, 'APIService').metadata.annotations).toEqual({ 'owner': 'platform', 'cert-manager.io/inject-ca-from': 'kube-system/metrics-server' });
  });

  test.each([
    [{ serviceAccountName: 'Bad_Name' }, /^serviceAccountName: 'Bad_Name'/],
    [{ serviceAccountCreate: false, serviceAccountAnnotations: { a: 'b' } }, /^serviceAccountAnnotations: set with serviceAccountCreate: false/],
    [{ apiServiceAnnotations: { 'cert-manager.io/inject-ca-from': 'x/y' } }, /^apiServiceAnnotations: 'cert-manager.io\/inject-ca-from' uses the prefix/],
  ])('%p is refused', (props, message) => {
    expect(() => synth({ ...insecure, ...props })).toThrow(message);
  });
});

describe('probes and rollout', () => {
  test('probe timing, strategy, revision history and the budget\'s maxUnavailable and eviction policy', () => {
    const { objects } = synth({
      ...insecure,
      replicas: 3,
      livenessProbe: { period: Duration.seconds(20), timeout: Duration.seconds(2) },
      readinessProbe: { initialDelay: Duration.seconds(5), failureThreshold: 6, successThreshold: 2 },
      updateStrategy: DeploymentStrategy.rollingUpdate({ maxSurge: PercentOrAbsolute.absolute(1), maxUnavailable: PercentOrAbsolute.absolute(0) }),
      revisionHistoryLimit: 3,
      podDisruptionBudgetMaxUnavailable: 1,
      unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW,
    });
    const c = container(objects);
    expect(c.livenessProbe).toEqual({ failureThreshold: 3, httpGet: { path: '/livez', port: 'https', scheme: 'HTTPS' }, periodSeconds: 20, timeoutSeconds: 2 });
    expect(c.readinessProbe).toEqual({ failureThreshold: 6, httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' }, initialDelaySeconds: 5, periodSeconds: 10, successThreshold: 2 });
    expect(deployment(objects).spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(deployment(objects).spec.revisionHistoryLimit).toBe(3);
    expect(find(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'k8s-app': 'metrics-server' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  test.each([
    [{ livenessProbe: { successThreshold: 2 } }, /^livenessProbe.successThreshold: 2: kube-apiserver requires 1/],
    [{ readinessProbe: { period: Duration.millis(1500) } }, /^readinessProbe.period: 1 second 500 millis must be whole seconds/],
    [{ readinessProbe: { failureThreshold: 0 } }, /^readinessProbe.failureThreshold: 0/],
    [{ revisionHistoryLimit: -1 }, /^revisionHistoryLimit: -1/],
    [{ replicas: 2, podDisruptionBudgetMaxUnavailable: 2 }, /^podDisruptionBudgetMaxUnavailable: 2 must be/],
    [{ replicas: 3, minAvailable: 1, podDisruptionBudgetMaxUnavailable: 1 }, /^podDisruptionBudgetMaxUnavailable: set together with minAvailable/],
    [{ unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW }, /^unhealthyPodEvictionPolicy: set with 1 replica/],
  ])('%p is refused', (props, message) => {
    expect(() => synth({ ...insecure, ...props })).toThrow(message);
  });
});

describe('pod, Service and volumes', () => {
  test('hostUsers, schedulerName, dnsConfig, node affinity beside anti-affinity, deployment annotations, UIDs', () => {
    const { objects } = synth({
      ...insecure,
      replicas: 2,
      hostUsers: false,
      schedulerName: 'my-scheduler',
      dnsNameservers: ['10.96.0.10'],
      dnsSearches: ['svc.cluster.local'],
      dnsOptions: [{ name: 'ndots', value: '2' }],
      requiredNodeAffinity: [NodeLabelQuery.in('kubernetes.io/arch', ['amd64', 'arm64'])],
      deploymentAnnotations: { owner: 'platform' },
      runAsUser: 2000,
      runAsGroup: 2000,
      fsGroup: 2000,
    });
    const spec = podSpec(objects);
    expect(spec.hostUsers).toBe(false);
    expect(spec.schedulerName).toBe('my-scheduler');
    expect(spec.dnsConfig).toEqual({ nameservers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: [{ name: 'ndots', value: '2' }] });
    expect(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }]);
    expect(spec.affinity.podAntiAffinity).toBeDefined();
    expect(deployment(objects).metadata.annotations).toEqual({ 'owner': 'platform', 'secure-metrics-server.io/insecure-tls': 'apiservice' });
    expect(spec.securityContext).toEqual({ fsGroup: 2000, runAsGroup: 2000, runAsNonRoot: true, runAsUser: 2000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container(objects).securityContext).toMatchObject({ runAsUser: 2000, runAsGroup: 2000, runAsNonRoot: true, readOnlyRootFilesystem: true });
  });

  test('Service type, port, annotations and labels; the APIService follows the port', () => {
    const { objects } = synth({ ...insecure, serviceType: ServiceType.NODE_PORT, servicePort: 8443, serviceAnnotations: { a: 'b' }, serviceLabels: { 'kubernetes.io/cluster-service': 'true' } });
    const svc = find(objects, 'Service');
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports[0].port).toBe(8443);
    expect(svc.metadata.annotations).toEqual({ a: 'b' });
    expect(svc.metadata.labels).toEqual({ 'k8s-app': 'metrics-server', 'kubernetes.io/cluster-service': 'true' });
    expect(find(objects, 'APIService').spec.service.port).toBe(8443);
  });

  test('extra volumes and mounts, and the /tmp emptyDir\'s medium and size', () => {
    const { objects, chart } = (() => {
      const r = synth({ ...insecure });
      return r;
    })();
    expect(objects.length).toBeGreaterThan(0);
    const vol = Volume.fromConfigMap(chart, 'ExtraCa', ConfigMap.fromConfigMapName(chart, 'ExtraCaMap', 'front-proxy-ca'), { name: 'front-proxy-ca' });
    const spare = Volume.fromEmptyDir(chart, 'Spare', 'spare');
    const r = synth({ ...insecure, extraVolumeMounts: [{ volume: vol, path: '/etc/front-proxy', readOnly: true }], extraVolumes: [spare], tmpVolumeMedium: EmptyDirMedium.MEMORY, tmpVolumeSizeLimit: Size.mebibytes(64) });
    const spec = podSpec(r.objects);
    expect(spec.volumes).toEqual([
      { name: 'tmp-dir', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      expect.objectContaining({ name: 'kubelet-ca' }),
      { name: 'front-proxy-ca', configMap: { name: 'front-proxy-ca' } },
      { name: 'spare', emptyDir: {} },
    ]);
    expect(container(r.objects).volumeMounts).toContainEqual({ name: 'front-proxy-ca', mountPath: '/etc/front-proxy', readOnly: true });
  });

  test.each([
    [{ serviceType: ServiceType.EXTERNAL_NAME }, /^serviceType: ExternalName has no selector/],
    [{ servicePort: 0 }, /^servicePort: 0/],
    [{ schedulerName: 'My Scheduler' }, /^schedulerName: 'My Scheduler'/],
    [{ dnsNameservers: ['1.1.1.1', '8.8.8.8', '9.9.9.9', '1.0.0.1'] }, /^dnsNameservers: 4 given, kube-apiserver allows at most 3/],
    [{ dnsNameservers: ['dns.example.com'] }, /^dnsNameservers\[0\]: 'dns.example.com' is not an IP address/],
    [{ dnsOptions: [{ name: '' }] }, /^dnsOptions\[0\].name: must be a non-empty string/],
    [{ requiredNodeAffinity: [NodeLabelQuery.in('zone', [])] }, /^requiredNodeAffinity\[0\]: 'zone' In needs at least one value/],
    [{ runAsUser: 0 }, /^runAsUser: 0 must be a whole number from 1/],
    [{ tmpVolumeSizeLimit: Size.mebibytes(0) }, /^tmpVolumeSizeLimit: 0Mi must be positive/],
  ])('%p is refused', (props, message) => {
    expect(() => synth({ ...insecure, ...props as any })).toThrow(message);
  });

  test('an extra volume with the construct\'s name, a relative path or a taken path is refused', () => {
    const { chart } = synth({ ...insecure });
    const tmpDir = Volume.fromEmptyDir(chart, 'T', 'tmp-dir');
    const ok = Volume.fromEmptyDir(chart, 'O', 'ok');
    expect(() => synth({ ...insecure, extraVolumes: [tmpDir] })).toThrow(/^extraVolumes\[0\]: volume name 'tmp-dir' is the construct's own/);
    expect(() => synth({ ...insecure, extraVolumeMounts: [{ volume: ok, path: 'etc/x' }] })).toThrow(/^extraVolumeMounts\[0\].path: 'etc\/x' must be an absolute path/);
    expect(() => synth({ ...insecure, extraVolumeMounts: [{ volume: ok, path: '/tmp/' }] })).toThrow(/^extraVolumeMounts\[0\].path: '\/tmp\/' is already the mount of volume 'tmp-dir'/);
  });
});

describe('monitoring', () => {
  test('a ServiceMonitor that verifies with the APIService\'s CA (a ConfigMap) and the Service\'s DNS name, and the /metrics RBAC', () => {
    const { objects, construct } = synth({
      metrics: MetricsAuthorization.forServiceAccount('monitoring', 'prometheus-k8s'),
      serviceMonitor: true,
      serviceMonitorLabels: { release: 'kps' },
      serviceMonitorInterval: Duration.seconds(30),
      serviceMonitorMetricRelabelings: [{ action: RelabelAction.DROP, sourceLabels: ['__name__'], regex: 'go_.*' }],
    });
    const sm = find(objects, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels).toEqual({ 'k8s-app': 'metrics-server', 'release': 'kps' });
    const ep = sm.spec.endpoints[0];
    expect(ep).toMatchObject({ port: 'https', scheme: 'https', path: '/metrics', interval: '30s', scrapeTimeout: '10s' });
    expect(ep.tlsConfig).toEqual({ ca: { configMap: { name: 'metrics-server-serving-ca', key: 'ca.crt' } }, serverName: 'metrics-server.kube-system.svc' });
    const caBundle = Buffer.from(find(objects, 'APIService').spec.caBundle, 'base64').toString('utf8');
    expect(find(objects, 'ConfigMap', 'metrics-server-serving-ca').data['ca.crt']).toBe(caBundle);
    expect(find(objects, 'ClusterRole', 'kube-system:metrics-server:metrics-reader').rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    expect(find(objects, 'ClusterRoleBinding', 'kube-system:metrics-server:metrics-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' }]);
    expect(container(objects).args.join(' ')).not.toContain('always-allow');
    expect(construct.serviceMonitor).toBeDefined();
    expect(construct.servingCaConfigMap?.name).toBe('metrics-server-serving-ca');
  });

  test('with cert-manager, the CA is the ca.crt of the serving Secret (what cainjector copies to the APIService)', () => {
    const { objects } = synth({ servingTls: ServingTls.fromCertManager(), metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true });
    expect(find(objects, 'ServiceMonitor').spec.endpoints[0].tlsConfig).toEqual({ ca: { secret: { name: 'metrics-server-cert-manager-tls', key: 'ca.crt' } }, serverName: 'metrics-server.kube-system.svc' });
    expect(container(objects).args).toContain('--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics');
  });

  test.each([
    [{ ...insecure, metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true }, /^serviceMonitor: true with the insecure test mode/],
    [{ serviceMonitor: true }, /^serviceMonitor: true without metrics/],
    [{ serviceMonitorInterval: Duration.seconds(5) }, /^serviceMonitorInterval: set without serviceMonitor: true/],
    [{ metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true, serviceMonitorScrapeTimeout: Duration.minutes(2) }, /^serviceMonitorScrapeTimeout: 120s is longer than serviceMonitorInterval 60s/],
    [{ metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true, serviceMonitorRelabelings: [{ regex: '(?<=a)b', targetLabel: 't' }] }, /^serviceMonitorRelabelings\[0\].regex: '\(\?<=a\)b' is not an RE2 regular expression/],
    [{ metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true, serviceMonitorRelabelings: [{ action: RelabelAction.HASHMOD, targetLabel: 't' }] }, /^serviceMonitorRelabelings\[0\].modulus: hashmod needs/],
    [{ metrics: MetricsAuthorization.alwaysAllow(), extraArgs: ['--authorization-always-allow-paths=/metrics'] }, /^extraArgs: --authorization-always-allow-paths is set by metrics/],
    [{ metrics: MetricsAuthorization.forServiceAccount('Monitoring', 'p') }, /^metrics: namespace 'Monitoring' is not a DNS label/],
  ])('%p is refused', (props, message) => {
    expect(() => synth(props as any)).toThrow(message);
  });
});

describe('addon-resizer', () => {
  test('the nanny sidecar with the chart\'s defaults, hardened as the main container, and its Role on its own Deployment', () => {
    const { objects, construct } = synth({ ...insecure, addonResizer: {} });
    const [main, nanny] = podSpec(objects).containers;
    expect(nanny).toMatchObject({
      name: 'metrics-server-nanny',
      image: 'registry.k8s.io/autoscaling/addon-resizer:1.8.23',
      command: ['/pod_nanny', '--config-dir=/etc/config', '--deployment=metrics-server', '--container=metrics-server', '--threshold=5', '--poll-period=300000', '--estimator=exponential', '--minClusterSize=100'],
      resources: { requests: { cpu: '40m', memory: '25Mi' }, limits: { cpu: '40m', memory: '25Mi' } },
      volumeMounts: [{ name: 'nanny-config-volume', mountPath: '/etc/config', readOnly: true }],
    });
    expect(nanny.securityContext).toEqual(main.securityContext);
    expect(nanny.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(find(objects, 'ConfigMap', 'metrics-server-nanny-config').data.NannyConfiguration).toBe('apiVersion: nannyconfig/v1alpha1\nkind: NannyConfiguration\nbaseCPU: 0m\ncpuPerNode: 1m\nbaseMemory: 0Mi\nmemoryPerNode: 2Mi\n');
    const role = find(objects, 'Role', 'metrics-server-nanny');
    expect(role.metadata.namespace).toBe('kube-system');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['metrics-server'], verbs: ['get', 'patch'] },
    ]);
    expect(find(objects, 'RoleBinding', 'metrics-server-nanny').subjects).toEqual([{ kind: 'ServiceAccount', name: 'metrics-server', namespace: 'kube-system' }]);
    expect(construct.addonResizerRole?.name).toBe('metrics-server-nanny');
  });

  test('rbacCreate: false leaves out its Role and binding, and the /metrics reader, with every other RBAC object', () => {
    const { objects } = synth({ rbacCreate: false, addonResizer: {}, metrics: MetricsAuthorization.forServiceAccount('monitoring', 'prometheus-k8s') });
    expect(objects.filter(o => /Role/.test(o.kind))).toEqual([]);
    expect(podSpec(objects).containers.map((c: any) => c.name)).toEqual(['metrics-server', 'metrics-server-nanny']);
  });

  test('its options are validated', () => {
    expect(() => synth({ ...insecure, addonResizer: { threshold: 101 } })).toThrow(/^addonResizer.threshold: 101/);
    expect(() => synth({ ...insecure, addonResizer: { image: 'registry.k8s.io/autoscaling/addon-resizer:bad tag' } })).toThrow(/^addonResizer.image/);
    expect(() => synth({ ...insecure, addonResizer: { resources: { cpu: { request: Cpu.millis(50), limit: Cpu.millis(40) } } } })).toThrow(/^addonResizer.resources: cpu limit 40m is below/);
  });
});

describe('audit SMS052 on the ServiceMonitor', () => {
  const { auditObjects } = require('../lib/rules') as typeof import('../lib/rules');
  const sms052 = (objects: any[]) => auditObjects(objects.map(object => ({ object }))).findings
    .filter(f => f.ruleId === 'SMS052').map(f => f.message);

  test('the construct\'s ServiceMonitor passes; without its CA, or skipping verification, it is reported', () => {
    const { objects } = synth({ metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true });
    expect(auditObjects(objects.map(object => ({ object }))).findings.filter(f => f.severity !== 'info').map(f => f.ruleId)).toEqual(['SMS015']);
    expect(sms052(objects)).toEqual([]);
    const sm = find(objects, 'ServiceMonitor');
    const noCa = objects.map(o => (o === sm ? { ...sm, spec: { ...sm.spec, endpoints: [{ ...sm.spec.endpoints[0], tlsConfig: { serverName: 'metrics-server.kube-system.svc' } }] } } : o));
    expect(sms052(noCa)).toEqual(['ServiceMonitor kube-system/metrics-server endpoint 0 names no CA: Prometheus verifies metrics-server\'s certificate against its system roots, which do not hold the cluster CA, so every scrape fails']);
    const skipping = { ...sm.spec.endpoints[0], tlsConfig: { ...sm.spec.endpoints[0].tlsConfig, insecureSkipVerify: true } };
    const skip = objects.map(o => (o === sm ? { ...sm, spec: { ...sm.spec, endpoints: [skipping] } } : o));
    expect(sms052(skip)).toEqual(['ServiceMonitor kube-system/metrics-server endpoint 0 scrapes metrics-server with insecureSkipVerify: true: Prometheus accepts any certificate on the Service\'s address']);
  });

  test('SMS053: verified with the CA, but against no serverName or another Service\'s name', () => {
    const { objects } = synth({ metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true });
    const sms053 = (objs: any[]) => auditObjects(objs.map(object => ({ object }))).findings.filter(f => f.ruleId === 'SMS053').map(f => f.message);
    expect(sms053(objects)).toEqual([]);
    const sm = find(objects, 'ServiceMonitor');
    const withName = (serverName?: string) => objects.map(o => (o === sm ? {
      ...sm, spec: { ...sm.spec, endpoints: [{ ...sm.spec.endpoints[0], tlsConfig: { ...sm.spec.endpoints[0].tlsConfig, serverName } }] },
    } : o));
    expect(sms053(withName(undefined))).toEqual(['ServiceMonitor kube-system/metrics-server endpoint 0 names no serverName: Prometheus checks metrics-server\'s certificate against the pod\'s IP address, which the certificate does not hold, so every scrape fails; set it to metrics-server.kube-system.svc']);
    expect(sms053(withName('metrics-server.monitoring.svc'))).toEqual(['ServiceMonitor kube-system/metrics-server endpoint 0 verifies the name \'metrics-server.monitoring.svc\', another Service\'s, not metrics-server.kube-system.svc: metrics-server\'s certificate does not hold it, so every scrape fails']);
    // the names the serving certificate holds, and a name this audit cannot judge
    for (const ok of ['metrics-server.kube-system.svc.cluster.local', 'METRICS-SERVER.kube-system.svc', 'metrics.example.com']) {
      expect(sms053(withName(ok))).toEqual([]);
    }
  });
});

describe('typed handles', () => {
  test('every synthesized object is a handle of its kind, so an unusual need is one line', () => {
    const { construct, objects } = synth({ replicas: 2, networkPolicy: true, metrics: MetricsAuthorization.forServiceAccount('monitoring', 'prometheus-k8s'), serviceMonitor: true, addonResizer: {} });
    const handles: { [handle: string]: string } = {
      deployment: 'Deployment', service: 'Service', serviceAccount: 'ServiceAccount', apiService: 'APIService', secret: 'Secret',
      podDisruptionBudget: 'PodDisruptionBudget', networkPolicy: 'NetworkPolicy', serviceMonitor: 'ServiceMonitor', servingCaConfigMap: 'ConfigMap',
      metricsReaderClusterRole: 'ClusterRole', metricsReaderClusterRoleBinding: 'ClusterRoleBinding', addonResizerRole: 'Role',
      addonResizerRoleBinding: 'RoleBinding', addonResizerConfigMap: 'ConfigMap', aggregatedReaderClusterRole: 'ClusterRole',
      clusterRole: 'ClusterRole', clusterRoleBinding: 'ClusterRoleBinding', authDelegatorClusterRoleBinding: 'ClusterRoleBinding',
      authReaderRoleBinding: 'RoleBinding',
    };
    expect(Object.entries(handles).map(([h]) => [h, (construct as any)[h]?.kind])).toEqual(Object.entries(handles));
    // every object synthesized is behind one handle
    const named = new Set(Object.keys(handles).map(h => `${(construct as any)[h].kind}/${(construct as any)[h].name}`));
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).filter(k => !named.has(k))).toEqual([]);
    construct.serviceAccount!.metadata.addAnnotation('example.com/one-line', 'true');
  });
});
