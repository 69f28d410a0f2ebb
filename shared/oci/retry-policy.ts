/**
 * Retry policy for registry requests: 429 and 5xx (and network failures) are retried with
 * exponential backoff and full-range jitter, honouring `Retry-After`, bounded both in attempts
 * and in total time. Pure: the clock, the sleep and the randomness are injected (the options are
 * the shared {@link RetryOptions}).
 */
import type { ResolvedRetryOptions, RetryDefaults } from '../retry';

/** The registry client's defaults: 4 attempts, 200 ms doubling to 5 s, 20 s in total. */
export const REGISTRY_RETRY_DEFAULTS: RetryDefaults = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxTotalMs: 20_000,
};

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
