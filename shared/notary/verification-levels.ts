/**
 * Verification levels as data (architecture.md §1.3): which action each validation gets at each
 * level, and how a statement's `override` changes that.
 * Spec: notaryproject/specifications `specs/trust-store-trust-policy.md` §"Signature Verification details".
 */
import type { TrustPolicyStatement } from './trust-policy';

/** The five validations a Notary Project verifier runs (spec names). */
export type ValidationType = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
/** What happens when a validation fails: fail the signature, record a warning, or not run it. */
export type ValidationAction = 'enforce' | 'log' | 'skip';
/** The preset levels of `signatureVerification.level`. */
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';

/** Every validation type, in the order the spec lists them. */
export const VALIDATION_TYPES: readonly ValidationType[] = [
  'integrity',
  'authenticity',
  'authenticTimestamp',
  'expiry',
  'revocation',
];

/** Every level name, in the order the spec lists them. */
export const VERIFICATION_LEVEL_NAMES: readonly VerificationLevelName[] = [
  'strict',
  'permissive',
  'audit',
  'skip',
];

/**
 * The spec's level table. At `skip` no validation runs at all (the verifier does not even fetch
 * signatures), so every entry is `skip`.
 */
export const LEVEL_TABLE: Readonly<
  Record<VerificationLevelName, Readonly<Record<ValidationType, ValidationAction>>>
> = {
  strict: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'enforce',
    expiry: 'enforce',
    revocation: 'enforce',
  },
  permissive: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'log',
    expiry: 'log',
    revocation: 'log',
  },
  audit: {
    integrity: 'enforce',
    authenticity: 'log',
    authenticTimestamp: 'log',
    expiry: 'log',
    revocation: 'log',
  },
  skip: {
    integrity: 'skip',
    authenticity: 'skip',
    authenticTimestamp: 'skip',
    expiry: 'skip',
    revocation: 'skip',
  },
};

/**
 * The action for each validation under a (parsed, validated) statement: the level's row with the
 * statement's `override` entries applied on top. `parseTrustPolicy` has already rejected
 * overrides that notation rejects (integrity, skip for anything but revocation, overrides at skip).
 */
export function resolveActions(statement: TrustPolicyStatement): Record<ValidationType, ValidationAction> {
  const actions = { ...LEVEL_TABLE[statement.signatureVerification.level] };
  const override = statement.signatureVerification.override ?? {};
  for (const type of VALIDATION_TYPES) {
    const action = override[type];
    if (action !== undefined) actions[type] = action;
  }
  return actions;
}
