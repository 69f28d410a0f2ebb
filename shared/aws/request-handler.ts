/**
 * The `requestHandler` setting every AWS SDK client in stagesign is built with: a bounded
 * connection time and a bounded wait for each answer, so a hung endpoint fails instead of
 * holding the stage until Lambda's own timeout.
 *
 * `throwOnRequestTimeout` is needed: without it the SDK's Node handler only logs a warning when
 * `requestTimeout` passes and keeps waiting.
 */
export function boundedRequestHandler(
  connectionTimeoutMs: number,
  requestTimeoutMs: number,
): { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true } {
  return {
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}
