import * as path from 'path';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  CertificateStore, KubeletServingCertApprover, KubeletServingCertApproverProps, SecureMetricsServer,
  SecureMetricsServerProps, ServingTls,
} from '../lib';
import { propsFromEnv } from '../main';
import { fixtureStore, quietApp, warningsOf } from './helpers';

const REGEX = '^k8s-(control|worker)-\\d+\\.example\\.com$';
const STRICT: KubeletServingCertApproverProps = { providerRegex: REGEX, providerIpPrefixes: ['192.168.10.0/24'] };

function synth(props: KubeletServingCertApproverProps, chartNamespace?: string) {
  const chart = new Chart(quietApp(), 'test', { namespace: chartNamespace });
  const approver = new KubeletServingCertApprover(chart, 'Approver', props);
  const objects: any[] = Testing.synth(chart);
  return { approver, objects };
}

function find(objects: any[], kind: string): any {
  const found = objects.filter(o => o.kind === kind);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}, found ${found.length}`);
  }
  return found[0];
}

function podSpec(objects: any[]): any {
  return find(objects, 'Deployment').spec.template.spec;
}

function env(objects: any[]): { [name: string]: string } {
  return Object.fromEntries(podSpec(objects).containers[0].env.map((e: any) => [e.name, e.value]));
}

/** Whether the RBAC rules allow a request, as the API server's RBAC authorizer decides. */
function allows(rules: any[], apiGroup: string, resource: string, verb: string, name?: string): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).some(x => x === v || x === '*');
  return rules.some(r => has(r.apiGroups, apiGroup) && has(r.resources, resource) && has(r.verbs, verb)
    && (!r.resourceNames || r.resourceNames.length === 0 || (name !== undefined && r.resourceNames.includes(name))));
}

/** Whether `approve` on a signer is allowed: the API server checks the signer name and `<domain>/*`. */
function canApprove(rules: any[], signer: string): boolean {
  const domainWildcard = `${signer.split('/')[0]}/*`;
  return allows(rules, 'certificates.k8s.io', 'signers', 'approve', signer)
    || allows(rules, 'certificates.k8s.io', 'signers', 'approve', domainWildcard);
}

function allRules(objects: any[]): any[] {
  return objects.filter(o => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap(o => o.rules);
}

describe('objects', () => {
  test('a ServiceAccount, RBAC, a Deployment and a PodDisruptionBudget, nothing else', () => {
    const { objects } = synth(STRICT);
    expect(objects.map(o => `${o.apiVersion} ${o.kind} ${o.metadata.name}`).sort()).toEqual([
      'apps/v1 Deployment kubelet-csr-approver',
      'policy/v1 PodDisruptionBudget kubelet-csr-approver',
      'rbac.authorization.k8s.io/v1 ClusterRole kubelet-csr-approver',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding kubelet-csr-approver',
      'rbac.authorization.k8s.io/v1 Role kubelet-csr-approver',
      'rbac.authorization.k8s.io/v1 RoleBinding kubelet-csr-approver',
      'v1 ServiceAccount kubelet-csr-approver',
    ]);
    for (const o of objects) {
      expect(o.metadata.labels).toEqual({ 'k8s-app': 'kubelet-csr-approver' });
    }
  });

  test('cluster-scoped objects carry no namespace, even in a chart with one', () => {
    const { objects } = synth(STRICT, 'chart-ns');
    for (const o of objects) {
      if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') {
        expect(o.metadata.namespace).toBeUndefined();
      } else {
        expect(o.metadata.namespace).toBe('kube-system');
      }
    }
  });

  test('name and namespace props name every object', () => {
    const { objects, approver } = synth({ ...STRICT, name: 'csr-approver', namespace: 'node-certs' });
    expect(new Set(objects.map(o => o.metadata.name))).toEqual(new Set(['csr-approver']));
    expect(new Set(objects.filter(o => !o.kind.startsWith('Cluster')).map(o => o.metadata.namespace))).toEqual(new Set(['node-certs']));
    expect(find(objects, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'csr-approver', namespace: 'node-certs' }]);
    expect(podSpec(objects).serviceAccountName).toBe('csr-approver');
    expect(approver.name).toBe('csr-approver');
    expect(approver.namespace).toBe('node-certs');
  });
});

describe('RBAC', () => {
  test('the ClusterRole: read CSRs, update their approval, approve for the kubelet-serving signer only', () => {
    const { objects } = synth(STRICT);
    expect(find(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
      { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/kubelet-serving'], verbs: ['approve'] },
    ]);
    expect(find(objects, 'ClusterRoleBinding')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubelet-csr-approver' },
      subjects: [{ kind: 'ServiceAccount', name: 'kubelet-csr-approver', namespace: 'kube-system' }],
    });
  });

  test('the Role: the leader-election lease by name, and events, in its own namespace', () => {
    const { objects } = synth(STRICT);
    expect(find(objects, 'Role').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['kubelet-csr-approver'], verbs: ['get', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]);
    expect(find(objects, 'RoleBinding')).toMatchObject({
      metadata: { namespace: 'kube-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubelet-csr-approver' },
      subjects: [{ kind: 'ServiceAccount', name: 'kubelet-csr-approver', namespace: 'kube-system' }],
    });
  });

  test('the approver can approve for kubernetes.io/kubelet-serving and no other signer', () => {
    const rules = allRules(synth(STRICT).objects);
    expect(canApprove(rules, 'kubernetes.io/kubelet-serving')).toBe(true);
    for (const signer of [
      'kubernetes.io/kube-apiserver-client',
      'kubernetes.io/kube-apiserver-client-kubelet',
      'kubernetes.io/legacy-unknown',
      'kubernetes.io/kubelet-serving-other',
      'example.com/serving',
      'kubelet-serving',
    ]) {
      expect({ signer, allowed: canApprove(rules, signer) }).toEqual({ signer, allowed: false });
    }
  });

  test('no wildcard anywhere, no writes to CSRs, no access to secrets or nodes', () => {
    const rules = allRules(synth(STRICT).objects);
    for (const r of rules) {
      for (const list of [r.apiGroups, r.resources, r.verbs, r.resourceNames ?? []]) {
        expect(list.some((x: string) => x.includes('*'))).toBe(false);
      }
    }
    for (const verb of ['create', 'update', 'patch', 'delete']) {
      expect(allows(rules, 'certificates.k8s.io', 'certificatesigningrequests', verb, 'any')).toBe(false);
    }
    expect(allows(rules, 'certificates.k8s.io', 'certificatesigningrequests/status', 'update', 'any')).toBe(false);
    expect(allows(rules, 'certificates.k8s.io', 'signers', 'sign', 'kubernetes.io/kubelet-serving')).toBe(false);
    expect(allows(rules, '', 'secrets', 'get', 'any')).toBe(false);
    expect(allows(rules, '', 'nodes', 'get', 'any')).toBe(false);
    expect(allows(rules, 'coordination.k8s.io', 'leases', 'update', 'kube-controller-manager')).toBe(false);
  });

  test('without leader election there is no Role and no RoleBinding', () => {
    const { objects, approver } = synth({ ...STRICT, replicas: 1, leaderElection: false });
    expect(objects.filter(o => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);
    expect(approver.role).toBeUndefined();
    expect(podSpec(objects).containers[0].args).not.toContain('-leader-election');
  });
});

describe('Deployment', () => {
  test('image, args, env, ports and probes by default', () => {
    const { objects, approver } = synth({ providerRegex: REGEX });
    const deployment = find(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.selector).toEqual({ matchLabels: { 'k8s-app': 'kubelet-csr-approver' } });
    expect(deployment.spec.template.metadata.labels).toEqual({ 'k8s-app': 'kubelet-csr-approver' });
    const c = deployment.spec.template.spec.containers[0];
    expect(c.image).toBe('ghcr.io/postfinance/kubelet-csr-approver:v1.2.15');
    expect(approver.image).toBe(c.image);
    expect(c.args).toEqual(['-metrics-bind-address=:8080', '-health-probe-bind-address=:8081', '-leader-election']);
    expect(c.env).toEqual([
      { name: 'PROVIDER_REGEX', value: REGEX },
      { name: 'MAX_EXPIRATION_SEC', value: String(367 * 86400) },
      { name: 'ALLOWED_DNS_NAMES', value: '1' },
      { name: 'BYPASS_DNS_RESOLUTION', value: 'false' },
    ]);
    expect(c.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    const probe = { httpGet: { path: '/healthz', port: 'health' }, periodSeconds: 10, failureThreshold: 3 };
    expect(c.livenessProbe).toEqual(probe);
    expect(c.readinessProbe).toEqual(probe);
    expect(c.resources).toEqual({ requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } });
    expect(deployment.spec.template.spec.serviceAccountName).toBe('kubelet-csr-approver');
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  test('every safety check comes from the props', () => {
    const { objects } = synth({
      providerRegex: REGEX,
      providerIpPrefixes: ['192.168.10.0/24', 'fd00:10::/64'],
      maxExpiration: Duration.days(30),
      allowedDnsNames: 2,
      bypassDnsResolution: true,
    });
    expect(env(objects)).toEqual({
      PROVIDER_REGEX: REGEX,
      PROVIDER_IP_PREFIXES: '192.168.10.0/24,fd00:10::/64',
      MAX_EXPIRATION_SEC: '2592000',
      ALLOWED_DNS_NAMES: '2',
      BYPASS_DNS_RESOLUTION: 'true',
    });
  });

  test('version, repository, replicas, ports and resources from the props', () => {
    const { objects } = synth({
      ...STRICT,
      version: 'v1.2.14',
      imageRepository: 'registry.example.com/mirror/kubelet-csr-approver',
      replicas: 3,
      metricsPort: 9090,
      healthPort: 9091,
      resources: { cpu: { request: Cpu.millis(50), limit: Cpu.millis(200) }, memory: { request: Size.mebibytes(64) } },
    });
    const spec = find(objects, 'Deployment').spec;
    const c = spec.template.spec.containers[0];
    expect(spec.replicas).toBe(3);
    expect(c.image).toBe('registry.example.com/mirror/kubelet-csr-approver:v1.2.14');
    expect(c.args).toEqual(['-metrics-bind-address=:9090', '-health-probe-bind-address=:9091', '-leader-election']);
    expect(c.ports.map((p: any) => p.containerPort)).toEqual([9090, 9091]);
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m' } });
  });

  test('resources keep ephemeral storage and sizes that are not whole mebibytes', () => {
    const { objects } = synth({
      ...STRICT,
      resources: { memory: { request: Size.kibibytes(1500) }, ephemeralStorage: { request: Size.mebibytes(10), limit: Size.mebibytes(50) } },
    });
    expect(podSpec(objects).containers[0].resources).toEqual({
      requests: { 'memory': '1500Ki', 'ephemeral-storage': '10Mi' },
      limits: { 'ephemeral-storage': '50Mi' },
    });
  });

  test('a digest-pinned version', () => {
    const digest = 'sha256:' + 'ab'.repeat(32);
    const { objects } = synth({ ...STRICT, version: `v1.2.15@${digest}` });
    expect(podSpec(objects).containers[0].image).toBe(`ghcr.io/postfinance/kubelet-csr-approver:v1.2.15@${digest}`);
  });

  test('the pod meets the restricted Pod Security Standard', () => {
    const spec = podSpec(synth(STRICT).objects);
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = spec.containers[0];
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.hostNetwork).toBeUndefined();
    expect(spec.hostPID).toBeUndefined();
    expect(spec.volumes).toBeUndefined();
    expect(c.ports.every((p: any) => p.hostPort === undefined)).toBe(true);
  });

  test('runs on control-plane nodes too, spread over nodes, on Linux', () => {
    const spec = podSpec(synth(STRICT).objects);
    expect(spec.tolerations).toEqual([{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.topologySpreadConstraints).toEqual([{
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'k8s-app': 'kubelet-csr-approver' } },
    }]);
  });

  test('one replica without leader election', () => {
    const { objects, approver } = synth({ ...STRICT, replicas: 1, leaderElection: false });
    expect(find(objects, 'Deployment').spec.replicas).toBe(1);
    expect(podSpec(objects).containers[0].args).toEqual(['-metrics-bind-address=:8080', '-health-probe-bind-address=:8081']);
    expect(approver.leaderElection).toBe(false);
  });

  test('one replica keeps leader election unless it is turned off', () => {
    const { objects } = synth({ ...STRICT, replicas: 1 });
    expect(podSpec(objects).containers[0].args).toContain('-leader-election');
    expect(objects.filter(o => o.kind === 'Role')).toHaveLength(1);
  });
});

describe('PodDisruptionBudget', () => {
  test('selects the pods and lets one go at a time', () => {
    const { objects } = synth(STRICT);
    expect(find(objects, 'PodDisruptionBudget').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'k8s-app': 'kubelet-csr-approver' } },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    expect(find(objects, 'PodDisruptionBudget').spec.selector.matchLabels).toEqual(find(objects, 'Deployment').spec.template.metadata.labels);
  });
});

describe('providerRegex', () => {
  test.each([
    ['(?i)^k8s-\\d+\\.example\\.com$'],
    ['\\Ak8s-\\d+\\.example\\.com\\z'],
    ['^(?P<host>k8s-\\d+)\\.example\\.com$'],
    ['^(?:a|b)\\.example\\.com$'],
    ['^[|]node\\.example\\.com$'],
  ])('accepts the Go regex %s', regex => {
    const { objects } = synth({ ...STRICT, providerRegex: regex });
    expect(env(objects).PROVIDER_REGEX).toBe(regex);
  });

  test('missing', () => {
    expect(() => synth({} as KubeletServingCertApproverProps)).toThrow(
      "providerRegex: '' is missing; it says which DNS names nodes may request, and without it the approver refuses to start: set it to your node names, e.g. '^k8s-(control|worker)-\\d+\\.example\\.com$'");
    expect(() => synth({ providerRegex: '  ' })).toThrow("providerRegex: '  ' is missing");
  });

  test('not a regular expression', () => {
    expect(() => synth({ ...STRICT, providerRegex: '^(k8s-\\d+$' })).toThrow(
      /^providerRegex: '\^\(k8s-\\d\+\$' is not a valid regular expression \(.+\); fix it, e\.g\. /);
  });

  test.each([
    ['k8s-\\d+\\.example\\.com'],
    ['^k8s-\\d+\\.example\\.com'],
    ['k8s-\\d+\\.example\\.com$'],
    ['^k8s-1\\.example\\.com|k8s-2\\.example\\.com$'],
    ['^k8s-\\d+\\.example\\.com\\$'],
  ])('not anchored: %s', regex => {
    expect(() => synth({ ...STRICT, providerRegex: regex })).toThrow(
      `providerRegex: '${regex}' is not anchored at both ends; the approver accepts a name if the regex matches any part of it, so write '^(?:${regex})$' or narrower`);
  });

  test.each([
    ['^(?!kube)[a-z]+\\.example\\.com$', 'lookaround'],
    ['^(?<=x)node\\.example\\.com$', 'lookaround'],
    ['^(node)\\1\\.example\\.com$', 'backreferences'],
  ])('Go cannot compile %s', (regex, what) => {
    expect(() => synth({ ...STRICT, providerRegex: regex })).toThrow(
      `providerRegex: '${regex}' uses ${what}, which Go's regexp (RE2) does not support, so the approver would crash at start`);
  });

  test('a catch-all regex is allowed but warned about', () => {
    const { approver } = synth({ ...STRICT, providerRegex: '^.*$' });
    expect(approver.warnings).toHaveLength(1);
    expect(approver.warnings[0]).toContain("providerRegex '^.*$' accepts 'attacker.invalid' and 'kubernetes.default.svc.cluster.local'");
    expect(warningsOf(approver)).toEqual(approver.warnings);
  });

  test('a strict configuration prints no warning', () => {
    const { approver } = synth(STRICT);
    expect(approver.warnings).toEqual([]);
    expect(warningsOf(approver)).toEqual([]);
  });
});

describe('providerIpPrefixes', () => {
  test('valid IPv4 and IPv6 CIDRs pass unchanged', () => {
    const prefixes = ['0.0.0.0/0', '::/0', '10.0.0.0/8', '192.168.10.0/24', '192.168.10.7/32', '2001:db8::/32',
      'fd00:10:0:0:0:0:0:0/64', '::ffff:10.0.0.0/104', 'fe80::/10', '2001:db8::1/128'];
    const { objects } = synth({ providerRegex: REGEX, providerIpPrefixes: prefixes });
    expect(env(objects).PROVIDER_IP_PREFIXES).toBe(prefixes.join(','));
  });

  test.each([
    ['10.0.0.0', 'is not a CIDR (address/prefix length, no spaces)'],
    [' 10.0.0.0/8', 'is not a CIDR (address/prefix length, no spaces)'],
    ['10.0.0.0/08', 'is not a CIDR (address/prefix length, no spaces)'],
    ['10.0.0.0/8,10.1.0.0/16', 'is not a CIDR (address/prefix length, no spaces)'],
    ['10.0.0/8', 'has an invalid IPv4 address'],
    ['256.0.0.0/8', 'has an invalid IPv4 address'],
    ['010.0.0.0/8', 'has an invalid IPv4 address'],
    ['10.0.0.0/33', 'has a prefix length above 32'],
    ['fd00:::/64', 'has an invalid IPv6 address'],
    ['fd00::1::/64', 'has an invalid IPv6 address'],
    ['fe80::1%eth0/64', 'has an invalid IPv6 address'],
    ['1:2:3:4:5:6:7:8:9/64', 'has an invalid IPv6 address'],
    ['1:2:3:4:5:6:7::8/64', 'has an invalid IPv6 address'],
    ['fd00:12345::/64', 'has an invalid IPv6 address'],
    ['1.2.3.4::/64', 'has an invalid IPv6 address'],
    ['fd00::/129', 'has a prefix length above 128'],
  ])('%s', (cidr, why) => {
    expect(() => synth({ providerRegex: REGEX, providerIpPrefixes: ['192.168.10.0/24', cidr] })).toThrow(
      `providerIpPrefixes: '${cidr}' ${why}; write a network address and prefix length, e.g. '192.168.10.0/24' or 'fd00:10::/64'`);
  });

  test.each([
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.10.1/24', '192.168.10.0/24'],
    ['192.168.10.129/25', '192.168.10.128/25'],
    ['fd00::1/64', 'fd00::/64'],
    ['2001:db8:0:0:1::/48', '2001:db8::/48'],
  ])('host bits set: %s', (cidr, fixed) => {
    expect(() => synth({ providerRegex: REGEX, providerIpPrefixes: [cidr] })).toThrow(
      `providerIpPrefixes: '${cidr}' has bits set after the prefix length; use the network address '${fixed}'`);
  });

  test('an empty list', () => {
    expect(() => synth({ providerRegex: REGEX, providerIpPrefixes: [] })).toThrow(
      "providerIpPrefixes: [] is empty; list the node network CIDRs (e.g. ['192.168.10.0/24']), or leave it unset to allow any address");
  });

  test('unset: allowed, omitted from env, and warned about', () => {
    const { objects, approver } = synth({ providerRegex: REGEX });
    expect(env(objects).PROVIDER_IP_PREFIXES).toBeUndefined();
    expect(approver.warnings).toEqual([
      "test/Approver: providerIpPrefixes is not set, so a node may put any IP address in its serving certificate; set it to the node network, e.g. ['192.168.10.0/24']",
    ]);
  });

  test('unset with bypassDnsResolution: the warning says both checks are off', () => {
    const { approver } = synth({ providerRegex: REGEX, bypassDnsResolution: true });
    expect(approver.warnings[0]).toContain('(and bypassDnsResolution turns off the DNS check as well)');
  });
});

describe('other bad input', () => {
  test.each([
    ['368 days', Duration.days(368)],
    ['367 days 1 second', Duration.seconds(367 * 86400 + 1)],
    ['5 minutes', Duration.minutes(5)],
    ['1 hour 500 millis', Duration.millis(3600500)],
  ])('maxExpiration %s', (shown, maxExpiration) => {
    expect(() => synth({ ...STRICT, maxExpiration })).toThrow(
      `maxExpiration: ${shown} is out of range; use whole seconds from 10 minutes (the shortest CSR validity Kubernetes accepts) to 367 days (the approver refuses to start beyond), e.g. Duration.days(365)`);
  });

  test('maxExpiration at the limits', () => {
    expect(env(synth({ ...STRICT, maxExpiration: Duration.days(367) }).objects).MAX_EXPIRATION_SEC).toBe('31708800');
    expect(env(synth({ ...STRICT, maxExpiration: Duration.minutes(10) }).objects).MAX_EXPIRATION_SEC).toBe('600');
  });

  test.each([[0], [-1], [1.5], [NaN]])('replicas %s', replicas => {
    expect(() => synth({ ...STRICT, replicas })).toThrow(
      `replicas: ${replicas} must be a whole number from 1 to 2147483647 (int32); use 2 (one approves, one stands by)`);
  });

  test('several replicas without leader election', () => {
    expect(() => synth({ ...STRICT, leaderElection: false })).toThrow(
      'replicas: 2 pods without leader election would all act on every CSR; set leaderElection: true, or replicas: 1');
  });

  test.each([[0], [1001], [2.5]])('allowedDnsNames %s', allowedDnsNames => {
    expect(() => synth({ ...STRICT, allowedDnsNames })).toThrow(
      `allowedDnsNames: ${allowedDnsNames} is out of range; use a whole number from 1 to 1000 (kubelets request one DNS name: use 1)`);
  });

  test('name and namespace must be DNS labels', () => {
    expect(() => synth({ ...STRICT, name: 'CSR_Approver' })).toThrow(
      "name: 'CSR_Approver' is not a valid DNS label; use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. 'kube-system')");
    expect(() => synth({ ...STRICT, namespace: 'kube.system' })).toThrow("namespace: 'kube.system' is not a valid DNS label");
    expect(() => synth({ ...STRICT, name: 'a'.repeat(64) })).toThrow(`name: '${'a'.repeat(64)}' is not a valid DNS label`);
  });

  test('version and imageRepository', () => {
    expect(() => synth({ ...STRICT, version: 'v1.2.15 ' })).toThrow(
      "version: 'v1.2.15 ' is not an image tag; use e.g. 'v1.2.15' or 'v1.2.15@sha256:<digest>'");
    expect(() => synth({ ...STRICT, version: 'v1.2.15@sha256:abc' })).toThrow("version: 'v1.2.15@sha256:abc' is not an image tag");
    expect(() => synth({ ...STRICT, imageRepository: 'ghcr.io/postfinance/kubelet-csr-approver:v1.2.15' })).toThrow(
      "imageRepository: 'ghcr.io/postfinance/kubelet-csr-approver:v1.2.15' is not an image repository; use e.g. 'ghcr.io/postfinance/kubelet-csr-approver' (no tag: the tag is 'version')");
    expect(() => synth({ ...STRICT, imageRepository: 'Ghcr.io/postfinance/kubelet-csr-approver' })).toThrow("imageRepository: 'Ghcr.io/postfinance/kubelet-csr-approver' is not an image repository");
  });

  test('ports', () => {
    expect(() => synth({ ...STRICT, metricsPort: 0 })).toThrow('metricsPort: 0 is not a valid port');
    expect(() => synth({ ...STRICT, healthPort: 70000 })).toThrow('healthPort: 70000 is not a valid port');
    expect(() => synth({ ...STRICT, healthPort: 8080 })).toThrow(
      'healthPort: 8080 is also metricsPort; the two endpoints need different ports (e.g. metricsPort 8080, healthPort 8081)');
  });

  test.each([
    [{ memory: { request: Size.mebibytes(256), limit: Size.mebibytes(128) } }, 'resources: memory limit 128Mi is below the memory request 256Mi; raise the limit or lower the request'],
    [{ cpu: { request: Cpu.millis(100), limit: Cpu.millis(50) } }, 'resources: cpu limit 50m is below the cpu request 100m; raise the limit or lower the request'],
    [{ cpu: { request: Cpu.millis(-10) } }, "resources: cpu request '-10m' is negative; use a positive amount, e.g. Cpu.millis(100)"],
  ] as Array<[any, string]>)('resources %#', (resources, message) => {
    expect(() => synth({ ...STRICT, resources })).toThrow(message);
  });
});

describe('SecureMetricsServer integration', () => {
  const store = fixtureStore;

  function synthServer(props: SecureMetricsServerProps) {
    const chart = new Chart(quietApp(), 'test');
    const server = new SecureMetricsServer(chart, 'MetricsServer', props);
    const objects: any[] = Testing.synth(chart);
    return { server, objects };
  }

  test('the approver is a child in the metrics-server namespace', () => {
    const { server, objects } = synthServer({
      namespace: 'monitoring',
      servingTls: ServingTls.fromDedicatedCa({ store: store() }),
      kubeletServingCertApprover: STRICT,
    });
    expect(server.kubeletServingCertApprover).toBeInstanceOf(KubeletServingCertApprover);
    expect(server.kubeletServingCertApprover!.node.scope).toBe(server);
    expect(server.kubeletServingCertApprover!.namespace).toBe('monitoring');
    const approverObjects = objects.filter(o => o.metadata.name === 'kubelet-csr-approver');
    expect(approverObjects.map(o => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'ServiceAccount']);
    for (const o of approverObjects.filter(x => !x.kind.startsWith('Cluster'))) {
      expect(o.metadata.namespace).toBe('monitoring');
    }
    const deployment = approverObjects.find(o => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].env[0]).toEqual({ name: 'PROVIDER_REGEX', value: REGEX });
  });

  test('the approver namespace can differ from metrics-server', () => {
    const { server } = synthServer({
      servingTls: ServingTls.fromDedicatedCa({ store: store() }),
      kubeletServingCertApprover: { ...STRICT, namespace: 'node-certs' },
    });
    expect(server.namespace).toBe('kube-system');
    expect(server.kubeletServingCertApprover!.namespace).toBe('node-certs');
  });

  test('adding the approver leaves the metrics-server objects as they were', () => {
    const s = store();
    const without = synthServer({ servingTls: ServingTls.fromDedicatedCa({ store: s }) });
    const withApprover = synthServer({ servingTls: ServingTls.fromDedicatedCa({ store: s }), kubeletServingCertApprover: STRICT });
    expect(without.server.kubeletServingCertApprover).toBeUndefined();
    expect(without.objects.some(o => o.metadata.name === 'kubelet-csr-approver')).toBe(false);
    expect(withApprover.objects.filter(o => o.metadata.name !== 'kubelet-csr-approver')).toEqual(without.objects);
  });

  test('bad approver props fail the SecureMetricsServer before any certificate is written', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ksca-'));
    expect(() => synthServer({
      servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(path.join(dir, 'pki')) }),
      kubeletServingCertApprover: { providerRegex: REGEX, providerIpPrefixes: ['10.0.0.1/8'] },
    })).toThrow("providerIpPrefixes: '10.0.0.1/8' has bits set after the prefix length; use the network address '10.0.0.0/8'");
    expect(require('fs').existsSync(path.join(dir, 'pki'))).toBe(false);
  });

  test('errors name the approver props under kubeletServingCertApprover, not the metrics-server props of the same name', () => {
    expect(() => synthServer({
      servingTls: ServingTls.fromDedicatedCa({ store: store() }),
      kubeletServingCertApprover: { ...STRICT, replicas: 0 },
    })).toThrow('kubeletServingCertApprover.replicas: 0 must be a whole number from 1 to 2147483647 (int32); use 2 (one approves, one stands by)');
  });
});

describe('example app', () => {
  test('KUBELET_CSR_APPROVER_REGEX adds the approver', () => {
    expect(propsFromEnv({}).kubeletServingCertApprover).toBeUndefined();
    expect(propsFromEnv({ KUBELET_CSR_APPROVER_REGEX: REGEX }).kubeletServingCertApprover).toEqual({
      providerRegex: REGEX, providerIpPrefixes: undefined, bypassDnsResolution: undefined,
    });
  });

  test('KUBELET_CSR_APPROVER_IP_PREFIXES is a comma-separated list', () => {
    expect(propsFromEnv({
      KUBELET_CSR_APPROVER_REGEX: REGEX,
      KUBELET_CSR_APPROVER_IP_PREFIXES: '192.168.10.0/24, fd00:10::/64',
    }).kubeletServingCertApprover).toEqual({
      providerRegex: REGEX, providerIpPrefixes: ['192.168.10.0/24', 'fd00:10::/64'], bypassDnsResolution: undefined,
    });
  });

  test('KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION is true or false', () => {
    expect(propsFromEnv({ KUBELET_CSR_APPROVER_REGEX: REGEX, KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION: 'true' })
      .kubeletServingCertApprover!.bypassDnsResolution).toBe(true);
    expect(propsFromEnv({ KUBELET_CSR_APPROVER_REGEX: REGEX, KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION: 'false' })
      .kubeletServingCertApprover!.bypassDnsResolution).toBe(false);
    expect(() => propsFromEnv({ KUBELET_CSR_APPROVER_REGEX: REGEX, KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION: 'yes' })).toThrow(
      "KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION: 'yes' is not a boolean; use true or false");
    expect(() => propsFromEnv({ KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION: 'true' })).toThrow(
      'KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION is set without KUBELET_CSR_APPROVER_REGEX; set KUBELET_CSR_APPROVER_REGEX to add the approver, or unset KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION');
  });

  test('KUBELET_CSR_APPROVER_IP_PREFIXES without the regex is an error', () => {
    expect(() => propsFromEnv({ KUBELET_CSR_APPROVER_IP_PREFIXES: '192.168.10.0/24' })).toThrow(
      'KUBELET_CSR_APPROVER_IP_PREFIXES is set without KUBELET_CSR_APPROVER_REGEX; the approver needs the DNS names nodes may request: set KUBELET_CSR_APPROVER_REGEX (e.g. ^node-[0-9]+\\.example\\.com$), or unset KUBELET_CSR_APPROVER_IP_PREFIXES');
  });
});
