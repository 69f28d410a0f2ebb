import { describe, expect, it } from 'vitest';
import { parseAuthChallenge } from '../../../shared/oci/auth-challenge';
import {
  backoffDelay,
  isRetryableStatus,
  parseRetryAfter,
  REGISTRY_RETRY_DEFAULTS,
} from '../../../shared/oci/retry-policy';
import { resolveRetryOptions } from '../../../shared/retry';

describe('parseAuthChallenge', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      {
        scheme: 'bearer',
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/alpine:pull',
      },
    ],
    [
      'bearer realm="https://ghcr.io/token", service="ghcr.io"',
      { scheme: 'bearer', realm: 'https://ghcr.io/token', service: 'ghcr.io' },
    ],
    [
      'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      { scheme: 'basic', realm: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/' },
    ],
    ['Basic', { scheme: 'basic' }],
    ['Negotiate abc', { scheme: 'unknown', raw: 'negotiate' }],
  ])('parses %s', (header, expected) => {
    expect(parseAuthChallenge(header)).toEqual(expected);
  });

  it('ignores a missing header', () => {
    expect(parseAuthChallenge(null)).toBeUndefined();
  });
});

describe('retry policy', () => {
  it.each([
    [429, true],
    [500, true],
    [503, true],
    [501, false],
    [404, false],
    [400, false],
  ])('treats status %i as retryable: %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped, and prefers Retry-After', () => {
    const options = resolveRetryOptions(
      { baseDelayMs: 100, maxDelayMs: 1000, random: () => 1 },
      REGISTRY_RETRY_DEFAULTS,
    );
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(options, attempt, undefined))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    expect(
      backoffDelay(
        resolveRetryOptions({ baseDelayMs: 100, random: () => 0 }, REGISTRY_RETRY_DEFAULTS),
        1,
        undefined,
      ),
    ).toBe(50);
    expect(backoffDelay(options, 1, 2500)).toBe(2500);
  });
});
