import { RE2JS } from 're2js';
import { Schema, T } from './k8s/prop-types';

// The Prometheus relabeling steps of the ServiceMonitor (lib/monitoring.ts): their types, schema and check.

/**
 * The action of a relabeling step.
 * @see https://prometheus.io/docs/prometheus/latest/configuration/configuration/#relabel_config
 */
export enum RelabelAction {
  /** replace `targetLabel` with `replacement` where `regex` matches */
  REPLACE = 'replace',
  /** keep only targets or series where `regex` matches */
  KEEP = 'keep',
  /** drop targets or series where `regex` matches */
  DROP = 'drop',
  /** `targetLabel` = hash of the source labels modulo `modulus` */
  HASHMOD = 'hashmod',
  /** copy labels whose names match `regex` */
  LABELMAP = 'labelmap',
  /** drop labels whose names match `regex` */
  LABELDROP = 'labeldrop',
  /** keep only labels whose names match `regex` */
  LABELKEEP = 'labelkeep',
  /** `targetLabel` = the source labels in lower case */
  LOWERCASE = 'lowercase',
  /** `targetLabel` = the source labels in upper case */
  UPPERCASE = 'uppercase',
  /** keep where the source labels equal `targetLabel` */
  KEEP_EQUAL = 'keepequal',
  /** drop where the source labels equal `targetLabel` */
  DROP_EQUAL = 'dropequal',
}

/**
 * A Prometheus relabeling step (`relabelings` or `metricRelabelings` of the
 * ServiceMonitor endpoint).
 */
export interface RelabelConfig {
  /**
   * Labels whose values are joined with `separator` and matched.
   * @default - none
   */
  readonly sourceLabels?: string[];
  /**
   * Separator of the joined source label values.
   * @default ';'
   */
  readonly separator?: string;
  /**
   * The label written (needed by replace, hashmod, lowercase, uppercase, keepequal and dropequal).
   * @default - none
   */
  readonly targetLabel?: string;
  /**
   * An RE2 regular expression (Go's regexp, which Prometheus uses), anchored by Prometheus.
   * @default '(.*)'
   */
  readonly regex?: string;
  /**
   * Modulus for hashmod (at least 1).
   * @default - none
   */
  readonly modulus?: number;
  /**
   * Replacement value, with `$1`-style references.
   * @default '$1'
   */
  readonly replacement?: string;
  /**
   * The action.
   * @default RelabelAction.REPLACE
   */
  readonly action?: RelabelAction;
}

/** The runtime type checks of `RelabelConfig` (lib/k8s/prop-types.ts). @internal */
export const RELABEL_CONFIG_SCHEMA: Schema = {
  sourceLabels: T.array(T.string("'__meta_kubernetes_pod_node_name'")),
  separator: T.string("';'"),
  targetLabel: T.string("'node'"),
  regex: T.string("'(.*)'"),
  modulus: T.number('4'),
  replacement: T.string("'$1'"),
  action: T.enumOf(RelabelAction as any, 'RelabelAction'),
};

/** Prometheus' label name pattern, which the CRD's sourceLabels pattern follows. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NEEDS_TARGET = new Set<string>([
  RelabelAction.REPLACE, RelabelAction.HASHMOD, RelabelAction.LOWERCASE, RelabelAction.UPPERCASE, RelabelAction.KEEP_EQUAL, RelabelAction.DROP_EQUAL,
]);

/** The relabeling steps as the ServiceMonitor CRD takes them, each checked as Prometheus does. @internal */
export function relabelings(prop: string, list: RelabelConfig[] | undefined): any[] | undefined {
  if (!list || list.length === 0) {
    return undefined;
  }
  return list.map((r, i) => {
    const p = `${prop}[${i}]`;
    const action = r.action ?? RelabelAction.REPLACE;
    if (!(Object.values(RelabelAction) as string[]).includes(action)) {
      throw new Error(`${p}.action: '${action}' is not a relabel action; use e.g. RelabelAction.REPLACE`);
    }
    (r.sourceLabels ?? []).forEach((l, j) => {
      if (typeof l !== 'string' || !LABEL_NAME.test(l)) {
        throw new Error(`${p}.sourceLabels[${j}]: '${l}' is not a Prometheus label name; use letters, digits and '_', not starting with a digit (e.g. '__meta_kubernetes_pod_node_name')`);
      }
    });
    if (r.targetLabel !== undefined && r.targetLabel.length === 0) {
      throw new Error(`${p}.targetLabel: must not be empty; use e.g. 'node'`);
    }
    if (NEEDS_TARGET.has(action) && r.targetLabel === undefined) {
      throw new Error(`${p}.targetLabel: action ${action} needs a targetLabel (Prometheus refuses the config); set e.g. targetLabel: 'node'`);
    }
    if (r.regex !== undefined) {
      try {
        RE2JS.compile(r.regex);
      } catch (e: any) {
        throw new Error(`${p}.regex: '${r.regex}' is not an RE2 regular expression (${e.message}); Prometheus compiles it with Go's regexp`, { cause: e });
      }
    }
    if (action === RelabelAction.HASHMOD && !(Number.isInteger(r.modulus) && r.modulus! >= 1)) {
      throw new Error(`${p}.modulus: hashmod needs a whole number of at least 1; use e.g. 4`);
    }
    return {
      action, sourceLabels: r.sourceLabels, separator: r.separator, targetLabel: r.targetLabel,
      regex: r.regex, modulus: r.modulus, replacement: r.replacement,
    };
  });
}
