/**
 * The deploy-manifest stage: apply the Kubernetes manifests of the input artifact to EKS with
 * every image pinned to the digest the verify stage verified, follow the rollouts, and undo what
 * the job changed when anything fails. Dependencies are passed in; `handler.ts` wires the
 * deployed ones.
 *
 * 1. plan: read the manifests from the artifact, order them like Helm, pin every image
 *    (refusing anything unverified);
 * 2. read what the cluster has (does each object exist, at which revision) — the rollback target;
 * 3. preflight: server-side apply every object with `dryRun=All`, and create a Pod built from
 *    every pod template with `dryRun=All`, so admission webhooks (a Pod-only
 *    kyverno-notation-aws policy too) judge the exact images now; a denial fails the job before
 *    any change. Objects in a namespace the manifests create cannot be dry-run before it exists
 *    (the API server answers 404): the new Namespaces are applied first, then those objects are
 *    dry-run, and a denial deletes the new Namespaces again;
 * 4. apply: server-side apply, `fieldManager=stagesign`, `force=true`, in order;
 * 5. wait: poll every rollout (about 2 s, backing off to 10 s) until done, failed or out of time,
 *    continuing in a later invocation (CodePipeline continuation) when the invocation's time runs
 *    out; the budget is `timeoutSeconds` from the first invocation;
 * 6. on failure after a change: `onFailure` (rollback | delete | none), and the failure message
 *    leads with the Kubernetes/Kyverno text and ends with what was rolled back.
 */
import { createHash } from 'node:crypto';
import {
  ConfigurationError,
  DependencyError,
  errorOfKind,
  InputError,
  isStagesignError,
  VerificationError,
} from '../../shared/errors';
import type { StagesignError } from '../../shared/errors';
import type { CallOptions } from '../../shared/abort';
import { mapBounded } from '../../shared/concurrency';
import type { ClusterConnector, KubeCluster, KubeObject, ObjectRef } from '../../shared/kube/cluster';
import { pinImages, podTemplateOf, POD_SPEC_PATHS } from '../../shared/kube/image-pinning';
import type { PinnedObject } from '../../shared/kube/image-pinning';
import {
  describeObject,
  inInstallOrder,
  parseManifests,
  refOf,
  selectManifestFiles,
} from '../../shared/kube/manifests';
import {
  controllerRevisionOf,
  deploymentRevision,
  generationObserved,
  describeRollback,
  ownedBy,
  rollBack,
  selectorOf,
} from '../../shared/kube/rollback';
import type { AppliedObject, PriorState } from '../../shared/kube/rollback';
import { ROLLOUT_KINDS, rolloutStatus } from '../../shared/kube/rollout-status';
import type { RolloutStatus } from '../../shared/kube/rollout-status';
import { DEPLOYED, writeDeployed } from '../../shared/pipeline/handoff';
import type { DeployedWorkload } from '../../shared/pipeline/handoff';
import type { ActionSpec, StageContext, StageInput, StageOutcome } from '../../shared/pipeline/action';
import { pickInputArtifact } from '../../shared/pipeline/input-artifact';
import type { Job } from '../../shared/pipeline/job';
import { parseDeployManifestParams } from './params';
import type { DeployManifestEnvironment, DeployManifestParams } from './params';

/** What the stage needs from the outside world. */
export interface DeployManifestDeps {
  /** The cluster for a name or ARN (EKS DescribeCluster + token, cached per container). */
  readonly cluster: ClusterConnector;
  /** The environment, parsed at cold start. */
  readonly environment: DeployManifestEnvironment;
  /** Sleep between polls (tests make it instant). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** First poll interval, default 2000 ms; grows by half up to {@link MAX_POLL_MS}. */
  readonly pollIntervalMs?: number;
  /** Time kept for one more poll and the report before asking for a continuation; default 10 s. */
  readonly continuationMarginMs?: number;
  /** Cluster reads in flight at once, default 8. */
  readonly concurrency?: number;
}

export const DEFAULT_POLL_MS = 2_000;
export const MAX_POLL_MS = 10_000;
const DEFAULT_CONTINUATION_MARGIN_MS = 10_000;

/**
 * The continuation state (≤ 2048 characters as a token for well over 50 workloads): no manifest,
 * only what cannot be re-read from the artifact.
 */
export interface DeployState {
  readonly v: 1;
  /** First invocation's start, epoch seconds: `timeoutSeconds` counts from here. */
  readonly s: number;
  /** When the apply started, epoch milliseconds. */
  readonly a: number;
  /** Hash of the pinned manifests: the artifact must read the same on resume. */
  readonly h: string;
  /** Per object in apply order: `c` created, `e` existed (no history), `<n>` existed at revision n. */
  readonly p: string;
  /** Per object: seconds after `a` when it was applied. */
  readonly t: string;
  /** Invocations so far. */
  readonly n: number;
  /**
   * `1` while the apply is unfinished (the deadline came in the middle of it): the next invocation
   * applies every object again (server-side apply is idempotent) against the priors read before
   * the first write, so a failure still undoes everything this job wrote.
   */
  readonly u?: 1;
}

/** The stage as the action runtime sees it. */
export function deployManifestAction(
  deps: DeployManifestDeps,
): ActionSpec<DeployManifestParams, DeployState> {
  // The newest state of each running job, so a deadline in the middle of a poll still continues.
  const latest = new Map<string, DeployState>();
  return {
    stage: 'deploy-manifest',
    parseParams: (job) => parseDeployManifestParams(job.userParameters, deps.environment),
    parseState: parseDeployState,
    run: async (input) => {
      try {
        return await deployManifest(deps, input, (state) => latest.set(input.job.id, state));
      } finally {
        latest.delete(input.job.id);
      }
    },
    onDeadline: ({ job }) => latest.get(job.id),
  };
}

/** One object of the plan, with what the job learns about it. */
interface Planned extends PinnedObject {
  readonly ref: ObjectRef;
}

/** Runs the stage for one invocation (see the module comment). */
export async function deployManifest(
  deps: DeployManifestDeps,
  input: StageInput<DeployManifestParams, DeployState>,
  remember: (state: DeployState) => void = () => undefined,
): Promise<StageOutcome<DeployState>> {
  const { job, params, state, ctx } = input;
  ctx.setPhase('reading the manifests');
  const plan = await planFromArtifact(job, params, ctx);
  const hash = planHash(plan);
  if (state && state.h !== hash) {
    throw new InputError(
      'MANIFEST_CHANGED',
      'The manifests in the input artifact differ from the ones this job applied in its first invocation; the job cannot follow the rollout. Re-run the pipeline.',
    );
  }

  ctx.setPhase(`connecting to cluster ${params.clusterName}`);
  const cluster = await deps.cluster.connect(params.clusterName, { signal: ctx.signal });
  const options = { signal: ctx.signal };

  if (state) {
    const priors = state.p.split(',').map(decodePrior);
    const offsets = state.t.split(',').map(Number);
    if (priors.length !== plan.length || offsets.length !== plan.length) {
      throw new InputError(
        'CONTINUATION_STATE_INVALID',
        'The continuation state does not match the manifests; re-run the pipeline.',
      );
    }
    if (state.u === 1) {
      ctx.logger.info('resuming the apply', { objects: plan.length, invocation: state.n + 1 });
      return applyAndFollow(deps, ctx, params, cluster, plan, priors, {
        startedAt: new Date(state.s * 1000),
        hash,
        invocation: state.n + 1,
        remember,
      });
    }
    const applied = plan.map((p, i): AppliedRecord => ({
      item: p,
      prior: priors[i]!,
      appliedAt: new Date(state.a + offsets[i]! * 1000),
    }));
    ctx.logger.info('resuming the rollout', { objects: plan.length, invocation: state.n + 1 });
    return waitForRollouts(deps, ctx, params, cluster, applied, state, remember);
  }

  const startedAt = ctx.now();
  ctx.setPhase('reading what the cluster has');
  const priors = await mapBounded(plan, deps.concurrency ?? 8, (p) => priorState(cluster, p, options));
  const deferred = deferredObjects(plan, priors);

  if (params.preflight) {
    ctx.setPhase('preflight (server-side dry run)');
    try {
      await preflight(
        cluster,
        plan.filter((p) => !deferred(p)),
        options,
        deps.concurrency ?? 8,
      );
    } catch (error) {
      throw withSuffix(error, 'Preflight (dry run): nothing was changed.');
    }
  }

  return applyAndFollow(deps, ctx, params, cluster, plan, priors, {
    startedAt,
    hash,
    invocation: 1,
    remember,
  });
}

/** Which objects wait for a dry run until the new Namespaces they live in exist. */
function deferredObjects(plan: readonly Planned[], priors: readonly PriorState[]): (p: Planned) => boolean {
  const newNamespaces = new Set(
    plan
      .filter((p, i) => p.object.kind === 'Namespace' && !priors[i]!.existed)
      .map((p) => p.object.metadata.name ?? ''),
  );
  return (p) =>
    p.object.kind !== 'Namespace' &&
    p.object.metadata.namespace !== undefined &&
    newNamespaces.has(p.object.metadata.namespace);
}

/**
 * Applies every object in order (dry-running objects in new Namespaces once those exist), then
 * follows the rollouts. Before the first write the job remembers an unfinished-apply state, so a
 * deadline in the middle becomes a continuation that applies again instead of leaving a partial
 * apply behind; any other failure undoes what was written, per `onFailure`.
 */
async function applyAndFollow(
  deps: DeployManifestDeps,
  ctx: StageContext,
  params: DeployManifestParams,
  cluster: KubeCluster,
  plan: readonly Planned[],
  priors: readonly PriorState[],
  run: {
    readonly startedAt: Date;
    readonly hash: string;
    readonly invocation: number;
    readonly remember: (state: DeployState) => void;
  },
): Promise<StageOutcome<DeployState>> {
  const options = { signal: ctx.signal };
  const deferred = deferredObjects(plan, priors);
  const elapsedMs = ctx.now().getTime() - run.startedAt.getTime();
  if (run.invocation > 1 && elapsedMs > params.timeoutSeconds * 1000) {
    ctx.setPhase('undoing what this job applied');
    const steps = await rollBack(
      cluster,
      plan.map((item, i) => ({ ref: item.ref, prior: priors[i]! })),
      params.onFailure,
      options,
    );
    throw new DependencyError(
      'DEPLOY_TIMED_OUT',
      `The manifests could not all be applied within timeoutSeconds (${params.timeoutSeconds} s). ${describeRollback(steps)}`,
    );
  }
  const unfinished: DeployState = {
    v: 1,
    s: Math.floor(run.startedAt.getTime() / 1000),
    a: ctx.now().getTime(),
    h: run.hash,
    p: priors.map(encodePrior).join(','),
    t: plan.map(() => 0).join(','),
    n: run.invocation,
    u: 1,
  };
  run.remember(unfinished);
  ctx.setPhase('applying the manifests');
  const applyStart = ctx.now().getTime();
  const applied: AppliedRecord[] = [];
  const responses = new Map<Planned, KubeObject>();
  let deferredChecked = !params.preflight || !plan.some(deferred);
  try {
    for (const [i, p] of plan.entries()) {
      if (!deferredChecked && p.object.kind !== 'Namespace' && p.object.kind !== 'PriorityClass') {
        ctx.setPhase('preflight (dry run) of objects in the new namespaces');
        try {
          await preflight(cluster, plan.filter(deferred), options, deps.concurrency ?? 8);
        } catch (error) {
          // Only the new Namespaces were written: take them away again, whatever onFailure says.
          const steps = await rollBack(cluster, applied.map(toApplied), 'rollback', options);
          throw new PreflightDenied(
            withSuffix(error, `Preflight (dry run) in the new namespaces: ${describeRollback(steps)}`),
          );
        }
        deferredChecked = true;
        ctx.setPhase('applying the manifests');
      }
      const response = await cluster.apply(p.object, { dryRun: false, ...options });
      applied.push({ item: p, prior: priors[i]!, appliedAt: ctx.now() });
      responses.set(p, response);
    }
  } catch (error) {
    if (error instanceof PreflightDenied) throw error.error;
    // The deadline came: the continuation (the unfinished-apply state) applies again, so nothing
    // is undone here (and no request could be sent on the aborted signal anyway).
    if (ctx.signal.aborted) throw error;
    ctx.setPhase('undoing what this job applied');
    const steps = await rollBack(cluster, applied.map(toApplied), params.onFailure, options);
    throw withSuffix(error, describeRollback(steps));
  }
  ctx.logger.info('applied', { objects: applied.length, invocation: run.invocation });

  const state0: DeployState = {
    v: 1,
    s: unfinished.s,
    a: applyStart,
    h: run.hash,
    p: applied.map((r) => encodePrior(r.prior)).join(','),
    t: applied.map((r) => Math.max(0, Math.round((r.appliedAt.getTime() - applyStart) / 1000))).join(','),
    n: run.invocation,
  };
  run.remember(state0);
  if (!params.wait || !plan.some((p) => ROLLOUT_KINDS.has(p.object.kind))) {
    return success(
      params,
      cluster,
      applied,
      new Map(),
      responses,
      options,
      params.wait ? 'no rollout to follow' : 'not waiting',
    );
  }
  return waitForRollouts(deps, ctx, params, cluster, applied, state0, run.remember);
}

/** A denial in the deferred preflight, already answered (the new Namespaces were deleted). */
class PreflightDenied {
  constructor(readonly error: unknown) {}
}

interface AppliedRecord {
  readonly item: Planned;
  readonly prior: PriorState;
  readonly appliedAt: Date;
}

function toApplied(record: AppliedRecord): AppliedObject {
  return { ref: record.item.ref, prior: record.prior };
}

/** Reads, orders and pins the manifests. */
async function planFromArtifact(
  job: Job,
  params: DeployManifestParams,
  ctx: StageContext,
): Promise<Planned[]> {
  const artifactName = pickInputArtifact(
    job.inputArtifacts.map((a) => a.name),
    params.inputArtifact,
    'the manifests (UserParameters.manifests)',
  );
  if (artifactName === undefined) {
    throw new ConfigurationError(
      'INPUT_ARTIFACT_MISSING',
      "The action has no input artifact: add the artifact holding the manifests (UserParameters.manifests) to the action's InputArtifacts.",
    );
  }
  const files = await ctx.readInputArtifact(artifactName);
  const paths = selectManifestFiles(files.keys(), params.manifests, artifactName);
  const objects = inInstallOrder(parseManifests(files, paths, params.namespace));
  return pinImages(objects, params.verifiedImages, params.allowUnverified).map((p) => ({
    ...p,
    ref: refOf(p.object),
  }));
}

/** A short hash of the pinned objects, to recognise the same manifests on resume. */
export function planHash(plan: readonly { readonly object: KubeObject }[]): string {
  const hash = createHash('sha256');
  for (const p of plan) hash.update(JSON.stringify(p.object)).update('\n');
  return hash.digest('hex').slice(0, 16);
}

/** Existence and revision before the job. */
async function priorState(cluster: KubeCluster, p: Planned, options: CallOptions): Promise<PriorState> {
  const existing = await cluster.get(p.ref, options);
  if (!existing) return { existed: false };
  if (p.object.kind === 'Deployment') {
    const revision = deploymentRevision(existing);
    return revision === undefined ? { existed: true } : { existed: true, revision };
  }
  if (p.object.kind === 'StatefulSet' || p.object.kind === 'DaemonSet') {
    const selector = selectorOf(existing);
    const revisions = await cluster.list(
      'apps/v1',
      'ControllerRevision',
      {
        namespace: existing.metadata.namespace ?? p.ref.namespace ?? 'default',
        ...(selector ? { labelSelector: selector } : {}),
      },
      options,
    );
    const revision = controllerRevisionOf(existing, revisions);
    return revision === undefined ? { existed: true } : { existed: true, revision };
  }
  return { existed: true };
}

/** The Pod a pod template would create, for a dry-run create (same labels and spec, generateName). */
export function preflightPod(workload: KubeObject): KubeObject | undefined {
  const template = podTemplateOf(workload);
  if (!template) return undefined;
  const metadata = (template.metadata ?? {}) as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${(workload.metadata.name ?? 'pod').slice(0, 40)}-preflight-`,
      ...(workload.metadata.namespace ? { namespace: workload.metadata.namespace } : {}),
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
    },
    spec: template.spec,
  };
}

/**
 * Dry-runs every object, then a Pod from every pod template, a few at a time (dry runs change
 * nothing, so their order does not matter). The denial of the earliest object in apply order is
 * thrown.
 */
async function preflight(
  cluster: KubeCluster,
  plan: readonly Planned[],
  options: CallOptions,
  concurrency: number,
): Promise<void> {
  const attempt = async (fn: () => Promise<unknown>): Promise<{ error: unknown } | undefined> => {
    try {
      await fn();
      return undefined;
    } catch (error) {
      return { error };
    }
  };
  const objects = await mapBounded(plan, concurrency, (p) =>
    attempt(() => cluster.apply(p.object, { dryRun: true, ...options })),
  );
  const objectDenial = objects.find((e) => e !== undefined);
  if (objectDenial) throw objectDenial.error;
  const pods = await mapBounded(plan, concurrency, (p) => {
    const pod = preflightPod(p.object);
    return pod ? attempt(() => cluster.createDryRunPod(pod, options)) : Promise.resolve(undefined);
  });
  const podDenial = pods.find((e) => e !== undefined);
  if (podDenial) throw podDenial.error;
}

/** What one poll saw of one workload. */
interface Observed {
  readonly workload: KubeObject | undefined;
  readonly status: RolloutStatus;
}

async function observe(
  cluster: KubeCluster,
  p: Planned,
  since: Date,
  options: CallOptions,
): Promise<Observed> {
  const workload = await cluster.get(p.ref, options);
  if (!workload) {
    return {
      workload,
      status: {
        state: 'failed',
        reason: 'PodFailing',
        message: `${describeObject(p.ref)} was deleted while rolling out`,
      },
    };
  }
  const namespace = workload.metadata.namespace ?? p.ref.namespace ?? 'default';
  const first = rolloutStatus({ workload }, since);
  // A passed progress deadline still reads the new ReplicaSet and its events, to say why.
  const deadlineExceeded = first.state === 'failed' && first.reason === 'ProgressDeadlineExceeded';
  if (first.state === 'done' || (first.state === 'failed' && !deadlineExceeded))
    return { workload, status: first };
  if (first.state === 'waiting' && first.message.includes('spec update to be observed'))
    return { workload, status: first };
  const selector = selectorOf(workload);
  let newReplicaSet: KubeObject | undefined;
  let podSelector = selector;
  let eventsFor: KubeObject = workload;
  if (workload.kind === 'Deployment') {
    const sets = ownedBy(
      await cluster.list(
        'apps/v1',
        'ReplicaSet',
        { namespace, ...(selector ? { labelSelector: selector } : {}) },
        options,
      ),
      workload,
    );
    const revision = deploymentRevision(workload);
    newReplicaSet = sets.find((rs) => deploymentRevision(rs) === revision);
    if (!newReplicaSet) return { workload, status: first };
    eventsFor = newReplicaSet;
    const hash = newReplicaSet.metadata.labels?.['pod-template-hash'];
    if (hash) podSelector = `${selector ? `${selector},` : ''}pod-template-hash=${hash}`;
  }
  const rsStatus = (eventsFor.status ?? {}) as {
    replicas?: number;
    readyReplicas?: number;
    numberReady?: number;
  };
  const desired = (eventsFor.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const missing = (rsStatus.replicas ?? 0) < desired || workload.kind !== 'Deployment' || deadlineExceeded;
  const events = missing
    ? await cluster.list(
        'v1',
        'Event',
        {
          namespace,
          fieldSelector: `involvedObject.uid=${eventsFor.metadata.uid ?? ''},reason=FailedCreate`,
        },
        options,
      )
    : [];
  const notReady =
    (rsStatus.replicas ?? 0) > (rsStatus.readyReplicas ?? rsStatus.numberReady ?? 0) ||
    workload.kind !== 'Deployment';
  const pods =
    notReady && podSelector
      ? await cluster.list('v1', 'Pod', { namespace, labelSelector: podSelector }, options)
      : [];
  return {
    workload,
    status: rolloutStatus({ workload, ...(newReplicaSet ? { newReplicaSet } : {}), events, pods }, since),
  };
}

async function waitForRollouts(
  deps: DeployManifestDeps,
  ctx: StageContext,
  params: DeployManifestParams,
  cluster: KubeCluster,
  applied: readonly AppliedRecord[],
  state: DeployState,
  remember: (state: DeployState) => void,
): Promise<StageOutcome<DeployState>> {
  const options = { signal: ctx.signal };
  const workloads = applied.filter((r) => ROLLOUT_KINDS.has(r.item.object.kind));
  const since = new Date(state.a);
  const deadline = (state.s + params.timeoutSeconds) * 1000;
  const margin = deps.continuationMarginMs ?? DEFAULT_CONTINUATION_MARGIN_MS;
  const sleep = deps.sleep ?? defaultSleep;
  let interval = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
  const next: DeployState = { ...state, n: state.n };
  remember(next);
  ctx.setPhase(`waiting for ${workloads.length} rollout${workloads.length === 1 ? '' : 's'}`);
  for (;;) {
    const observed = await mapBounded(workloads, deps.concurrency ?? 8, (r) =>
      observe(cluster, r.item, since, options),
    );
    const failed = observed.findIndex((o) => o.status.state === 'failed');
    if (failed >= 0) {
      const status = observed[failed]!.status as Extract<RolloutStatus, { state: 'failed' }>;
      ctx.setPhase('undoing what this job applied');
      const steps = await rollBack(cluster, applied.map(toApplied), params.onFailure, options);
      const error = status.admission
        ? errorOfKind(status.admission.kind, status.admission.code, status.message)
        : new VerificationError(
            'ROLLOUT_FAILED',
            `${describeObject(workloads[failed]!.item.ref)}: ${status.message}`,
          );
      throw withSuffix(error, describeRollback(steps));
    }
    if (observed.every((o) => o.status.state === 'done')) {
      const byRecord = new Map(workloads.map((r, i) => [r, observed[i]!] as const));
      return success(params, cluster, applied, byRecord, new Map(), options, 'rolled out');
    }
    const waiting = observed
      .map((o, i) => ({ o, r: workloads[i]! }))
      .filter(({ o }) => o.status.state === 'waiting');
    const now = ctx.now().getTime();
    if (now >= deadline) {
      ctx.setPhase('undoing what this job applied');
      const steps = await rollBack(cluster, applied.map(toApplied), params.onFailure, options);
      const lines = waiting.map(({ o, r }) => {
        const s = o.status as Extract<RolloutStatus, { state: 'waiting' }>;
        return `${describeObject(r.item.ref)}: ${s.message}${s.problem ? ` Last problem: ${s.problem}` : ''}`;
      });
      throw new VerificationError(
        'ROLLOUT_TIMED_OUT',
        `${lines.join('\n')}\nThe rollout did not finish within timeoutSeconds (${params.timeoutSeconds} s). ${describeRollback(steps)}`,
      );
    }
    const pause = Math.min(interval, deadline - now);
    if (ctx.remainingTimeMs() < pause + margin) {
      const continued: DeployState = { ...state, n: state.n + 1 };
      const done = observed.filter((o) => o.status.state === 'done').length;
      return {
        kind: 'continuation',
        state: continued,
        percentComplete: Math.round((100 * done) / workloads.length),
        summary: waiting.map(({ o }) => (o.status as { message: string }).message).join('\n'),
      };
    }
    await sleep(pause, ctx.signal);
    interval = Math.min(MAX_POLL_MS, Math.round(interval * 1.5));
  }
}

async function success(
  params: DeployManifestParams,
  cluster: KubeCluster,
  applied: readonly AppliedRecord[],
  observed: ReadonlyMap<AppliedRecord, Observed>,
  responses: ReadonlyMap<Planned, KubeObject>,
  options: CallOptions,
  how: string,
): Promise<StageOutcome<DeployState>> {
  const lines: string[] = [];
  const deployed: DeployedWorkload[] = [];
  for (const record of applied.filter((r) => POD_SPEC_PATHS[r.item.object.kind] !== undefined)) {
    const { item } = record;
    let live = observed.get(record)?.workload ?? responses.get(item);
    live ??= await cluster.get(item.ref, options);
    if (!live) continue;
    const status = observed.get(record)?.status;
    lines.push(
      status && status.state === 'done'
        ? status.message
        : `${item.object.kind.toLowerCase()} ${JSON.stringify(item.ref.name)} applied`,
    );
    for (const c of item.containers)
      lines.push(
        `  ${c.container}: ${c.image}${c.verified ? '' : ' (not verified: allowed by allowUnverified)'}`,
      );
    deployed.push({
      kind: item.object.kind,
      namespace: live.metadata.namespace ?? item.ref.namespace ?? params.namespace,
      name: item.ref.name,
      uid: live.metadata.uid ?? '',
      generation: live.metadata.generation ?? 0,
      revision: await revisionText(cluster, live, options),
      appliedAt: record.appliedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      images: item.containers.map((c) => ({ container: c.container, image: c.image })),
    });
  }
  const others = applied.length - deployed.length;
  if (others > 0) lines.push(`${others} other object${others === 1 ? '' : 's'} applied`);
  return {
    kind: 'success',
    summary: lines.length > 0 ? lines.join('\n') : `applied ${applied.length} objects (${how})`,
    outputVariables: {
      [DEPLOYED]: writeDeployed(deployed),
      CLUSTER: params.clusterName,
      NAMESPACE: params.namespace,
    },
  };
}

async function revisionText(
  cluster: KubeCluster,
  live: KubeObject,
  options: CallOptions,
): Promise<string | null> {
  // Until the controller has observed the applied generation, the revision it shows is still the
  // one before this deploy (a deploy that does not wait reads it at once): not known yet.
  if (!generationObserved(live)) return null;
  switch (live.kind) {
    case 'Deployment': {
      const r = deploymentRevision(live);
      return r === undefined ? null : String(r);
    }
    case 'StatefulSet': {
      const r = (live.status as { updateRevision?: unknown } | undefined)?.updateRevision;
      return typeof r === 'string' ? r : null;
    }
    case 'DaemonSet': {
      const selector = selectorOf(live);
      const revisions = await cluster.list(
        'apps/v1',
        'ControllerRevision',
        { namespace: live.metadata.namespace ?? 'default', ...(selector ? { labelSelector: selector } : {}) },
        options,
      );
      const r = controllerRevisionOf(live, revisions);
      return r === undefined ? null : String(r);
    }
    default:
      return null;
  }
}

/** The same kind and code, with `suffix` appended to the message (what was rolled back). */
function withSuffix(error: unknown, suffix: string): unknown {
  if (!isStagesignError(error)) return error;
  const wrapped: StagesignError = errorOfKind(error.kind, error.code, `${error.message}\n${suffix}`, {
    cause: error,
  });
  return wrapped;
}

function encodePrior(prior: PriorState): string {
  if (!prior.existed) return 'c';
  return prior.revision === undefined ? 'e' : String(prior.revision);
}

function decodePrior(text: string): PriorState {
  if (text === 'c') return { existed: false };
  if (text === 'e') return { existed: true };
  if (/^\d+$/.test(text)) return { existed: true, revision: Number(text) };
  throw new InputError(
    'CONTINUATION_STATE_INVALID',
    'The continuation state is damaged; re-run the pipeline.',
  );
}

/** Validates a decoded continuation state. */
export function parseDeployState(raw: unknown): DeployState {
  const s = raw as Partial<DeployState> | null;
  if (
    !s ||
    s.v !== 1 ||
    typeof s.s !== 'number' ||
    typeof s.a !== 'number' ||
    typeof s.h !== 'string' ||
    typeof s.p !== 'string' ||
    typeof s.t !== 'string' ||
    typeof s.n !== 'number' ||
    (s.u !== undefined && s.u !== 1)
  ) {
    throw new InputError(
      'CONTINUATION_STATE_INVALID',
      'The deploy-manifest continuation state is damaged; re-run the pipeline.',
    );
  }
  return s as DeployState;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
