import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { isDnsSubdomain } from './rules/k8s-names';

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The label that selects metrics-server's pods; the `name` prop sets it. */
export const SELECTOR_LABEL = 'k8s-app';

/**
 * Label and annotation key prefixes the construct writes itself.
 */
const RESERVED_LABEL_PREFIXES = ['rbac.authorization.k8s.io/aggregate-to-'];
const RESERVED_ANNOTATION_PREFIXES = ['secure-metrics-server.io/', 'cert-manager.io/'];

/**
 * Whether `key` is a Kubernetes qualified name: an optional DNS subdomain
 * prefix (at most 253 characters) and '/', then a name of at most 63
 * characters of letters, digits, '-', '_' and '.', starting and ending with a
 * letter or digit (label keys, annotation keys, taint keys, topology keys).
 * @internal
 */
export function isQualifiedName(key: string): boolean {
  if (typeof key !== 'string') {
    return false;
  }
  const parts = key.split('/');
  if (parts.length > 2) {
    return false;
  }
  const name = parts[parts.length - 1];
  if (name.length > 63 || !NAME_PART.test(name)) {
    return false;
  }
  if (parts.length === 2) {
    const prefix = parts[0];
    return isDnsSubdomain(prefix);
  }
  return true;
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
  if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
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
    assertQualifiedName(prop, key);
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
