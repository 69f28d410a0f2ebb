/**
 * The retry options every retrying adapter takes (the registry client, the AWS Signer calls):
 * one type, so a caller configures both the same way. Each adapter keeps its own defaults (how
 * many attempts its service deserves) and its own jitter. Pure: the clock, the sleep and the
 * randomness are injected.
 */
export interface RetryOptions {
  /** Attempts in total, including the first. */
  maxAttempts?: number;
  /** First backoff step in milliseconds; doubles per attempt. */
  baseDelayMs?: number;
  /** Cap of one backoff step in milliseconds (not of a server's `Retry-After`). */
  maxDelayMs?: number;
  /** No retry starts when it would end after this much time since the first attempt. */
  maxTotalMs?: number;
  /** Injected for tests: how to wait. Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests: a number in [0, 1). Default Math.random. */
  random?: () => number;
  /** Injected for tests: milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

/** An adapter's defaults for the numeric options. */
export type RetryDefaults = Pick<
  ResolvedRetryOptions,
  'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'maxTotalMs'
>;

/** `options` completed with `defaults` and the real timer, randomness and clock. */
export function resolveRetryOptions(
  options: RetryOptions | undefined,
  defaults: RetryDefaults,
): ResolvedRetryOptions {
  return {
    maxAttempts: Math.max(1, options?.maxAttempts ?? defaults.maxAttempts),
    baseDelayMs: options?.baseDelayMs ?? defaults.baseDelayMs,
    maxDelayMs: options?.maxDelayMs ?? defaults.maxDelayMs,
    maxTotalMs: options?.maxTotalMs ?? defaults.maxTotalMs,
    sleep: options?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options?.random ?? Math.random,
    now: options?.now ?? Date.now,
  };
}
