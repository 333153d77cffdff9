import { Duration } from 'cdk8s';
import { DeploymentStrategy, k8s } from 'cdk8s-plus-28';
import { isInt32 } from './k8s/pod-spec';
import { Schema, T } from './k8s/prop-types';

/**
 * The timing of a probe. The probe itself stays the construct's (an HTTPS
 * GET of `/livez` or `/readyz` on the named port `https`, so that one
 * `securePort` drives it); only when and how often it runs can change.
 * @see https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#Probe
 */
export interface ProbeTiming {
  /**
   * Delay after the container starts before the first probe (whole seconds).
   * @default - the construct's: 0 s for liveness, 20 s for readiness (as upstream)
   */
  readonly initialDelay?: Duration;
  /**
   * Time between probes (whole seconds, at least 1 s).
   * @default Duration.seconds(10)
   */
  readonly period?: Duration;
  /**
   * Time after which a probe counts as failed (whole seconds, at least 1 s).
   * @default Duration.seconds(1)
   */
  readonly timeout?: Duration;
  /**
   * Consecutive failures after which the probe fails (at least 1).
   * @default 3
   */
  readonly failureThreshold?: number;
  /**
   * Consecutive successes after a failure for the probe to succeed (at least
   * 1; kube-apiserver requires 1 for a liveness probe).
   * @default 1
   */
  readonly successThreshold?: number;
}

/** The runtime type checks of `ProbeTiming` (lib/k8s/prop-types.ts). @internal */
export const PROBE_TIMING_SCHEMA: Schema = {
  initialDelay: T.duration('Duration.seconds(20)'),
  period: T.duration('Duration.seconds(10)'),
  timeout: T.duration('Duration.seconds(1)'),
  failureThreshold: T.number('3'),
  successThreshold: T.number('1'),
};

/**
 * How upstream's probes, rolling updates and disruption budget can be
 * tuned: the chart's `livenessProbe`, `readinessProbe`, `updateStrategy`,
 * `revisionHistoryLimit` and `podDisruptionBudget.*`.
 */
export interface RolloutOptions {
  /**
   * Timing of the liveness probe (`/livez`).
   * @default - upstream's: every 10 s, 3 failures
   */
  readonly livenessProbe?: ProbeTiming;

  /**
   * Timing of the readiness probe (`/readyz`).
   * @default - upstream's: after 20 s, every 10 s, 3 failures
   */
  readonly readinessProbe?: ProbeTiming;

  /**
   * How the Deployment replaces its pods.
   * @default - a rolling update with `maxUnavailable: 0` (one replica) or `1`
   * (several), as upstream's manifests
   */
  readonly updateStrategy?: DeploymentStrategy;

  /**
   * Old ReplicaSets the Deployment keeps for rollbacks (0 or more).
   * @default - Kubernetes' default (10)
   */
  readonly revisionHistoryLimit?: number;

  /**
   * `maxUnavailable` of the PodDisruptionBudget (only with 2 or more
   * replicas), instead of `minAvailable` (Kubernetes allows one of them):
   * at least 1 and below `replicas`.
   * @default - the budget uses `minAvailable`
   */
  readonly podDisruptionBudgetMaxUnavailable?: number;

  /**
   * When the PodDisruptionBudget lets pods that are running but not ready
   * be evicted (only with 2 or more replicas).
   * @default - Kubernetes' default (UnhealthyPodEvictionPolicy.IF_HEALTHY_BUDGET)
   */
  readonly unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/**
 * `spec.unhealthyPodEvictionPolicy` of a PodDisruptionBudget.
 */
export enum UnhealthyPodEvictionPolicy {
  /** running but unready pods may be evicted only while the budget is met */
  IF_HEALTHY_BUDGET = 'IfHealthyBudget',
  /** running but unready pods may always be evicted (drains do not hang on a crash-looping pod) */
  ALWAYS_ALLOW = 'AlwaysAllow',
}

/**
 * The rollout settings, validated and rendered.
 * @internal
 */
export interface ResolvedRollout {
  readonly livenessProbe: k8s.Probe;
  readonly readinessProbe: k8s.Probe;
  /** undefined: the construct's default strategy */
  readonly strategy?: k8s.DeploymentStrategy;
  readonly revisionHistoryLimit?: number;
  readonly podDisruptionBudgetMaxUnavailable?: number;
  readonly unhealthyPodEvictionPolicy?: string;
}

function seconds(prop: string, d: Duration | undefined, min: number): number | undefined {
  if (d === undefined) {
    return undefined;
  }
  const ms = d.toMilliseconds();
  if (ms % 1000 !== 0 || !isInt32(ms / 1000, min)) {
    throw new Error(`${prop}: ${d.toHumanString()} must be whole seconds, at least ${min}; use e.g. Duration.seconds(${Math.max(min, 10)})`);
  }
  return ms / 1000;
}

function probe(prop: string, path: string, timing: ProbeTiming, initialDelay: number, liveness: boolean): k8s.Probe {
  const failureThreshold = timing.failureThreshold ?? 3;
  if (!isInt32(failureThreshold, 1)) {
    throw new Error(`${prop}.failureThreshold: ${failureThreshold} must be a whole number of at least 1; use e.g. 3`);
  }
  const successThreshold = timing.successThreshold;
  if (successThreshold !== undefined && !isInt32(successThreshold, 1)) {
    throw new Error(`${prop}.successThreshold: ${successThreshold} must be a whole number of at least 1; use e.g. 1`);
  }
  if (liveness && successThreshold !== undefined && successThreshold !== 1) {
    throw new Error(`${prop}.successThreshold: ${successThreshold}: kube-apiserver requires 1 for a liveness probe; remove it or set 1`);
  }
  return {
    failureThreshold,
    httpGet: { path, port: k8s.IntOrString.fromString('https'), scheme: 'HTTPS' },
    initialDelaySeconds: seconds(`${prop}.initialDelay`, timing.initialDelay, 0) ?? (initialDelay || undefined),
    periodSeconds: seconds(`${prop}.period`, timing.period, 1) ?? 10,
    successThreshold,
    timeoutSeconds: seconds(`${prop}.timeout`, timing.timeout, 1),
  };
}

/**
 * Validates the rollout props, with the prop, the value and the fix.
 * @internal
 */
export function resolveRollout(props: RolloutOptions, replicas: number, minAvailableSet: boolean): ResolvedRollout {
  const strategy = props.updateStrategy?._toKube();
  // DeploymentStrategy.rollingUpdate() itself refuses maxSurge and maxUnavailable both zero, as kube-apiserver does
  const revisionHistoryLimit = props.revisionHistoryLimit;
  if (revisionHistoryLimit !== undefined && !isInt32(revisionHistoryLimit, 0)) {
    throw new Error(`revisionHistoryLimit: ${revisionHistoryLimit} must be a whole number of at least 0; use e.g. 3`);
  }
  const maxUnavailable = props.podDisruptionBudgetMaxUnavailable;
  if (maxUnavailable !== undefined) {
    if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1 || maxUnavailable >= replicas) {
      throw new Error(`podDisruptionBudgetMaxUnavailable: ${maxUnavailable} must be a whole number of at least 1 and below replicas (${replicas}); use e.g. 1 with replicas 2 or more`);
    }
    if (minAvailableSet) {
      throw new Error('podDisruptionBudgetMaxUnavailable: set together with minAvailable, which kube-apiserver refuses (a PodDisruptionBudget has one of them); remove one');
    }
  }
  const policies = Object.values(UnhealthyPodEvictionPolicy) as string[];
  const policy = props.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !policies.includes(policy)) {
    throw new Error(`unhealthyPodEvictionPolicy: '${policy}' is not a policy; use UnhealthyPodEvictionPolicy.IF_HEALTHY_BUDGET or UnhealthyPodEvictionPolicy.ALWAYS_ALLOW`);
  }
  if (replicas < 2 && (policy !== undefined)) {
    throw new Error('unhealthyPodEvictionPolicy: set with 1 replica, where there is no PodDisruptionBudget; set replicas to 2 or more, or remove it');
  }
  return {
    livenessProbe: probe('livenessProbe', '/livez', props.livenessProbe ?? {}, 0, true),
    readinessProbe: probe('readinessProbe', '/readyz', props.readinessProbe ?? {}, 20, false),
    strategy,
    revisionHistoryLimit,
    podDisruptionBudgetMaxUnavailable: maxUnavailable,
    unhealthyPodEvictionPolicy: policy,
  };
}

/** The runtime type checks of `RolloutOptions` (lib/k8s/prop-types.ts), after the enum it names. @internal */
export const ROLLOUT_OPTIONS_SCHEMA: Schema = {
  livenessProbe: T.struct('ProbeTiming', PROBE_TIMING_SCHEMA),
  readinessProbe: T.struct('ProbeTiming', PROBE_TIMING_SCHEMA),
  updateStrategy: T.instance(DeploymentStrategy, 'DeploymentStrategy.rollingUpdate()'),
  revisionHistoryLimit: T.number('3'),
  podDisruptionBudgetMaxUnavailable: T.number('1'),
  unhealthyPodEvictionPolicy: T.enumOf(UnhealthyPodEvictionPolicy as any, 'UnhealthyPodEvictionPolicy'),
};
