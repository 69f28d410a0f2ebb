import type { ExecutionDetails, JobReport } from '../../shared/pipeline/reporter';

/** The invoker's last stdout line: what CodePipeline would have received. */
export interface InvokeResultLine {
  readonly jobId: string | null;
  readonly outcome: 'success' | 'failure' | 'continuation';
  readonly failureDetails?: { readonly type: string; readonly message: string };
  readonly outputVariables?: Readonly<Record<string, string>>;
  readonly executionDetails?: ExecutionDetails;
  readonly continuationToken?: string;
  /** Present (false) only when the handler delivered no report at all. */
  readonly reported?: false;
}

/** Turns the recorded report (or its absence) into the result line. */
export function resultLine(
  report: JobReport | undefined,
  jobId: string | undefined,
  error?: unknown,
): InvokeResultLine {
  if (!report) {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : 'the event had no usable job id';
    return {
      jobId: jobId ?? null,
      outcome: 'failure',
      failureDetails: {
        type: 'JobFailed',
        message: `The handler reported nothing (${why}); CodePipeline would time out.`,
      },
      reported: false,
    };
  }
  switch (report.kind) {
    case 'success':
      return {
        jobId: report.jobId,
        outcome: 'success',
        ...(report.outputVariables ? { outputVariables: report.outputVariables } : {}),
        ...(report.executionDetails ? { executionDetails: report.executionDetails } : {}),
      };
    case 'continuation':
      return {
        jobId: report.jobId,
        outcome: 'continuation',
        continuationToken: report.continuationToken,
        ...(report.executionDetails ? { executionDetails: report.executionDetails } : {}),
      };
    case 'failure':
      return {
        jobId: report.jobId,
        outcome: 'failure',
        failureDetails: { type: report.failureDetails.type, message: report.failureDetails.message },
      };
  }
}

/** Exit status: 0 for success or continuation, 1 for failure. */
export function exitCode(line: InvokeResultLine): 0 | 1 {
  return line.outcome === 'failure' ? 1 : 0;
}
