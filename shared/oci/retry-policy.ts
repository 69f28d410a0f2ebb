/**
 * Retry policy for registry requests: 429 and 5xx (and network failures) are retried with
 * exponential backoff and full-range jitter, honouring `Retry-After`, bounded both in attempts
 * and in total time. Pure: the clock, the sleep and the randomness are injected.
 */
export interface RetryOptions {
  /** Attempts in total, including the first. Default 4. */
  maxAttempts?: number;
  /** First backoff step. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap of one backoff step (not of `Retry-After`). Default 5 s. */
  maxDelayMs?: number;
  /** No retry starts when it would end after this much time since the first attempt. Default 20 s. */
  maxTotalMs?: number;
  /** Injected for tests: how to wait. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests: a number in [0, 1). Default Math.random. */
  random?: () => number;
  /** Injected for tests: milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export function resolveRetryOptions(options: RetryOptions | undefined): ResolvedRetryOptions {
  return {
    maxAttempts: options?.maxAttempts ?? 4,
    baseDelayMs: options?.baseDelayMs ?? 200,
    maxDelayMs: options?.maxDelayMs ?? 5_000,
    maxTotalMs: options?.maxTotalMs ?? 20_000,
    sleep: options?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options?.random ?? Math.random,
    now: options?.now ?? Date.now,
  };
}

/** True for statuses worth retrying: 429 and every 5xx except 501 (not implemented never heals). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/** `Retry-After` as milliseconds (delta-seconds or HTTP date), or undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Backoff before attempt `attempt + 1` (attempt counts from 1): jittered exponential, or Retry-After when given. */
export function backoffDelay(
  options: ResolvedRetryOptions,
  attempt: number,
  retryAfterMs: number | undefined,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  // "Equal jitter": half fixed, half random, so retries from many Lambdas spread out.
  return Math.round(step / 2 + options.random() * (step / 2));
}
