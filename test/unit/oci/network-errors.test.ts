import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors';
import { describeNetworkError, isPlainHttpAnswer } from '../../../shared/oci/network-errors';

/** What undici's fetch throws: a TypeError whose cause carries the Node error code. */
function fetchFailure(code: string, message = code): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

describe('network errors in words', () => {
  it.each([
    ['ECONNREFUSED', 'connection refused (ECONNREFUSED)'],
    ['ENOTFOUND', 'host not found (ENOTFOUND)'],
    ['EAI_AGAIN', 'host not found (DNS lookup failed) (EAI_AGAIN)'],
    ['ECONNRESET', 'connection reset by the server (ECONNRESET)'],
    ['UND_ERR_CONNECT_TIMEOUT', 'connection timed out (UND_ERR_CONNECT_TIMEOUT)'],
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'TLS certificate is self-signed and not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)',
    ],
    ['EWHATEVER', 'network error EWHATEVER'],
  ])('%s reads "%s"', (code, words) => {
    expect(describeNetworkError(fetchFailure(code))).toBe(words);
  });

  it('keeps a stagesign error message and says "timed out" for a timeout', () => {
    expect(describeNetworkError(new InputError('X', 'token service said no'))).toBe('token service said no');
    expect(describeNetworkError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe('timed out');
  });

  it('recognises an HTTPS request answered in plain HTTP', () => {
    expect(isPlainHttpAnswer(fetchFailure('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe(true);
    expect(isPlainHttpAnswer(fetchFailure('ECONNREFUSED'))).toBe(false);
  });
});
