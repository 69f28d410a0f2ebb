/**
 * `x509.subject:` trusted identities: parsing the RFC 4514 distinguished name after the prefix with
 * notation's rules, and matching a signing certificate's subject against them.
 * Spec: `specs/trust-store-trust-policy.md` §"Trusted Identities Constraints";
 * notation-go `verifier/trustpolicy` (`validateX509Identities`) and `internal/pkix`.
 */
import { ConfigurationError } from '../errors';

/** One parsed `x509.subject:` identity: attribute type (upper-case, e.g. `CN`, `O`, `ST`) → value. */
export interface X509Identity {
  rdns: Record<string, string>;
}

/** Parses the part after `x509.subject:`; throws ConfigurationError TRUST_POLICY_INVALID. */
export function parseX509Identity(value: string): X509Identity {
  throw new ConfigurationError('TRUST_POLICY_INVALID', `not implemented yet: ${value}`);
}

/** True when every RDN of at least one identity equals the same RDN of the leaf subject (subset match). */
export function matchesX509Identity(
  leafSubject: string | Record<string, string>,
  identities: X509Identity[],
): boolean {
  void leafSubject;
  void identities;
  return false;
}
