import type { Context } from 'aws-lambda';
import { describeAwsError } from '../aws/aws-error';
import { ConfigurationError, DependencyError, InputError } from '../errors';
import { createLogger } from '../log';
import type { Logger } from '../log';
import type { ArtifactFiles, ArtifactStore } from './artifact-store';
import { decodeContinuationToken, encodeContinuationToken } from './continuation';
import { defaultReporter } from './default-reporter';
import { mapFailure } from './failure';
import { parseJob, peekJobId } from './job';
import type { Job, JobArtifact } from './job';
import { pickInputArtifact } from './input-artifact';
import { LIMITS, checkOutputVariables, truncate } from './limits';
import { REPORT_ATTEMPT_TIMEOUT_MS } from './codepipeline-reporter';
import type { ExecutionDetails, JobReport, JobReporter } from './reporter';

/** The stages stagesign ships; also the continuation-token tag and the logger's `stage` key. */
export type StageName = 'sign-image' | 'verify-image' | 'deploy-manifest' | 'check-admission';

/** Contents of one output artifact: path → bytes (strings are written as UTF-8). */
export type OutputArtifactFiles =
  Readonly<Record<string, Uint8Array | string>> | ReadonlyMap<string, Uint8Array | string>;

/**
 * What a stage returns. `success` ends the action; `continuation` asks CodePipeline to invoke the
 * function again later with `state` (serialized into the continuation token, ≤ 2048 chars).
 */
export type StageOutcome<S> =
  | {
      readonly kind: 'success';
      /** Shown in the console; truncated to 2048 characters. */
      readonly summary?: string;
      /** Defaults to the Lambda request id. 1–1500 characters (refused when longer). */
      readonly externalExecutionId?: string;
      /** Becomes `#{Namespace.key}`; keys `[A-Za-z0-9@\-_]+`, ≤ 122,880 bytes in total. */
      readonly outputVariables?: Readonly<Record<string, string>>;
      /** Output artifact name (as declared on the action) → files to zip and upload. */
      readonly outputArtifacts?: Readonly<Record<string, OutputArtifactFiles>>;
    }
  | {
      readonly kind: 'continuation';
      readonly state: S;
      /** Integer 0–100 (clamped). */
      readonly percentComplete?: number;
      readonly summary?: string;
    };

/** What the wrapper gives a running stage. */
export interface StageContext {
  /** The Lambda request id (the default externalExecutionId). */
  readonly requestId: string;
  /** Logger with `stage`, `jobId` and `requestId` keys. */
  readonly logger: Logger;
  /**
   * Aborted when the deadline guard fires. The wrapper passes it to the artifact reads and
   * writes it makes for the stage; stages pass it to their own long calls — `{ signal }` as the
   * last argument of `Registry`, `PayloadSigner` and `RevocationChecker` methods, the `signal`
   * option of `signArtifact` / `verifyImageReference`, SDK `abortSignal`, `fetch` `signal` — so
   * nothing keeps working on a job already reported as timed out. Aborted calls reject with
   * DependencyError `ABORTED`.
   */
  readonly signal: AbortSignal;
  /** The injected clock (the only clock a stage should read). */
  now(): Date;
  /** Milliseconds left before the wrapper reports a timeout (already minus the safety margin). */
  remainingTimeMs(): number;
  /** Names what the stage is doing, for "timed out while <phase>" messages and logs. */
  setPhase(phase: string): void;
  /**
   * Downloads and extracts an input artifact (with the job's artifact credentials). Without a
   * name, the action must have exactly one input artifact.
   */
  readInputArtifact(name?: string): Promise<ArtifactFiles>;
}

/** Everything the wrapper hands to `run`. */
export interface StageInput<P, S> {
  readonly job: Job;
  readonly params: P;
  /** The state from the continuation token; `undefined` on the first invocation. */
  readonly state: S | undefined;
  readonly ctx: StageContext;
}

/** A stage, as the wrapper sees it. */
export interface ActionSpec<P, S = never> {
  readonly stage: StageName;
  /** Parses `job.userParameters` (and environment) into typed parameters; throws ConfigurationError naming the field. */
  parseParams(job: Job): P;
  /** Validates decoded continuation state; throw InputError if it is not this stage's shape. Default: trust it. */
  parseState?(raw: unknown): S;
  run(input: StageInput<P, S>): Promise<StageOutcome<S>>;
  /**
   * Called when the deadline guard fires. Return a state to report a continuation (the stage
   * resumes from it on the next invocation) or `undefined` to report `timed out while <phase>`.
   */
  onDeadline?(input: {
    readonly job: Job;
    readonly params: P;
    readonly state: S | undefined;
    readonly phase: string;
  }): S | undefined;
}

/** Injectable dependencies; all optional, defaults are the deployed ones. */
export interface ActionDeps {
  /** Default: {@link defaultReporter} (CodePipeline, or the local stand-in a local runner installed). */
  readonly reporter?: JobReporter;
  /**
   * Where input artifacts are read and output artifacts written: the handlers of stages that use
   * artifacts pass `S3ArtifactStore` (shared/pipeline/s3-artifact-store.ts). A stage without one
   * (check-admission) carries no S3 client; reading or writing an artifact is then a
   * ConfigurationError.
   */
  readonly artifacts?: ArtifactStore;
  /** Default: `createLogger(stage)`. */
  readonly logger?: Logger;
  readonly clock?: () => Date;
  /** Time kept back from `getRemainingTimeInMillis()` to report before Lambda kills the function. Default 5000. */
  readonly deadlineMarginMs?: number;
  /**
   * Report attempts before giving up. Default 4; fewer when the time Lambda has left
   * (`getRemainingTimeInMillis()`) cannot hold another whole attempt.
   */
  readonly reportAttempts?: number;
  /** Longest one report attempt may take. Default {@link REPORT_ATTEMPT_TIMEOUT_MS}. */
  readonly reportAttemptTimeoutMs?: number;
  /** Backoff sleep between report attempts (injected by tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The part of the Lambda context the wrapper uses. */
export type LambdaContextLike = Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>;

/** What one invocation did, for local runners and tests. */
export interface InvocationResult {
  /** The job id, when the event had a usable one. */
  readonly jobId: string | undefined;
  /** The report that was sent (or attempted), if any. */
  readonly report: JobReport | undefined;
  /** True when CodePipeline accepted the report (or already had one for this job). */
  readonly delivered: boolean;
  /** Why reporting failed, when `delivered` is false and a report was attempted. */
  readonly error?: unknown;
}

/** The Lambda handler type `pipelineAction` returns. */
export type PipelineHandler = (event: unknown, context: Context) => Promise<void>;

/** The default margin: enough for two bounded report attempts with backoff. */
export const DEFAULT_DEADLINE_MARGIN_MS = 5000;

/** Time kept back after the last report attempt, to log "could not report" before Lambda ends. */
export const REPORT_LOG_RESERVE_MS = 200;

/**
 * Builds the Lambda handler of a stage. Dependencies that are not injected are resolved per
 * invocation (reporter, artifact store) or once per container (logger).
 *
 * The handler returns normally after any delivered report, so Lambda never retries a job that
 * was reported. It throws only when no report could be delivered: then nothing is recorded in
 * CodePipeline, a retry (if configured) could not repeat a reported outcome, and the error
 * shows up in the function's metrics.
 */
export function pipelineAction<P, S = never>(spec: ActionSpec<P, S>, deps: ActionDeps = {}): PipelineHandler {
  const logger = deps.logger ?? createLogger(spec.stage);
  return async (event, context) => {
    const result = await runPipelineAction(event, context, spec, { ...deps, logger });
    if (result.report && !result.delivered)
      throw result.error ?? new Error('the job report was not delivered');
  };
}

/**
 * Runs one invocation: parse the job, run the stage under the deadline guard, and report
 * exactly once. Never throws; the result says what was reported.
 */
export async function runPipelineAction<P, S = never>(
  event: unknown,
  context: LambdaContextLike,
  spec: ActionSpec<P, S>,
  deps: ActionDeps = {},
): Promise<InvocationResult> {
  const requestId = context.awsRequestId;
  const jobId = peekJobId(event);
  const logger = (deps.logger ?? createLogger(spec.stage)).createChild({
    persistentKeys: { stage: spec.stage, requestId, ...(jobId ? { jobId } : {}) },
  });
  const clock = deps.clock ?? (() => new Date());

  let job: Job;
  try {
    job = parseJob(event);
  } catch (error) {
    const failure = mapFailure(error);
    if (!jobId) {
      // No job id: there is no job to report to. Log (never the event) and end.
      logger.error('event is not a CodePipeline job; nothing to report', {
        code: failure.code,
        reason: failure.message,
      });
      return { jobId: undefined, report: undefined, delivered: false };
    }
    return deliver(failureReport(jobId, error, requestId, logger), deps, logger, context);
  }

  const report = await runStage(job, context, spec, deps, logger, clock);
  return deliver(report, deps, logger, context);
}

async function runStage<P, S>(
  job: Job,
  context: LambdaContextLike,
  spec: ActionSpec<P, S>,
  deps: ActionDeps,
  logger: Logger,
  clock: () => Date,
): Promise<JobReport> {
  const requestId = context.awsRequestId;
  let params: P;
  let state: S | undefined;
  try {
    params = spec.parseParams(job);
    if (job.continuationToken !== undefined) {
      const raw = decodeContinuationToken(spec.stage, job.continuationToken);
      state = spec.parseState ? spec.parseState(raw) : (raw as S);
    }
  } catch (error) {
    return failureReport(job.id, error, requestId, logger);
  }

  const margin = deps.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS;
  const budget = Math.max(0, context.getRemainingTimeInMillis() - margin);
  const startedAt = Date.now();
  const remainingTimeMs = (): number => Math.max(0, budget - (Date.now() - startedAt));
  let phase = `running ${spec.stage}`;
  const controller = new AbortController();
  const artifacts = deps.artifacts;
  const store = (what: string): ArtifactStore => {
    if (artifacts === undefined) {
      throw new ConfigurationError(
        'ARTIFACT_STORE_MISSING',
        `${spec.stage} has no artifact store, so it cannot ${what}. Remove the artifact from the action.`,
      );
    }
    return artifacts;
  };

  const ctx: StageContext = {
    requestId,
    logger,
    signal: controller.signal,
    now: clock,
    remainingTimeMs,
    setPhase: (text) => {
      phase = text;
      logger.debug('phase', { phase });
    },
    readInputArtifact: async (name) => {
      return store(`read input artifact ${name ?? ''}`.trimEnd()).read(job, inputArtifactNamed(job, name), {
        signal: controller.signal,
      });
    },
  };

  logger.info('stage started', { continuation: state !== undefined, budgetMs: budget });
  const work = (async (): Promise<JobReport> => {
    const outcome = await spec.run({ job, params, state, ctx });
    if (outcome.kind === 'success' && outcome.outputArtifacts !== undefined) {
      await writeOutputArtifacts(job, outcome.outputArtifacts, store('write output artifacts'), ctx);
    }
    return outcomeReport(spec.stage, job, outcome, requestId);
  })();

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), budget);
  });
  try {
    const winner = await Promise.race([work, deadline]);
    if (winner !== 'deadline') return winner;
    controller.abort(new Error(`deadline while ${phase}`));
    // The stage keeps running until Lambda freezes the container; its late result is ignored.
    work.catch((error: unknown) =>
      logger.debug('stage settled after the deadline', { code: mapFailure(error).code }),
    );
    logger.warn('deadline reached', { phase });
    return deadlineReport(spec, job, params, state, phase, requestId, logger);
  } catch (error) {
    return failureReport(job.id, error, requestId, logger);
  } finally {
    clearTimeout(timer);
  }
}

function deadlineReport<P, S>(
  spec: ActionSpec<P, S>,
  job: Job,
  params: P,
  state: S | undefined,
  phase: string,
  requestId: string,
  logger: Logger,
): JobReport {
  try {
    const next = spec.onDeadline?.({ job, params, state, phase });
    if (next !== undefined) {
      return outcomeReport(
        spec.stage,
        job,
        { kind: 'continuation', state: next, summary: `continuing after: ${phase}` },
        requestId,
      );
    }
  } catch (error) {
    return failureReport(job.id, error, requestId, logger);
  }
  // A step that does not finish in time is treated like an unavailable dependency.
  const timeout = new DependencyError(
    'STAGE_TIMED_OUT',
    `${spec.stage} timed out while ${phase}. Raise the function's Timeout in template.yaml or check why this step is slow.`,
  );
  return failureReport(job.id, timeout, requestId, logger);
}

function failureReport(jobId: string, error: unknown, requestId: string, logger: Logger): JobReport {
  const failure = mapFailure(error);
  if (failure.unexpected) {
    logger.error('stage failed with an unexpected error', error instanceof Error ? error : String(error));
  } else {
    logger.warn('stage failed', { code: failure.code, failureType: failure.type });
  }
  return {
    kind: 'failure',
    jobId,
    failureDetails: {
      type: failure.type,
      message: failure.message,
      externalExecutionId: truncate(requestId, LIMITS.externalExecutionId),
    },
    code: failure.code,
  };
}

function outcomeReport<S>(
  stage: StageName,
  job: Job,
  outcome: StageOutcome<S>,
  requestId: string,
): JobReport {
  switch (outcome.kind) {
    case 'success': {
      const externalExecutionId = outcome.externalExecutionId ?? requestId;
      if (externalExecutionId.length === 0 || externalExecutionId.length > LIMITS.externalExecutionId) {
        throw new InputError(
          'EXTERNAL_EXECUTION_ID_INVALID',
          `The ${stage} externalExecutionId has ${externalExecutionId.length} characters; CodePipeline accepts 1–${LIMITS.externalExecutionId}.`,
        );
      }
      const executionDetails: ExecutionDetails = {
        externalExecutionId,
        ...(outcome.summary ? { summary: truncate(outcome.summary, LIMITS.summary) } : {}),
      };
      if (outcome.outputVariables !== undefined) checkOutputVariables(outcome.outputVariables);
      return {
        kind: 'success',
        jobId: job.id,
        executionDetails,
        ...(outcome.outputVariables && Object.keys(outcome.outputVariables).length > 0
          ? { outputVariables: { ...outcome.outputVariables } }
          : {}),
      };
    }
    case 'continuation': {
      if ('outputVariables' in outcome) {
        throw new InputError(
          'CONTINUATION_WITH_OUTPUT_VARIABLES',
          `${stage} returned output variables with a continuation; CodePipeline accepts them only on the final report.`,
        );
      }
      const continuationToken = encodeContinuationToken(stage, outcome.state);
      const percent = outcome.percentComplete;
      return {
        kind: 'continuation',
        jobId: job.id,
        continuationToken,
        executionDetails: {
          externalExecutionId: requestId.slice(0, LIMITS.externalExecutionId),
          ...(outcome.summary ? { summary: truncate(outcome.summary, LIMITS.summary) } : {}),
          ...(percent !== undefined && Number.isFinite(percent)
            ? { percentComplete: Math.min(100, Math.max(0, Math.round(percent))) }
            : {}),
        },
      };
    }
  }
}

function inputArtifactNamed(job: Job, name: string | undefined): JobArtifact {
  const picked = pickInputArtifact(
    job.inputArtifacts.map((a) => a.name),
    name,
    'what the stage reads',
  );
  const found = job.inputArtifacts.find((a) => a.name === picked);
  if (!found) {
    throw new ConfigurationError(
      'INPUT_ARTIFACT_MISSING',
      'The action has no input artifact. Add InputArtifacts to the action in the pipeline definition.',
    );
  }
  return found;
}

async function writeOutputArtifacts(
  job: Job,
  outputs: Readonly<Record<string, OutputArtifactFiles>>,
  store: ArtifactStore,
  ctx: StageContext,
): Promise<void> {
  const declared = job.outputArtifacts.map((a) => a.name);
  for (const name of Object.keys(outputs)) {
    if (!declared.includes(name)) {
      throw new ConfigurationError(
        'OUTPUT_ARTIFACT_UNDECLARED',
        `The stage produces output artifact ${name} but the action declares ${declared.join(', ') || 'none'}. Add ${name} to the action's OutputArtifacts.`,
      );
    }
  }
  for (const artifact of job.outputArtifacts) {
    const files = outputs[artifact.name];
    if (files === undefined) {
      throw new ConfigurationError(
        'OUTPUT_ARTIFACT_NOT_PRODUCED',
        `The action declares output artifact ${artifact.name} but the stage does not produce it. Remove it from the action's OutputArtifacts.`,
      );
    }
    ctx.setPhase(`writing output artifact ${artifact.name}`);
    await store.write(job, artifact, toFileMap(files), { signal: ctx.signal });
  }
}

function toFileMap(files: OutputArtifactFiles): Map<string, Uint8Array> {
  const entries = files instanceof Map ? [...files.entries()] : Object.entries(files);
  return new Map(entries.map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
}

/**
 * Sends the report with retries, within the time Lambda has left. Each attempt is bounded
 * (`reportAttemptTimeoutMs`, its signal aborted when it runs out), and a retry is started only
 * when a whole attempt (plus its backoff) still fits before the function is killed, keeping
 * {@link REPORT_LOG_RESERVE_MS} for the final log line. A success/continuation that CodePipeline
 * rejects as invalid is replaced by a failure report saying why, so the job never hangs on a
 * bad report.
 */
async function deliver(
  report: JobReport,
  deps: ActionDeps,
  logger: Logger,
  context: LambdaContextLike,
): Promise<InvocationResult> {
  const reporter = deps.reporter ?? defaultReporter();
  const attempts = Math.max(1, deps.reportAttempts ?? 4);
  const attemptMs = Math.max(1, deps.reportAttemptTimeoutMs ?? REPORT_ATTEMPT_TIMEOUT_MS);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const usableMs = (): number => context.getRemainingTimeInMillis() - REPORT_LOG_RESERVE_MS;
  let current = report;
  let lastError: unknown;
  let pauseMs = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      const leftMs = usableMs();
      if (leftMs < pauseMs + attemptMs) {
        logger.warn('no time left for another report attempt', { attempt, remainingMs: Math.max(0, leftMs) });
        break;
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
    // The first attempt is always made (a report is the point of the invocation), bounded by
    // what is left when that is less than a full attempt; with almost nothing left, the log
    // reserve goes to the report too.
    const leftMs = usableMs();
    const timeoutMs = Math.max(
      1,
      Math.min(attemptMs, leftMs > 0 ? leftMs : context.getRemainingTimeInMillis()),
    );
    try {
      await reportWithin(reporter, current, timeoutMs);
      logger.info('job reported', {
        outcome: current.kind,
        attempt,
        ...(current.kind === 'failure'
          ? { failureType: current.failureDetails.type, ...(current.code ? { code: current.code } : {}) }
          : {}),
      });
      return { jobId: current.jobId, report: current, delivered: true };
    } catch (error) {
      lastError = error;
      const { code: name, kind } = describeAwsError(error);
      if (name === 'InvalidJobStateException') {
        // On a retry: an earlier attempt got through. On the first attempt: the job is no longer
        // in progress (reported elsewhere or timed out); nothing a retry could change.
        logger.warn('job was not in progress when reported', { attempt, outcome: current.kind });
        return { jobId: current.jobId, report: current, delivered: true };
      }
      if (
        (name === 'ValidationException' || name === 'OutputVariablesSizeExceededException') &&
        current.kind !== 'failure'
      ) {
        const reason = error instanceof Error ? error.message : name;
        const rejected = mapFailure(
          new InputError(
            'REPORT_REJECTED',
            `CodePipeline rejected the ${current.kind} report (${name}): ${reason}`,
          ),
        );
        logger.error('CodePipeline rejected the report; reporting a failure instead', {
          errorName: name,
          code: rejected.code,
        });
        current = {
          kind: 'failure',
          jobId: current.jobId,
          failureDetails: { type: rejected.type, message: rejected.message },
          code: rejected.code,
        };
        pauseMs = 0;
        continue;
      }
      // Nothing a retry could change: the job is gone, the role may not report, or the request is invalid.
      if (name === 'JobNotFoundException' || kind === 'access-denied' || name === 'ValidationException')
        break;
      logger.warn('report attempt failed', { attempt, errorName: name });
      pauseMs = 200 * 2 ** (attempt - 1);
    }
  }
  logger.error('could not report the job to CodePipeline', {
    errorName: lastError instanceof Error ? lastError.name : typeof lastError,
    reason: lastError instanceof Error ? lastError.message : String(lastError),
  });
  return { jobId: current.jobId, report: current, delivered: false, error: lastError };
}

/**
 * One report attempt that settles within `timeoutMs` even if the reporter never does: the
 * attempt's signal is aborted and a `TimeoutError` is raised. A reporter that ignores the
 * signal is left behind (its late outcome is ignored; a retry that finds the job already
 * reported gets InvalidJobStateException, which counts as delivered).
 */
async function reportWithin(reporter: JobReporter, report: JobReport, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = Object.assign(new Error(`CodePipeline did not answer within ${timeoutMs} ms`), {
        name: 'TimeoutError',
      });
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const attempt = reporter.report(report, { signal: controller.signal });
  attempt.catch(() => undefined);
  try {
    await Promise.race([attempt, expired]);
  } finally {
    clearTimeout(timer);
  }
}
