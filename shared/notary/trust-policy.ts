/**
 * notation's OCI trust policy document (`trustpolicy.oci.json` / `trustpolicy.json`, version 1.0):
 * parsing with every validation rule notation applies, and selecting the statement for an artifact.
 * Spec: `specs/trust-store-trust-policy.md` §"Trust Policy"; notation-go `verifier/trustpolicy/*.go`.
 */
import { ConfigurationError } from '../errors';
import type { ValidationAction, ValidationType, VerificationLevelName } from './verification-levels';

export type { ValidationAction, ValidationType, VerificationLevelName } from './verification-levels';

/** One statement of `trustPolicies`. */
export interface TrustPolicyStatement {
  name: string;
  registryScopes: string[];
  signatureVerification: {
    level: VerificationLevelName;
    override?: Partial<Record<ValidationType, ValidationAction>>;
    verifyTimestamp?: 'always' | 'afterCertExpiry';
  };
  trustStores: string[];
  trustedIdentities: string[];
}

/** A validated trust policy document. */
export interface TrustPolicyDocument {
  version: '1.0';
  trustPolicies: TrustPolicyStatement[];
}

/**
 * Parses and validates a trust policy (JSON text or an already-parsed object). Throws
 * ConfigurationError `TRUST_POLICY_INVALID` whose message is notation's text for the rule broken.
 */
export function parseTrustPolicy(input: string | unknown): TrustPolicyDocument {
  void input;
  throw new ConfigurationError('TRUST_POLICY_INVALID', 'not implemented yet');
}

/**
 * The statement that applies to `artifactReference` (`host[:port]/repo[:tag|@digest]`): the one
 * whose scope equals the reference without tag/digest, else the `*` statement. Throws
 * ConfigurationError `NO_APPLICABLE_POLICY` with notation's message otherwise.
 */
export function selectPolicy(doc: TrustPolicyDocument, artifactReference: string): TrustPolicyStatement {
  void doc;
  throw new ConfigurationError('NO_APPLICABLE_POLICY', noApplicablePolicyMessage(artifactReference));
}

/** notation-go's message when no statement's registryScopes covers the artifact. */
export function noApplicablePolicyMessage(artifactReference: string): string {
  return `artifact "${artifactReference}" has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy`;
}
