/**
 * Rollout status of a workload, by `kubectl rollout status`'s rules and wording
 * (kubernetes/kubectl `pkg/polymorphichelpers/rollout_status.go`), plus the failure signals
 * kubectl only waits out: `ProgressDeadlineExceeded`, `ReplicaFailure`/`FailedCreate` on the new
 * ReplicaSet (and its events newer than the job's start), and Pods stuck in back-off.
 *
 * Pure: objects in, a status out; `since` (the job's start) is passed in.
 */
import type { KubeObject } from './cluster';
import { classifyAdmissionMessage } from './admission-message';
import type { AdmissionMessageClassification } from './admission-message';

/** Workload kinds whose rollout is followed. */
export const ROLLOUT_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** The status of one rollout. */
export type RolloutStatus =
  | { readonly state: 'done'; readonly message: string }
  | { readonly state: 'waiting'; readonly message: string; readonly problem?: string }
  | {
      readonly state: 'failed';
      readonly reason: 'ProgressDeadlineExceeded' | 'FailedCreate' | 'PodFailing' | 'UnsupportedStrategy';
      readonly message: string;
      /** Set when the failure is an admission denial (Shape A). */
      readonly admission?: AdmissionMessageClassification;
    };

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : 0);
const rec = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

function conditions(object: KubeObject | undefined): Condition[] {
  const list = rec(object?.status).conditions;
  return Array.isArray(list) ? (list as Condition[]) : [];
}

/** kubectl's status of a Deployment, StatefulSet or DaemonSet (the `\n` kubectl prints is dropped). */
export function kubectlRolloutStatus(object: KubeObject): RolloutStatus {
  const name = JSON.stringify(object.metadata.name ?? '');
  const spec = rec(object.spec);
  const status = rec(object.status);
  const generation = num(object.metadata.generation);
  const observed = num(status.observedGeneration);
  switch (object.kind) {
    case 'Deployment': {
      if (generation > observed)
        return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
      const progressing = conditions(object).find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        return {
          state: 'failed',
          reason: 'ProgressDeadlineExceeded',
          message: `deployment ${name} exceeded its progress deadline`,
        };
      }
      const replicas = spec.replicas === undefined ? 1 : num(spec.replicas);
      const updated = num(status.updatedReplicas);
      const current = num(status.replicas);
      const available = num(status.availableReplicas);
      if (updated < replicas)
        return {
          state: 'waiting',
          message: `Waiting for deployment ${name} rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
        };
      if (current > updated)
        return {
          state: 'waiting',
          message: `Waiting for deployment ${name} rollout to finish: ${current - updated} old replicas are pending termination...`,
        };
      if (available < updated)
        return {
          state: 'waiting',
          message: `Waiting for deployment ${name} rollout to finish: ${available} of ${updated} updated replicas are available...`,
        };
      return { state: 'done', message: `deployment ${name} successfully rolled out` };
    }
    case 'DaemonSet': {
      const strategy = rec(spec.updateStrategy).type ?? 'RollingUpdate';
      if (strategy !== 'RollingUpdate')
        return {
          state: 'failed',
          reason: 'UnsupportedStrategy',
          message: 'rollout status is only available for RollingUpdate strategy type',
        };
      if (generation > observed)
        return { state: 'waiting', message: 'Waiting for daemon set spec update to be observed...' };
      const desired = num(status.desiredNumberScheduled);
      const updated = num(status.updatedNumberScheduled);
      const available = num(status.numberAvailable);
      if (updated < desired)
        return {
          state: 'waiting',
          message: `Waiting for daemon set ${name} rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
        };
      if (available < desired)
        return {
          state: 'waiting',
          message: `Waiting for daemon set ${name} rollout to finish: ${available} of ${desired} updated pods are available...`,
        };
      return { state: 'done', message: `daemon set ${name} successfully rolled out` };
    }
    case 'StatefulSet': {
      const strategy = rec(spec.updateStrategy);
      if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate')
        return {
          state: 'failed',
          reason: 'UnsupportedStrategy',
          message: 'rollout status is only available for RollingUpdate strategy type',
        };
      if (observed === 0 || generation > observed)
        return { state: 'waiting', message: 'Waiting for statefulset spec update to be observed...' };
      const replicas = spec.replicas === undefined ? 1 : num(spec.replicas);
      const ready = num(status.readyReplicas);
      if (ready < replicas)
        return { state: 'waiting', message: `Waiting for ${replicas - ready} pods to be ready...` };
      const partition = rec(strategy.rollingUpdate).partition;
      if (typeof partition === 'number') {
        const updated = num(status.updatedReplicas);
        if (updated < replicas - partition)
          return {
            state: 'waiting',
            message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`,
          };
        return {
          state: 'done',
          message: `partitioned roll out complete: ${updated} new pods have been updated...`,
        };
      }
      const updateRevision = String(status.updateRevision ?? '');
      const currentRevision = String(status.currentRevision ?? '');
      if (updateRevision !== currentRevision)
        return {
          state: 'waiting',
          message: `waiting for statefulset rolling update to complete ${num(status.updatedReplicas)} pods at revision ${updateRevision}...`,
        };
      return {
        state: 'done',
        message: `statefulset rolling update complete ${num(status.currentReplicas)} pods at revision ${currentRevision}...`,
      };
    }
    default:
      return { state: 'done', message: `${object.kind.toLowerCase()} ${name} applied` };
  }
}

/** Container waiting reasons that mean the new Pods will not come up by themselves. */
export const STUCK_POD_REASONS: ReadonlySet<string> = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
]);

/** What the stage read about a workload in one poll. */
export interface RolloutObservation {
  readonly workload: KubeObject;
  /** For a Deployment: the ReplicaSet of the current revision, once it exists. */
  readonly newReplicaSet?: KubeObject;
  /** Events about the new ReplicaSet (or the workload), any age: filtered here by `since`. */
  readonly events?: readonly KubeObject[];
  /** Pods of the new revision. */
  readonly pods?: readonly KubeObject[];
}

function eventTime(event: KubeObject): number {
  const e = event as Record<string, unknown>;
  const series = rec(e.series);
  const times = [e.lastTimestamp, e.eventTime, series.lastObservedTime, e.firstTimestamp]
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : Number.NaN;
}

/**
 * The rollout's state, failing early on signals kubectl would only wait out. An admission
 * denial of the new Pods (Shape A: signature rejection, misconfigured extension, another policy)
 * fails at once; a webhook that could not be called, a quota or a scheduling wait keeps waiting
 * with the `problem` noted (the timeout then reports it).
 */
export function rolloutStatus(observation: RolloutObservation, since: Date): RolloutStatus {
  const base = kubectlRolloutStatus(observation.workload);
  if (base.state === 'failed' && base.reason === 'UnsupportedStrategy') {
    // kubectl refuses to follow an OnDelete rollout; the apply itself succeeded, so it is not a failure.
    return {
      state: 'done',
      message: `${base.message}: ${observation.workload.kind} ${JSON.stringify(observation.workload.metadata.name ?? '')} applied, not followed`,
    };
  }
  if (base.state === 'failed') {
    // Say why the controller gave up, when the new Pods could not be created.
    const cause = latestFailedCreate(observation, since);
    return cause ? { ...base, message: `${base.message}; last FailedCreate: ${cause}` } : base;
  }
  if (base.state !== 'waiting') return base;
  const problems: string[] = [];

  const failedCreate = latestFailedCreate(observation, since);
  if (failedCreate !== undefined) {
    const admission = classifyAdmissionMessage(failedCreate);
    if (admission && admission.verdict !== 'webhook-unavailable') {
      return { state: 'failed', reason: 'FailedCreate', message: admission.message, admission };
    }
    problems.push(failedCreate);
  }

  for (const pod of observation.pods ?? []) {
    const statuses = [
      ...asArray(rec(pod.status).initContainerStatuses),
      ...asArray(rec(pod.status).containerStatuses),
    ];
    for (const cs of statuses) {
      const waiting = rec(rec(cs.state).waiting);
      const reason = typeof waiting.reason === 'string' ? waiting.reason : undefined;
      if (reason && STUCK_POD_REASONS.has(reason)) {
        const text = typeof waiting.message === 'string' && waiting.message ? `: ${waiting.message}` : '';
        return {
          state: 'failed',
          reason: 'PodFailing',
          message: `pod ${JSON.stringify(pod.metadata.name ?? '')} container ${JSON.stringify(String(cs.name ?? ''))} is in ${reason}${text}`,
        };
      }
    }
  }
  return problems.length > 0 ? { ...base, problem: problems[0]! } : base;
}

function asArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.map(rec) : [];
}

/** The newest FailedCreate text: events newer than `since` first, else a ReplicaFailure condition. */
function latestFailedCreate(observation: RolloutObservation, since: Date): string | undefined {
  const events = (observation.events ?? [])
    .filter((e) => (e as Record<string, unknown>).reason === 'FailedCreate')
    .map((e) => ({ e, t: eventTime(e) }))
    .filter(({ t }) => !Number.isNaN(t) && t >= since.getTime() - 1000)
    .sort((a, b) => b.t - a.t);
  const newest = events[0];
  if (newest) {
    const message = (newest.e as Record<string, unknown>).message;
    if (typeof message === 'string') return message;
  }
  for (const source of [observation.newReplicaSet, observation.workload]) {
    const failure = conditions(source).find(
      (c) => c.type === 'ReplicaFailure' && c.status === 'True' && c.reason === 'FailedCreate',
    );
    if (failure?.message) return failure.message;
  }
  return undefined;
}
