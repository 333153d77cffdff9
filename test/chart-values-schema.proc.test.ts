// The output with every chart-values prop set, validated object by object
// against Kubernetes' own OpenAPI v3 schemas (kubernetes v1.34.1's
// api/openapi-spec/v3, from the Go module cache through `go mod download`),
// with unknown fields refused as server-side apply's strict field validation
// refuses them. The real control plane (server-side apply) is test/e2e's.
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { Duration, Size } from 'cdk8s';
import { ConfigMap, DeploymentStrategy, EmptyDirMedium, NodeLabelQuery, PercentOrAbsolute, ServiceType, Volume } from 'cdk8s-plus-28';
import { MetricsAuthorization, RelabelAction, UnhealthyPodEvictionPolicy } from '../lib';
import { synth } from './helpers';

const K8S = 'k8s.io/kubernetes@v1.34.1';

/** Each GVK's schema id, in one Ajv holding every spec file the objects need. */
function loadSchemas(): { ajv: Ajv; byGvk: Map<string, string> } {
  const dir = JSON.parse(execFileSync('go', ['mod', 'download', '-json', K8S], { encoding: 'utf8', cwd: path.join(__dirname, 'servicemonitor') })).Dir;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const byGvk = new Map<string, string>();
  const files = ['api__v1', 'apis__apps__v1', 'apis__policy__v1', 'apis__rbac.authorization.k8s.io__v1', 'apis__apiregistration.k8s.io__v1', 'apis__networking.k8s.io__v1'];
  for (const f of files) {
    const doc = JSON.parse(readFileSync(path.join(dir, 'api', 'openapi-spec', 'v3', `${f}_openapi.json`), 'utf8'));
    const schemas: { [name: string]: any } = doc.components.schemas;
    const strict = (s: any): void => {
      if (s && typeof s === 'object') {
        if (s.properties && s.additionalProperties === undefined) {
          s.additionalProperties = false;
        }
        Object.values(s).forEach(strict);
      }
    };
    Object.values(schemas).forEach(strict);
    ajv.addSchema({ $id: f, components: { schemas } });
    for (const [name, s] of Object.entries(schemas)) {
      for (const gvk of s['x-kubernetes-group-version-kind'] ?? []) {
        byGvk.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, `${f}#/components/schemas/${name}`);
      }
    }
  }
  return { ajv, byGvk };
}

test('every object, with every chart-values prop set, is valid against the Kubernetes v1.34 OpenAPI schema', () => {
  const { ajv, byGvk } = loadSchemas();
  const { chart } = synth({});
  const ca = Volume.fromConfigMap(chart, 'Ca', ConfigMap.fromConfigMapName(chart, 'CaMap', 'front-proxy-ca'), { name: 'front-proxy-ca' });
  const { objects } = synth({
    replicas: 3,
    networkPolicy: true,
    serviceAccountName: 'ms', serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' },
    apiServiceAnnotations: { owner: 'platform' },
    livenessProbe: { period: Duration.seconds(20), timeout: Duration.seconds(2) },
    readinessProbe: { initialDelay: Duration.seconds(5), successThreshold: 2 },
    updateStrategy: DeploymentStrategy.rollingUpdate({ maxSurge: PercentOrAbsolute.percent(25), maxUnavailable: PercentOrAbsolute.absolute(0) }),
    revisionHistoryLimit: 3,
    podDisruptionBudgetMaxUnavailable: 1,
    unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW,
    hostUsers: false, schedulerName: 'my-scheduler',
    dnsNameservers: ['10.96.0.10'], dnsSearches: ['svc.cluster.local'], dnsOptions: [{ name: 'ndots', value: '2' }],
    requiredNodeAffinity: [NodeLabelQuery.in('kubernetes.io/arch', ['amd64'])], preferredNodeAffinity: [NodeLabelQuery.exists('node-role.kubernetes.io/infra')],
    deploymentAnnotations: { owner: 'platform' }, runAsUser: 2000, runAsGroup: 2000, fsGroup: 2000,
    serviceType: ServiceType.LOAD_BALANCER, servicePort: 8443, serviceAnnotations: { a: 'b' }, serviceLabels: { 'kubernetes.io/cluster-service': 'true' },
    extraVolumeMounts: [{ volume: ca, path: '/etc/front-proxy', readOnly: true }],
    tmpVolumeMedium: EmptyDirMedium.MEMORY, tmpVolumeSizeLimit: Size.mebibytes(64),
    metrics: MetricsAuthorization.forServiceAccount('monitoring', 'prometheus-k8s'),
    serviceMonitor: true,
    serviceMonitorRelabelings: [{ action: RelabelAction.REPLACE, sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
    addonResizer: {},
  });
  const core = objects.filter(o => o.kind !== 'ServiceMonitor');
  expect(core.map(o => o.kind).sort()).toEqual(['APIService', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRoleBinding',
    'ConfigMap', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount']);
  const invalid = core.flatMap(o => {
    const ref = byGvk.get(`${o.apiVersion}/${o.kind}`);
    if (!ref) {
      return [`${o.apiVersion}/${o.kind}: no schema`];
    }
    const validate = ajv.getSchema(ref)!;
    return validate(o) ? [] : [`${o.kind}/${o.metadata.name}: ${ajv.errorsText(validate.errors)}`];
  });
  expect(invalid).toEqual([]);
  // the schema check can fail: an unknown field and a wrong type are caught
  const deployment = core.find(o => o.kind === 'Deployment');
  const validate = ajv.getSchema(byGvk.get('apps/v1/Deployment')!)!;
  expect(validate({ ...deployment, spec: { ...deployment.spec, revisionHistoryLimit: '3' } })).toBe(false);
  expect(validate({ ...deployment, spec: { ...deployment.spec, hostUser: false } })).toBe(false);
}, 120_000);
