import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  DependencyError,
  InputError,
  PermissionError,
  VerificationError,
  isStagesignError,
} from '../../../shared/errors';
import { itemsFailedHeadline, summariseItemFailures, withMessage } from '../../../shared/item-failures';

describe('summariseItemFailures', () => {
  it('takes the most actionable kind, and the code and cause of its first failure', () => {
    const denied = new PermissionError('ECR_DENIED', 'denied');
    const error = summariseItemFailures(
      [
        { error: new DependencyError('REGISTRY_UNAVAILABLE', 'down') },
        { error: denied },
        { error: new PermissionError('SIGNER_ACCESS_DENIED', 'also denied') },
      ],
      'summary',
    );
    expect(error).toBeInstanceOf(PermissionError);
    expect(error).toMatchObject({ code: 'ECR_DENIED', message: 'summary', cause: denied });
  });

  it('counts a verdict as a failure of its kind, without a cause', () => {
    const error = summariseItemFailures(
      [
        { error: new DependencyError('REGISTRY_UNAVAILABLE', 'down') },
        { verdict: { kind: 'verification', code: 'SIGNATURE_NOT_FOUND' } },
      ],
      'summary',
    );
    expect(error).toBeInstanceOf(VerificationError);
    expect(error).toMatchObject({ code: 'SIGNATURE_NOT_FOUND' });
    expect(error.cause).toBeUndefined();
  });

  it('uses mixedCode when the failures do not share one code, and the shared code when they do', () => {
    const mixed = summariseItemFailures(
      [{ error: new InputError('A', 'a') }, { error: new InputError('B', 'b') }],
      'summary',
      { mixedCode: 'ITEMS_FAILED' },
    );
    expect(mixed).toMatchObject({ code: 'ITEMS_FAILED' });
    const same = summariseItemFailures(
      [{ error: new InputError('A', 'a') }, { error: new InputError('A', 'b') }],
      'summary',
      { mixedCode: 'ITEMS_FAILED' },
    );
    expect(same).toMatchObject({ code: 'A' });
  });

  it('keeps an unexpected error unexpected (a plain Error with it as cause), unless given a code for it', () => {
    const bug = new TypeError('x is undefined');
    const plain = summariseItemFailures([{ error: bug }], 'summary');
    expect(isStagesignError(plain)).toBe(false);
    expect(plain).toMatchObject({ message: 'summary', cause: bug });
    const coded = summariseItemFailures([{ error: bug }], 'summary', { unexpectedCode: 'ITEM_ERROR' });
    expect(coded).toBeInstanceOf(InputError);
    expect(coded).toMatchObject({ code: 'ITEM_ERROR', cause: bug });
  });

  it('lets a configuration error outrank everything else', () => {
    const error = summariseItemFailures(
      [
        { verdict: { kind: 'verification', code: 'V' } },
        { error: new ConfigurationError('BAD_PARAM', 'bad') },
      ],
      'summary',
    );
    expect(error).toBeInstanceOf(ConfigurationError);
  });
});

describe('itemsFailedHeadline', () => {
  it('says how many of how many items failed', () => {
    expect(itemsFailedHeadline('Signing', 2, 5, 'images')).toBe('Signing failed for 2 of 5 images');
  });
});

describe('withMessage', () => {
  it('keeps kind and code under the new message, with the original as cause', () => {
    const original = new PermissionError('DENIED', 'denied');
    const error = withMessage(original, 'app:v1: denied');
    expect(error).toBeInstanceOf(PermissionError);
    expect(error).toMatchObject({ code: 'DENIED', message: 'app:v1: denied', cause: original });
  });
});
