/**
 * Undoing what a job changed, like `kubectl rollout undo` (kubernetes/kubectl
 * `pkg/polymorphichelpers/rollback.go`), per workload, to the revision it had before the job:
 *
 * - Deployments through their ReplicaSets: the ReplicaSet of the earlier revision gives the pod
 *   template (without `pod-template-hash`) and the annotations; one JSON Patch replaces both;
 * - StatefulSets and DaemonSets through their ControllerRevisions: the earlier revision's
 *   `data.spec.template` replaces the current template;
 * - objects the job created are deleted; everything else the job changed but cannot restore
 *   (no revision history: Services, ConfigMaps, …) is named in the report.
 *
 * Planning is pure ({@link planDeploymentUndo}, {@link planControllerRevisionUndo}); execution
 * ({@link rollBack}) goes through the {@link KubeCluster} interface, so check-admission can call
 * it too.
 */
import { isStagesignError } from '../errors';
import type { CallOptions } from '../abort';
import type { JsonPatchOperation, KubeCluster, KubeObject, ObjectRef } from './cluster';
import { describeObject } from './manifests';

/** Deployment annotation holding its revision. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** kubectl's `annotationsToSkip`: kept from the Deployment, never copied from the ReplicaSet. */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** What the job knew about an object before applying it. */
export type PriorState =
  /** The object did not exist: the job created it. */
  | { readonly existed: false }
  /**
   * It existed. `revision`: the Deployment's revision annotation, or the revision number of the
   * StatefulSet's / DaemonSet's ControllerRevision; absent for kinds without history.
   */
  | { readonly existed: true; readonly revision?: number };

/** One object the job applied, for rollback. */
export interface AppliedObject {
  readonly ref: ObjectRef;
  readonly prior: PriorState;
}

/** The outcome of undoing one object. */
export type RollbackStep =
  | { readonly ref: ObjectRef; readonly action: 'restored'; readonly revision: number }
  | { readonly ref: ObjectRef; readonly action: 'deleted' }
  | { readonly ref: ObjectRef; readonly action: 'unchanged'; readonly why: string }
  | { readonly ref: ObjectRef; readonly action: 'not-restored'; readonly why: string };

/** A plan for one workload: a JSON Patch, nothing to do, or why it cannot be done. */
export type UndoPlan =
  | { readonly kind: 'patch'; readonly operations: JsonPatchOperation[] }
  | { readonly kind: 'unchanged'; readonly why: string }
  | { readonly kind: 'impossible'; readonly why: string };

const rec = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

/** Objects owned (as controller or not) by `owner`. */
export function ownedBy(objects: readonly KubeObject[], owner: KubeObject): KubeObject[] {
  const uid = owner.metadata.uid;
  return objects.filter((o) => (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid));
}

/** The revision number of a Deployment's ReplicaSet or of a ControllerRevision. */
export function revisionOf(object: KubeObject): number | undefined {
  const raw =
    object.kind === 'ControllerRevision'
      ? (object as { revision?: unknown }).revision
      : object.metadata.annotations?.[REVISION_ANNOTATION];
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
  return n;
}

/**
 * Whether the workload's controller has observed its current generation (`status.observedGeneration`
 * ≥ `metadata.generation`). Until then the revision it shows is still the one before the last change.
 */
export function generationObserved(workload: KubeObject): boolean {
  const observed = rec(workload.status).observedGeneration;
  return typeof observed === 'number' && observed >= (workload.metadata.generation ?? 0);
}

/** The revision a Deployment is at (its annotation). */
export function deploymentRevision(deployment: KubeObject): number | undefined {
  return revisionOf({ ...deployment, kind: 'ReplicaSet' });
}

function withoutHashLabel(template: unknown): Record<string, unknown> {
  const copy = structuredClone(rec(template));
  const metadata = rec(copy.metadata);
  const labels = { ...rec(metadata.labels) };
  delete labels['pod-template-hash'];
  return { ...copy, metadata: { ...metadata, labels } };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/**
 * `kubectl rollout undo deployment --to-revision=<toRevision>` as a JSON Patch
 * (DeploymentRollbacker.Rollback).
 */
export function planDeploymentUndo(
  deployment: KubeObject,
  replicaSets: readonly KubeObject[],
  toRevision: number,
): UndoPlan {
  if (rec(deployment.spec).paused === true) {
    return { kind: 'impossible', why: `${describeObject(deployment)} is paused; resume it first` };
  }
  const target = ownedBy(replicaSets, deployment).find((rs) => revisionOf(rs) === toRevision);
  if (!target) {
    return {
      kind: 'impossible',
      why: `the ReplicaSet of revision ${toRevision} no longer exists (revisionHistoryLimit)`,
    };
  }
  const template = withoutHashLabel(rec(target.spec).template);
  if (sameJson(withoutHashLabel(rec(deployment.spec).template), template)) {
    return { kind: 'unchanged', why: `already at the template of revision ${toRevision}` };
  }
  const current = deployment.metadata.annotations ?? {};
  const annotations: Record<string, string> = {};
  for (const key of ANNOTATIONS_TO_SKIP) if (current[key] !== undefined) annotations[key] = current[key];
  for (const [key, value] of Object.entries(target.metadata.annotations ?? {}))
    if (!ANNOTATIONS_TO_SKIP.has(key)) annotations[key] = value;
  return {
    kind: 'patch',
    operations: [
      { op: 'replace', path: '/spec/template', value: template },
      {
        op: deployment.metadata.annotations ? 'replace' : 'add',
        path: '/metadata/annotations',
        value: annotations,
      },
    ],
  };
}

/**
 * `kubectl rollout undo` for a StatefulSet or DaemonSet: the ControllerRevision of
 * `toRevision` holds the template (`data.spec.template`, with `$patch: replace`).
 */
export function planControllerRevisionUndo(
  workload: KubeObject,
  revisions: readonly KubeObject[],
  toRevision: number,
): UndoPlan {
  const target = ownedBy(revisions, workload).find((r) => revisionOf(r) === toRevision);
  if (!target)
    return {
      kind: 'impossible',
      why: `its ControllerRevision ${toRevision} no longer exists (revisionHistoryLimit)`,
    };
  const template = { ...rec(rec(rec((target as { data?: unknown }).data).spec).template) };
  delete template.$patch;
  if (Object.keys(template).length === 0)
    return { kind: 'impossible', why: `ControllerRevision ${toRevision} holds no pod template` };
  if (sameJson(rec(workload.spec).template, template)) {
    return { kind: 'unchanged', why: `already at the template of revision ${toRevision}` };
  }
  return { kind: 'patch', operations: [{ op: 'replace', path: '/spec/template', value: template }] };
}

/** `app=web,tier=front` from a workload's `spec.selector.matchLabels`. */
export function selectorOf(workload: KubeObject): string | undefined {
  const labels = rec(rec(rec(workload.spec).selector).matchLabels);
  const pairs = Object.entries(labels).filter(([, v]) => typeof v === 'string');
  return pairs.length > 0 ? pairs.map(([k, v]) => `${k}=${String(v)}`).join(',') : undefined;
}

/** The revision a StatefulSet or DaemonSet is at: the highest of its ControllerRevisions (StatefulSet: its updateRevision's). */
export function controllerRevisionOf(
  workload: KubeObject,
  revisions: readonly KubeObject[],
): number | undefined {
  const owned = ownedBy(revisions, workload);
  if (workload.kind === 'StatefulSet') {
    const name = rec(workload.status).updateRevision;
    const current = owned.find((r) => r.metadata.name === name);
    if (current) return revisionOf(current);
  }
  const numbers = owned.map(revisionOf).filter((n): n is number => n !== undefined);
  return numbers.length > 0 ? Math.max(...numbers) : undefined;
}

/** What to do after a failure: `rollback` (undo and delete what was created), `delete` (every applied object), `none`. */
export type OnFailure = 'rollback' | 'delete' | 'none';

/**
 * Undoes `applied` (in reverse apply order) per `mode`. Never throws: an object that cannot be
 * restored, or whose undo fails, is a `not-restored` step saying why.
 */
export async function rollBack(
  cluster: KubeCluster,
  applied: readonly AppliedObject[],
  mode: OnFailure,
  options: CallOptions = {},
): Promise<RollbackStep[]> {
  if (mode === 'none') {
    return applied.map(({ ref }) => ({ ref, action: 'not-restored', why: 'onFailure is none' }));
  }
  const steps: RollbackStep[] = [];
  for (const { ref, prior } of [...applied].reverse()) {
    try {
      if (mode === 'delete' || !prior.existed) {
        const deleted = await cluster.delete(ref, options);
        steps.push(deleted ? { ref, action: 'deleted' } : { ref, action: 'unchanged', why: 'already gone' });
        continue;
      }
      steps.push(await undoOne(cluster, ref, prior.revision, options));
    } catch (error) {
      steps.push({
        ref,
        action: 'not-restored',
        why: isStagesignError(error) || error instanceof Error ? error.message : String(error),
      });
    }
  }
  return steps;
}

async function undoOne(
  cluster: KubeCluster,
  ref: ObjectRef,
  revision: number | undefined,
  options: CallOptions,
): Promise<RollbackStep> {
  const history =
    ref.kind === 'Deployment'
      ? 'ReplicaSet'
      : ref.kind === 'StatefulSet' || ref.kind === 'DaemonSet'
        ? 'ControllerRevision'
        : undefined;
  if (!history)
    return {
      ref,
      action: 'not-restored',
      why: `${ref.kind} has no revision history; it keeps what this job applied`,
    };
  if (revision === undefined)
    return { ref, action: 'not-restored', why: 'its revision before this job is unknown' };
  const workload = await cluster.get(ref, options);
  if (!workload) return { ref, action: 'not-restored', why: 'it no longer exists' };
  const selector = selectorOf(workload);
  const namespace = ref.namespace ?? workload.metadata.namespace ?? 'default';
  const apiVersion = history === 'ReplicaSet' ? 'apps/v1' : 'apps/v1';
  const candidates = await cluster.list(
    apiVersion,
    history,
    { namespace, ...(selector ? { labelSelector: selector } : {}) },
    options,
  );
  const plan =
    history === 'ReplicaSet'
      ? planDeploymentUndo(workload, candidates, revision)
      : planControllerRevisionUndo(workload, candidates, revision);
  switch (plan.kind) {
    case 'unchanged':
      return { ref, action: 'unchanged', why: plan.why };
    case 'impossible':
      return { ref, action: 'not-restored', why: plan.why };
    case 'patch':
      await cluster.patchJson(ref, plan.operations, options);
      return { ref, action: 'restored', revision };
  }
}

/**
 * One sentence for a failure message: `Rolled back: Deployment prod/web to revision 3; deleted
 * Service prod/web. Not restored: ConfigMap prod/cfg (… no revision history …).`
 */
export function describeRollback(steps: readonly RollbackStep[]): string {
  if (steps.length === 0) return 'Nothing was changed.';
  const done: string[] = [];
  const notRestored: string[] = [];
  for (const step of steps) {
    switch (step.action) {
      case 'restored':
        done.push(`${describeObject(step.ref)} to revision ${step.revision}`);
        break;
      case 'deleted':
        done.push(`deleted ${describeObject(step.ref)}`);
        break;
      case 'unchanged':
        break;
      case 'not-restored':
        notRestored.push(`${describeObject(step.ref)} (${step.why})`);
        break;
    }
  }
  const parts = [
    done.length > 0 ? `Rolled back: ${done.join('; ')}.` : 'Nothing needed rolling back.',
    ...(notRestored.length > 0 ? [`Not restored: ${notRestored.join('; ')}.`] : []),
  ];
  return parts.join(' ');
}
