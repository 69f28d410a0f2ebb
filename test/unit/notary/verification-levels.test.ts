import { describe, expect, it } from 'vitest';
import { LEVEL_TABLE, resolveActions, VALIDATION_TYPES } from '../../../shared/notary/verification-levels';
import type {
  ValidationAction,
  ValidationType,
  VerificationLevelName,
} from '../../../shared/notary/verification-levels';
import { parseTrustPolicy } from '../../../shared/notary/trust-policy';
import type { TrustPolicyStatement } from '../../../shared/notary/trust-policy';

const E = 'enforce';
const L = 'log';
const S = 'skip';

/** The spec's table (trust-store-trust-policy.md §"Signature Verification details"), row by row. */
const SPEC: [VerificationLevelName, ValidationAction[]][] = [
  ['strict', [E, E, E, E, E]],
  ['permissive', [E, E, L, L, L]],
  ['audit', [E, L, L, L, L]],
  ['skip', [S, S, S, S, S]],
];

function statementFor(level: VerificationLevelName, override?: Record<string, string>): TrustPolicyStatement {
  const stores = level === 'skip' ? {} : { trustStores: ['ca:acme'], trustedIdentities: ['*'] };
  return parseTrustPolicy({
    version: '1.0',
    trustPolicies: [
      {
        name: 's',
        registryScopes: ['r.io/a'],
        signatureVerification: { level, ...(override ? { override } : {}) },
        ...stores,
      },
    ],
  }).trustPolicies[0]!;
}

describe('LEVEL_TABLE', () => {
  it('lists the validations in the spec order', () => {
    expect(VALIDATION_TYPES).toEqual([
      'integrity',
      'authenticity',
      'authenticTimestamp',
      'expiry',
      'revocation',
    ]);
  });

  it.each(SPEC)('gives %s the spec row %j', (level, row) => {
    expect(VALIDATION_TYPES.map((t) => LEVEL_TABLE[level][t])).toEqual(row);
  });
});

describe('resolveActions', () => {
  it.each(SPEC)('without an override returns the %s row', (level, row) => {
    expect(VALIDATION_TYPES.map((t) => resolveActions(statementFor(level))[t])).toEqual(row);
  });

  it.each<[VerificationLevelName, Record<string, string>, Partial<Record<ValidationType, ValidationAction>>]>(
    [
      ['strict', { revocation: 'log' }, { revocation: L }],
      ['strict', { revocation: 'skip', expiry: 'log' }, { revocation: S, expiry: L }],
      [
        'permissive',
        { authenticTimestamp: 'enforce', expiry: 'enforce' },
        { authenticTimestamp: E, expiry: E },
      ],
      ['audit', { authenticity: 'enforce' }, { authenticity: E }],
      ['permissive', { authenticity: 'log' }, { authenticity: L }],
      ['audit', { revocation: 'skip' }, { revocation: S }],
    ],
  )('applies %s with override %j on top of the level', (level, override, changed) => {
    expect(resolveActions(statementFor(level, override))).toEqual({ ...LEVEL_TABLE[level], ...changed });
  });

  it('does not modify the shared level table', () => {
    resolveActions(statementFor('strict', { revocation: 'skip' }));
    expect(LEVEL_TABLE.strict.revocation).toBe(E);
  });
});
