import { Size } from 'cdk8s';
import { Cpu, TaintEffect } from 'cdk8s-plus-28';
import {
  CertificateStore, KubeletTls, PodAntiAffinity, SecureMetricsServerProps, ServingTls,
  TolerationOperator, WhenUnsatisfiable,
} from '../lib';
import { podSecurityViolations, PodSecurityControl } from '../lib/rules/checks-pod-security';
import { fixtureStore, synth } from './helpers';

// Every control of the Pod Security Standards "baseline" and "restricted"
// profiles (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// checked on the synthesized pod templates with the rule module's own
// definition of the profile (podSecurityViolations, which audit rule SMS040
// reports): one definition, no copy here. A test below breaks each control on
// purpose to prove the checker catches it.

const STORE_DIR = fixtureStore().directory;

interface PodTemplate {
  metadata?: { annotations?: { [key: string]: string } };
  spec: any;
}

/** The violations of the pod template, as `control: field`. */
function violations(pod: PodTemplate): string[] {
  return podSecurityViolations(pod.spec, pod.metadata?.annotations ?? {}).map(v => `${v.control}: ${v.message}`);
}

/** The controls the pod template breaks, in order. */
function controls(pod: PodTemplate): PodSecurityControl[] {
  return podSecurityViolations(pod.spec, pod.metadata?.annotations ?? {}).map(v => v.control);
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

  test('hostNetwork breaks only the host-namespace control, and host ports once the API server defaults them', () => {
    const pod = podTemplate({ hostNetwork: true, securePort: 4443 });
    expect(controls(pod)).toEqual(['hostNamespaces']);
    // the API server defaults hostPort to containerPort with hostNetwork, which the profile refuses too
    const defaulted = structuredClone(pod);
    defaulted.spec.containers[0].ports[0].hostPort = 4443;
    expect(controls(defaulted)).toEqual(['hostNamespaces', 'hostPorts']);
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
    expect(controls(pod)).toContain(rule);
  });

  test('non-root containers with the pod level unset are allowed (the rule is pod level or every container)', () => {
    const pod = structuredClone(base);
    delete pod.spec.securityContext.runAsNonRoot;
    expect(violations(pod)).toEqual([]);
  });
});
