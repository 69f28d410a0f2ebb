/**
 * Cancellation of calls to the outside world (registries, AWS Signer). The pipeline wrapper
 * aborts `StageContext.signal` when its deadline guard fires and reports the job at once; every
 * call made for that job must then stop, or it keeps pushing and signing for a job that was
 * already reported, and resumes under the next invocation after Lambda thaws the container.
 *
 * An abort is not a failure of the dependency: it surfaces as a DependencyError with the code
 * {@link ABORTED}, never as REGISTRY_UNAVAILABLE or SIGNER_UNAVAILABLE, and is never retried.
 */
import { DependencyError, isStagesignError } from './errors';

/** Per-call options of `Registry`, `PayloadSigner` and `RevocationChecker` methods. */
export interface CallOptions {
  /**
   * Aborts the call (e.g. the stage's `ctx.signal` at the deadline): requests in flight are
   * cancelled, no retry starts, and the call rejects with DependencyError {@link ABORTED}.
   */
  signal?: AbortSignal;
}

/** Stable code of the error a call rejects with when its caller aborted it. */
export const ABORTED = 'ABORTED';

/** The error for `what` (e.g. `registry request HEAD /v2/app/manifests/v1`) abandoned because `signal` was aborted. */
export function abortedError(
  what: string,
  signal: AbortSignal | undefined,
  cause?: unknown,
): DependencyError {
  const reason = signal?.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
  return new DependencyError(ABORTED, `${what} was abandoned because the caller aborted it (${why})`, {
    cause: cause ?? reason,
  });
}

/** Throws {@link abortedError} when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(what, signal);
}

/** True for the error of an aborted call (code {@link ABORTED}). */
export function isAbortedError(error: unknown): boolean {
  return isStagesignError(error) && error.code === ABORTED;
}

/**
 * Waits `sleep(ms)` unless `signal` aborts first (then rejects with {@link abortedError}), so a
 * retry backoff never outlives its caller.
 */
export async function sleepUnlessAborted(
  sleep: (ms: number) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<void> {
  throwIfAborted(signal, what);
  if (signal === undefined) return sleep(ms);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(what, signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([sleep(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/** `a` and `b` combined (either aborts the result), or whichever is given. */
export function anySignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return AbortSignal.any([a, b]);
}
