/**
 * How stagesign calls AWS Signer: bounded retries with exponential backoff and full jitter for
 * throttling, 5xx and transient network errors, and a uniform description of SDK errors for the
 * adapters' error mapping (the plugin's `Failed to call AWSSigner. Error: <msg>. RequestID: <id>.`).
 */
import { abortedError, sleepUnlessAborted, throwIfAborted } from '../abort';

export interface RetryOptions {
  /** Total attempts including the first (default 5). */
  maxAttempts?: number;
  /** First backoff ceiling in milliseconds (default 200); doubles per attempt. */
  baseDelayMs?: number;
  /** Backoff ceiling in milliseconds (default 5000). */
  maxDelayMs?: number;
  /** Injected for tests; defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/** The caller's cancellation for {@link callWithRetry}. */
export interface CallSignal {
  /** Ends the backoff and prevents further attempts; the call then rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** What is being called, for the `ABORTED` message (e.g. `AWS Signer signer:SignPayload`). */
  what: string;
}

export const DEFAULT_RETRY = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5000 } as const;

/** What an AWS SDK error says, whatever its class. */
export interface AwsErrorInfo {
  /** The AWS error code (`AccessDeniedException`, …) or the JS error name. */
  code: string;
  message: string;
  requestId: string | undefined;
  httpStatus: number | undefined;
  kind: 'throttling' | 'server' | 'transient' | 'other';
}

const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/** Classifies an error thrown by `SignerClient.send`. */
export function describeAwsError(error: unknown): AwsErrorInfo {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  };
  const code =
    typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof e.code === 'string' ? e.code : 'Error';
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(error);
  const httpStatus = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const requestId = typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined;
  const errno = typeof e.code === 'string' ? e.code : undefined;
  let kind: AwsErrorInfo['kind'] = 'other';
  if (THROTTLING_CODES.has(code) || httpStatus === 429) kind = 'throttling';
  else if ((httpStatus !== undefined && httpStatus >= 500) || e.$fault === 'server') kind = 'server';
  else if (TRANSIENT_CODES.has(code) || (errno !== undefined && TRANSIENT_CODES.has(errno)))
    kind = 'transient';
  return { code, message, requestId, httpStatus, kind };
}

/** The AWS Signer plugin's wording, which users of notation will recognise. */
export function pluginStyleMessage(info: AwsErrorInfo): string {
  return `Failed to call AWSSigner. Error: ${info.code}: ${info.message}. RequestID: ${info.requestId ?? 'none'}.`;
}

/** Thrown by `callWithRetry` when every attempt failed; `cause` is the last SDK error. */
export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted';
  constructor(
    readonly attempts: number,
    readonly last: AwsErrorInfo,
    options: { cause: unknown },
  ) {
    super(`gave up after ${attempts} attempts: ${last.code}`, options);
  }
}

/**
 * Runs `send`, retrying throttling, 5xx and transient network errors up to `maxAttempts` with
 * full-jitter exponential backoff. A non-retryable error is rethrown as is, at once; when the
 * attempts run out, `RetriesExhausted` is thrown. When `cancel.signal` aborts (before an
 * attempt, during one, or in the backoff), it throws DependencyError `ABORTED` at once and makes
 * no further attempt; `send` should pass the same signal to the SDK (`abortSignal`).
 */
export async function callWithRetry<T>(
  send: () => Promise<T>,
  options: RetryOptions = {},
  cancel?: CallSignal,
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_RETRY.maxAttempts);
  const base = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const cap = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const signal = cancel?.signal;
  const what = cancel?.what ?? 'AWS call';
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal, what);
    try {
      return await send();
    } catch (error) {
      // Whatever the SDK threw after the caller aborted (AbortError, a reset socket) is a
      // consequence of the abort, not a Signer failure to retry or report.
      if (signal?.aborted) throw abortedError(what, signal, error);
      const info = describeAwsError(error);
      if (info.kind === 'other') throw error;
      if (attempt >= maxAttempts) throw new RetriesExhausted(attempt, info, { cause: error });
      await sleepUnlessAborted(
        sleep,
        Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1))),
        signal,
        what,
      );
    }
  }
}
