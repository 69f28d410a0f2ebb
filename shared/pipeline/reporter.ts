import type { FailureDetails } from './failure';

/** `executionDetails` of PutJobSuccessResult (all limits already enforced). */
export interface ExecutionDetails {
  readonly summary?: string;
  readonly externalExecutionId?: string;
  /** Integer 0–100; only meaningful with a continuation. */
  readonly percentComplete?: number;
}

/**
 * The one report of an invocation, as a tagged union. The wrapper builds it already within the
 * API limits; reporters only transmit it.
 */
export type JobReport =
  | {
      readonly kind: 'success';
      readonly jobId: string;
      readonly executionDetails?: ExecutionDetails;
      readonly outputVariables?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'continuation';
      readonly jobId: string;
      readonly continuationToken: string;
      readonly executionDetails?: ExecutionDetails;
    }
  | {
      readonly kind: 'failure';
      readonly jobId: string;
      /** What CodePipeline shows the user: the error's own text, no code prefix. */
      readonly failureDetails: FailureDetails;
      /**
       * The stable error code (`mapFailure(...).code`), for logs, tests and local runners.
       * Internal: reporters never send it to CodePipeline (PutJobFailureResult has no field for it).
       */
      readonly code?: string;
    };

/**
 * Sends a job report. Implementations: {@link CodePipelineReporter} (the deployed function,
 * with its own execution role) and {@link RecordingReporter} (local invoker, tests, demo).
 *
 * `report` throws on failure; an error whose `name` is one of {@link TERMINAL_REPORT_ERRORS}
 * tells the wrapper that retrying cannot help.
 */
export interface JobReporter {
  /**
   * @param options.signal aborted when the wrapper gives up on this attempt (its time is up);
   *   implementations that do I/O pass it on (the SDK's `abortSignal`) so a hung request ends.
   */
  report(report: JobReport, options?: ReportOptions): Promise<void>;
}

/** Per-attempt options the wrapper gives a {@link JobReporter}. */
export interface ReportOptions {
  readonly signal?: AbortSignal;
}

/**
 * CodePipeline errors that make a retry pointless. `InvalidJobStateException` means the job is
 * no longer in progress (on a retry: our earlier attempt got through).
 */
export const TERMINAL_REPORT_ERRORS = [
  'InvalidJobStateException',
  'JobNotFoundException',
  'ValidationException',
  'OutputVariablesSizeExceededException',
  'AccessDeniedException',
] as const;
