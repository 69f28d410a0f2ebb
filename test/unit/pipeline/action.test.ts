import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigurationError,
  DependencyError,
  InputError,
  PermissionError,
  VerificationError,
} from '../../../shared/errors';
import { createLogger } from '../../../shared/log';
import { pipelineAction, runPipelineAction } from '../../../shared/pipeline/action';
import type { ActionDeps, ActionSpec, StageOutcome } from '../../../shared/pipeline/action';
import type { ArtifactFiles, ArtifactOptions, ArtifactStore } from '../../../shared/pipeline/artifact-store';
import { encodeContinuationToken } from '../../../shared/pipeline/continuation';
import type { Job, JobArtifact } from '../../../shared/pipeline/job';
import { RecordingReporter } from '../../../shared/pipeline/recording-reporter';
import type { JobReport, JobReporter } from '../../../shared/pipeline/reporter';
import { captureOutput } from '../../helpers/codepipeline-capture';
import { EVENT_SECRETS, fakeContext, jobEvent, loadEvent } from '../../helpers/codepipeline-events';

type Params = { image?: string };
type State = { attempt: number };

function spec(
  run: ActionSpec<Params, State>['run'],
  extra: Partial<ActionSpec<Params, State>> = {},
): ActionSpec<Params, State> {
  return {
    stage: 'sign-image',
    parseParams: (job) => {
      const image = job.userParameters?.image;
      if (image !== undefined && typeof image !== 'string') {
        throw new ConfigurationError('PARAM_INVALID', 'UserParameters.image must be a string');
      }
      return image === undefined ? {} : { image };
    },
    run,
    ...extra,
  };
}

async function invoke(
  run: ActionSpec<Params, State>['run'],
  options: {
    event?: unknown;
    extra?: Partial<ActionSpec<Params, State>>;
    deps?: Partial<ActionDeps>;
    remainingMs?: number;
  } = {},
) {
  const reporter = new RecordingReporter();
  const { result, output } = await captureOutput(() =>
    runPipelineAction(
      options.event ?? jobEvent('{"image":"repo@sha256:abc"}'),
      fakeContext(options.remainingMs ?? 60_000),
      spec(run, options.extra),
      {
        reporter,
        sleep: async () => undefined,
        ...options.deps,
      },
    ),
  );
  return { reporter, result, output };
}

describe('runPipelineAction', () => {
  describe('reports exactly once', () => {
    it.each<[string, ActionSpec<Params, State>['run'], Partial<JobReport>]>([
      [
        'a success',
        async () => ({ kind: 'success', summary: 'ok', outputVariables: { digest: 'sha256:1' } }),
        { kind: 'success' },
      ],
      [
        'a continuation',
        async () => ({ kind: 'continuation', state: { attempt: 1 }, percentComplete: 40 }),
        { kind: 'continuation' },
      ],
      [
        'a ConfigurationError',
        async () => {
          throw new ConfigurationError('C', 'c');
        },
        {
          kind: 'failure',
          code: 'C',
          failureDetails: expect.objectContaining({ type: 'ConfigurationError', message: 'c' }),
        },
      ],
      [
        'a PermissionError',
        async () => {
          throw new PermissionError('P', 'p');
        },
        {
          kind: 'failure',
          code: 'P',
          failureDetails: expect.objectContaining({ type: 'PermissionError', message: 'p' }),
        },
      ],
      [
        'a VerificationError',
        async () => {
          throw new VerificationError('V', 'v');
        },
        {
          kind: 'failure',
          code: 'V',
          failureDetails: expect.objectContaining({ type: 'JobFailed', message: 'v' }),
        },
      ],
      [
        'an InputError',
        async () => {
          throw new InputError('I', 'i');
        },
        {
          kind: 'failure',
          code: 'I',
          failureDetails: expect.objectContaining({ type: 'JobFailed', message: 'i' }),
        },
      ],
      [
        'a DependencyError',
        async () => {
          throw new DependencyError('D', 'd');
        },
        {
          kind: 'failure',
          code: 'D',
          failureDetails: expect.objectContaining({ type: 'SystemUnavailable', message: 'd' }),
        },
      ],
      [
        'a thrown non-library error',
        async () => {
          throw new TypeError('boom');
        },
        {
          kind: 'failure',
          code: 'UNEXPECTED_ERROR',
          failureDetails: expect.objectContaining({
            type: 'JobFailed',
            message: expect.stringContaining('Unexpected error (TypeError): boom'),
          }),
        },
      ],
    ])('for %s', async (_label, run, expected) => {
      const { reporter, result } = await invoke(run);
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.reports[0]).toMatchObject({
        jobId: '11111111-abcd-1111-abcd-111111abcdef',
        ...expected,
      });
      expect(result.delivered).toBe(true);
    });

    it('for malformed UserParameters, without running the stage', async () => {
      const run = vi.fn();
      const { reporter } = await invoke(run, { event: loadEvent('sign-image', 'bad-user-parameters') });
      expect(run).not.toHaveBeenCalled();
      expect(reporter.reports).toEqual([
        {
          kind: 'failure',
          jobId: '5a1e3000-aaaa-4bbb-8ccc-1234567890ab',
          failureDetails: {
            type: 'ConfigurationError',
            message: expect.stringMatching(/^UserParameters is not valid JSON/),
            externalExecutionId: 'req-0001',
          },
          code: 'USER_PARAMETERS_INVALID',
        },
      ]);
    });

    it('for a malformed event that still has a job id', async () => {
      const event = jobEvent('{}', { artifactCredentials: undefined });
      const { reporter } = await invoke(vi.fn(), { event });
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.reports[0]).toMatchObject({
        kind: 'failure',
        code: 'EVENT_INVALID',
        failureDetails: {
          type: 'ConfigurationError',
          message: expect.stringContaining('artifactCredentials'),
        },
      });
    });

    it('for a stage parameter error thrown by parseParams', async () => {
      const { reporter } = await invoke(vi.fn(), { event: jobEvent('{"image":5}') });
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.reports[0]).toMatchObject({
        code: 'PARAM_INVALID',
        failureDetails: {
          type: 'ConfigurationError',
          message: 'UserParameters.image must be a string',
        },
      });
    });

    it('for a stage that outlives the deadline: "timed out while <phase>"', async () => {
      const { reporter } = await invoke(
        async ({ ctx }) => {
          ctx.setPhase('waiting for Signer');
          return new Promise<StageOutcome<State>>(() => undefined);
        },
        { remainingMs: 20, deps: { deadlineMarginMs: 10 } },
      );
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.reports[0]).toMatchObject({
        kind: 'failure',
        code: 'STAGE_TIMED_OUT',
        failureDetails: {
          type: 'SystemUnavailable',
          message: expect.stringMatching(/^sign-image timed out while waiting for Signer/),
        },
      });
    });

    it('with a continuation when the stage supports it at the deadline', async () => {
      const { reporter } = await invoke(async () => new Promise<StageOutcome<State>>(() => undefined), {
        remainingMs: 5,
        deps: { deadlineMarginMs: 0 },
        extra: { onDeadline: ({ phase }) => (phase.startsWith('running') ? { attempt: 9 } : undefined) },
      });
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.reports[0]).toMatchObject({
        kind: 'continuation',
        continuationToken: encodeContinuationToken('sign-image', { attempt: 9 }),
      });
    });

    it('aborts the stage signal at the deadline', async () => {
      let signal: AbortSignal | undefined;
      await invoke(
        async ({ ctx }) => {
          signal = ctx.signal;
          return new Promise<StageOutcome<State>>(() => undefined);
        },
        { remainingMs: 1, deps: { deadlineMarginMs: 0 } },
      );
      expect(signal?.aborted).toBe(true);
    });

    it('never for an event without a job id (nothing to report to), and logs it', async () => {
      const { reporter, result, output } = await invoke(vi.fn(), { event: { hello: 'world' } });
      expect(reporter.reports).toHaveLength(0);
      expect(result).toMatchObject({ jobId: undefined, delivered: false });
      expect(output).toContain('nothing to report');
    });
  });

  describe('success reports', () => {
    it('carry output variables, summary and the request id as externalExecutionId', async () => {
      const { reporter } = await invoke(async ({ params }) => ({
        kind: 'success',
        summary: `signed ${params.image}`,
        outputVariables: { signatureDigest: 'sha256:9' },
      }));
      expect(reporter.last).toEqual({
        kind: 'success',
        jobId: '11111111-abcd-1111-abcd-111111abcdef',
        executionDetails: { externalExecutionId: 'req-0001', summary: 'signed repo@sha256:abc' },
        outputVariables: { signatureDigest: 'sha256:9' },
      });
    });

    it('use the stage externalExecutionId when it gives one', async () => {
      const { reporter } = await invoke(async () => ({
        kind: 'success',
        externalExecutionId: 'arn:aws:signer:job/1',
      }));
      expect(reporter.last).toMatchObject({
        executionDetails: { externalExecutionId: 'arn:aws:signer:job/1' },
      });
    });

    it('truncate a long summary to 2048 characters', async () => {
      const { reporter } = await invoke(async () => ({ kind: 'success', summary: 's'.repeat(10_000) }));
      expect(reporter.last?.kind === 'success' && reporter.last.executionDetails?.summary).toHaveLength(2048);
    });

    it('become one failure when the output variables are oversize', async () => {
      const { reporter } = await invoke(async () => ({
        kind: 'success',
        outputVariables: { big: 'x'.repeat(130_000) },
      }));
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.last).toMatchObject({
        kind: 'failure',
        code: 'OUTPUT_VARIABLES_TOO_LARGE',
        failureDetails: {
          type: 'JobFailed',
          message: expect.stringMatching(
            /^The output variables total \d+ bytes, over CodePipeline's limit of 122880 bytes/,
          ),
        },
      });
    });
  });

  describe('continuations', () => {
    it('hand the state back to the stage on re-invocation', async () => {
      const first = await invoke(async ({ state }) =>
        state ? { kind: 'success' } : { kind: 'continuation', state: { attempt: 1 }, percentComplete: 250 },
      );
      const report = first.reporter.last;
      expect(report).toMatchObject({ kind: 'continuation', executionDetails: { percentComplete: 100 } });
      const token = report?.kind === 'continuation' ? report.continuationToken : '';
      const seen: (State | undefined)[] = [];
      const second = await invoke(
        async ({ state }) => {
          seen.push(state);
          return { kind: 'success', summary: `attempt ${state?.attempt}` };
        },
        { event: jobEvent('{}', { continuationToken: token }, '22222222-abcd-1111-abcd-111111abcdef') },
      );
      expect(seen).toEqual([{ attempt: 1 }]);
      expect(second.reporter.last).toMatchObject({
        kind: 'success',
        jobId: '22222222-abcd-1111-abcd-111111abcdef',
      });
    });

    it('refuse oversize state with one failure report', async () => {
      const { reporter } = await invoke(async () => ({
        kind: 'continuation',
        state: { attempt: 1, blob: 'x'.repeat(3000) } as State,
      }));
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.last).toMatchObject({
        kind: 'failure',
        code: 'CONTINUATION_STATE_TOO_LARGE',
        failureDetails: {
          message: expect.stringMatching(
            /^The sign-image continuation state needs a \d+-character token, over CodePipeline's limit of 2048/,
          ),
        },
      });
    });

    it('fail a token from another stage', async () => {
      const token = encodeContinuationToken('verify-image', { attempt: 1 });
      const run = vi.fn();
      const { reporter } = await invoke(run, { event: jobEvent('{}', { continuationToken: token }) });
      expect(run).not.toHaveBeenCalled();
      expect(reporter.last).toMatchObject({
        kind: 'failure',
        code: 'CONTINUATION_TOKEN_INVALID',
        failureDetails: {
          message: expect.stringMatching(/^The continuation token cannot be used by sign-image: /),
        },
      });
    });

    it('are validated by parseState', async () => {
      const token = encodeContinuationToken('sign-image', { nope: true });
      const { reporter } = await invoke(vi.fn(), {
        event: jobEvent('{}', { continuationToken: token }),
        extra: {
          parseState: () => {
            throw new InputError('STATE_INVALID', 'not a sign-image state');
          },
        },
      });
      expect(reporter.last).toMatchObject({
        kind: 'failure',
        code: 'STATE_INVALID',
        failureDetails: { message: 'not a sign-image state' },
      });
    });
  });

  describe('delivery', () => {
    function flaky(errors: Error[]): JobReporter & { calls: JobReport[] } {
      const calls: JobReport[] = [];
      return {
        calls,
        async report(report) {
          calls.push(report);
          const error = errors.shift();
          if (error) throw error;
        },
      };
    }
    const named = (name: string, message = name) => Object.assign(new Error(message), { name });

    it('retries a transient error and then succeeds', async () => {
      const reporter = flaky([named('ThrottlingException'), named('InternalFailure')]);
      const { result } = await invoke(async () => ({ kind: 'success' }), { deps: { reporter } });
      expect(reporter.calls).toHaveLength(3);
      expect(result.delivered).toBe(true);
    });

    it('treats InvalidJobStateException on a retry as already reported', async () => {
      const reporter = flaky([named('TimeoutError'), named('InvalidJobStateException')]);
      const { result } = await invoke(async () => ({ kind: 'success' }), { deps: { reporter } });
      expect(reporter.calls).toHaveLength(2);
      expect(result.delivered).toBe(true);
    });

    it('replaces a success CodePipeline rejects as invalid with a failure report', async () => {
      const reporter = flaky([named('ValidationException', 'bad outputVariables')]);
      const { result } = await invoke(async () => ({ kind: 'success' }), { deps: { reporter } });
      expect(reporter.calls.map((r) => r.kind)).toEqual(['success', 'failure']);
      expect(reporter.calls[1]).toMatchObject({
        code: 'REPORT_REJECTED',
        failureDetails: {
          type: 'JobFailed',
          message: 'CodePipeline rejected the success report (ValidationException): bad outputVariables',
        },
      });
      expect(result.delivered).toBe(true);
    });

    it('gives up after the configured attempts, and the handler then throws', async () => {
      const reporter = flaky([named('InternalFailure'), named('InternalFailure'), named('InternalFailure')]);
      const { result } = await invoke(async () => ({ kind: 'success' }), {
        deps: { reporter, reportAttempts: 3 },
      });
      expect(reporter.calls).toHaveLength(3);
      expect(result.delivered).toBe(false);

      const handler = pipelineAction(
        spec(async () => ({ kind: 'success' })),
        {
          reporter: flaky([named('AccessDeniedException')]),
          sleep: async () => undefined,
        },
      );
      await expect(captureOutput(() => handler(jobEvent('{}'), fakeContext() as never))).rejects.toThrow(
        /AccessDeniedException/,
      );
    });

    describe('within the time Lambda has left', () => {
      // A fake clock drives both the Lambda context and the wrapper's timers: the context's
      // remaining time falls as fake time passes, as Lambda's does.
      afterEach(() => {
        vi.useRealTimers();
      });

      async function deliverWith(reporter: JobReporter, remainingAtStartMs: number) {
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
        const killedAt = Date.now() + remainingAtStartMs;
        const context = {
          awsRequestId: 'req-0001',
          getRemainingTimeInMillis: () => Math.max(0, killedAt - Date.now()),
        };
        let settledAt: number | undefined;
        const pending = captureOutput(() =>
          runPipelineAction(
            jobEvent('{}'),
            context,
            spec(async () => ({ kind: 'success' })),
            {
              reporter,
            },
          ),
        ).finally(() => (settledAt = Date.now()));
        // Run fake time up to the moment Lambda would kill the function.
        await vi.advanceTimersByTimeAsync(remainingAtStartMs);
        const settledInTime = settledAt !== undefined && settledAt <= killedAt;
        await vi.runAllTimersAsync();
        return { settledInTime, ...(await pending) };
      }

      it('gives up on a reporter that never answers and logs it before Lambda ends the function', async () => {
        const calls: (AbortSignal | undefined)[] = [];
        const hung: JobReporter = {
          report: (_report, options) => {
            calls.push(options?.signal);
            return new Promise<void>(() => undefined); // ignores its signal, never settles
          },
        };
        const { settledInTime, result, output } = await deliverWith(hung, 6000);
        expect(settledInTime).toBe(true);
        expect(result.delivered).toBe(false);
        expect(result.error).toMatchObject({ name: 'TimeoutError' });
        // 6 s left: two bounded 2.5 s attempts fit, a third does not.
        expect(calls).toHaveLength(2);
        expect(calls.every((signal) => signal?.aborted === true)).toBe(true);
        expect(output).toContain('could not report the job to CodePipeline');
        expect(output).toContain('no time left for another report attempt');
      });

      it('stops retrying a throttled endpoint when another attempt would not fit', async () => {
        let calls = 0;
        const throttled: JobReporter = {
          report: () => {
            calls++;
            return new Promise<void>((_, reject) =>
              setTimeout(
                () => reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
                2000,
              ),
            );
          },
        };
        const { settledInTime, result, output } = await deliverWith(throttled, 6000);
        expect(settledInTime).toBe(true);
        expect(result.delivered).toBe(false);
        expect(result.error).toMatchObject({ name: 'ThrottlingException' });
        expect(calls).toBe(2);
        expect(output).toContain('could not report the job to CodePipeline');
      });

      it('still makes the first attempt when less than one attempt is left', async () => {
        let calls = 0;
        const reporter: JobReporter = {
          report: async () => {
            calls++;
          },
        };
        const { result } = await deliverWith(reporter, 1000);
        expect(calls).toBe(1);
        expect(result.delivered).toBe(true);
      });
    });

    it('returns normally from the handler once a failure was reported', async () => {
      const reporter = new RecordingReporter();
      const handler = pipelineAction(
        spec(async () => {
          throw new TypeError('bug');
        }),
        { reporter },
      );
      await expect(
        captureOutput(() => handler(jobEvent('{}'), fakeContext() as never)),
      ).resolves.toBeDefined();
      expect(reporter.reports).toHaveLength(1);
    });
  });

  describe('artifacts', () => {
    class MemoryStore implements ArtifactStore {
      written: { artifact: JobArtifact; files: ArtifactFiles }[] = [];
      async read(_job: Job, artifact: JobArtifact): Promise<ArtifactFiles> {
        return new Map([[`${artifact.name}.txt`, new TextEncoder().encode('manifest')]]);
      }
      async write(_job: Job, artifact: JobArtifact, files: ArtifactFiles): Promise<void> {
        this.written.push({ artifact, files });
      }
    }
    const location = { type: 'S3', s3Location: { bucketName: 'b', objectKey: 'k' } };
    const withArtifacts = jobEvent('{}', {
      inputArtifacts: [{ name: 'BuildOutput', revision: 'r', location }],
      outputArtifacts: [{ name: 'SignOutput', revision: null, location }],
    });

    it('reads the only input artifact and writes the declared output artifact before reporting success', async () => {
      const artifacts = new MemoryStore();
      const { reporter } = await invoke(
        async ({ ctx }) => {
          const files = await ctx.readInputArtifact();
          return {
            kind: 'success',
            outputArtifacts: {
              SignOutput: { 'copy.txt': files.get('BuildOutput.txt') ?? new Uint8Array(), 'note.txt': 'hi' },
            },
          };
        },
        { event: withArtifacts, deps: { artifacts } },
      );
      expect(reporter.last?.kind).toBe('success');
      expect(artifacts.written).toHaveLength(1);
      expect(new TextDecoder().decode(artifacts.written[0]?.files.get('copy.txt'))).toBe('manifest');
      expect(new TextDecoder().decode(artifacts.written[0]?.files.get('note.txt'))).toBe('hi');
    });

    it.each([
      [
        'an undeclared output artifact',
        { Other: {} },
        'OUTPUT_ARTIFACT_UNDECLARED',
        "The stage produces output artifact Other but the action declares SignOutput. Add Other to the action's OutputArtifacts.",
      ],
      [
        'a declared output artifact left out',
        {},
        'OUTPUT_ARTIFACT_NOT_PRODUCED',
        "The action declares output artifact SignOutput but the stage does not produce it. Remove it from the action's OutputArtifacts.",
      ],
    ])('fails with a ConfigurationError for %s', async (_label, outputArtifacts, code, message) => {
      const { reporter } = await invoke(async () => ({ kind: 'success', outputArtifacts }), {
        event: withArtifacts,
        deps: { artifacts: new MemoryStore() },
      });
      expect(reporter.last).toMatchObject({
        kind: 'failure',
        code,
        failureDetails: { type: 'ConfigurationError', message },
      });
    });

    it('reports a ConfigurationError, once, when a stage built without an artifact store reads an artifact', async () => {
      const { reporter } = await invoke(
        async ({ ctx }) => {
          await ctx.readInputArtifact('BuildOutput');
          return { kind: 'success' };
        },
        { event: withArtifacts },
      );
      expect(reporter.reports).toHaveLength(1);
      expect(reporter.last).toMatchObject({
        kind: 'failure',
        code: 'ARTIFACT_STORE_MISSING',
        failureDetails: {
          type: 'ConfigurationError',
          message:
            'sign-image has no artifact store, so it cannot read input artifact BuildOutput. Remove the artifact from the action.',
        },
      });
    });

    it("passes the stage's deadline signal to the artifact reads and writes it makes", async () => {
      const signals: { call: string; signal: AbortSignal | undefined }[] = [];
      const artifacts = new (class extends MemoryStore {
        override async read(job: Job, artifact: JobArtifact, options?: ArtifactOptions) {
          signals.push({ call: 'read', signal: options?.signal });
          return super.read(job, artifact);
        }
        override async write(
          job: Job,
          artifact: JobArtifact,
          files: ArtifactFiles,
          options?: ArtifactOptions,
        ) {
          signals.push({ call: 'write', signal: options?.signal });
          return super.write(job, artifact, files);
        }
      })();
      let stageSignal: AbortSignal | undefined;
      await invoke(
        async ({ ctx }) => {
          stageSignal = ctx.signal;
          await ctx.readInputArtifact();
          return { kind: 'success', outputArtifacts: { SignOutput: { 'a.txt': 'a' } } };
        },
        { event: withArtifacts, deps: { artifacts } },
      );
      expect(stageSignal).toBeDefined();
      expect(signals).toEqual([
        { call: 'read', signal: stageSignal },
        { call: 'write', signal: stageSignal },
      ]);
    });

    it('stops an artifact read that is still running at the deadline', async () => {
      let readStopped = false;
      const artifacts = new (class extends MemoryStore {
        override read(_job: Job, _artifact: JobArtifact, options?: ArtifactOptions) {
          return new Promise<ArtifactFiles>((_, reject) =>
            options?.signal?.addEventListener('abort', () => {
              readStopped = true;
              reject(options.signal?.reason as Error);
            }),
          );
        }
      })();
      const { reporter } = await invoke(
        async ({ ctx }) => {
          ctx.setPhase('reading the input artifact');
          await ctx.readInputArtifact();
          return { kind: 'success' };
        },
        { event: withArtifacts, remainingMs: 5, deps: { artifacts, deadlineMarginMs: 0 } },
      );
      expect(readStopped).toBe(true);
      expect(reporter.reports).toEqual([
        expect.objectContaining({ kind: 'failure', code: 'STAGE_TIMED_OUT' }),
      ]);
    });

    it('fails with a ConfigurationError when asked for an input artifact the action lacks', async () => {
      const { reporter } = await invoke(
        async ({ ctx }) => {
          await ctx.readInputArtifact('Missing');
          return { kind: 'success' };
        },
        { event: withArtifacts, deps: { artifacts: new MemoryStore() } },
      );
      expect(reporter.last).toMatchObject({
        code: 'INPUT_ARTIFACT_MISSING',
        failureDetails: {
          type: 'ConfigurationError',
          message: expect.stringContaining('no input artifact named Missing (it has: BuildOutput)'),
        },
      });
    });
  });

  describe('logging', () => {
    it('logs job id, stage and request id but never the credentials of the event', async () => {
      const event = loadEvent('sign-image', 'input-artifact-kms');
      const outcomes: ActionSpec<Params, State>['run'][] = [
        async ({ ctx }) => {
          ctx.logger.info('working');
          return { kind: 'success' };
        },
        async () => {
          throw new TypeError('boom');
        },
        async ({ job }) => {
          // Even a stage that throws an error quoting the job cannot leak through the wrapper's own logs of the event.
          throw new InputError('X', `bad artifact ${job.inputArtifacts[0]?.name}`);
        },
      ];
      for (const run of outcomes) {
        const { output } = await invoke(run, { event, deps: { logger: createLogger('sign-image') } });
        expect(output).toContain('"jobId":"5a1e5000-aaaa-4bbb-8ccc-1234567890ab"');
        expect(output).toContain('"stage":"sign-image"');
        expect(output).toContain('"requestId":"req-0001"');
        for (const secret of EVENT_SECRETS) expect(output).not.toContain(secret);
      }
      for (const name of ['bad-user-parameters', 'happy-path', 'continuation']) {
        const { output } = await invoke(async () => ({ kind: 'success' }), {
          event: loadEvent('sign-image', name),
        });
        for (const secret of EVENT_SECRETS) expect(output).not.toContain(secret);
      }
    });

    it('logs an unexpected error with its stack', async () => {
      const { output } = await invoke(async () => {
        throw new TypeError('kaboom');
      });
      expect(output).toContain('kaboom');
      expect(output).toMatch(/"stack":"TypeError: kaboom/);
    });
  });
});
