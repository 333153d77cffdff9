import { InstallContext, arr, isObj, show } from './model';
import { Rules } from './registry';

/** Volume types the restricted Pod Security Standard allows. */
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const BASELINE_CAPS = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const GOOD_PROFILES = ['RuntimeDefault', 'Localhost'];
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/**
 * The control of the Pod Security Standards a violation breaks, named after
 * the controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/:
 * baseline `hostProcess`, `hostNamespaces`, `privileged`,
 * `baselineCapabilities` (adds a capability beyond the baseline set),
 * `hostPathVolumes`, `hostPorts`, `appArmor`, `seLinux`, `procMount`,
 * `seccompUnconfined` (seccomp `Unconfined`), `sysctls`; restricted
 * `volumeTypes`, `allowPrivilegeEscalation`, `runAsNonRoot`, `runAsUser`,
 * `seccomp` (not `RuntimeDefault` or `Localhost`), `dropAll` (capabilities
 * do not drop ALL), `restrictedCapabilities` (adds one other than
 * `NET_BIND_SERVICE`).
 * @internal
 */
export type PodSecurityControl = 'hostProcess' | 'hostNamespaces' | 'privileged' | 'baselineCapabilities' | 'hostPathVolumes' | 'hostPorts'
| 'appArmor' | 'seLinux' | 'procMount' | 'seccompUnconfined' | 'sysctls' | 'volumeTypes' | 'allowPrivilegeEscalation' | 'runAsNonRoot'
| 'runAsUser' | 'seccomp' | 'dropAll' | 'restrictedCapabilities';

/**
 * One field the restricted Pod Security Standard refuses.
 * @internal
 */
export interface PodSecurityViolation {
  readonly control: PodSecurityControl;
  /** one line: the field and its value (SMS040's message) */
  readonly message: string;
}

/**
 * What the restricted Pod Security Standard (Kubernetes 1.32, which includes
 * baseline) refuses in a pod spec, one violation per field. The one
 * definition of the profile: SMS040 reports these, and the tests of the
 * construct's own pods (test/pod-security.test.ts) ask the same function.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
 * @internal
 */
export function podSecurityViolations(spec: { [k: string]: any }, annotations: { [k: string]: unknown } = {}): PodSecurityViolation[] {
  const out: PodSecurityViolation[] = [];
  const add = (control: PodSecurityControl, message: string) => out.push({ control, message });
  const pod = isObj(spec.securityContext) ? spec.securityContext : {};
  const containers = [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)].filter(isObj);
  const contexts: [string, { [k: string]: any }][] = [['pod', pod], ...containers.map(c => [`container '${show(c.name)}'`, isObj(c.securityContext) ? c.securityContext : {}] as [string, { [k: string]: any }])];

  // baseline
  for (const [who, sc] of contexts) {
    if (isObj(sc.windowsOptions) && sc.windowsOptions.hostProcess === true) {
      add('hostProcess', `${who}: windowsOptions.hostProcess: true`);
    }
    if (isObj(sc.appArmorProfile) && sc.appArmorProfile.type !== undefined && !GOOD_PROFILES.includes(sc.appArmorProfile.type)) {
      add('appArmor', `${who}: appArmorProfile.type ${show(sc.appArmorProfile.type)}`);
    }
    const se = isObj(sc.seLinuxOptions) ? sc.seLinuxOptions : undefined;
    if (se && se.type !== undefined && !SELINUX_TYPES.includes(se.type)) {
      add('seLinux', `${who}: seLinuxOptions.type ${show(se.type)}`);
    }
    if (se && ((se.user !== undefined && se.user !== '') || (se.role !== undefined && se.role !== ''))) {
      add('seLinux', `${who}: seLinuxOptions sets a user or role`);
    }
  }
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[f] === true) {
      add('hostNamespaces', `${f}: true`);
    }
  }
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== 'runtime/default' && !(typeof value === 'string' && value.startsWith('localhost/'))) {
      add('appArmor', `annotation ${key}: ${show(value)}`);
    }
  }
  for (const s of arr(pod.sysctls).filter(isObj)) {
    if (!SAFE_SYSCTLS.includes(s.name)) {
      add('sysctls', `unsafe sysctl ${show(s.name)}`);
    }
  }
  for (const v of arr(spec.volumes).filter(isObj)) {
    const sources = Object.keys(v).filter(k => k !== 'name');
    if (sources.length !== 1 || !RESTRICTED_VOLUMES.includes(sources[0])) {
      add(sources.includes('hostPath') ? 'hostPathVolumes' : 'volumeTypes', `volume '${show(v.name)}' has type ${sources.join(', ') || 'none'}`);
    }
  }
  // restricted, pod level
  if (pod.runAsNonRoot === false) {
    add('runAsNonRoot', 'securityContext.runAsNonRoot: false');
  }
  if (pod.runAsUser === 0) {
    add('runAsUser', 'securityContext.runAsUser: 0');
  }
  if (isObj(pod.seccompProfile) && !GOOD_PROFILES.includes(pod.seccompProfile.type)) {
    add(pod.seccompProfile.type === 'Unconfined' ? 'seccompUnconfined' : 'seccomp', `securityContext.seccompProfile.type: ${show(pod.seccompProfile.type)}`);
  }
  for (const c of containers) {
    const sc = isObj(c.securityContext) ? c.securityContext : {};
    const who = `container '${show(c.name)}'`;
    if (sc.privileged === true) {
      add('privileged', `${who}: privileged: true`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      add('allowPrivilegeEscalation', `${who}: allowPrivilegeEscalation is not false`);
    }
    if (sc.runAsNonRoot === false || (sc.runAsNonRoot === undefined && pod.runAsNonRoot !== true)) {
      add('runAsNonRoot', `${who}: runAsNonRoot is not true (here or on the pod)`);
    }
    if (sc.runAsUser === 0) {
      add('runAsUser', `${who}: runAsUser: 0`);
    }
    const own = isObj(sc.seccompProfile) ? sc.seccompProfile.type : undefined;
    const seccomp = own ?? (isObj(pod.seccompProfile) ? pod.seccompProfile.type : undefined);
    if (!GOOD_PROFILES.includes(seccomp)) {
      add(seccomp === 'Unconfined' ? 'seccompUnconfined' : 'seccomp',
        `${who}: seccompProfile.type is ${seccomp === undefined ? 'unset (here and on the pod)' : show(seccomp)}, not RuntimeDefault or Localhost`);
    }
    const caps = isObj(sc.capabilities) ? sc.capabilities : {};
    if (!arr(caps.drop).includes('ALL')) {
      add('dropAll', `${who}: capabilities.drop does not include ALL`);
    }
    const added = arr(caps.add).filter(a => a !== 'NET_BIND_SERVICE');
    if (added.length) {
      const beyondBaseline = added.some(a => !BASELINE_CAPS.includes(a));
      add(beyondBaseline ? 'baselineCapabilities' : 'restrictedCapabilities', `${who}: capabilities.add ${added.map(show).join(', ')}${beyondBaseline ? ' (beyond the baseline set too)' : ''}`);
    }
    for (const p of arr(c.ports).filter(isObj)) {
      if (p.hostPort !== undefined && p.hostPort !== 0) {
        add('hostPorts', `${who}: hostPort ${show(p.hostPort)}`);
      }
    }
    if (sc.procMount !== undefined && sc.procMount !== 'Default') {
      add('procMount', `${who}: procMount ${show(sc.procMount)}`);
    }
  }
  return out;
}

/**
 * `podSecurityViolations` as one line each (SMS040's messages).
 * @internal
 */
export function restrictedViolations(spec: { [k: string]: any }, annotations: { [k: string]: unknown } = {}): string[] {
  return podSecurityViolations(spec, annotations).map(v => v.message);
}

/** SMS040: the restricted Pod Security Standard. @internal */
export function checkPodSecurity(ctx: InstallContext): void {
  if (!ctx.deployment || !ctx.podSpec) {
    return;
  }
  const template = isObj(ctx.deployment.object.spec) && isObj(ctx.deployment.object.spec.template)
    ? ctx.deployment.object.spec.template : ctx.deployment.object;
  const annotations = isObj(template.metadata) && isObj(template.metadata.annotations) ? template.metadata.annotations : {};
  for (const v of restrictedViolations(ctx.podSpec, annotations)) {
    ctx.report(Rules.POD_SECURITY_RESTRICTED, ctx.deployment, `restricted Pod Security Standard: ${v}`, { evidence: v });
  }
}
