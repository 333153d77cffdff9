/**
 * The runtime type schemas of the chart-values props (lib/chart-values.ts),
 * merged into lib/prop-schemas.ts. Built lazily, as those are.
 * @internal
 */
import { Schema, T } from './prop-types';

/**
 * The chart-values schemas: the props merged into SecureMetricsServerProps,
 * and each exported options interface by name.
 * @internal
 */
export function chartValuesSchemas(): { props: Schema; named: { [name: string]: Schema } } {
  const { Cpu, DeploymentStrategy, EmptyDirMedium, NodeLabelQuery, ServiceType, Volume } = require('cdk8s-plus-28') as typeof import('cdk8s-plus-28');
  const { MetricsAuthorization, RelabelAction } = require('./monitoring') as typeof import('./monitoring');
  const { UnhealthyPodEvictionPolicy } = require('./rollout') as typeof import('./rollout');

  const probe: Schema = {
    initialDelay: T.duration('Duration.seconds(20)'),
    period: T.duration('Duration.seconds(10)'),
    timeout: T.duration('Duration.seconds(1)'),
    failureThreshold: T.number('3'),
    successThreshold: T.number('1'),
  };
  const relabel: Schema = {
    sourceLabels: T.array(T.string("'__meta_kubernetes_pod_node_name'")),
    separator: T.string("';'"),
    targetLabel: T.string("'node'"),
    regex: T.string("'(.*)'"),
    modulus: T.number('4'),
    replacement: T.string("'$1'"),
    action: T.enumOf(RelabelAction as any, 'RelabelAction'),
  };
  const volumeMount: Schema = {
    volume: T.instance(Volume, "Volume.fromConfigMap(this, 'Ca', configMap)"),
    path: T.string("'/etc/extra-ca'"),
    readOnly: T.boolean(),
    subPath: T.string("'ca.crt'"),
    subPathExpr: T.string("'$(POD_NAME)'"),
  };
  const addonResizer: Schema = {
    image: T.string("'registry.k8s.io/autoscaling/addon-resizer:1.8.23'"),
    resources: T.struct('ContainerResources', {}),
    baseCpu: T.instance(Cpu, 'Cpu.millis(0)'),
    cpuPerNode: T.instance(Cpu, 'Cpu.millis(1)'),
    baseMemory: T.size('Size.mebibytes(0)'),
    memoryPerNode: T.size('Size.mebibytes(2)'),
    minClusterSize: T.number('100'),
    pollPeriod: T.duration('Duration.minutes(5)'),
    threshold: T.number('5'),
  };
  const identity: Schema = {
    serviceAccountCreate: T.boolean(),
    serviceAccountName: T.string("'metrics-server'"),
    serviceAccountAnnotations: T.stringMap("{ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/metrics-server' }"),
    rbacCreate: T.boolean(),
    apiServiceCreate: T.boolean(),
    apiServiceAnnotations: T.stringMap("{ owner: 'platform' }"),
  };
  const rollout: Schema = {
    livenessProbe: T.struct('ProbeTiming', probe),
    readinessProbe: T.struct('ProbeTiming', probe),
    updateStrategy: T.instance(DeploymentStrategy, 'DeploymentStrategy.rollingUpdate()'),
    revisionHistoryLimit: T.number('3'),
    podDisruptionBudgetMaxUnavailable: T.number('1'),
    unhealthyPodEvictionPolicy: T.enumOf(UnhealthyPodEvictionPolicy as any, 'UnhealthyPodEvictionPolicy'),
  };
  const pod: Schema = {
    hostUsers: T.boolean(),
    schedulerName: T.string("'default-scheduler'"),
    dnsNameservers: T.array(T.string("'10.96.0.10'")),
    dnsSearches: T.array(T.string("'svc.cluster.local'")),
    dnsOptions: T.array(T.struct('DnsOption', { name: T.string("'ndots'"), value: T.string("'2'") })),
    requiredNodeAffinity: T.array(T.instance(NodeLabelQuery, "NodeLabelQuery.is('kubernetes.io/arch', 'amd64')")),
    preferredNodeAffinity: T.array(T.instance(NodeLabelQuery, "NodeLabelQuery.exists('node-role.kubernetes.io/infra')")),
    deploymentAnnotations: T.stringMap("{ owner: 'platform' }"),
    runAsUser: T.number('1000'),
    runAsGroup: T.number('1000'),
    fsGroup: T.number('1000'),
  };
  const service: Schema = {
    serviceType: T.enumOf(ServiceType as any, 'ServiceType'),
    servicePort: T.number('443'),
    serviceAnnotations: T.stringMap("{ owner: 'platform' }"),
    serviceLabels: T.stringMap("{ 'kubernetes.io/cluster-service': 'true' }"),
  };
  const volumes: Schema = {
    extraVolumeMounts: T.array(T.struct('VolumeMount', volumeMount)),
    extraVolumes: T.array(T.instance(Volume, "Volume.fromConfigMap(this, 'Ca', configMap)")),
    tmpVolumeMedium: T.enumOf(EmptyDirMedium as any, 'EmptyDirMedium'),
    tmpVolumeSizeLimit: T.size('Size.mebibytes(64)'),
  };
  const monitoring: Schema = {
    metrics: T.instance(MetricsAuthorization, "MetricsAuthorization.forServiceAccount('monitoring', 'prometheus-k8s')"),
    serviceMonitor: T.boolean(),
    serviceMonitorLabels: T.stringMap("{ release: 'kube-prometheus-stack' }"),
    serviceMonitorInterval: T.duration('Duration.minutes(1)'),
    serviceMonitorScrapeTimeout: T.duration('Duration.seconds(10)'),
    serviceMonitorRelabelings: T.array(T.struct('RelabelConfig', relabel)),
    serviceMonitorMetricRelabelings: T.array(T.struct('RelabelConfig', relabel)),
  };
  const props: Schema = { ...identity, ...rollout, ...pod, ...service, ...volumes, ...monitoring, addonResizer: T.struct('AddonResizerOptions', addonResizer) };
  return {
    props,
    named: {
      ChartValuesProps: props,
      IdentityOptions: identity,
      RolloutOptions: rollout,
      PodOptions: pod,
      ServiceOptions: service,
      ExtraVolumesOptions: volumes,
      MonitoringOptions: monitoring,
      AddonResizerOptions: addonResizer,
      ProbeTiming: probe,
      RelabelConfig: relabel,
    },
  };
}
