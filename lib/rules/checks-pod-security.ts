import { InstallContext, arr, isObj, show } from './model';
import { Rules } from './registry';

/** Volume types the restricted Pod Security Standard allows. */
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const BASELINE_CAPS = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];

/**
 * What the restricted Pod Security Standard (v1.32, which includes baseline)
 * refuses in the metrics-server pod. Returns one line per violation. @internal
 */
export function restrictedViolations(spec: { [k: string]: any }): string[] {
  const out: string[] = [];
  const pod = isObj(spec.securityContext) ? spec.securityContext : {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[f] === true) {
      out.push(`${f}: true`);
    }
  }
  for (const v of arr(spec.volumes).filter(isObj)) {
    const type = Object.keys(v).find(k => k !== 'name');
    if (type && !RESTRICTED_VOLUMES.includes(type)) {
      out.push(`volume '${show(v.name)}' has type ${type}`);
    }
  }
  for (const s of arr(pod.sysctls).filter(isObj)) {
    if (typeof s.name === 'string' && !SAFE_SYSCTLS.includes(s.name)) {
      out.push(`unsafe sysctl ${s.name}`);
    }
  }
  if (isObj(pod.seccompProfile) && !['RuntimeDefault', 'Localhost'].includes(pod.seccompProfile.type)) {
    out.push(`securityContext.seccompProfile.type: ${show(pod.seccompProfile.type)}`);
  }
  if (pod.runAsUser === 0) {
    out.push('securityContext.runAsUser: 0');
  }
  const containers = [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)].filter(isObj);
  for (const c of containers) {
    const sc = isObj(c.securityContext) ? c.securityContext : {};
    const who = `container '${show(c.name)}'`;
    if (sc.privileged === true) {
      out.push(`${who}: privileged: true`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      out.push(`${who}: allowPrivilegeEscalation is not false`);
    }
    const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (runAsNonRoot !== true) {
      out.push(`${who}: runAsNonRoot is not true`);
    }
    if (sc.runAsUser === 0) {
      out.push(`${who}: runAsUser: 0`);
    }
    const seccomp = isObj(sc.seccompProfile) ? sc.seccompProfile.type : isObj(pod.seccompProfile) ? pod.seccompProfile.type : undefined;
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp)) {
      out.push(`${who}: seccompProfile.type is ${seccomp === undefined ? 'unset' : show(seccomp)}, not RuntimeDefault or Localhost`);
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
  for (const v of restrictedViolations(ctx.podSpec)) {
    ctx.report(Rules.POD_SECURITY_RESTRICTED, ctx.deployment, `restricted Pod Security Standard: ${v}`, { evidence: v });
  }
}
