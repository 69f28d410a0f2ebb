import { describe, expect, it } from 'vitest';
import { decodeContinuationToken, encodeContinuationToken } from '../../../shared/pipeline/continuation';

describe('continuation tokens', () => {
  it('round-trips the state of a stage', () => {
    const state = { attempt: 3, digest: 'sha256:abc', pending: ['a', 'b'], nested: { ok: true } };
    const token = encodeContinuationToken('deploy-manifest', state);
    expect(token.length).toBeLessThanOrEqual(2048);
    expect(decodeContinuationToken('deploy-manifest', token)).toEqual(state);
  });

  it('refuses state whose token would exceed 2048 characters instead of truncating it', () => {
    expect(() => encodeContinuationToken('deploy-manifest', { blob: 'x'.repeat(1600) })).toThrow(
      expect.objectContaining({ code: 'CONTINUATION_STATE_TOO_LARGE' }),
    );
  });

  it('keeps every accepted token within 2048 characters', () => {
    for (let size = 1400; size < 1600; size += 7) {
      try {
        expect(encodeContinuationToken('sign-image', { blob: 'x'.repeat(size) }).length).toBeLessThanOrEqual(
          2048,
        );
      } catch (error) {
        expect(error).toMatchObject({ code: 'CONTINUATION_STATE_TOO_LARGE' });
      }
    }
  });

  it('rejects a token written for another stage', () => {
    const token = encodeContinuationToken('sign-image', { attempt: 1 });
    expect(() => decodeContinuationToken('verify-image', token)).toThrow(/belongs to stage "sign-image"/);
  });

  it.each([
    'A continuation token if continuing job',
    'ss1.!!!',
    'ss1.' + Buffer.from('[1]').toString('base64url'),
  ])('rejects the foreign token %j', (token) => {
    expect(() => decodeContinuationToken('sign-image', token)).toThrow(
      expect.objectContaining({ code: 'CONTINUATION_TOKEN_INVALID' }),
    );
  });

  it('refuses undefined state', () => {
    expect(() => encodeContinuationToken('sign-image', undefined)).toThrow(
      expect.objectContaining({ code: 'CONTINUATION_STATE_INVALID' }),
    );
  });
});
