import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  DependencyError,
  InputError,
  PermissionError,
  VerificationError,
  errorOfKind,
  mostActionableKind,
} from '../../../shared/errors';
import type { ErrorKind } from '../../../shared/errors';

describe('mostActionableKind', () => {
  it.each<[ErrorKind[], ErrorKind | undefined]>([
    [[], undefined],
    [['dependency', 'verification'], 'verification'],
    [['dependency', 'input'], 'input'],
    [['verification', 'permission'], 'permission'],
    [['dependency', 'permission', 'configuration'], 'configuration'],
    [['dependency'], 'dependency'],
  ])('picks from %j the kind a person should act on first: %s', (kinds, expected) => {
    expect(mostActionableKind(kinds)).toBe(expected);
  });
});

describe('errorOfKind', () => {
  it.each([
    ['configuration', ConfigurationError],
    ['permission', PermissionError],
    ['verification', VerificationError],
    ['input', InputError],
    ['dependency', DependencyError],
  ] as const)('builds a %s error with the given code, message and cause', (kind, cls) => {
    const cause = new Error('root');
    const error = errorOfKind(kind, 'SOME_CODE', 'what happened', { cause });
    expect(error).toBeInstanceOf(cls);
    expect(error).toMatchObject({ kind, code: 'SOME_CODE', message: 'what happened', cause });
  });
});
