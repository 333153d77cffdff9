import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  CertificateStore, KubeletTls, PodAntiAffinity, SecureMetricsServerProps, ServingTls,
  TaintEffect, TolerationOperator, WhenUnsatisfiable,
} from '../lib';
import { fixtureStore, synth } from './helpers';

// Every rule of the Pod Security Standards "baseline" and "restricted"
// profiles (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// checked on the synthesized pod template. Each rule has a name; a test below
// breaks each one on purpose to prove the checker catches it.

const STORE_DIR = fixtureStore().directory;

const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const RESTRICTED_VOLUME_SOURCES = [
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
];
const GOOD_SECCOMP = ['RuntimeDefault', 'Localhost'];
const GOOD_APPARMOR = ['RuntimeDefault', 'Localhost'];

interface PodTemplate {
  metadata?: { annotations?: { [key: string]: string } };
  spec: any;
}

interface CheckOptions {
  /** hostNetwork was chosen explicitly: host ports equal to the container ports are then implied */
  readonly hostNetworkChosen?: boolean;
}

/** The names of the rules the pod template breaks, with what breaks them. */
function violations(pod: PodTemplate, options: CheckOptions = {}): string[] {
  const out: string[] = [];
  const spec = pod.spec;
  const podSc = spec.securityContext ?? {};
  const containers: any[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  const fail = (rule: string, what: string) => out.push(`${rule}: ${what}`);

  // baseline: HostProcess
  if (podSc.windowsOptions?.hostProcess === true) fail('hostProcess', 'pod');
  for (const c of containers) {
    if (c.securityContext?.windowsOptions?.hostProcess === true) fail('hostProcess', c.name);
  }
  // baseline: host namespaces
  if (spec.hostNetwork === true && !options.hostNetworkChosen) fail('hostNamespaces', 'hostNetwork');
  if (spec.hostPID === true) fail('hostNamespaces', 'hostPID');
  if (spec.hostIPC === true) fail('hostNamespaces', 'hostIPC');
  // baseline: privileged containers
  for (const c of containers) {
    if (c.securityContext?.privileged === true) fail('privileged', c.name);
  }
  // baseline: capabilities
  for (const c of containers) {
    for (const cap of c.securityContext?.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.includes(cap)) fail('baselineCapabilities', `${c.name} adds ${cap}`);
    }
  }
  // baseline: hostPath volumes
  for (const v of spec.volumes ?? []) {
    if (v.hostPath !== undefined) fail('hostPathVolumes', v.name);
  }
  // baseline: host ports (with hostNetwork, the API server sets hostPort = containerPort)
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      const implied = options.hostNetworkChosen && spec.hostNetwork === true && p.hostPort === p.containerPort;
      if (p.hostPort !== undefined && p.hostPort !== 0 && !implied) fail('hostPorts', `${c.name} ${p.hostPort}`);
    }
  }
  // baseline: AppArmor
  for (const [key, value] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      fail('appArmor', `${key}=${value}`);
    }
  }
  for (const [who, sc] of [['pod', podSc], ...containers.map(c => [c.name, c.securityContext ?? {}])] as Array<[string, any]>) {
    const type = sc.appArmorProfile?.type;
    if (type !== undefined && !GOOD_APPARMOR.includes(type)) fail('appArmor', `${who} ${type}`);
  }
  // baseline: SELinux
  for (const [who, sc] of [['pod', podSc], ...containers.map(c => [c.name, c.securityContext ?? {}])] as Array<[string, any]>) {
    const se = sc.seLinuxOptions;
    if (se === undefined) continue;
    if (se.type !== undefined && !SELINUX_TYPES.includes(se.type)) fail('seLinux', `${who} type ${se.type}`);
    if (se.user !== undefined && se.user !== '') fail('seLinux', `${who} user ${se.user}`);
    if (se.role !== undefined && se.role !== '') fail('seLinux', `${who} role ${se.role}`);
  }
  // baseline: /proc mount type
  for (const c of containers) {
    const pm = c.securityContext?.procMount;
    if (pm !== undefined && pm !== 'Default') fail('procMount', `${c.name} ${pm}`);
  }
  // baseline: seccomp never Unconfined
  if (podSc.seccompProfile?.type === 'Unconfined') fail('seccompUnconfined', 'pod');
  for (const c of containers) {
    if (c.securityContext?.seccompProfile?.type === 'Unconfined') fail('seccompUnconfined', c.name);
  }
  // baseline: sysctls
  for (const s of podSc.sysctls ?? []) {
    if (!SAFE_SYSCTLS.includes(s.name)) fail('sysctls', s.name);
  }

  // restricted: volume types
  for (const v of spec.volumes ?? []) {
    const sources = Object.keys(v).filter(k => k !== 'name');
    if (sources.length !== 1 || !RESTRICTED_VOLUME_SOURCES.includes(sources[0])) fail('volumeTypes', `${v.name} (${sources.join(', ')})`);
  }
  // restricted: privilege escalation explicitly off
  for (const c of containers) {
    if (c.securityContext?.allowPrivilegeEscalation !== false) fail('allowPrivilegeEscalation', c.name);
  }
  // restricted: running as non-root (pod level, or every container), never false
  if (podSc.runAsNonRoot === false) fail('runAsNonRoot', 'pod is false');
  for (const c of containers) {
    const v = c.securityContext?.runAsNonRoot;
    if (v === false) fail('runAsNonRoot', `${c.name} is false`);
    if (v === undefined && podSc.runAsNonRoot !== true) fail('runAsNonRoot', `${c.name} unset and not set on the pod`);
  }
  // restricted: running as non-root user
  if (podSc.runAsUser === 0) fail('runAsUser', 'pod is 0');
  for (const c of containers) {
    if (c.securityContext?.runAsUser === 0) fail('runAsUser', `${c.name} is 0`);
  }
  // restricted: seccomp RuntimeDefault or Localhost (pod level, or every container)
  const podSeccomp = podSc.seccompProfile?.type;
  if (podSeccomp !== undefined && !GOOD_SECCOMP.includes(podSeccomp)) fail('seccomp', `pod ${podSeccomp}`);
  for (const c of containers) {
    const t = c.securityContext?.seccompProfile?.type;
    if (t !== undefined && !GOOD_SECCOMP.includes(t)) fail('seccomp', `${c.name} ${t}`);
    if (t === undefined && !GOOD_SECCOMP.includes(podSeccomp)) fail('seccomp', `${c.name} unset and not set on the pod`);
  }
  // restricted: capabilities: drop ALL, add at most NET_BIND_SERVICE
  for (const c of containers) {
    const caps = c.securityContext?.capabilities ?? {};
    if (!(caps.drop ?? []).includes('ALL')) fail('dropAll', c.name);
    for (const cap of caps.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') fail('restrictedCapabilities', `${c.name} adds ${cap}`);
    }
  }
  return out;
}

function podTemplate(props: SecureMetricsServerProps): PodTemplate {
  const { objects } = synth({
    servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(STORE_DIR) }),
    ...props,
  });
  const deployments = objects.filter(o => o.kind === 'Deployment' && o.metadata.name === (props.name ?? 'metrics-server'));
  expect(deployments).toHaveLength(1);
  return deployments[0].spec.template;
}

const CONFIGURATIONS: Array<[string, SecureMetricsServerProps]> = [
  ['defaults (both hops verified)', {}],
  ['insecure test mode', { kubeletTls: KubeletTls.insecure(), servingTls: ServingTls.insecure() }],
  ['cert-manager serving certificate, kubelet CA from a Secret', {
    kubeletTls: KubeletTls.fromSecret('kubelet-ca', 'ca.crt'),
    servingTls: ServingTls.fromCertManager(),
  }],
  ['high availability with every scheduling prop', {
    replicas: 3,
    minAvailable: 2,
    podAntiAffinity: PodAntiAffinity.PREFERRED,
    topologySpreadConstraints: [{ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: WhenUnsatisfiable.DO_NOT_SCHEDULE }],
    tolerations: [{ key: 'CriticalAddonsOnly', operator: TolerationOperator.EXISTS }, { key: 'node-role.kubernetes.io/control-plane', effect: TaintEffect.NO_SCHEDULE }],
    nodeSelector: { 'node-role.kubernetes.io/infra': '' },
    priorityClassName: 'system-node-critical',
    resources: { cpu: { request: Cpu.millis(200), limit: Cpu.units(1) }, memory: { limit: Size.mebibytes(400) } },
    labels: { team: 'platform' },
    podAnnotations: { 'example.com/owner': 'platform' },
    imagePullSecrets: ['registry-creds'],
    image: `registry.example.com/metrics-server/metrics-server@sha256:${'a'.repeat(64)}`,
  }],
  ['network policy on another port', { networkPolicy: true, securePort: 4443 }],
];

describe('Pod Security Standard "restricted"', () => {
  test.each(CONFIGURATIONS)('%s: no rule broken', (_name, props) => {
    const pod = podTemplate(props);
    expect(pod.spec.containers).toHaveLength(1);
    expect(violations(pod)).toEqual([]);
  });

  test('the pod itself is non-root with RuntimeDefault seccomp, the container keeps upstream\'s context', () => {
    const pod = podTemplate({});
    expect(pod.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('the kubelet serving CSR approver\'s pod breaks no rule either', () => {
    const { objects } = synth({
      servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory(STORE_DIR) }),
      kubeletServingCertApprover: { providerRegex: '^node-\\d+\\.example\\.com$', providerIpPrefixes: ['10.0.0.0/8'] },
    });
    const deployments = objects.filter(o => o.kind === 'Deployment');
    expect(deployments.map(d => d.metadata.name).sort()).toEqual(['kubelet-csr-approver', 'metrics-server']);
    for (const d of deployments) {
      expect({ name: d.metadata.name, violations: violations(d.spec.template) }).toEqual({ name: d.metadata.name, violations: [] });
    }
  });

  test('hostNetwork breaks only the host-namespace rule, and only because it was chosen', () => {
    const pod = podTemplate({ hostNetwork: true, securePort: 4443 });
    expect(violations(pod)).toEqual(['hostNamespaces: hostNetwork']);
    expect(violations(pod, { hostNetworkChosen: true })).toEqual([]);
    // the API server defaults hostPort to containerPort with hostNetwork; that is allowed only then
    const defaulted = structuredClone(pod);
    defaulted.spec.containers[0].ports[0].hostPort = 4443;
    expect(violations(defaulted, { hostNetworkChosen: true })).toEqual([]);
    expect(violations({ spec: { ...defaulted.spec, hostNetwork: undefined } }, { hostNetworkChosen: true })).toEqual(['hostPorts: metrics-server 4443']);
  });
});

describe('the checker catches every rule', () => {
  const base = podTemplate({});
  const c0 = (pod: PodTemplate) => pod.spec.containers[0];
  const sc = (pod: PodTemplate) => c0(pod).securityContext;
  const BREAKS: Array<[string, (pod: PodTemplate) => void]> = [
    ['hostProcess', pod => { pod.spec.securityContext.windowsOptions = { hostProcess: true }; }],
    ['hostProcess', pod => { sc(pod).windowsOptions = { hostProcess: true }; }],
    ['hostNamespaces', pod => { pod.spec.hostNetwork = true; }],
    ['hostNamespaces', pod => { pod.spec.hostPID = true; }],
    ['hostNamespaces', pod => { pod.spec.hostIPC = true; }],
    ['privileged', pod => { sc(pod).privileged = true; }],
    ['baselineCapabilities', pod => { sc(pod).capabilities.add = ['SYS_ADMIN']; }],
    ['hostPathVolumes', pod => { pod.spec.volumes.push({ name: 'host', hostPath: { path: '/' } }); }],
    ['hostPorts', pod => { c0(pod).ports[0].hostPort = 10250; }],
    ['appArmor', pod => { pod.metadata = { annotations: { 'container.apparmor.security.beta.kubernetes.io/metrics-server': 'unconfined' } }; }],
    ['appArmor', pod => { sc(pod).appArmorProfile = { type: 'Unconfined' }; }],
    ['appArmor', pod => { pod.spec.securityContext.appArmorProfile = { type: 'Unconfined' }; }],
    ['seLinux', pod => { sc(pod).seLinuxOptions = { type: 'spc_t' }; }],
    ['seLinux', pod => { pod.spec.securityContext.seLinuxOptions = { user: 'system_u' }; }],
    ['seLinux', pod => { sc(pod).seLinuxOptions = { role: 'system_r' }; }],
    ['procMount', pod => { sc(pod).procMount = 'Unmasked'; }],
    ['seccompUnconfined', pod => { pod.spec.securityContext.seccompProfile = { type: 'Unconfined' }; }],
    ['seccompUnconfined', pod => { sc(pod).seccompProfile = { type: 'Unconfined' }; }],
    ['sysctls', pod => { pod.spec.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; }],
    ['volumeTypes', pod => { pod.spec.volumes.push({ name: 'nfs', nfs: { server: 'x', path: '/' } }); }],
    ['allowPrivilegeEscalation', pod => { delete sc(pod).allowPrivilegeEscalation; }],
    ['allowPrivilegeEscalation', pod => { sc(pod).allowPrivilegeEscalation = true; }],
    ['allowPrivilegeEscalation', pod => { pod.spec.initContainers = [{ name: 'init', securityContext: { ...sc(pod), allowPrivilegeEscalation: true } }]; }],
    ['runAsNonRoot', pod => { sc(pod).runAsNonRoot = false; }],
    ['runAsNonRoot', pod => { pod.spec.securityContext.runAsNonRoot = false; }],
    ['runAsNonRoot', pod => { delete sc(pod).runAsNonRoot; delete pod.spec.securityContext.runAsNonRoot; }],
    ['runAsUser', pod => { sc(pod).runAsUser = 0; }],
    ['runAsUser', pod => { pod.spec.securityContext.runAsUser = 0; }],
    ['seccomp', pod => { delete sc(pod).seccompProfile; delete pod.spec.securityContext.seccompProfile; }],
    ['seccomp', pod => { pod.spec.ephemeralContainers = [{ name: 'debug', securityContext: { ...sc(pod), seccompProfile: undefined } }]; delete pod.spec.securityContext.seccompProfile; }],
    ['dropAll', pod => { sc(pod).capabilities = {}; }],
    ['restrictedCapabilities', pod => { sc(pod).capabilities.add = ['CHOWN']; }],
  ];

  test('the synthesized pod is clean to start with', () => {
    expect(violations(base)).toEqual([]);
  });

  test.each(BREAKS.map(([rule, breakIt], i) => [rule, i, breakIt] as const))('%s (case %i)', (rule, _i, breakIt) => {
    const pod = structuredClone(base);
    breakIt(pod);
    expect(violations(pod).map(v => v.split(':')[0])).toContain(rule);
  });

  test('non-root containers with the pod level unset are allowed (the rule is pod level or every container)', () => {
    const pod = structuredClone(base);
    delete pod.spec.securityContext.runAsNonRoot;
    expect(violations(pod)).toEqual([]);
  });
});
