import { assertNever, isStagesignError } from '../errors';
import type { ErrorKind } from '../errors';
import { LIMITS, truncate } from './limits';

/** `failureDetails.type` values of PutJobFailureResult. */
export type FailureType =
  | 'JobFailed'
  | 'ConfigurationError'
  | 'PermissionError'
  | 'RevisionOutOfSync'
  | 'RevisionUnavailable'
  | 'SystemUnavailable';

/** What the wrapper sends in a failure report. */
export interface FailureDetails {
  readonly type: FailureType;
  /** 1–5000 characters (truncated with a visible marker). */
  readonly message: string;
  readonly externalExecutionId?: string;
}

/** A failure derived from an error, with the stable code for logs and tests. */
export interface MappedFailure {
  readonly type: FailureType;
  readonly message: string;
  /** The StagesignError code, or `UNEXPECTED_ERROR` for anything else. */
  readonly code: string;
  /** True when the error was not a StagesignError: a bug, logged with its stack. */
  readonly unexpected: boolean;
}

/** The error model's kind → failure type table (architecture.md §4). */
export function failureTypeFor(kind: ErrorKind): FailureType {
  switch (kind) {
    case 'configuration':
      return 'ConfigurationError';
    case 'permission':
      return 'PermissionError';
    case 'verification':
    case 'input':
      return 'JobFailed';
    case 'dependency':
      return 'SystemUnavailable';
    default:
      return assertNever(kind);
  }
}

/**
 * Maps any thrown value to the failure CodePipeline is told about. StagesignErrors map by kind
 * (never by message text); anything else is a `JobFailed` that points at the logs.
 */
export function mapFailure(error: unknown): MappedFailure {
  if (isStagesignError(error)) {
    return {
      type: failureTypeFor(error.kind),
      // The message is the error's own text (notation's wording for verification failures); the stable
      // code goes to the log with the report, not into what the user reads.
      message: truncate(error.message, LIMITS.failureMessage),
      code: error.code,
      unexpected: false,
    };
  }
  const name = error instanceof Error ? error.name : typeof error;
  const text = error instanceof Error ? error.message : String(error);
  return {
    type: 'JobFailed',
    message: truncate(
      `Unexpected error (${name}): ${text}. This is a bug in stagesign or an unhandled dependency failure; the function's log has the stack.`,
      LIMITS.failureMessage,
    ),
    code: 'UNEXPECTED_ERROR',
    unexpected: true,
  };
}
