import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Duration, Size, Testing } from 'cdk8s';
import { Cpu, ImagePullPolicy, TaintEffect } from 'cdk8s-plus-28';
import { buildApp, propsFromEnv } from '../main';
import {
  CertificateStore, PodAntiAffinity, SecureMetricsServer, SecureMetricsServerProps, ServingTls,
  TolerationOperator, WhenUnsatisfiable,
} from '../lib';
import { fixtureStore, synth, warningsOf } from './helpers';

const STORE_DIR = fixtureStore().directory;
const LABELS = { 'k8s-app': 'metrics-server' };

/** A SecureMetricsServer alone in a fresh App, with its synthesized objects and warnings. */
function make(props: SecureMetricsServerProps = {}) {
  const { construct, objects } = synth({
    servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(STORE_DIR) }),
    ...props,
  });
  return { construct, objects };
}

function one(objects: any[], kind: string): any {
  const found = objects.filter(o => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
}

const deployment = (objects: any[]) => one(objects, 'Deployment');
const podSpec = (objects: any[]) => deployment(objects).spec.template.spec;
const container = (objects: any[]) => podSpec(objects).containers[0];

/** Construction with these props fails with exactly this message. */
function refuses(props: SecureMetricsServerProps, message: string) {
  expect(() => make(props)).toThrow(message);
  try {
    make(props);
  } catch (e: any) {
    expect(e.message).toBe(message);
  }
}

describe('high availability', () => {
  test('one replica (the default) is upstream: no replicas field, maxUnavailable 0, no affinity, no budget', () => {
    const { construct, objects } = make();
    const d = deployment(objects);
    expect(d.spec.replicas).toBeUndefined();
    expect(d.spec.strategy).toEqual({ rollingUpdate: { maxUnavailable: 0 } });
    expect(d.spec.template.spec.affinity).toBeUndefined();
    expect(d.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    expect(objects.filter(o => o.kind === 'PodDisruptionBudget' || o.kind === 'NetworkPolicy')).toEqual([]);
    expect(construct.podDisruptionBudget).toBeUndefined();
    expect(construct.networkPolicy).toBeUndefined();
    expect(make({ replicas: 1 }).objects).toEqual(objects);
  });

  test('two replicas are upstream\'s high-availability manifest: replicas, maxUnavailable 1, required anti-affinity, policy/v1 budget', () => {
    const { construct, objects } = make({ replicas: 2 });
    const d = deployment(objects);
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.strategy).toEqual({ rollingUpdate: { maxUnavailable: 1 } });
    expect(d.spec.template.spec.affinity).toEqual({
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{
          labelSelector: { matchLabels: LABELS },
          namespaces: ['kube-system'],
          topologyKey: 'kubernetes.io/hostname',
        }],
      },
    });
    expect(one(objects, 'PodDisruptionBudget')).toEqual({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { labels: LABELS, name: 'metrics-server', namespace: 'kube-system' },
      spec: { minAvailable: 1, selector: { matchLabels: LABELS } },
    });
    expect(construct.podDisruptionBudget?.kind).toBe('PodDisruptionBudget');
    expect(construct.podDisruptionBudget?.name).toBe('metrics-server');
  });

  test('high availability changes nothing else in the Deployment', () => {
    const single = deployment(make().objects);
    const ha = structuredClone(deployment(make({ replicas: 2 }).objects));
    delete ha.spec.replicas;
    delete ha.spec.template.spec.affinity;
    ha.spec.strategy.rollingUpdate.maxUnavailable = 0;
    expect(ha).toEqual(single);
  });

  test('minAvailable is configurable', () => {
    const { objects } = make({ replicas: 3, minAvailable: 2 });
    expect(deployment(objects).spec.replicas).toBe(3);
    expect(one(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
  });

  test('preferred anti-affinity, or none, as an enum', () => {
    const preferred = make({ replicas: 2, podAntiAffinity: PodAntiAffinity.PREFERRED }).objects;
    expect(podSpec(preferred).affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100,
          podAffinityTerm: {
            labelSelector: { matchLabels: LABELS },
            namespaces: ['kube-system'],
            topologyKey: 'kubernetes.io/hostname',
          },
        }],
      },
    });
    const none = make({ replicas: 2, podAntiAffinity: PodAntiAffinity.NONE }).objects;
    expect(podSpec(none).affinity).toBeUndefined();
    expect(one(none, 'PodDisruptionBudget').spec.minAvailable).toBe(1);
    expect(podSpec(make({ podAntiAffinity: PodAntiAffinity.REQUIRED }).objects).affinity).toBeUndefined();
  });

  test('another name and namespace move the selector, the affinity term and the budget', () => {
    const { objects } = make({ replicas: 2, name: 'ms', namespace: 'monitoring' });
    expect(podSpec(objects).affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
      labelSelector: { matchLabels: { 'k8s-app': 'ms' } },
      namespaces: ['monitoring'],
      topologyKey: 'kubernetes.io/hostname',
    });
    const pdb = one(objects, 'PodDisruptionBudget');
    expect(pdb.metadata).toEqual({ labels: { 'k8s-app': 'ms' }, name: 'ms', namespace: 'monitoring' });
    expect(pdb.spec.selector).toEqual({ matchLabels: { 'k8s-app': 'ms' } });
  });

  test('topology spread constraints, with the pods\' selector filled in', () => {
    const { objects } = make({
      replicas: 3,
      topologySpreadConstraints: [
        { topologyKey: 'topology.kubernetes.io/zone' },
        { topologyKey: 'kubernetes.io/hostname', maxSkew: 2, whenUnsatisfiable: WhenUnsatisfiable.DO_NOT_SCHEDULE, minDomains: 2 },
      ],
    });
    expect(podSpec(objects).topologySpreadConstraints).toEqual([
      { labelSelector: { matchLabels: LABELS }, maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
      { labelSelector: { matchLabels: LABELS }, maxSkew: 2, minDomains: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' },
    ]);
  });

  test.each([
    [{ replicas: 0 }, 'replicas: 0 must be at least 1; use e.g. 2 for high availability'],
    [{ replicas: -2 }, 'replicas: -2 must be at least 1; use e.g. 2 for high availability'],
    [{ replicas: 1.5 }, 'replicas: 1.5 must be a whole number; use e.g. 2 for high availability'],
    [{ replicas: 2, minAvailable: 2 }, 'minAvailable: 2 must be below replicas (2), or no pod could ever be evicted and node drains would hang; use e.g. minAvailable 1 with replicas 2'],
    [{ replicas: 3, minAvailable: 5 }, 'minAvailable: 5 must be below replicas (3), or no pod could ever be evicted and node drains would hang; use e.g. minAvailable 2 with replicas 3'],
    [{ minAvailable: 1 }, 'minAvailable: 1 must be below replicas (1), or no pod could ever be evicted and node drains would hang; use e.g. minAvailable 1 with replicas 2'],
    [{ replicas: 2, minAvailable: 0 }, 'minAvailable: 0 must be a whole number of at least 1; use e.g. 1'],
    [{ podAntiAffinity: 'sometimes' as PodAntiAffinity }, "podAntiAffinity: 'sometimes' is not a choice; use PodAntiAffinity.REQUIRED, PodAntiAffinity.PREFERRED or PodAntiAffinity.NONE"],
    [{ topologySpreadConstraints: [{ topologyKey: 'zone!' }] }, "topologySpreadConstraints[0].topologyKey: 'zone!' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')"],
    [{ topologySpreadConstraints: [{ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 0 }] }, 'topologySpreadConstraints[0].maxSkew: 0 must be a whole number from 1 to 2147483647 (int32); use e.g. 1'],
    [{ topologySpreadConstraints: [{ topologyKey: 'topology.kubernetes.io/zone', minDomains: 2 }] }, 'topologySpreadConstraints[0].minDomains: only applies with WhenUnsatisfiable.DO_NOT_SCHEDULE; set that or remove minDomains'],
    [{ topologySpreadConstraints: [{ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: WhenUnsatisfiable.DO_NOT_SCHEDULE, minDomains: 0 }] }, 'topologySpreadConstraints[0].minDomains: 0 must be a whole number from 1 to 2147483647 (int32); use e.g. 2'],
    [{ topologySpreadConstraints: [{ topologyKey: 'topology.kubernetes.io/zone' }, { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 2 }] }, "topologySpreadConstraints[1]: a second constraint on 'topology.kubernetes.io/zone' with ScheduleAnyway; Kubernetes refuses duplicates, merge them into one"],
  ] as Array<[SecureMetricsServerProps, string]>)('refuses %j', (props, message) => {
    refuses(props, message);
  });
});

describe('scheduling and resources', () => {
  test('resources: requests stay upstream\'s unless given, limits are optional', () => {
    expect(container(make().objects).resources).toEqual({ requests: { cpu: '100m', memory: '200Mi' } });
    expect(container(make({ resources: { memory: { limit: Size.mebibytes(400) } } }).objects).resources)
      .toEqual({ requests: { cpu: '100m', memory: '200Mi' }, limits: { memory: '400Mi' } });
    expect(container(make({
      resources: {
        cpu: { request: Cpu.millis(250), limit: Cpu.units(1) },
        memory: { request: Size.mebibytes(300), limit: Size.gibibytes(1) },
        ephemeralStorage: { request: Size.kibibytes(512), limit: Size.mebibytes(100) },
      },
    }).objects).resources).toEqual({
      requests: { 'cpu': '250m', 'memory': '300Mi', 'ephemeral-storage': '512Ki' },
      limits: { 'cpu': '1', 'memory': '1024Mi', 'ephemeral-storage': '100Mi' },
    });
  });

  test.each([
    [{ cpu: { request: Cpu.millis(-100) } }, "resources: cpu request '-100m' is negative; use a positive amount, e.g. Cpu.millis(100)"],
    [{ cpu: { limit: Cpu.units(-1) } }, "resources: cpu limit '-1' is negative; use a positive amount, e.g. Cpu.millis(100)"],
    [{ cpu: { request: { amount: '1 core' } as unknown as Cpu } }, "resources: cpu request '1 core' is not a Kubernetes quantity; use e.g. Cpu.millis(100)"],
    [{ cpu: { limit: Cpu.units(NaN) } }, "resources: cpu limit 'NaN' is not a Kubernetes quantity; use e.g. Cpu.millis(100)"],
    [{ memory: { request: Size.mebibytes(NaN) } }, "resources: memory request 'NaNMi' is not a Kubernetes quantity; use e.g. Size.mebibytes(200)"],
    [{ memory: { limit: Size.mebibytes(100) } }, "resources: memory limit 100Mi is below the memory request 200Mi (upstream's default); raise the limit or lower the request"],
    [{ cpu: { request: Cpu.millis(500), limit: Cpu.millis(200) } }, 'resources: cpu limit 200m is below the cpu request 500m; raise the limit or lower the request'],
    [{ ephemeralStorage: { request: Size.gibibytes(1), limit: Size.mebibytes(10) } }, 'resources: ephemeral-storage limit 10Mi is below the ephemeral-storage request 1024Mi; raise the limit or lower the request'],
  ] as Array<[any, string]>)('refuses resources %#', (resources, message) => {
    refuses({ resources }, message);
  });

  test('priorityClassName, nodeSelector on top of kubernetes.io/os, tolerations', () => {
    const spec = podSpec(make({
      priorityClassName: 'metrics-critical',
      nodeSelector: { 'node-role.kubernetes.io/infra': '', 'example.com/pool': 'system' },
      tolerations: [
        { key: 'CriticalAddonsOnly', operator: TolerationOperator.EXISTS },
        { key: 'node-role.kubernetes.io/control-plane', effect: TaintEffect.NO_SCHEDULE },
        { key: 'dedicated', value: 'monitoring', effect: TaintEffect.NO_EXECUTE, tolerationSeconds: Duration.minutes(5) },
        { operator: TolerationOperator.EXISTS },
      ],
    }).objects);
    expect(spec.priorityClassName).toBe('metrics-critical');
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/infra': '', 'example.com/pool': 'system' });
    expect(spec.tolerations).toEqual([
      { key: 'CriticalAddonsOnly', operator: 'Exists' },
      { effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane', operator: 'Equal' },
      { effect: 'NoExecute', key: 'dedicated', operator: 'Equal', tolerationSeconds: 300, value: 'monitoring' },
      { operator: 'Exists' },
    ]);
    const defaults = podSpec(make().objects);
    expect(defaults.priorityClassName).toBe('system-cluster-critical');
    expect(defaults.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(defaults.tolerations).toBeUndefined();
  });

  test('a nodeSelector entry for kubernetes.io/os replaces upstream\'s', () => {
    expect(podSpec(make({ nodeSelector: { 'kubernetes.io/os': 'windows', 'kubernetes.io/arch': 'amd64' } }).objects).nodeSelector)
      .toEqual({ 'kubernetes.io/os': 'windows', 'kubernetes.io/arch': 'amd64' });
  });

  test.each([
    [{ priorityClassName: 'System Critical' }, "priorityClassName: 'System Critical' is not a valid DNS subdomain name; use at most 253 lower-case letters, digits, '-' and '.' (e.g. 'metrics-server-tls')"],
    [{ nodeSelector: { 'bad key!': 'x' } }, "nodeSelector: 'bad key!' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')"],
    [{ nodeSelector: { 'Example.com/pool': 'x' } }, "nodeSelector: 'Example.com/pool' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')"],
    [{ nodeSelector: { pool: 'a b' } }, "nodeSelector['pool']: 'a b' is not a valid label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'monitoring')"],
    [{ tolerations: [{ key: 'a/b/c', operator: TolerationOperator.EXISTS }] }, "tolerations[0].key: 'a/b/c' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')"],
    [{ tolerations: [{ key: `${'k'.repeat(64)}` }] }, `tolerations[0].key: '${'k'.repeat(64)}' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')`],
    [{ tolerations: [{ value: 'x' }] }, "tolerations[0].key: a toleration without a key matches every taint and needs operator TolerationOperator.EXISTS; set a key (e.g. 'node-role.kubernetes.io/control-plane') or the operator"],
    [{ tolerations: [{ key: 'dedicated', operator: TolerationOperator.EXISTS, value: 'x' }] }, "tolerations[0].value: 'x' is set with operator TolerationOperator.EXISTS, which matches any value; remove the value or use TolerationOperator.EQUAL"],
    [{ tolerations: [{ key: 'dedicated', operator: 'In' as TolerationOperator }] }, "tolerations[0].operator: 'In' is not an operator; use TolerationOperator.EQUAL or TolerationOperator.EXISTS"],
    [{ tolerations: [{ key: 'dedicated', effect: 'NoWay' as TaintEffect }] }, "tolerations[0].effect: 'NoWay' is not a taint effect; use TaintEffect.NO_SCHEDULE, TaintEffect.PREFER_NO_SCHEDULE or TaintEffect.NO_EXECUTE"],
    [{ tolerations: [{ key: 'dedicated', effect: TaintEffect.NO_SCHEDULE, tolerationSeconds: Duration.seconds(5) }] }, 'tolerations[0].tolerationSeconds: only applies to effect TaintEffect.NO_EXECUTE; set that effect or remove tolerationSeconds'],
    [{ tolerations: [{ key: 'dedicated', effect: TaintEffect.NO_EXECUTE, tolerationSeconds: Duration.millis(1500) }] }, 'tolerations[0].tolerationSeconds: 1 second 500 millis must be whole seconds, not negative; use e.g. Duration.seconds(300)'],
    [{ tolerations: [{ key: 'dedicated', value: 'a b' }] }, "tolerations[0].value: 'a b' is not a valid label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'monitoring')"],
    [{ labels: { [`${'a'.repeat(254)}/team`]: 'x' } }, `labels: '${'a'.repeat(254)}/team' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')`],
  ] as Array<[SecureMetricsServerProps, string]>)('refuses %j', (props, message) => {
    refuses(props, message);
  });

  test('labels go on every object and the pods, annotations on every object; pod labels and annotations on the pods only', () => {
    const { objects } = make({
      labels: { 'team': 'platform', 'example.com/cost-center': 'ops' },
      annotations: { 'example.com/owner': 'platform@example.com' },
      podLabels: { tier: 'system' },
      podAnnotations: { 'prometheus.io/scrape': 'false' },
      replicas: 2,
      networkPolicy: true,
    });
    expect(objects.length).toBeGreaterThanOrEqual(12);
    for (const o of objects) {
      expect(o.metadata.labels).toEqual(expect.objectContaining({ 'team': 'platform', 'example.com/cost-center': 'ops' }));
      expect(o.metadata.annotations).toEqual(expect.objectContaining({ 'example.com/owner': 'platform@example.com' }));
      expect(o.metadata.labels.tier).toBeUndefined();
    }
    const d = deployment(objects);
    expect(d.metadata.labels).toEqual({ ...LABELS, 'team': 'platform', 'example.com/cost-center': 'ops' });
    expect(d.spec.template.metadata).toEqual({
      labels: { ...LABELS, 'team': 'platform', 'example.com/cost-center': 'ops', 'tier': 'system' },
      annotations: { 'prometheus.io/scrape': 'false' },
    });
    // the selectors still select on k8s-app alone
    expect(d.spec.selector).toEqual({ matchLabels: LABELS });
    expect(one(objects, 'Service').spec.selector).toEqual(LABELS);
    expect(one(objects, 'PodDisruptionBudget').spec.selector).toEqual({ matchLabels: LABELS });
    // the aggregation labels of the ClusterRole stay
    const reader = objects.find(o => o.metadata.name === 'system:aggregated-metrics-reader');
    expect(reader.metadata.labels['rbac.authorization.k8s.io/aggregate-to-view']).toBe('true');
  });

  test.each([
    [{ labels: { 'k8s-app': 'other' } }, "labels: 'k8s-app' is set by the construct and selects the pods; it cannot be overridden (use the name prop to change its value)"],
    [{ podLabels: { 'k8s-app': 'other' } }, "podLabels: 'k8s-app' is set by the construct and selects the pods; it cannot be overridden (use the name prop to change its value)"],
    [{ labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'false' } }, "labels: 'rbac.authorization.k8s.io/aggregate-to-view' uses the prefix 'rbac.authorization.k8s.io/aggregate-to-', which the construct sets itself; use another key"],
    [{ labels: { '-team': 'x' } }, "labels: '-team' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')"],
    [{ labels: { team: 'platform team' } }, "labels['team']: 'platform team' is not a valid label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'monitoring')"],
    [{ annotations: { 'secure-metrics-server.io/insecure-tls': '' } }, "annotations: 'secure-metrics-server.io/insecure-tls' uses the prefix 'secure-metrics-server.io/', which the construct sets itself; use another key"],
    [{ podAnnotations: { 'bad key': 'x' } }, "podAnnotations: 'bad key' is not a valid annotation key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/owner' or 'owner')"],
  ] as Array<[SecureMetricsServerProps, string]>)('refuses %j', (props, message) => {
    refuses(props, message);
  });

  test('image pull policy (enum) and pull secrets', () => {
    const spec = podSpec(make({ imagePullPolicy: ImagePullPolicy.ALWAYS, imagePullSecrets: ['registry-creds', 'mirror-creds'] }).objects);
    expect(spec.containers[0].imagePullPolicy).toBe('Always');
    expect(spec.imagePullSecrets).toEqual([{ name: 'registry-creds' }, { name: 'mirror-creds' }]);
    const defaults = podSpec(make().objects);
    expect(defaults.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(defaults.imagePullSecrets).toBeUndefined();
  });

  test.each([
    [{ imagePullPolicy: 'Sometimes' as ImagePullPolicy }, "imagePullPolicy: 'Sometimes' is not a pull policy; use ImagePullPolicy.ALWAYS, ImagePullPolicy.IF_NOT_PRESENT or ImagePullPolicy.NEVER"],
    [{ imagePullSecrets: ['Registry_Creds'] }, "imagePullSecrets[0]: 'Registry_Creds' is not a valid DNS subdomain name; use at most 253 lower-case letters, digits, '-' and '.' (e.g. 'metrics-server-tls')"],
    [{ imagePullSecrets: ['a', 'a'] }, 'imagePullSecrets: [a, a] lists a Secret twice; list each once'],
  ] as Array<[SecureMetricsServerProps, string]>)('refuses %j', (props, message) => {
    refuses(props, message);
  });
});

describe('image references', () => {
  const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
  test.each([
    `registry.k8s.io/metrics-server/metrics-server@${DIGEST}`,
    `registry.k8s.io/metrics-server/metrics-server:v0.8.1@${DIGEST}`,
    'registry.example.com:5000/mirror/metrics-server:v0.8.1',
    'localhost:5000/metrics-server',
    'metrics-server',
    '[::1]:5000/metrics-server:v0.8.1-custom_1',
    `registry.k8s.io/metrics-server/metrics-server@sha512:${'ab'.repeat(64)}`,
    `registry.k8s.io/metrics-server/metrics-server@sha384:${'ab'.repeat(48)}`,
  ])('accepts %s', image => {
    expect(container(make({ image }).objects).image).toBe(image);
  });

  const EXAMPLE = "e.g. 'registry.k8s.io/metrics-server/metrics-server:v0.8.1' or 'registry.k8s.io/metrics-server/metrics-server@sha256:<64 hex digits>'";
  test.each([
    ['', `image: '' is not an image reference; use ${EXAMPLE}`],
    ['registry.k8s.io/metrics server', `image: 'registry.k8s.io/metrics server' is not an image reference; use ${EXAMPLE}`],
    [`metrics-server@sha256:${'a'.repeat(63)}`, `image: 'metrics-server@sha256:${'a'.repeat(63)}' has a malformed sha256 digest: '${'a'.repeat(63)}' must be exactly 64 lower-case hex digits (${EXAMPLE})`],
    [`metrics-server@sha256:${'A'.repeat(64)}`, `image: 'metrics-server@sha256:${'A'.repeat(64)}' has a malformed sha256 digest: '${'A'.repeat(64)}' must be exactly 64 lower-case hex digits (${EXAMPLE})`],
    [`metrics-server@sha256:${'g'.repeat(64)}`, `image: 'metrics-server@sha256:${'g'.repeat(64)}' has a malformed sha256 digest: '${'g'.repeat(64)}' must be exactly 64 lower-case hex digits (${EXAMPLE})`],
    [`metrics-server@sha384:${'a'.repeat(95)}`, `image: 'metrics-server@sha384:${'a'.repeat(95)}' has a malformed sha384 digest: '${'a'.repeat(95)}' must be exactly 96 lower-case hex digits (${EXAMPLE})`],
    [`metrics-server@md5:${'a'.repeat(32)}`, `image: 'metrics-server@md5:${'a'.repeat(32)}' has a malformed digest 'md5:${'a'.repeat(32)}'; a digest is 'sha256:' followed by 64 lower-case hex digits (${EXAMPLE})`],
    ['metrics-server@v0.8.1', `image: 'metrics-server@v0.8.1' has a malformed digest 'v0.8.1'; a digest is 'sha256:' followed by 64 lower-case hex digits (${EXAMPLE})`],
    ['metrics-server:v0.8.1!', `image: 'metrics-server:v0.8.1!' has a malformed tag 'v0.8.1!'; a tag is at most 128 letters, digits, '_', '.' and '-', not starting with '.' or '-' (${EXAMPLE})`],
    ['metrics-server:', `image: 'metrics-server:' has a malformed tag ''; a tag is at most 128 letters, digits, '_', '.' and '-', not starting with '.' or '-' (${EXAMPLE})`],
    [`metrics-server:${'v'.repeat(129)}`, `image: 'metrics-server:${'v'.repeat(129)}' has a malformed tag '${'v'.repeat(129)}'; a tag is at most 128 letters, digits, '_', '.' and '-', not starting with '.' or '-' (${EXAMPLE})`],
    ['registry.k8s.io/Metrics-Server:v0.8.1', `image: 'registry.k8s.io/Metrics-Server:v0.8.1' has a malformed repository name 'registry.k8s.io/Metrics-Server'; use lower-case path components separated by '/', optionally after a registry host (${EXAMPLE})`],
    ['registry.k8s.io//metrics-server', `image: 'registry.k8s.io//metrics-server' has a malformed repository name 'registry.k8s.io//metrics-server'; use lower-case path components separated by '/', optionally after a registry host (${EXAMPLE})`],
  ])('refuses %s', (image, message) => {
    refuses({ image }, message);
  });
});

describe('NetworkPolicy', () => {
  test('opt-in: ingress to the secure port only, egress to kubelets, API server and DNS', () => {
    const { construct, objects } = make({ networkPolicy: true });
    expect(one(objects, 'NetworkPolicy')).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { labels: LABELS, name: 'metrics-server', namespace: 'kube-system' },
      spec: {
        podSelector: { matchLabels: LABELS },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ ports: [{ port: 10250, protocol: 'TCP' }] }],
        egress: [
          { ports: [{ port: 10250, protocol: 'TCP' }] },
          { ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] },
          { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
        ],
      },
    });
    expect(construct.networkPolicy?.kind).toBe('NetworkPolicy');
  });

  test('the secure port, the kubelet port and the API server ports drive the rules', () => {
    const np = one(make({
      networkPolicy: true, securePort: 4443, networkPolicyKubeletPort: 10255, networkPolicyApiServerPorts: [8443],
    }).objects, 'NetworkPolicy');
    expect(np.spec.ingress).toEqual([{ ports: [{ port: 4443, protocol: 'TCP' }] }]);
    expect(np.spec.egress.slice(0, 2)).toEqual([
      { ports: [{ port: 10255, protocol: 'TCP' }] },
      { ports: [{ port: 8443, protocol: 'TCP' }] },
    ]);
  });

  test.each([
    [{ networkPolicy: true, networkPolicyKubeletPort: 0 }, 'networkPolicyKubeletPort: 0 is not a valid port; use a whole number from 1 to 65535 (e.g. 10250)'],
    [{ networkPolicy: true, networkPolicyKubeletPort: 70000 }, 'networkPolicyKubeletPort: 70000 is not a valid port; use a whole number from 1 to 65535 (e.g. 10250)'],
    [{ networkPolicy: true, networkPolicyApiServerPorts: [443, 65536] }, 'networkPolicyApiServerPorts[1]: 65536 is not a valid port; use a whole number from 1 to 65535 (e.g. 10250)'],
    [{ networkPolicy: true, networkPolicyApiServerPorts: [-1] }, 'networkPolicyApiServerPorts[0]: -1 is not a valid port; use a whole number from 1 to 65535 (e.g. 10250)'],
    [{ networkPolicy: true, networkPolicyApiServerPorts: [] }, 'networkPolicyApiServerPorts: [] must list at least one port; use e.g. [443, 6443]'],
    [{ networkPolicy: true, networkPolicyApiServerPorts: [443, 443] }, 'networkPolicyApiServerPorts: [443, 443] lists a port twice; list each once (e.g. [443, 6443])'],
    [{ networkPolicyKubeletPort: 10250 }, 'networkPolicyKubeletPort/networkPolicyApiServerPorts: set without networkPolicy: true, they have no effect; set networkPolicy: true or remove them'],
  ] as Array<[SecureMetricsServerProps, string]>)('refuses %j', (props, message) => {
    refuses(props, message);
  });
});

describe('host networking', () => {
  test('hostNetwork with ClusterFirstWithHostNet, on another port', () => {
    const { objects, construct } = make({ hostNetwork: true, securePort: 4443 });
    const spec = podSpec(objects);
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(spec.containers[0].ports).toEqual([{ containerPort: 4443, name: 'https', protocol: 'TCP' }]);
    expect(spec.containers[0].args).toContain('--secure-port=4443');
    expect(construct.warnings).toEqual([]);
    const defaults = podSpec(make().objects);
    expect(defaults.hostNetwork).toBeUndefined();
    expect(defaults.dnsPolicy).toBeUndefined();
  });

  test('hostNetwork on the kubelet\'s port 10250 is refused, suggesting another port', () => {
    const message = "hostNetwork: true with securePort 10250 would bind the kubelet's own port on every node; set securePort to another free port, e.g. 4443";
    refuses({ hostNetwork: true }, message);
    refuses({ hostNetwork: true, securePort: 10250 }, message);
  });

  test('hostNetwork on a port below 1024 is refused: the non-root process cannot bind it on the node', () => {
    refuses({ hostNetwork: true, securePort: 443 }, "hostNetwork: true with securePort 443: metrics-server runs as a non-root user with every capability dropped, so it cannot bind a port below 1024 in the node's network namespace; set securePort to a free port from 1024 up, e.g. 4443");
    expect(podSpec(make({ hostNetwork: true, securePort: 1024 }).objects).containers[0].ports[0].containerPort).toBe(1024);
  });

  test('hostNetwork with a NetworkPolicy warns that most CNIs ignore it', () => {
    const { construct } = make({ hostNetwork: true, securePort: 4443, networkPolicy: true });
    expect(construct.warnings).toEqual(['test/MetricsServer: networkPolicy with hostNetwork: most CNIs do not apply NetworkPolicies to host-network pods, so the policy is likely to have no effect']);
    expect(warningsOf(construct)).toEqual(construct.warnings);
  });
});

describe('example app', () => {
  // the documented environment switch: warnings are recorded, not printed
  beforeAll(() => { process.env[SecureMetricsServer.SILENCE_WARNINGS_ENV] = '1'; });
  afterAll(() => { delete process.env[SecureMetricsServer.SILENCE_WARNINGS_ENV]; });
  const env = (vars: { [k: string]: string }) => ({ PKI_DIR: STORE_DIR, ...vars });
  const synthEnv = (vars: { [k: string]: string }) => {
    const app = buildApp(env(vars), mkdtempSync(path.join(tmpdir(), 'sms-out-')));
    return Testing.synth(app.charts[0]) as any[];
  };

  test('REPLICAS, NETWORK_POLICY and HOST_NETWORK with SECURE_PORT', () => {
    expect(propsFromEnv(env({ REPLICAS: '3', NETWORK_POLICY: 'true', HOST_NETWORK: 'true', SECURE_PORT: '4443' })))
      .toEqual(expect.objectContaining({ replicas: 3, networkPolicy: true, hostNetwork: true, securePort: 4443 }));
    const objects = synthEnv({ REPLICAS: '2', NETWORK_POLICY: 'true', HOST_NETWORK: 'true', SECURE_PORT: '4443' });
    expect(deployment(objects).spec.replicas).toBe(2);
    expect(podSpec(objects).hostNetwork).toBe(true);
    expect(one(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(1);
    expect(one(objects, 'NetworkPolicy').spec.ingress).toEqual([{ ports: [{ port: 4443, protocol: 'TCP' }] }]);
  });

  test('unset or false: upstream\'s single replica, no policy, pod network', () => {
    const props = propsFromEnv(env({ NETWORK_POLICY: 'false', HOST_NETWORK: 'false' }));
    expect(props.networkPolicy).toBe(false);
    expect(props.hostNetwork).toBe(false);
    expect(propsFromEnv(env({})).replicas).toBeUndefined();
    const objects = synthEnv({});
    expect(deployment(objects).spec.replicas).toBeUndefined();
    expect(objects.filter(o => o.kind === 'NetworkPolicy' || o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  test.each([
    [{ REPLICAS: 'two' }, "REPLICAS: 'two' is not a whole number; use e.g. REPLICAS=2"],
    [{ REPLICAS: '-1' }, "REPLICAS: '-1' is not a whole number; use e.g. REPLICAS=2"],
    [{ SECURE_PORT: '44x3' }, "SECURE_PORT: '44x3' is not a whole number; use e.g. SECURE_PORT=4443"],
    [{ NETWORK_POLICY: 'yes' }, "NETWORK_POLICY: 'yes' is not true or false; use NETWORK_POLICY=true, or leave it unset for false"],
    [{ HOST_NETWORK: '1' }, "HOST_NETWORK: '1' is not true or false; use HOST_NETWORK=true, or leave it unset for false"],
    [{ HOST_NETWORK: 'true' }, 'HOST_NETWORK=true needs SECURE_PORT: the kubelet owns port 10250 (the default) on every node; set another port, e.g. SECURE_PORT=4443'],
  ])('refuses %j', (vars, message) => {
    expect(() => propsFromEnv(env(vars))).toThrow(message);
  });

  test('values the construct refuses fail the build with its message', () => {
    expect(() => buildApp(env({ REPLICAS: '0' }))).toThrow('replicas: 0 must be at least 1; use e.g. 2 for high availability');
    expect(() => buildApp(env({ HOST_NETWORK: 'true', SECURE_PORT: '10250' }))).toThrow("hostNetwork: true with securePort 10250 would bind the kubelet's own port on every node; set securePort to another free port, e.g. 4443");
    expect(() => buildApp(env({ SECURE_PORT: '70000' }))).toThrow('securePort: 70000 is not a valid port; use a whole number from 1 to 65535 (e.g. 10250)');
  });
});
