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
 * What the restricted Pod Security Standard (Kubernetes 1.32, which includes
 * baseline) refuses in a pod spec, one line per violation.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
 * @internal
 */
export function restrictedViolations(spec: { [k: string]: any }, annotations: { [k: string]: unknown } = {}): string[] {
  const out: string[] = [];
  const pod = isObj(spec.securityContext) ? spec.securityContext : {};
  const containers = [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)].filter(isObj);
  const contexts: [string, { [k: string]: any }][] = [['pod', pod], ...containers.map(c => [`container '${show(c.name)}'`, isObj(c.securityContext) ? c.securityContext : {}] as [string, { [k: string]: any }])];

  // baseline
  for (const [who, sc] of contexts) {
    if (isObj(sc.windowsOptions) && sc.windowsOptions.hostProcess === true) {
      out.push(`${who}: windowsOptions.hostProcess: true`);
    }
    if (isObj(sc.appArmorProfile) && sc.appArmorProfile.type !== undefined && !GOOD_PROFILES.includes(sc.appArmorProfile.type)) {
      out.push(`${who}: appArmorProfile.type ${show(sc.appArmorProfile.type)}`);
    }
    const se = isObj(sc.seLinuxOptions) ? sc.seLinuxOptions : undefined;
    if (se && se.type !== undefined && !SELINUX_TYPES.includes(se.type)) {
      out.push(`${who}: seLinuxOptions.type ${show(se.type)}`);
    }
    if (se && ((se.user !== undefined && se.user !== '') || (se.role !== undefined && se.role !== ''))) {
      out.push(`${who}: seLinuxOptions sets a user or role`);
    }
  }
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[f] === true) {
      out.push(`${f}: true`);
    }
  }
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== 'runtime/default' && !(typeof value === 'string' && value.startsWith('localhost/'))) {
      out.push(`annotation ${key}: ${show(value)}`);
    }
  }
  for (const s of arr(pod.sysctls).filter(isObj)) {
    if (!SAFE_SYSCTLS.includes(s.name)) {
      out.push(`unsafe sysctl ${show(s.name)}`);
    }
  }
  for (const v of arr(spec.volumes).filter(isObj)) {
    const sources = Object.keys(v).filter(k => k !== 'name');
    if (sources.length !== 1 || !RESTRICTED_VOLUMES.includes(sources[0])) {
      out.push(`volume '${show(v.name)}' has type ${sources.join(', ') || 'none'}`);
    }
  }
  // restricted, pod level
  if (pod.runAsNonRoot === false) {
    out.push('securityContext.runAsNonRoot: false');
  }
  if (pod.runAsUser === 0) {
    out.push('securityContext.runAsUser: 0');
  }
  if (isObj(pod.seccompProfile) && !GOOD_PROFILES.includes(pod.seccompProfile.type)) {
    out.push(`securityContext.seccompProfile.type: ${show(pod.seccompProfile.type)}`);
  }
  for (const c of containers) {
    const sc = isObj(c.securityContext) ? c.securityContext : {};
    const who = `container '${show(c.name)}'`;
    if (sc.privileged === true) {
      out.push(`${who}: privileged: true`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      out.push(`${who}: allowPrivilegeEscalation is not false`);
    }
    if (sc.runAsNonRoot === false || (sc.runAsNonRoot === undefined && pod.runAsNonRoot !== true)) {
      out.push(`${who}: runAsNonRoot is not true (here or on the pod)`);
    }
    if (sc.runAsUser === 0) {
      out.push(`${who}: runAsUser: 0`);
    }
    const own = isObj(sc.seccompProfile) ? sc.seccompProfile.type : undefined;
    const seccomp = own ?? (isObj(pod.seccompProfile) ? pod.seccompProfile.type : undefined);
    if (!GOOD_PROFILES.includes(seccomp)) {
      out.push(`${who}: seccompProfile.type is ${seccomp === undefined ? 'unset (here and on the pod)' : show(seccomp)}, not RuntimeDefault or Localhost`);
    }
    const caps = isObj(sc.capabilities) ? sc.capabilities : {};
    if (!arr(caps.drop).includes('ALL')) {
      out.push(`${who}: capabilities.drop does not include ALL`);
    }
    const added = arr(caps.add).filter(a => a !== 'NET_BIND_SERVICE');
    if (added.length) {
      out.push(`${who}: capabilities.add ${added.map(show).join(', ')}${added.some(a => !BASELINE_CAPS.includes(a)) ? ' (beyond the baseline set too)' : ''}`);
    }
    for (const p of arr(c.ports).filter(isObj)) {
      if (p.hostPort !== undefined && p.hostPort !== 0) {
        out.push(`${who}: hostPort ${show(p.hostPort)}`);
      }
    }
    if (sc.procMount !== undefined && sc.procMount !== 'Default') {
      out.push(`${who}: procMount ${show(sc.procMount)}`);
    }
  }
  return out;
}

/** SMS040: the restricted Pod Security Standard. @internal */
export function checkPodSecurity(ctx: InstallContext): void {
  if (!ctx.deployment || !ctx.podSpec) {
    return;
  }
  const template = isObj(ctx.deployment.object.spec) && isObj(ctx.deployment.object.spec.template) ? ctx.deployment.object.spec.template : ctx.deployment.object;
  const annotations = isObj(template.metadata) && isObj(template.metadata.annotations) ? template.metadata.annotations : {};
  for (const v of restrictedViolations(ctx.podSpec, annotations)) {
    ctx.report(Rules.POD_SECURITY_RESTRICTED, ctx.deployment, `restricted Pod Security Standard: ${v}`, { evidence: v });
  }
}
