import { matchesHostname } from '../tls/x509';

/**
 * What metrics-server's command-line flags mean, defined once: the
 * construct's `extraArgs` checks (lib/extra-args.ts), the audit rules
 * (checks-kubelet.ts, checks-ports.ts), the flag reader (model.ts `Flags`)
 * and doctor (lib/cluster/nodes.ts) all ask these functions. Pure, no
 * dependencies beyond x509.ts's host-name matching.
 * @internal
 */

/**
 * metrics-server's boolean flags (pflag: `--flag` alone means true; a value
 * needs `=`).
 * @internal
 */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set([
  'kubelet-insecure-tls', 'kubelet-use-node-status-port', 'deprecated-kubelet-completely-insecure',
  'logtostderr', 'alsologtostderr', 'profiling', 'contention-profiling', 'permit-port-sharing',
  'permit-address-sharing', 'authentication-skip-lookup', 'authentication-tolerate-lookup-failure',
  'one-output', 'skip-headers', 'skip-log-headers', 'add_dir_header', 'add-dir-header',
]);

/**
 * The value of a boolean flag as pflag reads it (Go's strconv.ParseBool):
 * `1 t T TRUE true True` are true, `0 f F FALSE false False` false; anything
 * else is undefined (metrics-server refuses to start with it). A flag written
 * without a value (`--flag`) is true: pass `'true'` for it.
 * @internal
 */
export function parseBoolFlag(value: string): boolean | undefined {
  if (/^(1|t|T|TRUE|true|True)$/.test(value)) {
    return true;
  }
  if (/^(0|f|F|FALSE|false|False)$/.test(value)) {
    return false;
  }
  return undefined;
}

/**
 * `--tls-min-version` values that allow TLS older than 1.2 (SMS034): the
 * protocol versions with known weaknesses.
 * @internal
 */
export const WEAK_TLS_MIN_VERSIONS: readonly string[] = ['VersionSSL30', 'VersionTLS10', 'VersionTLS11'];

/**
 * Whether a `--tls-min-version` value lets clients use TLS older than 1.2.
 * @internal
 */
export function allowsTlsBelow12(value: string): boolean {
  return WEAK_TLS_MIN_VERSIONS.includes(value);
}

/**
 * Whether a boolean flag with this value is on, e.g. whether
 * `--kubelet-insecure-tls` turns off the verification of kubelet
 * certificates (SMS001) or `--deprecated-kubelet-completely-insecure` turns
 * off TLS to the kubelets (SMS003). `undefined` is the flag written without a
 * value, which is on; a value pflag cannot read is not.
 * @internal
 */
export function isFlagOn(value: string | undefined): boolean {
  return parseBoolFlag(value ?? 'true') === true;
}

/**
 * Whether metrics-server refuses to start because a kubelet CA is given
 * while the kubelet hop is insecure (SMS024).
 * @internal
 */
export function kubeletCaConflicts(hasKubeletCa: boolean, kubeletInsecure: boolean): boolean {
  return hasKubeletCa && kubeletInsecure;
}

/**
 * The names of a `--tls-sni-cert-key=cert,key[:name,...]` value; empty when
 * it gives none (metrics-server then takes the names from the certificate).
 * @internal
 */
export function sniNames(value: string | undefined): string[] {
  const colon = value?.indexOf(':') ?? -1;
  return colon < 0 ? [] : value!.slice(colon + 1).split(',').map(n => n.trim()).filter(n => n !== '');
}

/**
 * The service names (those kube-apiserver dials metrics-server by) for
 * which a `--tls-sni-cert-key` value makes metrics-server serve another
 * certificate than its serving one. Names match as Go's crypto/tls matches
 * SNI: case-insensitive, a wildcard standing for the leftmost label.
 * @internal
 */
export function sniCoveredNames(value: string | undefined, serviceNames: readonly string[]): string[] {
  const names = sniNames(value);
  return serviceNames.filter(s => names.some(n => matchesHostname(n, s)));
}
