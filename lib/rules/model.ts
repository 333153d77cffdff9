import { FlagProblem, isFlagOn, parseCommandLine } from '../k8s/metrics-server-flags';
import { Install, KubeObject, ObjectRef, Rule, SourcedObject } from './types';

/**
 * Defensive readers for plain-JSON objects of unknown shape: nothing here throws.
 * @internal
 */
export function isObj(v: unknown): v is { [k: string]: any } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** @internal */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Any input value as message text: strings as they are, everything else as JSON; never throws. @internal */
export function show(v: unknown): string {
  if (typeof v === 'string') {
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) {
    return String(v);
  }
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v;
  }
}

/** @internal */
export function arr(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

/** @internal */
export function meta(o: KubeObject): { name: string; namespace?: string; annotations: { [k: string]: unknown }; labels: { [k: string]: unknown } } {
  const m = isObj(o.metadata) ? o.metadata : {};
  return {
    name: str(m.name) ?? '',
    namespace: str(m.namespace),
    annotations: isObj(m.annotations) ? m.annotations : {},
    labels: isObj(m.labels) ? m.labels : {},
  };
}

/** @internal */
export function refOf(s: SourcedObject): ObjectRef {
  const m = meta(s.object);
  return {
    apiVersion: str(s.object.apiVersion),
    kind: str(s.object.kind) ?? '',
    namespace: m.namespace,
    name: m.name,
    ...s.source,
  };
}

const NAMESPACED_DEFAULT = 'default';

/**
 * Objects of the input by kind, namespace and name. Namespaced objects without
 * a namespace count as `default`... unless the input gives no namespace to
 * anything of that install, so a lookup falls back to namespace-less objects.
 * @internal
 */
export class ObjectIndex {
  private readonly byKey = new Map<string, SourcedObject>();
  private readonly byKind = new Map<string, SourcedObject[]>();
  public readonly all: SourcedObject[];

  constructor(objects: SourcedObject[]) {
    this.all = objects;
    for (const o of objects) {
      const kind = str(o.object.kind);
      if (kind) {
        const list = this.byKind.get(kind);
        if (list) {
          list.push(o);
        } else {
          this.byKind.set(kind, [o]);
        }
      }
      const m = meta(o.object);
      if (!kind || !m.name) {
        continue;
      }
      const key = ObjectIndex.key(kind, m.namespace, m.name);
      if (!this.byKey.has(key)) {
        this.byKey.set(key, o);
      }
    }
  }

  private static key(kind: string, namespace: string | undefined, name: string): string {
    return `${kind}\u0000${namespace ?? ''}\u0000${name}`;
  }

  /** The object, looked up in `namespace`, then (for manifests without namespaces) without one. */
  public get(kind: string, namespace: string | undefined, name: string): SourcedObject | undefined {
    return this.byKey.get(ObjectIndex.key(kind, namespace, name))
      ?? (namespace === NAMESPACED_DEFAULT || namespace === undefined ? undefined : this.byKey.get(ObjectIndex.key(kind, undefined, name)))
      ?? (namespace === undefined ? this.byKey.get(ObjectIndex.key(kind, NAMESPACED_DEFAULT, name)) : undefined);
  }

  public ofKind(kind: string): SourcedObject[] {
    return this.byKind.get(kind) ?? [];
  }
}

/** Why the audit cannot know what metrics-server runs with. @internal */
export interface FlagUnknown {
  readonly code: 'env-from' | 'value-from' | 'shell' | 'entrypoint';
  /** what, e.g. `$(CA_PATH)` or `sh -c` */
  readonly detail: string;
}

const SHELLS = /^(sh|bash|ash|dash|zsh|ksh|busybox)$/;

/**
 * Expands `$(VAR)` references as the kubelet does (k8s.io/kubernetes
 * third_party/forked/golang/expansion): `$(VAR)` becomes the variable's
 * value when the container defines it, stays as written when it does not;
 * `$$` is one `$` (so `$$(VAR)` is the text `$(VAR)`); any other `$` stays.
 * `lookup` returns the value, `undefined` for an undefined variable, or
 * `null` for one whose value the manifest does not say (valueFrom, envFrom).
 * @internal
 */
export function expandKubeletVars(input: string, lookup: (name: string) => string | undefined | null): { text: string; unknown: string[] } {
  let out = '';
  const unknown: string[] = [];
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) {
      continue;
    }
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close < 0) {
        out += '$(';
      } else {
        const name = rest.slice(1, close);
        const v = lookup(name);
        if (v === null) {
          unknown.push(name);
        }
        out += typeof v === 'string' ? v : `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return { text: out + input.slice(checkpoint), unknown };
}

/**
 * A container's command line as the kubelet builds it and metrics-server's
 * flag parser (pflag) reads it: `$(VAR)` expanded from `env` (with `$$`
 * escapes), `command` (whose first element is the program; without it the
 * image's entrypoint, `/metrics-server`) and `args` read together, then
 * parsed by lib/k8s/metrics-server-flags.ts `parseCommandLine`: a flag
 * that takes a value consumes the next argument whatever it is, `--` ends
 * the flags. The last occurrence of a flag wins. What the manifest does not
 * say (a variable from envFrom or valueFrom, a shell wrapper, another
 * program first) is in `unknowns`; what metrics-server would refuse, in
 * `problems`.
 * @internal
 */
export class Flags {
  public readonly values = new Map<string, string>();
  /** every value of each flag, in order (for flags that may repeat, such as --tls-sni-cert-key) */
  private readonly allValues = new Map<string, string[]>();
  private readonly bare = new Set<string>();
  /** the arguments metrics-server gets, expanded, for evidence */
  public readonly raw: string[];
  public readonly unknowns: FlagUnknown[] = [];
  public readonly problems: FlagProblem[] = [];

  constructor(container: { [k: string]: any } | undefined) {
    const strings = (v: unknown) => arr(v).filter((a): a is string => typeof a === 'string');
    const env = new Map<string, string | null>();
    const hasEnvFrom = arr(container?.envFrom).length > 0;
    const lookup = (name: string) => (env.has(name) ? env.get(name)! : hasEnvFrom ? null : undefined);
    for (const e of arr(container?.env).filter(isObj)) {
      const name = str(e.name);
      if (name === undefined) {
        continue;
      }
      if (e.valueFrom !== undefined) {
        env.set(name, null);
      } else {
        const r = expandKubeletVars(str(e.value) ?? '', lookup);
        env.set(name, r.unknown.length ? null : r.text);
      }
    }
    const unknownVars = new Set<string>();
    const expand = (list: string[]) => list.map(a => {
      const r = expandKubeletVars(a, lookup);
      r.unknown.forEach(u => unknownVars.add(u));
      return r.text;
    });
    const command = expand(strings(container?.command));
    const args = expand(strings(container?.args));
    for (const name of unknownVars) {
      const fromEnv = env.has(name);
      this.unknowns.push({ code: fromEnv ? 'value-from' : 'env-from', detail: `$(${name})` });
    }
    let argv: string[];
    if (command.length > 0) {
      const program = command[0].split('/').pop() ?? '';
      if (SHELLS.test(program) || /^(sh|bash)\b/.test(command[0])) {
        this.unknowns.push({ code: 'shell', detail: `${command[0]}${command.includes('-c') ? ' -c' : ''}` });
        argv = [];
      } else if (!/metrics-server/.test(program)) {
        this.unknowns.push({ code: 'entrypoint', detail: command[0] });
        argv = [];
      } else {
        argv = [...command.slice(1), ...args];
      }
    } else {
      argv = args;
    }
    this.raw = argv;
    const parsed = parseCommandLine(argv);
    this.problems.push(...parsed.problems);
    for (const f of parsed.flags) {
      this.values.set(f.name, f.value);
      this.allValues.set(f.name, [...(this.allValues.get(f.name) ?? []), f.value]);
      if (f.bare) {
        this.bare.add(f.name);
      } else {
        this.bare.delete(f.name);
      }
    }
  }

  /** Whether the manifest says everything metrics-server is started with. */
  public get known(): boolean {
    return this.unknowns.length === 0;
  }

  public has(name: string): boolean {
    return this.values.has(name);
  }

  public get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Every value the flag was given, in order (a flag that may repeat). */
  public getAll(name: string): string[] {
    return this.allValues.get(name) ?? [];
  }

  /** A boolean flag set to true (`--x`, `--x=true`, `--x=1`). */
  public isTrue(name: string): boolean {
    const v = this.values.get(name);
    return v !== undefined && isFlagOn(v);
  }

  /** How the flag was written, for evidence. */
  public evidence(name: string): string {
    const v = this.values.get(name);
    return v === undefined ? `--${name} (absent)` : this.bare.has(name) ? `--${name}` : `--${name}=${v}`;
  }
}

/** The pod template of a workload object, if it has one. @internal */
export function podTemplate(o: KubeObject): { labels: { [k: string]: unknown }; spec: { [k: string]: any } } | undefined {
  const spec = isObj(o.spec) ? o.spec : undefined;
  if (!spec) {
    return undefined;
  }
  if (o.kind === 'Pod') {
    return { labels: meta(o).labels, spec };
  }
  const t = isObj(spec.template) ? spec.template : undefined;
  if (!t || !isObj(t.spec)) {
    return undefined;
  }
  return { labels: isObj(t.metadata) && isObj(t.metadata.labels) ? t.metadata.labels : {}, spec: t.spec };
}

/** The metrics-server container of a pod spec: by name, then by image, then by its flags. @internal */
export function metricsServerContainer(spec: { [k: string]: any }): { [k: string]: any } | undefined {
  const cs = arr(spec.containers).filter(isObj);
  return cs.find(c => c.name === 'metrics-server')
    ?? cs.find(c => typeof c.image === 'string' && /metrics-server/.test(c.image))
    ?? cs.find(c => new Flags(c).has('kubelet-preferred-address-types'));
}

/** Whether a Service selector matches a set of pod labels. @internal */
export function selects(selector: unknown, labels: { [k: string]: unknown }): boolean {
  if (!isObj(selector)) {
    return false;
  }
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every(k => labels[k] === selector[k]);
}

/** What a check reports with. @internal */
export interface InstallContext {
  readonly install: Install;
  readonly apiService?: SourcedObject;
  readonly service?: SourcedObject;
  readonly deployment?: SourcedObject;
  /** the metrics-server container of the Deployment */
  readonly container?: { [k: string]: any };
  readonly podSpec?: { [k: string]: any };
  readonly flags: Flags;
  readonly index: ObjectIndex;
  readonly now: Date;
  readonly expiryWarningDays: number;
  readonly inputIsComplete: boolean;
  report(rule: Rule, target: SourcedObject, message: string, extra?: { fix?: string; evidence?: string }): void;
  /** `compute()` once per key in one audit (e.g. a caBundle decoded by two checks and several installs) */
  memo<T>(key: string, compute: () => T): T;
  /** `kind ns/name`, referenced by `from` for `what`, is not in the input: SMS090 (or SMS091 on a complete input) */
  absent(kind: string, namespace: string | undefined, name: string, from: SourcedObject, what: string): void;
}

/** @internal */
export type Check = (ctx: InstallContext) => void;
