import { isIP } from 'net';
import { matchesHostname } from './names';

/**
 * What metrics-server's command-line flags mean, defined once: the flag set
 * and its grammar (pflag), the value types, the construct's `extraArgs`
 * checks (lib/extra-args.ts), the audit rules (checks-kubelet.ts,
 * checks-ports.ts, checks-command-line.ts), the flag reader (model.ts
 * `Flags`) and doctor (lib/cluster/nodes.ts) all ask these functions. Pure,
 * no dependencies beyond x509.ts's host-name matching.
 * @internal
 */

/** A pflag value type, as `flag.Value.Type()` names it. @internal */
export type FlagType = 'bool' | 'string' | 'int' | 'int64' | 'float32' | 'float64' | 'duration' | 'ip' | 'stringSlice'
| 'namedCertKey' | 'colonSeparatedMultimapStringString' | 'quantity' | 'Level' | 'pattern=N,...';

/** One flag of metrics-server. @internal */
export interface FlagSpec {
  readonly type: FlagType;
  /** the one-letter form (`-h`, `-l`, `-v`) */
  readonly short?: string;
  /** deprecated (still accepted) */
  readonly deprecated?: boolean;
}

/**
 * Every flag metrics-server v0.8 accepts, with its pflag type: its own
 * flags, the kubelet client's, and the k8s.io/apiserver and
 * k8s.io/component-base generic flags it registers (secure serving,
 * delegated authentication and authorization, audit log, features,
 * logging), plus cobra's `--help`.
 *
 * Derived, not written by hand: test/fixtures/audit/metrics-server-flags/main.go
 * builds `app.NewMetricsServerCommand` of sigs.k8s.io/metrics-server v0.8.0
 * (from the Go module proxy, with the k8s.io v0.33.2 modules its go.mod
 * pins) and prints every flag's name, `Value.Type()`, shorthand and
 * deprecation; metrics-server-v0.8.0-flags.json next to it is that output,
 * and test/rules.test.ts checks this table against it.
 * @internal
 */
export const METRICS_SERVER_FLAGS: ReadonlyMap<string, FlagSpec> = new Map<string, FlagSpec>([
  ['advertise-address', { type: 'ip' }],
  ['audit-log-batch-buffer-size', { type: 'int' }],
  ['audit-log-batch-max-size', { type: 'int' }],
  ['audit-log-batch-max-wait', { type: 'duration' }],
  ['audit-log-batch-throttle-burst', { type: 'int' }],
  ['audit-log-batch-throttle-enable', { type: 'bool' }],
  ['audit-log-batch-throttle-qps', { type: 'float32' }],
  ['audit-log-compress', { type: 'bool' }],
  ['audit-log-format', { type: 'string' }],
  ['audit-log-maxage', { type: 'int' }],
  ['audit-log-maxbackup', { type: 'int' }],
  ['audit-log-maxsize', { type: 'int' }],
  ['audit-log-mode', { type: 'string' }],
  ['audit-log-path', { type: 'string' }],
  ['audit-log-truncate-enabled', { type: 'bool' }],
  ['audit-log-truncate-max-batch-size', { type: 'int64' }],
  ['audit-log-truncate-max-event-size', { type: 'int64' }],
  ['audit-log-version', { type: 'string' }],
  ['audit-policy-file', { type: 'string' }],
  ['audit-webhook-batch-buffer-size', { type: 'int' }],
  ['audit-webhook-batch-initial-backoff', { type: 'duration', deprecated: true }],
  ['audit-webhook-batch-max-size', { type: 'int' }],
  ['audit-webhook-batch-max-wait', { type: 'duration' }],
  ['audit-webhook-batch-throttle-burst', { type: 'int' }],
  ['audit-webhook-batch-throttle-enable', { type: 'bool' }],
  ['audit-webhook-batch-throttle-qps', { type: 'float32' }],
  ['audit-webhook-config-file', { type: 'string' }],
  ['audit-webhook-initial-backoff', { type: 'duration' }],
  ['audit-webhook-mode', { type: 'string' }],
  ['audit-webhook-truncate-enabled', { type: 'bool' }],
  ['audit-webhook-truncate-max-batch-size', { type: 'int64' }],
  ['audit-webhook-truncate-max-event-size', { type: 'int64' }],
  ['audit-webhook-version', { type: 'string' }],
  ['authentication-kubeconfig', { type: 'string' }],
  ['authentication-skip-lookup', { type: 'bool' }],
  ['authentication-token-webhook-cache-ttl', { type: 'duration' }],
  ['authentication-tolerate-lookup-failure', { type: 'bool' }],
  ['authorization-always-allow-paths', { type: 'stringSlice' }],
  ['authorization-kubeconfig', { type: 'string' }],
  ['authorization-webhook-cache-authorized-ttl', { type: 'duration' }],
  ['authorization-webhook-cache-unauthorized-ttl', { type: 'duration' }],
  ['bind-address', { type: 'ip' }],
  ['cert-dir', { type: 'string' }],
  ['client-ca-file', { type: 'string' }],
  ['contention-profiling', { type: 'bool' }],
  ['cors-allowed-origins', { type: 'stringSlice' }],
  ['debug-socket-path', { type: 'string' }],
  ['deprecated-kubelet-completely-insecure', { type: 'bool' }],
  ['disable-http2-serving', { type: 'bool' }],
  ['emulated-version', { type: 'stringSlice' }],
  ['emulation-forward-compatible', { type: 'bool' }],
  ['enable-priority-and-fairness', { type: 'bool' }],
  ['external-hostname', { type: 'string' }],
  ['feature-gates', { type: 'colonSeparatedMultimapStringString' }],
  ['goaway-chance', { type: 'float64' }],
  ['help', { type: 'bool', short: 'h' }],
  ['http2-max-streams-per-connection', { type: 'int' }],
  ['kubeconfig', { type: 'string' }],
  ['kubelet-certificate-authority', { type: 'string' }],
  ['kubelet-client-certificate', { type: 'string' }],
  ['kubelet-client-key', { type: 'string' }],
  ['kubelet-insecure-tls', { type: 'bool' }],
  ['kubelet-port', { type: 'int' }],
  ['kubelet-preferred-address-types', { type: 'stringSlice' }],
  ['kubelet-request-timeout', { type: 'duration' }],
  ['kubelet-use-node-status-port', { type: 'bool' }],
  ['livez-grace-period', { type: 'duration' }],
  ['log-flush-frequency', { type: 'duration' }],
  ['log-json-info-buffer-size', { type: 'quantity' }],
  ['log-json-split-stream', { type: 'bool' }],
  ['log-text-info-buffer-size', { type: 'quantity' }],
  ['log-text-split-stream', { type: 'bool' }],
  ['logging-format', { type: 'string' }],
  ['max-mutating-requests-inflight', { type: 'int' }],
  ['max-requests-inflight', { type: 'int' }],
  ['metric-resolution', { type: 'duration' }],
  ['min-request-timeout', { type: 'int' }],
  ['node-selector', { type: 'string', short: 'l' }],
  ['permit-address-sharing', { type: 'bool' }],
  ['permit-port-sharing', { type: 'bool' }],
  ['profiling', { type: 'bool' }],
  ['request-timeout', { type: 'duration' }],
  ['requestheader-allowed-names', { type: 'stringSlice' }],
  ['requestheader-client-ca-file', { type: 'string' }],
  ['requestheader-extra-headers-prefix', { type: 'stringSlice' }],
  ['requestheader-group-headers', { type: 'stringSlice' }],
  ['requestheader-uid-headers', { type: 'stringSlice' }],
  ['requestheader-username-headers', { type: 'stringSlice' }],
  ['runtime-config-emulation-forward-compatible', { type: 'bool' }],
  ['secure-port', { type: 'int' }],
  ['shutdown-delay-duration', { type: 'duration' }],
  ['shutdown-send-retry-after', { type: 'bool' }],
  ['shutdown-watch-termination-grace-period', { type: 'duration' }],
  ['storage-initialization-timeout', { type: 'duration' }],
  ['strict-transport-security-directives', { type: 'stringSlice' }],
  ['tls-cert-file', { type: 'string' }],
  ['tls-cipher-suites', { type: 'stringSlice' }],
  ['tls-min-version', { type: 'string' }],
  ['tls-private-key-file', { type: 'string' }],
  ['tls-sni-cert-key', { type: 'namedCertKey' }],
  ['v', { type: 'Level', short: 'v' }],
  ['version', { type: 'bool' }],
  ['vmodule', { type: 'pattern=N,...' }],
]);

/**
 * metrics-server's boolean flags (pflag: `--flag` alone means true; a value
 * needs `=`).
 * @internal
 */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set([...METRICS_SERVER_FLAGS].filter(([, f]) => f.type === 'bool').map(([n]) => n));

const SHORTHANDS: ReadonlyMap<string, string> = new Map([...METRICS_SERVER_FLAGS].filter(([, f]) => f.short).map(([n, f]) => [f.short!, n]));

/** One flag occurrence as pflag read it. @internal */
export interface ParsedFlag {
  readonly name: string;
  readonly value: string;
  /** the argument(s) it was read from, for evidence */
  readonly raw: string;
  /** true when written without a value (`--flag` of a boolean) */
  readonly bare: boolean;
}

/** Why metrics-server would refuse a command line, structured. @internal */
export interface FlagProblem {
  readonly code: 'unknown-flag' | 'unknown-shorthand' | 'bad-syntax' | 'needs-argument' | 'bad-value';
  /** the flag name (or the argument, for bad syntax) */
  readonly flag: string;
  readonly raw: string;
  /** what is wrong, one line, without the fix */
  readonly reason: string;
  /** for unknown flags: known flags, closest first */
  readonly suggestions?: string[];
}

/** A command line as metrics-server's pflag reads it. @internal */
export interface ParsedCommandLine {
  readonly flags: ParsedFlag[];
  /** arguments that are not flags (and everything after `--`) */
  readonly positionals: string[];
  readonly problems: FlagProblem[];
}

/**
 * Reads arguments as pflag v1.0.6 (metrics-server's parser, without a name
 * normalizer) does: `--name=value`; `--name` alone for a boolean; otherwise
 * `--name` takes the NEXT argument as its value whatever it is (even
 * `--other`); `-x`, `-xVALUE`, `-x=VALUE`, `-x VALUE` for shorthands; `--`
 * ends the flags; a lone `-` and anything not starting with `-` are
 * positional. Unknown flags, missing arguments and values of the wrong type
 * are problems (metrics-server exits on each).
 * @internal
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const flags: ParsedFlag[] = [];
  const positionals: string[] = [];
  const problems: FlagProblem[] = [];
  const set = (name: string, value: string, raw: string, bare: boolean) => {
    flags.push({ name, value, raw, bare });
    const reason = valueProblem(name, value);
    if (reason !== undefined) {
      problems.push({ code: 'bad-value', flag: name, raw, reason });
    }
  };
  // suggestions for the first few unknown flags only: a hostile command line may hold thousands
  let suggested = 0;
  const suggest = (name: string) => (suggested++ < 8 ? closestFlags(name) : undefined);
  let i = 0;
  while (i < argv.length) {
    const s = argv[i++];
    if (s.length < 2 || s[0] !== '-') {
      positionals.push(s);
      continue;
    }
    if (s === '--') {
      positionals.push(...argv.slice(i));
      break;
    }
    if (s[1] === '-') {
      const body = s.slice(2);
      if (body.startsWith('-') || body.startsWith('=')) {
        problems.push({ code: 'bad-syntax', flag: s, raw: s, reason: `'${s}' is bad flag syntax` });
        continue;
      }
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const spec = METRICS_SERVER_FLAGS.get(name);
      if (!spec) {
        problems.push({ code: 'unknown-flag', flag: name, raw: s, reason: `unknown flag --${name}`, suggestions: suggest(name) });
        continue;
      }
      if (eq >= 0) {
        set(name, body.slice(eq + 1), s, false);
      } else if (spec.type === 'bool') {
        set(name, 'true', s, true);
      } else if (i < argv.length) {
        const v = argv[i++];
        set(name, v, `${s} ${v}`, false);
      } else {
        problems.push({ code: 'needs-argument', flag: name, raw: s, reason: `--${name} needs a value and is the last argument` });
      }
      continue;
    }
    let shorts = s.slice(1);
    while (shorts.length > 0) {
      const c = shorts[0];
      const name = SHORTHANDS.get(c);
      if (!name) {
        problems.push({ code: 'unknown-shorthand', flag: c, raw: s, reason: `unknown shorthand flag '${c}' in '${s}'${s.length > 3 ? ` (a long flag needs two dashes: '-${s}')` : ''}`, suggestions: suggest(s.replace(/^-+/, '')) });
        break;
      }
      const spec = METRICS_SERVER_FLAGS.get(name)!;
      if (shorts.length > 2 && shorts[1] === '=') {
        set(name, shorts.slice(2), s, false);
        shorts = '';
      } else if (spec.type === 'bool') {
        set(name, 'true', s, true);
        shorts = shorts.slice(1);
      } else if (shorts.length > 1) {
        set(name, shorts.slice(1), s, false);
        shorts = '';
      } else if (i < argv.length) {
        const v = argv[i++];
        set(name, v, `${s} ${v}`, false);
        shorts = '';
      } else {
        problems.push({ code: 'needs-argument', flag: name, raw: s, reason: `-${c} (--${name}) needs a value and is the last argument` });
        shorts = '';
      }
    }
  }
  return { flags, positionals, problems };
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/**
 * Every known flag name, closest to `name` first (edit distance, then a
 * shared prefix, then alphabetical).
 * @internal
 */
export function closestFlags(name: string): string[] {
  // bounded: a flag name from a hostile manifest may be megabytes long; no known name has 64 characters
  const n = name.slice(0, 64).toLowerCase().replace(/_/g, '-');
  return [...METRICS_SERVER_FLAGS.keys()]
    .map(k => ({ k, d: distance(n, k) - (k.startsWith(n) || n.startsWith(k) ? 0.5 : 0) }))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .map(x => x.k);
}

const GO_DURATION = /^[-+]?(0|((\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/;
const GO_INT = /^[-+]?(0[xX](_?[0-9a-fA-F])+|0[bB](_?[01])+|0[oO](_?[0-7])+|0(_?[0-7])*|[1-9](_?[0-9])*)$/;
const GO_FLOAT = /^[-+]?((\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][-+]?\d(_?\d)*)?|inf|infinity|nan)$/i;
/** The TLS versions k8s.io/component-base/cli/flag accepts for --tls-min-version. */
const TLS_VERSIONS = ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'];

function goInt(value: string, bits: number): bigint | undefined {
  if (!GO_INT.test(value)) {
    return undefined;
  }
  const neg = value.startsWith('-');
  let body = value.replace(/^[-+]/, '').replace(/_/g, '');
  if (/^0[0-7]+$/.test(body)) {
    body = `0o${body.slice(1)}`;
  }
  const n = (neg ? -1n : 1n) * BigInt(body.toLowerCase().replace(/^0o/, '0o'));
  const max = (1n << BigInt(bits - 1)) - 1n;
  return n > max || n < -max - 1n ? undefined : n;
}

/** Go's time.Duration: an int64 count of nanoseconds (about 292 years). */
const GO_DURATION_MAX_NS = (1n << 63n) - 1n;

/**
 * A Go duration in nanoseconds (approximate for fractions), or undefined
 * where Go's time.ParseDuration refuses it: not its syntax, or past the
 * int64 of nanoseconds ("time: invalid duration", e.g. '2562048h').
 * @internal
 */
export function goDurationNs(value: string): number | undefined {
  if (!GO_DURATION.test(value)) {
    return undefined;
  }
  const unit: { [u: string]: bigint } = { 'ns': 1n, 'us': 1000n, '\u00b5s': 1000n, '\u03bcs': 1000n, 'ms': 1000000n, 's': 1000000000n, 'm': 60000000000n, 'h': 3600000000000n };
  // exact integer arithmetic, as Go's ParseDuration overflows exactly at 2^63 ns
  let total = 0n;
  for (const m of value.matchAll(/(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) {
    const u = unit[m[3]];
    const fraction = m[2] ?? '';
    total += BigInt(m[1] || '0') * u + (fraction === '' ? 0n : (BigInt(fraction) * u) / 10n ** BigInt(fraction.length));
  }
  const negative = value.startsWith('-');
  // Go accepts -2^63 ns, the smallest int64, and nothing beyond either end
  if (total > GO_DURATION_MAX_NS + (negative ? 1n : 0n)) {
    return undefined;
  }
  return negative ? -Number(total) : Number(total);
}

/**
 * Why metrics-server cannot start with `--name=value`, or undefined when it
 * can: the pflag type's parser (Go's strconv.ParseBool, ParseInt base 0,
 * ParseFloat, time.ParseDuration, net.ParseIP, NamedCertKey, klog's Level),
 * then the checks metrics-server and k8s.io/apiserver run at start
 * (`--metric-resolution` at least 10s, `--kubelet-request-timeout` positive,
 * `--tls-min-version` a known version). `stringSlice`, `quantity`,
 * `colonSeparatedMultimapStringString` and plain strings are not checked
 * beyond that. An unknown flag is not a value problem (see parseCommandLine).
 * @internal
 */
export function valueProblem(name: string, value: string): string | undefined {
  const spec = METRICS_SERVER_FLAGS.get(name);
  if (!spec) {
    return undefined;
  }
  const bad = (what: string) => `--${name}=${value} is not ${what}`;
  switch (spec.type) {
    case 'bool':
      if (parseBoolFlag(value) === undefined) {
        return bad('a boolean (true, false, 1, 0, t, f)');
      }
      break;
    case 'int':
    case 'int64':
      if (goInt(value, 64) === undefined) {
        return bad('a whole number');
      }
      break;
    case 'Level':
      if (!/^[-+]?\d+$/.test(value) || goInt(value.replace(/^([-+]?)0+(?=\d)/, '$1'), 32) === undefined) {
        return bad('a log level (a whole number)');
      }
      break;
    case 'float32':
    case 'float64':
      if (!GO_FLOAT.test(value)) {
        return bad('a number');
      }
      break;
    case 'duration':
      if (goDurationNs(value) === undefined) {
        return bad('a duration (e.g. 15s, 1m30s)');
      }
      break;
    case 'ip': {
      const ip = value.trim();
      if (ip.includes('%') || isIP(ip) === 0) {
        return bad('an IP address');
      }
      break;
    }
    case 'namedCertKey': {
      const colon = value.indexOf(':');
      if ((colon < 0 ? value : value.slice(0, colon)).split(',').length !== 2) {
        return bad('certfile,keyfile[:name,...] (a comma between the certificate and key paths)');
      }
      break;
    }
    case 'pattern=N,...':
      if (value !== '' && !value.split(',').every(p => /^[^=]+=\d+$/.test(p))) {
        return bad('pattern=N[,pattern=N...]');
      }
      break;
    default:
      break;
  }
  if (name === 'tls-min-version' && value !== '' && !TLS_VERSIONS.includes(value)) {
    return `--tls-min-version=${value} is not one of ${TLS_VERSIONS.join(', ')}`;
  }
  if (name === 'metric-resolution' && (goDurationNs(value) ?? 0) < 10e9) {
    return `--metric-resolution=${value} is below 10s, which metrics-server refuses`;
  }
  if (name === 'kubelet-request-timeout' && (goDurationNs(value) ?? 0) <= 0) {
    return `--kubelet-request-timeout=${value} is not positive, which metrics-server refuses`;
  }
  return undefined;
}

/**
 * The combinations metrics-server v0.8 refuses at start (Options.Validate and
 * KubeletClientOptions.Validate in cmd/metrics-server/app/options), as
 * messages; `get` reads a flag's last value. `--kubelet-certificate-authority`
 * with `--kubelet-insecure-tls` is left out: SMS024 reports it.
 * @internal
 */
export function startupConflicts(get: (name: string) => string | undefined): string[] {
  const on = (n: string) => get(n) !== undefined && isFlagOn(get(n));
  const set = (n: string) => (get(n) ?? '') !== '';
  const out: string[] = [];
  for (const exits of ['help', 'version']) {
    if (on(exits)) {
      out.push(`--${exits} makes metrics-server print its ${exits === 'help' ? 'usage' : 'version'} and exit`);
    }
  }
  if (set('kubelet-client-key') !== set('kubelet-client-certificate')) {
    out.push('--kubelet-client-key and --kubelet-client-certificate must be given together');
  }
  if (on('deprecated-kubelet-completely-insecure')) {
    for (const other of ['kubelet-client-key', 'kubelet-client-certificate', 'kubelet-certificate-authority']) {
      if (set(other)) {
        out.push(`--${other} cannot be used with --deprecated-kubelet-completely-insecure`);
      }
    }
    if (on('kubelet-insecure-tls')) {
      out.push('--kubelet-insecure-tls cannot be used with --deprecated-kubelet-completely-insecure');
    }
  }
  const resolution = goDurationNs(get('metric-resolution') ?? '60s');
  const timeout = goDurationNs(get('kubelet-request-timeout') ?? '10s');
  if (resolution !== undefined && timeout !== undefined && resolution >= 10e9 && timeout > 0 && resolution * 9 / 10 < timeout) {
    out.push(`--metric-resolution (${get('metric-resolution') ?? '60s'}) must be larger than --kubelet-request-timeout (${get('kubelet-request-timeout') ?? '10s'}) by a tenth`);
  }
  return out;
}

/** Go's crypto/tls insecure cipher suites (tls.InsecureCipherSuites()), by the names --tls-cipher-suites takes. */
const INSECURE_CIPHER_SUITES = [
  'TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
];

/**
 * Why a flag with this value weakens metrics-server's security, or undefined:
 * TLS below 1.2 (`--tls-min-version`), an insecure cipher suite
 * (`--tls-cipher-suites`), serving requests when the authentication config
 * cannot be read (`--authentication-tolerate-lookup-failure`), paths
 * authorized for anyone (`--authorization-always-allow-paths` beyond the
 * health checks), and the kubelet hop unverified or in plain HTTP.
 * @internal
 */
export function weakeningReason(name: string, value: string): string | undefined {
  switch (name) {
    case 'kubelet-insecure-tls':
      return isFlagOn(value) ? 'kubelet certificates are not verified' : undefined;
    case 'deprecated-kubelet-completely-insecure':
      return isFlagOn(value) ? 'kubelets are reached over plain HTTP' : undefined;
    case 'tls-min-version':
      return allowsTlsBelow12(value) ? 'clients may use TLS older than 1.2' : undefined;
    case 'tls-cipher-suites': {
      const weak = value.split(',').map(c => c.trim()).filter(c => INSECURE_CIPHER_SUITES.includes(c));
      return weak.length ? `insecure cipher suites ${weak.join(', ')}` : undefined;
    }
    case 'authentication-tolerate-lookup-failure':
      return isFlagOn(value) ? 'requests are served even when the authentication configuration cannot be read' : undefined;
    case 'authorization-always-allow-paths': {
      const extra = value.split(',').map(p => p.trim()).filter(p => p !== '' && !['/healthz', '/readyz', '/livez'].includes(p));
      return extra.length ? `paths ${extra.join(', ')} are authorized for anyone` : undefined;
    }
    default:
      return undefined;
  }
}

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
