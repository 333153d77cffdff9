import { BOOLEAN_FLAGS, isFlagOn } from './metrics-server-flags';
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

/**
 * A container's command line as metrics-server's flag parser (pflag) reads it:
 * `--flag=value`, `--flag value` for flags that take a value, `--bool` alone.
 * The last occurrence wins.
 * @internal
 */
export class Flags {
  public readonly values = new Map<string, string>();
  /** every value of each flag, in order (for flags that may repeat, such as --tls-sni-cert-key) */
  private readonly allValues = new Map<string, string[]>();
  /** the raw arguments, for evidence */
  public readonly raw: string[];

  constructor(container: { [k: string]: any } | undefined) {
    const args = [...arr(container?.command), ...arr(container?.args)].filter((a): a is string => typeof a === 'string');
    this.raw = args;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const m = /^--?([A-Za-z0-9][-A-Za-z0-9_.]*)(?:=([\s\S]*))?$/.exec(a);
      if (!m) {
        continue;
      }
      const name = m[1];
      const value = m[2] !== undefined ? m[2]
        : !BOOLEAN_FLAGS.has(name) && i + 1 < args.length && !args[i + 1].startsWith('-') ? args[++i]
          : 'true';
      this.values.set(name, value);
      this.allValues.set(name, [...(this.allValues.get(name) ?? []), value]);
    }
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
    return v === undefined ? `--${name} (absent)` : v === 'true' && BOOLEAN_FLAGS.has(name) ? `--${name}` : `--${name}=${v}`;
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
