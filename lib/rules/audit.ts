import { checkApiService } from './checks-api-service';
import { checkCommandLine } from './checks-command-line';
import { checkGitopsSecrets } from './checks-gitops';
import { checkKubeletTls } from './checks-kubelet';
import { checkServiceMonitors } from './checks-monitoring';
import { checkPodSecurity } from './checks-pod-security';
import { checkPorts } from './checks-ports';
import { checkServingTls } from './checks-serving';
import { Check, Flags, InstallContext, isObj, meta, metricsServerContainer, ObjectIndex, podTemplate, refOf, selects, str } from './model';
import { Rules } from './registry';
import { AuditOptions, AuditResult, Finding, Install, Rule, Severity, severityRank, SourcedObject } from './types';

const METRICS_API_SERVICE = 'v1beta1.metrics.k8s.io';
const WORKLOAD_KINDS = ['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Pod'];

const CHECKS: Check[] = [
  checkCommandLine, checkApiService, checkServingTls, checkKubeletTls, checkPorts, checkPodSecurity, checkGitopsSecrets, checkServiceMonitors,
];

/** One install with the objects it was found from. @internal */
interface FoundInstall {
  readonly install: Install;
  readonly apiService?: SourcedObject;
  readonly service?: SourcedObject;
  readonly deployment?: SourcedObject;
}

function isMetricsApiService(o: SourcedObject): boolean {
  const spec = isObj(o.object.spec) ? o.object.spec : {};
  return o.object.kind === 'APIService' && (meta(o.object).name === METRICS_API_SERVICE || spec.group === 'metrics.k8s.io');
}

function isMetricsServerWorkload(o: SourcedObject): boolean {
  if (!WORKLOAD_KINDS.includes(str(o.object.kind) ?? '')) {
    return false;
  }
  const t = podTemplate(o.object);
  const c = t && metricsServerContainer(t.spec);
  return !!c && (c.name === 'metrics-server' || (typeof c.image === 'string' && /metrics-server/.test(c.image)) || new Flags(c).has('kubelet-preferred-address-types'));
}

/** Workloads by namespace ('' for none), in input order. */
function workloadsByNamespace(index: ObjectIndex): Map<string, SourcedObject[]> {
  const map = new Map<string, SourcedObject[]>();
  for (const o of index.all) {
    if (WORKLOAD_KINDS.includes(str(o.object.kind) ?? '')) {
      const ns = meta(o.object).namespace ?? '';
      const list = map.get(ns);
      if (list) {
        list.push(o);
      } else {
        map.set(ns, [o]);
      }
    }
  }
  return map;
}

function selectedWorkload(workloads: Map<string, SourcedObject[]>, service: SourcedObject, claimed: Set<SourcedObject>): SourcedObject | undefined {
  const ns = meta(service.object).namespace ?? '';
  const selector = isObj(service.object.spec) ? service.object.spec.selector : undefined;
  const candidates = (workloads.get(ns) ?? []).filter(o => selects(selector, podTemplate(o.object)?.labels ?? {}));
  return candidates.find(o => !claimed.has(o) && isMetricsServerWorkload(o))
    ?? candidates.find(o => isMetricsServerWorkload(o))
    ?? candidates[0];
}

function idOf(s: SourcedObject): string {
  const m = meta(s.object);
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}

function findInstallsIn(index: ObjectIndex, ids: Set<string> = new Set(), scope?: string[]): FoundInstall[] {
  const found: FoundInstall[] = [];
  const claimed = new Set<SourcedObject>();
  const uniqueId = (base: string) => {
    let id = base;
    for (let n = 2; ids.has(id); n++) {
      id = `${base}#${n}`;
    }
    ids.add(id);
    return id;
  };
  const make = (apiService?: SourcedObject, service?: SourcedObject, deployment?: SourcedObject): FoundInstall => {
    const main = deployment ?? service ?? apiService!;
    return {
      install: {
        id: uniqueId(idOf(main)),
        apiService: apiService && refOf(apiService),
        service: service && refOf(service),
        deployment: deployment && refOf(deployment),
        ...(scope ? { scope } : {}),
      },
      apiService,
      service,
      deployment,
    };
  };

  const workloads = workloadsByNamespace(index);
  for (const api of index.ofKind('APIService').filter(isMetricsApiService)) {
    const spec = isObj(api.object.spec) ? api.object.spec : {};
    const svcRef = isObj(spec.service) ? spec.service : undefined;
    const service = svcRef && str(svcRef.name) ? index.get('Service', str(svcRef.namespace), str(svcRef.name)!) : undefined;
    const deployment = service ? selectedWorkload(workloads, service, claimed) : undefined;
    if (deployment) {
      claimed.add(deployment);
    }
    found.push(make(api, service, deployment));
  }
  for (const w of index.all.filter(o => WORKLOAD_KINDS.includes(str(o.object.kind) ?? '') && isMetricsServerWorkload(o))) {
    if (claimed.has(w)) {
      continue;
    }
    claimed.add(w);
    const ns = meta(w.object).namespace;
    const labels = podTemplate(w.object)?.labels ?? {};
    const service = index.ofKind('Service').find(s => meta(s.object).namespace === ns && selects(isObj(s.object.spec) ? s.object.spec.selector : undefined, labels));
    found.push(make(undefined, service, w));
  }
  return found;
}

/** The identity of an object in a cluster: API group, kind, namespace, name. */
function identityOf(o: SourcedObject): string | undefined {
  const kind = str(o.object.kind);
  const name = meta(o.object).name;
  if (!kind || !name) {
    return undefined;
  }
  const apiVersion = str(o.object.apiVersion) ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return `${group}\u0000${kind}\u0000${meta(o.object).namespace ?? ''}\u0000${name}`;
}

/** One cluster's worth of input: the files read together and their objects. @internal */
export interface AuditScope {
  /** the files of the scope, in input order (empty when the objects name none) */
  readonly files: string[];
  readonly objects: SourcedObject[];
}

/**
 * Splits the input into the clusters it describes. A cluster holds one object
 * per identity (API group, kind, namespace, name), so two files that define
 * the same object describe two clusters; files that do not repeat each
 * other's objects are one install split over several files (a kustomize
 * base, a components.yaml cut in pieces) and are read together.
 *
 * Files are taken in input order (directories sorted, as they are read). Each
 * joins every scope it repeats no object of; a file that repeats an object of
 * every scope so far starts a new one. So one file per cluster (a cdk8s
 * fleet's `dist/`) is one scope per file, a directory per cluster read in
 * order is one scope per directory, and a file that fits every cluster (a
 * shared ConfigMap) is read with each of them. Objects without a file are one
 * file. docs/audit.md ("How audit decides what belongs together").
 * @internal
 */
export function auditScopes(objects: SourcedObject[]): AuditScope[] {
  const byFile = new Map<string, SourcedObject[]>();
  for (const o of objects) {
    const file = o.source?.file ?? '';
    const list = byFile.get(file);
    if (list) {
      list.push(o);
    } else {
      byFile.set(file, [o]);
    }
  }
  const scopes: { files: string[]; objects: SourcedObject[]; ids: Set<string> }[] = [];
  for (const [file, list] of byFile) {
    const ids = new Set(list.map(identityOf).filter((x): x is string => x !== undefined));
    const fits = scopes.filter(sc => ![...ids].some(id => sc.ids.has(id)));
    if (fits.length === 0) {
      scopes.push({ files: [file], objects: [...list], ids });
      continue;
    }
    for (const sc of fits) {
      sc.files.push(file);
      sc.objects.push(...list);
      ids.forEach(id => sc.ids.add(id));
    }
  }
  return scopes.map(sc => ({ files: sc.files.filter(f => f !== ''), objects: sc.objects }));
}

/** The installs of each scope, with ids unique across scopes. */
function findAllInstalls(objects: SourcedObject[]): { found: FoundInstall; index: ObjectIndex }[] {
  const scopes = auditScopes(objects);
  const ids = new Set<string>();
  return scopes.flatMap(sc => {
    const index = new ObjectIndex(sc.objects);
    return findInstallsIn(index, ids, scopes.length > 1 ? sc.files : undefined).map(found => ({ found, index }));
  });
}

/**
 * The metrics-server installs in a set of objects, without checking them.
 */
export function findInstalls(objects: SourcedObject[]): Install[] {
  return findAllInstalls(objects).map(f => f.found.install);
}

/** The cert-manager Certificate in the input that writes Secret `namespace/name`, as `ns/name`. */
function certificateFor(index: ObjectIndex, namespace: string | undefined, name: string): string | undefined {
  const c = index.ofKind('Certificate').find(o => (str(o.object.apiVersion) ?? '').startsWith('cert-manager.io/')
    && meta(o.object).namespace === namespace && isObj(o.object.spec) && o.object.spec.secretName === name);
  return c && idOf(c);
}

function ignoredByAnnotation(target: SourcedObject, ruleId: string): boolean {
  const v = meta(target.object).annotations[Rules.IGNORE_ANNOTATION];
  if (typeof v !== 'string') {
    return false;
  }
  const ids = v.split(/[\s,]+/).filter(Boolean).map(s => s.toUpperCase());
  return ids.includes('ALL') || ids.includes(ruleId.toUpperCase());
}

/**
 * Runs every rule on the installs found in `objects`. Never throws on odd
 * input: unknown kinds are ignored, malformed fields skip the checks that need them.
 */
export function auditObjects(objects: SourcedObject[], options: AuditOptions = {}): AuditResult {
  const valid = objects.filter(o => isObj(o) && isObj(o.object));
  const ignore = new Set((options.ignore ?? []).map(s => s.toUpperCase()));
  const findings: Finding[] = [];
  const seen = new Set<string>();
  let suppressed = 0;
  const suppressedInSource: Finding[] = [];
  const inline = options.inlineIgnores ?? true;
  const checkErrors: string[] = [];
  const memos = new Map<string, unknown>();
  const memo = <T>(key: string, compute: () => T): T => {
    if (!memos.has(key)) {
      memos.set(key, compute());
    }
    return memos.get(key) as T;
  };
  const scoped = findAllInstalls(valid);
  const installs = scoped.map(s => s.found);

  scoped.forEach(({ found, index }) => {
    const template = found.deployment && podTemplate(found.deployment.object);
    const container = template && metricsServerContainer(template.spec);
    const absentSeen = new Set<string>();
    const add = (rule: Rule, target: SourcedObject, message: string, extra: { fix?: string; evidence?: string } = {}) => {
      const f: Finding = {
        ruleId: rule.id,
        severity: rule.severity,
        object: refOf(target),
        message,
        fix: extra.fix ?? (rule.prop ? `${rule.fix} (SecureMetricsServer: ${rule.prop})` : rule.fix),
        evidence: extra.evidence,
        installId: found.install.id,
      };
      const key = `${f.installId}\u0000${f.ruleId}\u0000${f.object.kind}\u0000${f.object.namespace}\u0000${f.object.name}\u0000${f.message}`;
      if (seen.has(key)) {
        return;
      }
      seen.add(key);
      if (ignore.has(rule.id)) {
        suppressed++;
        return;
      }
      if (inline && ignoredByAnnotation(target, rule.id)) {
        suppressed++;
        if (severityRank(f.severity) >= severityRank(Severity.HIGH)) {
          suppressedInSource.push(f);
        }
        return;
      }
      findings.push(f);
    };
    const ctx: InstallContext = {
      install: found.install,
      apiService: found.apiService,
      service: found.service,
      deployment: found.deployment,
      container,
      podSpec: template?.spec,
      flags: new Flags(container),
      index,
      now: options.now ?? new Date(),
      expiryWarningDays: options.expiryWarningDays ?? 30,
      inputIsComplete: options.inputIsComplete ?? false,
      report: add,
      memo,
      absent: (kind, namespace, name, from, what) => {
        const where = namespace ? `${namespace}/${name}` : name;
        if (absentSeen.has(`${kind}/${where}`)) {
          return;
        }
        absentSeen.add(`${kind}/${where}`);
        const rule = options.inputIsComplete ? Rules.REFERENCED_MISSING : Rules.REFERENCED_ABSENT;
        const issuer = kind === 'Secret' ? certificateFor(index, namespace, name) : undefined;
        const made = issuer ? ` (cert-manager Certificate ${issuer} creates it in the cluster)` : '';
        add(rule, from, `${what} refers to ${kind} ${where}${made}, which is ${options.inputIsComplete ? 'missing' : 'not in the input; its checks were skipped'}`,
          { evidence: `${kind} ${where}` });
      },
    };
    for (const check of CHECKS) {
      try {
        check(ctx);
      } catch (e: unknown) {
        // a check must never take the audit down: the others still run, and the error is reported
        if (process.env.SMS_AUDIT_DEBUG) {
          throw e;
        }
        checkErrors.push(`${check.name} on install ${found.install.id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });

  const order = new Map(installs.map((f, i) => [f.install.id, i]));
  findings.sort((a, b) => (order.get(a.installId!) ?? 0) - (order.get(b.installId!) ?? 0)
    || severityRank(b.severity) - severityRank(a.severity)
    || a.ruleId.localeCompare(b.ruleId)
    || (a.object.file ?? '').localeCompare(b.object.file ?? '')
    || (a.object.documentIndex ?? 0) - (b.object.documentIndex ?? 0));
  return { installs: installs.map(f => f.install), findings, suppressed, suppressedInSource, checkErrors };
}
