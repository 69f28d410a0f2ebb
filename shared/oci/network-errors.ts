/**
 * Network failures in words for messages (`connection refused`, `host not found`), never only a
 * Node or undici error code, and the one failure that never heals by retrying: an HTTPS request
 * answered in plain HTTP. Pure: reads error objects only.
 */
import { isStagesignError } from '../errors';

/** Node/undici error codes in words, so a message never shows only a code. */
const NETWORK_ERROR_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ECONNRESET: 'connection reset by the server',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed by the server',
  UND_ERR_SOCKET: 'connection closed by the server',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain ends in an untrusted self-signed root',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate could not be verified',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not name this host',
};

function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when an HTTPS request failed because the server answered in plain HTTP. */
export function isPlainHttpAnswer(error: unknown): boolean {
  const code = networkErrorCode(error);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_HTTP_REQUEST') return true;
  const text = String((error as { cause?: { message?: unknown } } | undefined)?.cause?.message ?? '');
  return /wrong version number|http request/i.test(text) && /ssl|tls/i.test(text);
}

/** A network failure in words (`connection refused`, `host not found`), with the code in parentheses. */
export function describeNetworkError(error: unknown): string {
  if ((error as { name?: unknown } | undefined)?.name === 'TimeoutError') return 'timed out';
  if (isStagesignError(error)) return error.message;
  const code = networkErrorCode(error);
  if (code !== undefined) {
    const words = NETWORK_ERROR_WORDS[code];
    return words !== undefined ? `${words} (${code})` : `network error ${code}`;
  }
  if (error instanceof Error) return error.message;
  return 'unknown error';
}
