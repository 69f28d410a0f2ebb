/**
 * How stagesign calls AWS Signer: bounded retries with exponential backoff and full jitter for
 * throttling, 5xx and transient network errors (the shared {@link RetryOptions}; errors classified
 * by the shared {@link describeAwsError}), and the plugin's wording of SDK errors
 * (`Failed to call AWSSigner. Error: <msg>. RequestID: <id>.`).
 */
import { abortedError, sleepUnlessAborted, throwIfAborted } from '../abort';
import { describeAwsError, isRetryableAwsError } from '../aws/aws-error';
import type { AwsErrorInfo } from '../aws/aws-error';
import { resolveRetryOptions } from '../retry';
import type { RetryDefaults, RetryOptions } from '../retry';

/** The caller's cancellation for {@link callWithRetry}. */
export interface CallSignal {
  /** Ends the backoff and prevents further attempts; the call then rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** What is being called, for the `ABORTED` message (e.g. `AWS Signer signer:SignPayload`). */
  what: string;
}

/** AWS Signer's retry defaults: 5 attempts, 200 ms doubling to 5 s, no total bound of its own. */
export const SIGNER_RETRY_DEFAULTS: RetryDefaults = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxTotalMs: Number.POSITIVE_INFINITY,
};

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
  const { maxAttempts, baseDelayMs, maxDelayMs, maxTotalMs, sleep, random, now } = resolveRetryOptions(
    options,
    SIGNER_RETRY_DEFAULTS,
  );
  const started = now();
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
      if (!isRetryableAwsError(info)) throw error;
      if (attempt >= maxAttempts) throw new RetriesExhausted(attempt, info, { cause: error });
      const delay = Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
      if (now() - started + delay > maxTotalMs) throw new RetriesExhausted(attempt, info, { cause: error });
      await sleepUnlessAborted(sleep, delay, signal, what);
    }
  }
}
