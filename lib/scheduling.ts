import { Duration } from 'cdk8s';
import { k8s, TaintEffect } from 'cdk8s-plus-28';
import { assertLabelValue, assertQualifiedName, SELECTOR_LABEL } from './metadata';
import { INT32_MAX, isInt32, isSafeInt64 } from './k8s/names';
import { Schema, T } from './k8s/prop-types';

/** The node label upstream's high-availability manifest spreads replicas over. */
export const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';

/**
 * How replicas keep off each other's nodes (only with 2 or more replicas).
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity
 */
export enum PodAntiAffinity {
  /**
   * Never two replicas on one node (`requiredDuringSchedulingIgnoredDuringExecution`),
   * as upstream's high-availability manifest: a replica stays Pending rather
   * than share a node.
   */
  REQUIRED = 'required',
  /**
   * Keep replicas apart when possible (`preferredDuringSchedulingIgnoredDuringExecution`,
   * weight 100): they share a node rather than stay Pending (small clusters).
   */
  PREFERRED = 'preferred',
  /** No anti-affinity (e.g. when topology spread constraints already place the pods). */
  NONE = 'none',
}

/**
 * How a toleration matches a taint's value.
 */
export enum TolerationOperator {
  /** the taint's value must equal the toleration's value */
  EQUAL = 'Equal',
  /** any value (the toleration has none); with no key, every taint */
  EXISTS = 'Exists',
}

/**
 * A toleration of the metrics-server pods.
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
 */
export interface Toleration {
  /**
   * The taint key: a qualified name (e.g. `node-role.kubernetes.io/control-plane`).
   * @default - every key (only with `TolerationOperator.EXISTS`)
   */
  readonly key?: string;
  /**
   * How the value is matched.
   * @default TolerationOperator.EQUAL
   */
  readonly operator?: TolerationOperator;
  /**
   * The taint value, with `TolerationOperator.EQUAL`.
   * @default - an empty value
   */
  readonly value?: string;
  /**
   * The taint effect tolerated (cdk8s-plus-28's `TaintEffect`).
   * @default - every effect
   */
  readonly effect?: TaintEffect;
  /**
   * How long a pod stays on a node after a `NoExecute` taint is added (whole seconds).
   * @default - forever
   */
  readonly tolerationSeconds?: Duration;
}

/**
 * The runtime type checks of `Toleration` (lib/k8s/prop-types.ts); `operator`
 * and `effect` are checked where they are rendered, with messages of their own.
 * @internal
 */
export const TOLERATION_SCHEMA: Schema = {
  key: T.string("'node-role.kubernetes.io/control-plane'"),
  value: T.string("'true'"),
  tolerationSeconds: T.duration('Duration.minutes(5)'),
};

/**
 * What the scheduler does with a pod that would violate a spread constraint.
 */
export enum WhenUnsatisfiable {
  /** leave the pod Pending (a hard rule) */
  DO_NOT_SCHEDULE = 'DoNotSchedule',
  /** schedule it anyway, preferring nodes that reduce the skew (a soft rule) */
  SCHEDULE_ANYWAY = 'ScheduleAnyway',
}

/**
 * A topology spread constraint over the metrics-server pods (the label
 * selector is filled in: the pods' `k8s-app` label).
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
 */
export interface TopologySpreadConstraint {
  /**
   * The node label whose values are the domains, e.g.
   * `topology.kubernetes.io/zone` or `kubernetes.io/hostname`.
   */
  readonly topologyKey: string;
  /**
   * The largest difference allowed between the number of pods in two domains.
   * @default 1
   */
  readonly maxSkew?: number;
  /**
   * What to do when the constraint cannot be met.
   * @default WhenUnsatisfiable.SCHEDULE_ANYWAY
   */
  readonly whenUnsatisfiable?: WhenUnsatisfiable;
  /**
   * The minimum number of domains the pods count as spread over (only with
   * `WhenUnsatisfiable.DO_NOT_SCHEDULE`).
   * @default - the number of domains with a matching node
   */
  readonly minDomains?: number;
}

/**
 * The runtime type checks of `TopologySpreadConstraint` (lib/k8s/prop-types.ts).
 * @internal
 */
export const TOPOLOGY_SPREAD_CONSTRAINT_SCHEMA: Schema = {
  topologyKey: T.string("'topology.kubernetes.io/zone'"),
  maxSkew: T.number('1'),
  whenUnsatisfiable: T.enumOf(WhenUnsatisfiable, 'WhenUnsatisfiable'),
  minDomains: T.number('2'),
};

/**
 * Renders and validates the tolerations.
 * @internal
 */
export function renderTolerations(prop: string, tolerations: Toleration[]): k8s.Toleration[] {
  const operators = Object.values(TolerationOperator) as string[];
  const effects = Object.values(TaintEffect) as string[];
  return tolerations.map((t, i) => {
    const p = `${prop}[${i}]`;
    const operator = t.operator ?? TolerationOperator.EQUAL;
    if (!operators.includes(operator)) {
      throw new Error(`${p}.operator: '${operator}' is not an operator; use TolerationOperator.EQUAL or TolerationOperator.EXISTS`);
    }
    if (t.effect !== undefined && !effects.includes(t.effect)) {
      throw new Error(`${p}.effect: '${t.effect}' is not a taint effect; use TaintEffect.NO_SCHEDULE, TaintEffect.PREFER_NO_SCHEDULE or TaintEffect.NO_EXECUTE`);
    }
    if (t.key === undefined || t.key === '') {
      if (operator !== TolerationOperator.EXISTS) {
        throw new Error(`${p}.key: a toleration without a key matches every taint and needs operator TolerationOperator.EXISTS; set a key (e.g. 'node-role.kubernetes.io/control-plane') or the operator`);
      }
    } else {
      assertQualifiedName(`${p}.key`, t.key);
    }
    if (operator === TolerationOperator.EXISTS && t.value !== undefined && t.value !== '') {
      throw new Error(`${p}.value: '${t.value}' is set with operator TolerationOperator.EXISTS, which matches any value; remove the value or use TolerationOperator.EQUAL`);
    }
    if (t.value !== undefined) {
      assertLabelValue(`${p}.value`, t.value);
    }
    let seconds: number | undefined;
    if (t.tolerationSeconds !== undefined) {
      if (t.effect !== TaintEffect.NO_EXECUTE) {
        throw new Error(`${p}.tolerationSeconds: only applies to effect TaintEffect.NO_EXECUTE; set that effect or remove tolerationSeconds`);
      }
      const ms = t.tolerationSeconds.toMilliseconds();
      if (!(ms >= 0) || ms % 1000 !== 0) {
        throw new Error(`${p}.tolerationSeconds: ${t.tolerationSeconds.toHumanString()} must be whole seconds, not negative; use e.g. Duration.seconds(300)`);
      }
      seconds = ms / 1000;
      if (!isSafeInt64(seconds, 0)) {
        throw new Error(`${p}.tolerationSeconds: ${seconds} seconds is past ${Number.MAX_SAFE_INTEGER}, the largest count that reaches kube-apiserver's int64 exactly through JSON; use e.g. Duration.seconds(300)`);
      }
    }
    return {
      key: t.key === '' ? undefined : t.key,
      operator,
      value: t.value === '' ? undefined : t.value,
      effect: t.effect,
      tolerationSeconds: seconds,
    };
  });
}

/**
 * Renders and validates the node selector: the user's entries on top of
 * upstream's `kubernetes.io/os: linux`.
 * @internal
 */
export function renderNodeSelector(prop: string, nodeSelector: { [key: string]: string }): { [key: string]: string } {
  for (const [key, value] of Object.entries(nodeSelector)) {
    assertQualifiedName(prop, key);
    assertLabelValue(`${prop}['${key}']`, value);
  }
  return { 'kubernetes.io/os': 'linux', ...nodeSelector };
}

/**
 * Renders and validates the topology spread constraints.
 * @internal
 */
export function renderTopologySpread(prop: string, constraints: TopologySpreadConstraint[], selectorValue: string): k8s.TopologySpreadConstraint[] {
  const seen = new Set<string>();
  const whens = Object.values(WhenUnsatisfiable) as string[];
  return constraints.map((c, i) => {
    const p = `${prop}[${i}]`;
    assertQualifiedName(`${p}.topologyKey`, c.topologyKey);
    const maxSkew = c.maxSkew ?? 1;
    if (!isInt32(maxSkew, 1)) {
      throw new Error(`${p}.maxSkew: ${maxSkew} must be a whole number from 1 to ${INT32_MAX} (int32); use e.g. 1`);
    }
    const when = c.whenUnsatisfiable ?? WhenUnsatisfiable.SCHEDULE_ANYWAY;
    if (!whens.includes(when)) {
      throw new Error(`${p}.whenUnsatisfiable: '${when}' is not a choice; use WhenUnsatisfiable.DO_NOT_SCHEDULE or WhenUnsatisfiable.SCHEDULE_ANYWAY`);
    }
    if (c.minDomains !== undefined) {
      if (when !== WhenUnsatisfiable.DO_NOT_SCHEDULE) {
        throw new Error(`${p}.minDomains: only applies with WhenUnsatisfiable.DO_NOT_SCHEDULE; set that or remove minDomains`);
      }
      if (!isInt32(c.minDomains, 1)) {
        throw new Error(`${p}.minDomains: ${c.minDomains} must be a whole number from 1 to ${INT32_MAX} (int32); use e.g. 2`);
      }
    }
    const id = `${c.topologyKey}/${when}`;
    if (seen.has(id)) {
      throw new Error(`${p}: a second constraint on '${c.topologyKey}' with ${when}; Kubernetes refuses duplicates, merge them into one`);
    }
    seen.add(id);
    return {
      labelSelector: { matchLabels: { [SELECTOR_LABEL]: selectorValue } },
      maxSkew,
      minDomains: c.minDomains,
      topologyKey: c.topologyKey,
      whenUnsatisfiable: when,
    };
  });
}

/**
 * The pod anti-affinity of upstream's high-availability manifest, required or preferred.
 * @internal
 */
export function renderAntiAffinity(choice: PodAntiAffinity, selectorValue: string, namespace: string): k8s.Affinity | undefined {
  const term: k8s.PodAffinityTerm = {
    labelSelector: { matchLabels: { [SELECTOR_LABEL]: selectorValue } },
    namespaces: [namespace],
    topologyKey: HOSTNAME_TOPOLOGY_KEY,
  };
  switch (choice) {
    case PodAntiAffinity.REQUIRED:
      return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
    case PodAntiAffinity.PREFERRED:
      return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
    case PodAntiAffinity.NONE:
      return undefined;
    default:
      throw new Error(`podAntiAffinity: '${choice}' is not a choice; use PodAntiAffinity.REQUIRED, PodAntiAffinity.PREFERRED or PodAntiAffinity.NONE`);
  }
}
