/**
 * notation's exact user-facing texts (notary-and-signer.md §5 and §1.3), as functions. Tests and
 * the CodePipeline failure mapping depend on error codes, never on these strings; these exist so a
 * user who knows `notation verify` recognises every line.
 */
import type { ValidationType } from './verification-levels';
import { goQuote } from './x509-identity';

export const AWS_SIGNER_PLUGIN = 'com.amazonaws.signer.notation.plugin';

/** `notation verify` success line. */
export function verifiedMessage(ref: string): string {
  return `Successfully verified signature for ${ref}`;
}

/** Printed when the statement's level is `skip` (signatures are not even fetched). */
export function skipMessage(ref: string): string {
  return `Trust policy is configured to skip signature verification for ${ref}`;
}

/** notation-go `ErrorSignatureRetrievalFailed` when no signature exists; no space before the comma. */
export function noSignatureMessage(ref: string): string {
  return `no signature is associated with "${ref}", make sure the artifact was signed successfully`;
}

/** notation-go `ErrorVerificationFailed` when every signature failed. */
export function allSignaturesFailedMessage(ref: string): string {
  return `signature verification failed for all the signatures associated with ${ref}`;
}

/** The per-signature line notation prints with `-v`. */
export function signatureFailedMessage(signatureDigest: string, error: string): string {
  return `Signature ${signatureDigest} failed verification with error: ${error}`;
}

/** A logged (not enforced) failure, printed as a warning on success. */
export function loggedFailureWarning(type: ValidationType, error: string): string {
  return `Warning: ${type} was set to "log" and failed with error: ${error}`;
}

/** `--max-signatures` exceeded. */
export function maxSignaturesExceededMessage(max: number): string {
  return `signature evaluation stopped. The configured limit of ${max} signatures to verify per artifact exceeded`;
}

/** An envelope blob that could not be fetched aborts the whole verification. */
export function signatureRetrievalFailedMessage(signatureDigest: string, ref: string, error: string): string {
  return `unable to retrieve digital signature with digest "${signatureDigest}" associated with "${ref}" from the Repository, error : ${error}`;
}

/** Layer media type other than JWS (COSE included: AWS Signer emits JWS only). */
export function unsupportedEnvelopeMessage(mediaType: string): string {
  return `unable to parse the digital signature, error : signature envelope format with media type "${mediaType}" is not supported`;
}

/** notation-core-go `InvalidSignatureError`. */
export function signatureInvalidMessage(detail: string): string {
  return `signature is invalid. Error: ${detail}`;
}

/** notation-core-go `MalformedSignatureError`. */
export function signatureMalformedMessage(detail: string): string {
  return `signature envelope format is malformed. error: ${detail}`;
}

export function pluginNotFoundMessage(plugin: string): string {
  return `error while locating the verification plugin "${plugin}", make sure the plugin is installed successfully before verifying the signature. error: plugin not found`;
}

export function pluginMinVersionMessage(plugin: string, installed: string, required: string): string {
  return `found plugin ${plugin} with version ${installed} but signature verification needs plugin version greater than or equal to ${required}`;
}

/** A plugin *error* (not a failed result): always fatal. */
export function pluginErrorMessage(plugin: string, error: string): string {
  return `failed to verify with plugin ${plugin}: ${error}`;
}

/** The typo "identify" is upstream (notation-go `processPluginResponse`). */
export function pluginTrustedIdentityFailedMessage(plugin: string, reason: string): string {
  return `trusted identify verification by plugin "${plugin}" failed with reason "${reason}"`;
}

export function pluginRevocationFailedMessage(plugin: string, reason: string): string {
  return `revocation check by verification plugin "${plugin}" failed with reason "${reason}"`;
}

export function unprocessedAttributeMessage(key: string, plugin: string): string {
  return `extended critical attribute "${key}" was not processed by the verification plugin "${plugin}" (all extended critical attributes must be processed by the verification plugin)`;
}

/**
 * stagesign's own rule, stricter than notation (which checks processed attributes only when a
 * plugin is named): a critical header that no verification plugin processes fails, per RFC 7515.
 */
export function criticalAttributeWithoutPluginMessage(key: string): string {
  return `extended critical attribute ${goQuote(key)} is not supported without a verification plugin: stagesign rejects critical headers it does not understand (RFC 7515 "crit"), although notation would ignore it`;
}

export const AWS_WILDCARD_IDENTITY =
  'The AWSSigner plugin does not support wildcard identity in the trust policy.';
export const AWS_IDENTITY_MISMATCH = "Signature publisher doesn't match any trusted identities.";
export const AWS_NOT_REVOKED = 'Signature is not revoked.';

export function awsIdentityMatchedReason(identity: string): string {
  return `Signature publisher matched "${identity}" trusted identity.`;
}

export function awsRevocationCallFailedReason(error: string): string {
  return `GetRevocationStatus call failed with error: ${error}`;
}

export const NO_TRUSTED_CERTIFICATES = 'no trusted certificates are found to verify authenticity';
export const CHAIN_NOT_TRUSTED = "the signature's certificate chain does not contain any trusted certificate";

export function x509IdentityMismatchMessage(
  identities: Array<Record<string, string>>,
  policyName: string,
): string {
  // Go prints []map[string]string as [map["C":"IN" "CN":"LOL"]] with sorted keys and %q values.
  const maps = identities.map(
    (rdns) =>
      `map[${Object.keys(rdns)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${JSON.stringify(rdns[k])}`)
        .join(' ')}]`,
  );
  return `signing certificate from the digital signature does not match the X.509 trusted identities [${maps.join(' ')}] defined in the trust policy "${policyName}"`;
}

export function signatureExpiredMessage(rfc1123z: string): string {
  return `digital signature has expired on "${rfc1123z}"`;
}

export function certNotValidAtSigningTimeMessage(subject: string, rfc1123z: string): string {
  return `certificate ${goQuote(subject)} was not valid when the digital signature was produced at "${rfc1123z}"`;
}

/** notary.x509 without timestamp verification: every certificate must be valid now (notation-go `verifyTimestamp`). */
export function certExpiredMessage(subject: string, rfc1123z: string): string {
  return `verification time is after certificate ${goQuote(subject)} validity period, it was expired at "${rfc1123z}"`;
}

export function certNotYetValidMessage(subject: string, rfc1123z: string): string {
  return `verification time is before certificate ${goQuote(subject)} validity period, it will be valid from "${rfc1123z}"`;
}

/** notation-go `verifyTimestamp` when a `tsa` store is configured and the envelope has no countersignature. */
export const NO_TIMESTAMP_COUNTERSIGNATURE =
  'no timestamp countersignature was found in the signature envelope';

/** stagesign does not verify RFC 3161 countersignatures; notation would, so a `tsa` policy fails closed. */
export const TIMESTAMP_VERIFICATION_UNSUPPORTED =
  'timestamp countersignature verification is not supported by stagesign: the trust policy names a "tsa" trust store, so notation would verify the RFC 3161 countersignature; remove the tsa store from the policy, or set "verifyTimestamp" to "afterCertExpiry" while the signing certificates are valid';

/** notation-go truststore `GetCertificates` for a store the policy names but that does not exist. */
export function trustStoreNotFoundMessage(name: string, type: string): string {
  return `the trust store ${goQuote(name)} of type ${goQuote(type)} does not exist`;
}

/** notation-go `verifyX509TrustedIdentities` when the leaf subject is not a DN notation accepts. */
export function leafSubjectUnparsableMessage(error: string): string {
  return `error while parsing the certificate subject from the digital signature. error : ${goQuote(error)}`;
}

export const CONTENT_DESCRIPTOR_MISMATCH = 'content descriptor mismatch';
export const USER_METADATA_MISMATCH = 'unable to find specified metadata in the signature';
