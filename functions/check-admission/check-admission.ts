/**
 * The check-admission stage: proves from the cluster that kyverno-notation-aws verified and
 * admitted every digest deploy-manifest deployed (issue 12, eks-and-kyverno.md §4.1).
 *
 * 1. read `deployed` (deploy-manifest's `DEPLOYED`): workloads, their pinned digests, when applied;
 * 2. poll: each workload's rollout, new ReplicaSet, Warning events and new Pods; the extension's
 *    Pods and every replica's log since the deploy began (cluster-facts.ts);
 * 3. judge every workload × digest (shared/kube/admission-verdict.ts) until each has a verdict or
 *    `timeoutSeconds` (counted from the first invocation) ends, continuing across invocations;
 * 4. report: one line per image; `ADMISSION` and `ADMITTED_IMAGES` on success; a rejection runs
 *    `onRejection` through deploy-manifest's rollback and fails the job saying what was undone.
 *
 * Fail closed: an unverified digest fails the job (JobFailed) unless `evidence` is `none`, which
 * turns it into a warning; a check that cannot decide (extension absent, not authorized, webhook
 * unavailable) fails with the matching failure type.
 */
import { mapBounded } from '../../shared/concurrency';
import { errorOfKind, InputError, mostActionableKind } from '../../shared/errors';
import type { ErrorKind } from '../../shared/errors';
import { judgeAdmission } from '../../shared/kube/admission-verdict';
import type { ImageVerdict, WorkloadFacts } from '../../shared/kube/admission-verdict';
import type { ClusterConnector, KubeCluster } from '../../shared/kube/cluster';
import type { ActionSpec, StageContext, StageInput, StageOutcome } from '../../shared/pipeline/action';
import { extensionFacts, workloadFacts } from './cluster-facts';
import { parseCheckAdmissionParams } from './params';
import type { CheckAdmissionEnvironment, CheckAdmissionParams } from './params';
import { undoWorkloads } from './undo';

/** Seconds between polls within one invocation. */
export const POLL_INTERVAL_MS = 5_000;
/** Time kept for one more poll before handing over to a continuation. */
export const POLL_RESERVE_MS = 20_000;

/** Output variable: `admitted` | `unverified` (a success with evidence `none`); failures carry none. */
export const ADMISSION = 'ADMISSION';
/** Output variable: JSON array of {@link AdmittedImage}. */
export const ADMITTED_IMAGES = 'ADMITTED_IMAGES';

/** One entry of `ADMITTED_IMAGES`. */
export interface AdmittedImage {
  readonly workload: { readonly kind: string; readonly namespace: string; readonly name: string };
  readonly container: string;
  readonly image: string;
  readonly digest: string;
  /** What proved the verification: the extension's success line, its cache hit, or nothing (evidence `none`). */
  readonly evidence: 'verified' | 'cache-hit' | 'none';
}

/** Continuation state: when the budget started, and how many polls ran. */
export interface CheckAdmissionState {
  /** Epoch milliseconds of the first invocation. */
  readonly startedAt: number;
  readonly polls: number;
}

/** What the stage needs from the outside world. */
export interface CheckAdmissionDeps {
  readonly environment: CheckAdmissionEnvironment;
  /** Connects to the cluster's API (EKS connection + client-node adapter in the handler). */
  readonly cluster: ClusterConnector;
  /** Waits between polls (tests inject an instant one). */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  readonly pollIntervalMs?: number;
  /** Workloads read at once, default 8. */
  readonly concurrency?: number;
}

/** The stage as the action runtime sees it: `pipelineAction(checkAdmissionAction(deps))`. */
export function checkAdmissionAction(
  deps: CheckAdmissionDeps,
): ActionSpec<CheckAdmissionParams, CheckAdmissionState> {
  // The state of each running job, for a continuation if the deadline guard fires mid-poll.
  const running = new Map<string, CheckAdmissionState>();
  return {
    stage: 'check-admission',
    parseParams: (job) => parseCheckAdmissionParams(job.userParameters, deps.environment),
    parseState,
    run: async (input) => {
      try {
        return await checkAdmission(deps, input, (state) => running.set(input.job.id, state));
      } finally {
        running.delete(input.job.id);
      }
    },
    onDeadline: ({ job, state }) => running.get(job.id) ?? state,
  };
}

function parseState(raw: unknown): CheckAdmissionState {
  const s = raw as Partial<CheckAdmissionState> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.startedAt !== 'number' ||
    !Number.isFinite(s.startedAt) ||
    typeof s.polls !== 'number'
  ) {
    throw new InputError(
      'CONTINUATION_STATE_INVALID',
      'The check-admission continuation state is not {startedAt, polls}.',
    );
  }
  return { startedAt: s.startedAt, polls: s.polls };
}

/** Runs one invocation (see the module comment). */
export async function checkAdmission(
  deps: CheckAdmissionDeps,
  input: Pick<StageInput<CheckAdmissionParams, CheckAdmissionState>, 'params' | 'state' | 'ctx'>,
  remember: (state: CheckAdmissionState) => void = () => undefined,
): Promise<StageOutcome<CheckAdmissionState>> {
  const { params, ctx } = input;
  let state: CheckAdmissionState = input.state ?? { startedAt: ctx.now().getTime(), polls: 0 };
  remember(state);
  const budgetEnd = state.startedAt + params.timeoutSeconds * 1000;
  const since = new Date(Math.min(...params.deployed.map((w) => w.appliedAt.getTime())));
  const interval = deps.pollIntervalMs ?? POLL_INTERVAL_MS;
  const sleep = deps.sleep ?? abortableSleep;

  ctx.setPhase(`connecting to cluster ${params.clusterName}`);
  const cluster = await deps.cluster.connect(params.clusterName, { signal: ctx.signal });

  for (;;) {
    const now = ctx.now();
    const final = now.getTime() >= budgetEnd;
    state = { startedAt: state.startedAt, polls: state.polls + 1 };
    remember(state);
    ctx.setPhase(`reading the cluster (poll ${state.polls})`);
    const workloads: WorkloadFacts[] = await mapBounded(params.deployed, deps.concurrency ?? 8, (deployed) =>
      workloadFacts(cluster, deployed, { signal: ctx.signal }),
    );
    const extension = await extensionFacts(cluster, {
      location: params.extension,
      since,
      now,
      readLogs: true,
      logsRequired: params.evidence === 'logs',
      signal: ctx.signal,
    });
    const verdicts = judgeAdmission({ workloads, extension, evidence: params.evidence, final });
    const pending = verdicts.filter((v) => v.verdict === 'pending');
    ctx.logger.info('admission poll', {
      poll: state.polls,
      final,
      verdicts: verdicts.map((v) => ({ digest: v.image.digest, verdict: v.verdict })),
      extensionPods: extension.pods.length,
      records: extension.records.length,
    });
    if (pending.length === 0) {
      return finish(params, cluster, verdicts, extension.warnings, ctx);
    }
    const left = budgetEnd - ctx.now().getTime();
    if (ctx.remainingTimeMs() < interval + POLL_RESERVE_MS) {
      const done = verdicts.length - pending.length;
      return {
        kind: 'continuation',
        state,
        percentComplete: Math.round((100 * done) / verdicts.length),
        summary: `waiting for ${pending.length} of ${verdicts.length} admission verdicts: ${pending[0]!.verdict === 'pending' ? pending[0]!.reason : ''}`,
      };
    }
    ctx.setPhase(`waiting for ${pending.length} admission verdict${pending.length === 1 ? '' : 's'}`);
    await sleep(Math.max(0, Math.min(interval, left)), ctx.signal);
  }
}

async function finish(
  params: CheckAdmissionParams,
  cluster: KubeCluster,
  verdicts: readonly ImageVerdict[],
  warnings: readonly string[],
  ctx: StageContext,
): Promise<StageOutcome<CheckAdmissionState>> {
  const lines = [...warnings.map((w) => `warning: ${w}`), ...verdicts.map(verdictLine)];
  const kinds: ErrorKind[] = [];
  for (const v of verdicts) {
    if (v.verdict === 'rejected') kinds.push('verification');
    else if (v.verdict === 'infrastructure') kinds.push(v.kind);
    else if (v.verdict === 'unverified' && params.evidence === 'logs') kinds.push('verification');
  }
  const kind = mostActionableKind(kinds);
  if (kind !== undefined) {
    const rejected = verdicts.filter((v) => v.verdict === 'rejected');
    if (rejected.length > 0 && params.onRejection !== 'none') {
      ctx.setPhase(
        `${params.onRejection === 'rollback' ? 'rolling back' : 'deleting'} the rejected workloads`,
      );
      const workloads = params.deployed.filter((d) =>
        rejected.some(
          (r) =>
            r.workload.kind === d.kind && r.workload.namespace === d.namespace && r.workload.name === d.name,
        ),
      );
      lines.push(await undoWorkloads(cluster, workloads, params.onRejection, { signal: ctx.signal }));
    } else if (rejected.length > 0) {
      lines.push('onRejection is "none": the rejected workloads were left as they are.');
    }
    const code =
      rejected.length > 0
        ? 'ADMISSION_REJECTED'
        : kinds.includes('configuration') || kinds.includes('dependency')
          ? (
              verdicts.find((v) => v.verdict === 'infrastructure') as Extract<
                ImageVerdict,
                { verdict: 'infrastructure' }
              >
            ).code
          : 'ADMISSION_UNVERIFIED';
    throw errorOfKind(kind, code, lines.join('\n'));
  }
  const unverified = verdicts.some((v) => v.verdict === 'unverified');
  const admitted: AdmittedImage[] = verdicts.map((v) => ({
    workload: v.workload,
    container: v.image.container,
    image: v.image.image,
    digest: v.image.digest,
    evidence: v.verdict === 'admitted' && v.evidence ? v.evidence.kind : 'none',
  }));
  return {
    kind: 'success',
    summary: lines.join('\n'),
    outputVariables: {
      [ADMISSION]: unverified ? 'unverified' : 'admitted',
      [ADMITTED_IMAGES]: JSON.stringify(admitted),
    },
  };
}

/** `deployment prod/web, container app`. */
function where(v: ImageVerdict): string {
  return `${v.workload.kind.toLowerCase()} ${v.workload.namespace}/${v.workload.name}, container ${v.image.container}`;
}

/** One person-readable line per image. */
export function verdictLine(v: ImageVerdict): string {
  switch (v.verdict) {
    case 'admitted':
      if (!v.evidence) return `${where(v)}: admitted: the Pods run ${v.image.image}`;
      return v.evidence.kind === 'verified'
        ? `${where(v)}: admitted by kyverno-notation-aws: ${v.evidence.line} (logged by ${v.evidence.pod} at ${v.evidence.time.toISOString()})`
        : `${where(v)}: admitted by kyverno-notation-aws: verified earlier and found in its cache: ${v.image.image} (logged by ${v.evidence.pod} at ${v.evidence.time.toISOString()})`;
    case 'rejected': {
      if (v.by !== 'kyverno-notation-aws')
        return `${where(v)}: rejected by admission webhook "${v.by}": ${v.reason}`;
      const reason = /^signature verification failed|^the Pods were denied/.test(v.reason)
        ? v.reason
        : `signature verification failed: ${v.reason}`;
      return `${where(v)}: rejected by kyverno-notation-aws: ${reason}${v.podsRun ? ' (the Pods run anyway: the ClusterPolicy has failurePolicy: Ignore)' : ''}`;
    }
    case 'unverified':
      return `${where(v)}: unverified: nothing shows kyverno-notation-aws verified ${v.image.image}: ${v.detail}`;
    case 'infrastructure':
      return `${where(v)}: not judged: ${v.reason}`;
    case 'pending':
      return `${where(v)}: pending: ${v.reason}`;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
