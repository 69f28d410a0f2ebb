/**
 * One classification of AWS SDK errors for every adapter (S3 artifacts, ECR auth, Signer, SSM,
 * CodePipeline reporting): what the error says, whatever its class, and what kind of problem it
 * is. Each adapter maps the kind to the error model with its own wording (which IAM action to
 * allow, which parameter to fix). Pure: it only reads the error object.
 */

/** What kind of problem an AWS SDK error is. */
export type AwsErrorKind =
  /** AccessDenied(Exception), or HTTP 403 that is not a credentials problem: a policy lacks a permission. */
  | 'access-denied'
  /** The caller's credentials were refused (expired, unknown, bad signature). */
  | 'credentials'
  /** The named resource does not exist (HTTP 404, NoSuchKey, ParameterNotFound, ResourceNotFoundException…). */
  | 'not-found'
  /** Throttled (HTTP 429 or a throttling code): worth retrying with backoff. */
  | 'throttling'
  /** A server fault (HTTP 5xx): worth retrying. */
  | 'server'
  /** A network failure or timeout before an answer: worth retrying. */
  | 'transient'
  | 'other';

/** What an AWS SDK error says, whatever its class. */
export interface AwsErrorInfo {
  /** The AWS error code (`AccessDeniedException`, …) or the JS error name / errno. */
  code: string;
  message: string;
  requestId: string | undefined;
  httpStatus: number | undefined;
  kind: AwsErrorKind;
}

const ACCESS_DENIED_CODES: ReadonlySet<string> = new Set(['AccessDenied', 'AccessDeniedException']);
const CREDENTIALS_CODES: ReadonlySet<string> = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
]);
const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'NotFound',
  'NoSuchKey',
  'NoSuchBucket',
  'NotFoundException',
  'ResourceNotFoundException',
  'ParameterNotFound',
  'ParameterVersionNotFound',
]);
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

/** Classifies an error thrown by an AWS SDK client's `send`. */
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
  return { code, message, requestId, httpStatus, kind: kindOf(code, errno, httpStatus, e.$fault) };
}

function kindOf(
  code: string,
  errno: string | undefined,
  status: number | undefined,
  fault: unknown,
): AwsErrorKind {
  if (THROTTLING_CODES.has(code) || status === 429) return 'throttling';
  if (ACCESS_DENIED_CODES.has(code)) return 'access-denied';
  if (CREDENTIALS_CODES.has(code)) return 'credentials';
  if (status === 403) return 'access-denied';
  if (NOT_FOUND_CODES.has(code) || status === 404) return 'not-found';
  if ((status !== undefined && status >= 500) || fault === 'server') return 'server';
  if (TRANSIENT_CODES.has(code) || (errno !== undefined && TRANSIENT_CODES.has(errno))) return 'transient';
  return 'other';
}

/** Whether a retry may clear it: throttling, a server fault or a network failure. */
export function isRetryableAwsError(info: AwsErrorInfo): boolean {
  return info.kind === 'throttling' || info.kind === 'server' || info.kind === 'transient';
}
