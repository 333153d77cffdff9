import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import {
  annotationsSize, INT32_MAX, isAnnotationKey, isInt32, isLabelValue, isPort, isPriorityClassName, isQualifiedName as isQualifiedNameRule,
  isSafeInt64, SYSTEM_PRIORITY_CLASS_PREFIX, SYSTEM_PRIORITY_CLASSES, TOTAL_ANNOTATION_SIZE_LIMIT,
} from './k8s/names';


/** The label that selects metrics-server's pods; the `name` prop sets it. */
export const SELECTOR_LABEL = 'k8s-app';

/**
 * Label and annotation key prefixes the construct writes itself.
 */
const RESERVED_LABEL_PREFIXES = ['rbac.authorization.k8s.io/aggregate-to-'];
const RESERVED_ANNOTATION_PREFIXES = ['secure-metrics-server.io/', 'cert-manager.io/'];

/**
 * Whether `key` is a Kubernetes qualified name (label keys, taint keys,
 * topology keys); the rule lives in lib/k8s/names.ts.
 * @internal
 */
export function isQualifiedName(key: string): boolean {
  return isQualifiedNameRule(key);
}

/**
 * Throws unless `key` is a Kubernetes qualified name.
 * @internal
 */
export function assertQualifiedName(prop: string, key: string): void {
  if (!isQualifiedName(key)) {
    throw new Error(`${prop}: '${key}' is not a valid key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/tier' or 'tier')`);
  }
}

/**
 * Throws unless `value` is a valid label value (empty, or at most 63
 * letters, digits, '-', '_' and '.', starting and ending with a letter or digit).
 * @internal
 */
export function assertLabelValue(prop: string, value: string): void {
  if (!isLabelValue(value)) {
    throw new Error(`${prop}: '${value}' is not a valid label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'monitoring')`);
  }
}

/**
 * Validates extra labels: qualified-name keys, label values, and none of the
 * keys the construct sets itself (`k8s-app` selects the pods).
 * @internal
 */
export function assertLabels(prop: string, labels: { [key: string]: string }): void {
  for (const [key, value] of Object.entries(labels)) {
    assertQualifiedName(prop, key);
    if (key === SELECTOR_LABEL) {
      throw new Error(`${prop}: '${key}' is set by the construct and selects the pods; it cannot be overridden (use the name prop to change its value)`);
    }
    const reserved = RESERVED_LABEL_PREFIXES.find(p => key.startsWith(p));
    if (reserved) {
      throw new Error(`${prop}: '${key}' uses the prefix '${reserved}', which the construct sets itself; use another key`);
    }
    assertLabelValue(`${prop}['${key}']`, value);
  }
}

/**
 * Validates extra annotations: qualified-name keys, string values, and none of
 * the keys the construct sets itself.
 * @internal
 */
export function assertAnnotations(prop: string, annotations: { [key: string]: string }): void {
  for (const [key, value] of Object.entries(annotations)) {
    if (!isAnnotationKey(key)) {
      throw new Error(`${prop}: '${key}' is not a valid annotation key; use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. 'example.com/owner' or 'owner')`);
    }
    const reserved = RESERVED_ANNOTATION_PREFIXES.find(p => key.startsWith(p));
    if (reserved) {
      throw new Error(`${prop}: '${key}' uses the prefix '${reserved}', which the construct sets itself; use another key`);
    }
    if (typeof value !== 'string') {
      throw new Error(`${prop}['${key}']: ${JSON.stringify(value)} is not a string; annotation values are strings (e.g. 'true')`);
    }
  }
}

/**
 * Adds labels and annotations to every API object under `scope`. A key the
 * object already carries with another value is an error, never a silent override.
 * @internal
 */
export function addObjectMetadata(scope: IConstruct, labels: { [key: string]: string }, annotations: { [key: string]: string }): void {
  const labelEntries = Object.entries(labels);
  const annotationEntries = Object.entries(annotations);
  if (labelEntries.length === 0 && annotationEntries.length === 0) {
    return;
  }
  for (const child of scope.node.findAll()) {
    if (!(child instanceof ApiObject)) {
      continue;
    }
    for (const [key, value] of labelEntries) {
      const existing = child.metadata.getLabel(key);
      if (existing !== undefined && existing !== value) {
        throw new Error(`labels: '${key}' is already '${existing}' on ${child.kind} ${child.name}; use another key`);
      }
      child.metadata.addLabel(key, value);
    }
    if (annotationEntries.length > 0) {
      const current = child.metadata.toJson() as { annotations?: { [key: string]: string } };
      for (const [key, value] of annotationEntries) {
        const existing = current.annotations?.[key];
        if (existing !== undefined && existing !== value) {
          throw new Error(`annotations: '${key}' is already '${existing}' on ${child.kind} ${child.name}; use another key`);
        }
        child.metadata.addAnnotation(key, value);
      }
    }
  }
}

/**
 * The props behind the fields a generic check can trip on, for the message.
 */
const FIELD_PROPS: { readonly [field: string]: string } = {
  'metadata.annotations': 'annotations',
  'spec.template.metadata.annotations': 'podAnnotations',
  'metadata.labels': 'labels',
  'spec.template.metadata.labels': 'labels/podLabels',
  'spec.replicas': 'replicas',
  'spec.minAvailable': 'minAvailable',
  'spec.template.spec.priorityClassName': 'priorityClassName',
  'spec.template.spec.tolerations': 'tolerations',
  'spec.template.spec.topologySpreadConstraints': 'topologySpreadConstraints',
  'spec.template.spec.containers': 'securePort',
};

/**
 * Checks what kube-apiserver checks on the fields of every object the
 * construct writes, after all props are applied (some limits only show in
 * the sum, as the total annotation size does): object names, label keys and
 * values, annotation keys and their total size, and in pod templates the
 * integer ranges, port numbers, probe fields and the priority class name.
 * Throws the first refusal, naming the prop, the value and the fix.
 * @internal
 */
export function assertWrittenObjects(objects: readonly { [k: string]: any }[]): void {
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
    const refuse = (field: string, message: string): never => {
      const key = Object.keys(FIELD_PROPS).find(f => field === f || field.startsWith(`${f}[`) || field.startsWith(`${f}.`));
      throw new Error(`${key ? FIELD_PROPS[key] : '(internal)'}: ${where} ${field}: ${message}`);
    };
    const meta = (path: string, m: { [k: string]: any } | undefined) => {
      for (const [k, v] of Object.entries(m?.labels ?? {})) {
        if (!isQualifiedNameRule(k) || !isLabelValue(v)) {
          refuse(`${path}.labels`, `'${k}: ${String(v)}' is not a valid label; keys are qualified names, values at most 63 letters, digits, '-', '_' and '.'`);
        }
      }
      const annotations = m?.annotations ?? {};
      for (const k of Object.keys(annotations)) {
        if (!isAnnotationKey(k)) {
          refuse(`${path}.annotations`, `'${k}' is not a valid annotation key; use e.g. 'example.com/owner'`);
        }
      }
      const size = annotationsSize(annotations);
      if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
        refuse(`${path}.annotations`, `the annotations take ${size} bytes (keys and values), over kube-apiserver's limit of ${TOTAL_ANNOTATION_SIZE_LIMIT} (256 KiB) for one object; shorten or remove some`);
      }
    };
    meta('metadata', o.metadata);
    const spec = o.spec ?? {};
    if (spec.replicas !== undefined && !isInt32(spec.replicas, 0)) {
      refuse('spec.replicas', `${spec.replicas} is not a whole number from 0 to ${INT32_MAX} (int32); use e.g. 2`);
    }
    if (o.kind === 'PodDisruptionBudget' && typeof spec.minAvailable === 'number' && !isInt32(spec.minAvailable, 0)) {
      refuse('spec.minAvailable', `${spec.minAvailable} is not a whole number from 0 to ${INT32_MAX} (int32); use e.g. 1`);
    }
    const template = spec.template;
    if (!template) {
      continue;
    }
    meta('spec.template.metadata', template.metadata);
    const pod = template.spec ?? {};
    const p = 'spec.template.spec';
    if (pod.priorityClassName !== undefined && !isPriorityClassName(pod.priorityClassName)) {
      refuse(`${p}.priorityClassName`, `'${pod.priorityClassName}' can never exist: PriorityClass names are DNS subdomains, and those starting '${SYSTEM_PRIORITY_CLASS_PREFIX}' are reserved (only ${SYSTEM_PRIORITY_CLASSES.join(' and ')} exist); use one of those or your own class`);
    }
    if (pod.terminationGracePeriodSeconds !== undefined && !isSafeInt64(pod.terminationGracePeriodSeconds, 0)) {
      refuse(`${p}.terminationGracePeriodSeconds`, `${pod.terminationGracePeriodSeconds} is not a whole number of seconds from 0`);
    }
    (pod.tolerations ?? []).forEach((t: any, i: number) => {
      if (t.tolerationSeconds !== undefined && !isSafeInt64(t.tolerationSeconds, Number.MIN_SAFE_INTEGER)) {
        refuse(`${p}.tolerations[${i}].tolerationSeconds`, `${t.tolerationSeconds} is not a whole number of seconds (int64) that survives JSON exactly; use at most ${Number.MAX_SAFE_INTEGER}`);
      }
    });
    (pod.topologySpreadConstraints ?? []).forEach((c: any, i: number) => {
      if (!isInt32(c.maxSkew, 1)) {
        refuse(`${p}.topologySpreadConstraints[${i}].maxSkew`, `${c.maxSkew} is not a whole number from 1 to ${INT32_MAX}; use e.g. 1`);
      }
      if (c.minDomains !== undefined && !isInt32(c.minDomains, 1)) {
        refuse(`${p}.topologySpreadConstraints[${i}].minDomains`, `${c.minDomains} is not a whole number from 1 to ${INT32_MAX}; use e.g. 2`);
      }
    });
    [...(pod.initContainers ?? []), ...(pod.containers ?? [])].forEach((c: any, i: number) => {
      for (const port of c.ports ?? []) {
        for (const f of ['containerPort', 'hostPort'] as const) {
          if (port[f] !== undefined && !isPort(port[f])) {
            refuse(`${p}.containers[${i}].ports.${f}`, `${port[f]} is not a port from 1 to 65535`);
          }
        }
      }
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        const pr = c[probe];
        if (!pr) {
          continue;
        }
        // core validation.go validateProbe: every field ValidateNonnegativeField
        // (int32); a 0 is then defaulted (core/v1 defaults.go SetDefaults_Probe)
        for (const [f, min] of [['initialDelaySeconds', 0], ['timeoutSeconds', 0], ['periodSeconds', 0], ['successThreshold', 0], ['failureThreshold', 0]] as const) {
          if (pr[f] !== undefined && !isInt32(pr[f], min)) {
            refuse(`${p}.containers[${i}].${probe}.${f}`, `${pr[f]} is not a whole number from ${min} to ${INT32_MAX}`);
          }
        }
        // validateLivenessProbe / validateStartupProbe: successThreshold must be 1 (after defaulting 0 to 1)
        if ((probe === 'livenessProbe' || probe === 'startupProbe') && pr.successThreshold !== undefined && pr.successThreshold !== 1 && pr.successThreshold !== 0) {
          refuse(`${p}.containers[${i}].${probe}.successThreshold`, `${pr.successThreshold} must be 1 for a ${probe}`);
        }
      }
    });
  }
}
