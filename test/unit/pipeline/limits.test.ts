import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors';
import {
  LIMITS,
  checkOutputVariables,
  outputVariablesBytes,
  truncate,
} from '../../../shared/pipeline/limits';

describe('truncate', () => {
  it('shortens a 20,000-character message to 5000 characters with a visible marker', () => {
    const text = 'x'.repeat(20_000);
    const out = truncate(text, LIMITS.failureMessage);
    expect(out).toHaveLength(LIMITS.failureMessage);
    expect(out).toMatch(/ … \[truncated \d+ characters\]$/);
    const cut = Number(/truncated (\d+) characters/.exec(out)?.[1]);
    expect(out.indexOf(' …') + cut).toBe(20_000);
  });

  it('leaves a message that fits unchanged', () => {
    expect(truncate('short', 10)).toBe('short');
  });

  // Every cut point of a text of astral characters (2 UTF-16 code units each), including the
  // ones where the marker's count gains a digit (…99 → …100 characters cut).
  it.each([
    ['emoji', '😀'.repeat(200), [40, 41, 42, 43, 60, 61, 100, 101, 255]],
    ['mixed text', `a${'𝄞b'.repeat(3000)}`, [5000, 4999, 2048, 2047]],
  ])('never cuts %s inside a surrogate pair', (_label, text, maxima) => {
    for (const max of maxima) {
      const out = truncate(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      // A lone surrogate does not survive a UTF-8 round trip (it becomes U+FFFD).
      expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
      const kept = out.indexOf(' … [truncated');
      const cut = Number(/truncated (\d+) characters/.exec(out)?.[1]);
      expect(kept + cut).toBe(text.length);
      expect(text.startsWith(out.slice(0, kept))).toBe(true);
      // At most the one code unit given up to keep the pair whole is left unused.
      expect(out.length).toBeGreaterThanOrEqual(max - 1);
    }
  });

  it('never returns an empty message (the API needs at least one character)', () => {
    expect(truncate('', 10).length).toBeGreaterThan(0);
  });
});

describe('checkOutputVariables', () => {
  it('accepts keys made of letters, digits, @, - and _', () => {
    expect(() => checkOutputVariables({ 'image-Digest_1@x': 'sha256:abc' })).not.toThrow();
  });

  it.each(['has space', 'dot.key', 'slash/key', '', 'ünïcode'])('refuses the key %j', (key) => {
    expect(() => checkOutputVariables({ [key]: 'v' })).toThrow(
      expect.objectContaining({ code: 'OUTPUT_VARIABLE_KEY_INVALID' }),
    );
  });

  it('refuses variables over 122,880 bytes in total with a clear error', () => {
    const variables = { a: 'x'.repeat(70_000), b: 'y'.repeat(60_000) };
    let error: unknown;
    try {
      checkOutputVariables(variables);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('OUTPUT_VARIABLES_TOO_LARGE');
    expect((error as InputError).message).toContain('130002 bytes');
    expect((error as InputError).message).toContain('122880');
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(outputVariablesBytes({ k: 'é' })).toBe(3);
  });

  it('accepts exactly the limit', () => {
    expect(() => checkOutputVariables({ k: 'x'.repeat(LIMITS.outputVariablesBytes - 1) })).not.toThrow();
  });
});
