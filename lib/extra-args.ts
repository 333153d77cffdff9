import { allowsTlsBelow12, BOOLEAN_FLAGS, isFlagOn, kubeletCaConflicts, parseBoolFlag, parseCommandLine, sniCoveredNames, sniNames, weakeningReason } from './k8s/metrics-server-flags';

/**
 * The checks on metrics-server's extra command-line flags, as one pure
 * function: no construct, no I/O, the same answer for the same input. The
 * construct throws on its errors and prints its warnings. What each flag
 * means (insecure, refused, a weak TLS version, the names
 * `--tls-sni-cert-key` covers) is defined once, in
 * lib/k8s/metrics-server-flags.ts, which the audit rules (SMS001, SMS003,
 * SMS024, SMS034) ask too; this file only turns the answers into messages
 * naming the prop.
 * @internal
 */

/**
 * Flags the construct sets itself; extraArgs may not set them.
 * @internal
 */
export const MANAGED_FLAGS = [
  '--secure-port', '--cert-dir', '--tls-cert-file', '--tls-private-key-file',
  '--kubelet-insecure-tls', '--kubelet-certificate-authority',
  '--kubelet-preferred-address-types', '--kubelet-use-node-status-port', '--metric-resolution',
];

/**
 * What the checks need to know besides the arguments.
 * @internal
 */
export interface ExtraArgsContext {
  /** the prop path for messages, e.g. `extraArgs` */
  readonly prop: string;
  /** the names kube-apiserver dials metrics-server by (`<name>.<namespace>.svc` and its forms) */
  readonly serviceNames: string[];
  /** the kubelet hop is left unverified (`--kubelet-insecure-tls`) */
  readonly kubeletInsecure: boolean;
  /**
   * whether the flags the construct manages are refused (true for the
   * construct's own extraArgs; false when auditing a whole container's args)
   */
  readonly refuseManaged: boolean;
}

/**
 * Findings on a list of metrics-server arguments.
 * @internal
 */
export interface ExtraArgsFindings {
  /** each `prop: what is wrong; how to fix` */
  readonly errors: string[];
  readonly warnings: string[];
  /** a flag weakens TLS: the insecure annotation names it */
  readonly insecure: string[];
}

/**
 * Checks metrics-server arguments:
 * - each is `--flag` or `--flag=value`;
 * - a flag the construct manages is refused (when `refuseManaged`);
 * - `--kubelet-certificate-authority` with an insecure kubelet hop is refused
 *   (metrics-server refuses to start with both);
 * - a boolean flag with a value pflag cannot read is refused (metrics-server
 *   would not start);
 * - `--deprecated-kubelet-completely-insecure` (alone or with a true value,
 *   as pflag reads it) is refused: it drops TLS to the kubelets altogether,
 *   and metrics-server refuses it next to `--kubelet-certificate-authority`;
 * - `--tls-sni-cert-key=cert,key:names` whose names cover a Service name is
 *   refused: metrics-server would serve that certificate to kube-apiserver
 *   instead of the verified one; without `:names` it is warned about (the
 *   names then come from the certificate, which synth cannot read);
 * - a flag metrics-server v0.8 does not have is refused, listing the known
 *   flags closest first; a flag that needs a value written without one, and
 *   a value its type does not parse, are refused (metrics-server would not
 *   start): the flag set, the grammar and the value types are
 *   lib/k8s/metrics-server-flags.ts, which the audit reads too (SMS027);
 * - `--tls-min-version` below `VersionTLS12` (`VersionTLS10`, `VersionTLS11`)
 *   is warned about and marked insecure, and so is every other weakening
 *   flag or value (`weakeningReason`: insecure cipher suites, tolerating
 *   authentication lookup failures, paths authorized for anyone).
 * @internal
 */
export function checkExtraArgs(args: readonly unknown[], context: ExtraArgsContext): ExtraArgsFindings {
  const errors: string[] = [];
  const warnings: string[] = [];
  const insecure: string[] = [];
  const prop = context.prop;
  for (const arg of args) {
    const text = typeof arg === 'string' ? arg : '';
    const eq = text.indexOf('=');
    const flag = eq < 0 ? text : text.slice(0, eq);
    const value = eq < 0 ? undefined : text.slice(eq + 1);
    if (!/^--[a-z0-9][a-z0-9-]*$/.test(flag)) {
      errors.push(`${prop}: '${String(arg)}' is not a flag; write each as '--flag' or '--flag=value' (e.g. '--v=2')`);
      continue;
    }
    if (flag === '--kubelet-certificate-authority' && kubeletCaConflicts(true, context.kubeletInsecure)) {
      errors.push(`${prop}: '${text}' sets a kubelet CA while kubeletTls is KubeletTls.insecure(); metrics-server refuses both together: pick one, e.g. kubeletTls: KubeletTls.fromConfigMap('my-ca', 'ca.crt')`);
      continue;
    }
    if (context.refuseManaged && MANAGED_FLAGS.includes(flag)) {
      errors.push(`${prop}: '${text}' sets ${flag}, which the construct manages; use the props instead (securePort, metricResolution, kubeletPreferredAddressTypes, kubeletUseNodeStatusPort, kubeletTls, servingTls)`);
      continue;
    }
    if (value !== undefined && BOOLEAN_FLAGS.has(flag.slice(2)) && parseBoolFlag(value) === undefined) {
      errors.push(`${prop}: '${text}' gives the boolean flag ${flag} a value metrics-server cannot read, so it would not start; write ${flag}=true or ${flag}=false`);
      continue;
    }
    if (flag === '--deprecated-kubelet-completely-insecure' && isFlagOn(value)) {
      errors.push(`${prop}: '${text}' turns off TLS to the kubelets altogether, and metrics-server refuses it next to --kubelet-certificate-authority; remove it (for a test cluster, use kubeletTls: KubeletTls.insecure())`);
      continue;
    }
    if (flag === '--tls-sni-cert-key') {
      const covered = sniCoveredNames(value, context.serviceNames);
      if (covered.length > 0) {
        errors.push(`${prop}: '${text}' serves another certificate for ${covered.map(n => `'${n}'`).join(', ')}, the name kube-apiserver dials, instead of the verified serving certificate; remove those names from it (the construct's servingTls provides that certificate)`);
      } else if (sniNames(value).length === 0) {
        warnings.push(`${prop}: '${text}' gives no names, so metrics-server uses the names in that certificate; make sure they do not include '${context.serviceNames[0]}', or give the names explicitly ('--tls-sni-cert-key=cert,key:other.example.com')`);
      }
      continue;
    }
    // the flag set and value types of metrics-server v0.8 (one grammar: the audit's SMS027 reads it too)
    const parsed = parseCommandLine([text]);
    const problem = parsed.problems[0];
    if (problem?.code === 'unknown-flag') {
      const known = problem.suggestions ?? [];
      errors.push(`${prop}: '${text}': metrics-server v0.8 has no flag ${flag}, so it would not start; did you mean --${known[0]}? Known flags, closest first: ${known.map(k => `--${k}`).join(', ')}`);
      continue;
    }
    if (problem?.code === 'needs-argument') {
      errors.push(`${prop}: '${text}' takes a value; write it as '${flag}=VALUE' (one element per flag)`);
      continue;
    }
    if (problem) {
      errors.push(`${prop}: '${text}': ${problem.reason}, so metrics-server would not start; fix the value`);
      continue;
    }
    if (flag === '--tls-min-version' && value !== undefined && allowsTlsBelow12(value)) {
      warnings.push(`${prop}: '${text}' lets clients use TLS older than 1.2, which is deprecated and weak; remove it or use --tls-min-version=VersionTLS12`);
      insecure.push('tls-min-version');
      continue;
    }
    const name = flag.slice(2);
    const weak = weakeningReason(name, value ?? 'true');
    if (weak !== undefined) {
      warnings.push(`${prop}: '${text}' weakens metrics-server: ${weak}; remove it unless you mean it (it is named in the insecure-tls annotation)`);
      insecure.push(name);
    }
  }
  return { errors, warnings, insecure };
}
