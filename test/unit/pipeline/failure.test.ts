import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  DependencyError,
  InputError,
  PermissionError,
  VerificationError,
} from '../../../shared/errors';
import { mapFailure } from '../../../shared/pipeline/failure';

describe('mapFailure', () => {
  it.each([
    [new ConfigurationError('BAD_PARAM', 'bad'), 'ConfigurationError'],
    [new PermissionError('DENIED', 'denied'), 'PermissionError'],
    [new VerificationError('SIG_BAD', 'bad signature'), 'JobFailed'],
    [new InputError('BAD_ZIP', 'bad zip'), 'JobFailed'],
    [new DependencyError('THROTTLED', 'slow down'), 'SystemUnavailable'],
  ])('maps %s by its kind', (error, type) => {
    const failure = mapFailure(error);
    expect(failure.type).toBe(type);
    expect(failure.code).toBe(error.code);
    // The user reads the error's own text; the code travels separately (logs, JobReport.code).
    expect(failure.message).toBe(error.message);
    expect(failure.unexpected).toBe(false);
  });

  it.each([new TypeError('x is undefined'), 'a string', 42])(
    'maps the non-library error %j to an unexpected JobFailed',
    (error) => {
      const failure = mapFailure(error);
      expect(failure).toMatchObject({ type: 'JobFailed', code: 'UNEXPECTED_ERROR', unexpected: true });
      expect(failure.message).toContain('Unexpected error');
    },
  );

  it('truncates a 20,000-character message to the 5000-character limit', () => {
    expect(mapFailure(new VerificationError('X', 'y'.repeat(20_000))).message).toHaveLength(5000);
  });
});
