/**
 * notation's exact user-facing texts (notary-and-signer.md §5 and §1.3), as functions. Tests and
 * the CodePipeline failure mapping depend on error codes, never on these strings; these exist so a
 * user who knows `notation verify` recognises every line.
 *
 * Each text names its source file (re-checked against notation v1.3 / notation-go v1.3 for issue
 * 10): `notation:` is github.com/notaryproject/notation, `notation-go:` and `notation-core-go:` the
 * libraries, `plugin:` the AWS Signer notation plugin (aws-signer-notation-plugin).
 */
import type { ValidationType } from './verification-levels';
import { goQuote } from './x509-identity';

export const AWS_SIGNER_PLUGIN = 'com.amazonaws.signer.notation.plugin';

/** `notation verify` success line. Source: notation `cmd/notation/verify.go` (`internal/display/.../text/verify.go` in v1.3). */
export function verifiedMessage(ref: string): string {
  return `Successfully verified signature for ${ref}`;
}

/** Printed when the statement's level is `skip` (signatures are not even fetched). Source: notation `cmd/notation/verify.go`. */
export function skipMessage(ref: string): string {
  return `Trust policy is configured to skip signature verification for ${ref}`;
}

/** notation-go `ErrorSignatureRetrievalFailed` when no signature exists; no space before the comma. Source: notation-go `notation.go` (`Verify`). */
export function noSignatureMessage(ref: string): string {
  return `no signature is associated with "${ref}", make sure the artifact was signed successfully`;
}

/** notation-go `ErrorVerificationFailed` when every signature failed. Source: notation-go `notation.go` (`Verify`). */
export function allSignaturesFailedMessage(ref: string): string {
  return `signature verification failed for all the signatures associated with ${ref}`;
}

/** The per-signature line notation prints with `-v`. Source: notation-go `notation.go` (`Verify`, logged per failed signature). */
export function signatureFailedMessage(signatureDigest: string, error: string): string {
  return `Signature ${signatureDigest} failed verification with error: ${error}`;
}

/** A logged (not enforced) failure, printed as a warning on success. Source: notation `cmd/notation/verify.go` (`printMetadataIfPresent` / warnings of `VerificationResults`). */
export function loggedFailureWarning(type: ValidationType, error: string): string {
  return `Warning: ${type} was set to "log" and failed with error: ${error}`;
}

/** `--max-signatures` exceeded. Source: notation-go `notation.go` (`Verify`). */
export function maxSignaturesExceededMessage(max: number): string {
  return `signature evaluation stopped. The configured limit of ${max} signatures to verify per artifact exceeded`;
}

/** An envelope blob that could not be fetched aborts the whole verification. Source: notation-go `notation.go` (`Verify`, `FetchSignatureBlob` error). */
export function signatureRetrievalFailedMessage(signatureDigest: string, ref: string, error: string): string {
  return `unable to retrieve digital signature with digest "${signatureDigest}" associated with "${ref}" from the Repository, error : ${error}`;
}

/**
 * An envelope media type notation-go cannot parse: that signature fails integrity and the next one
 * is tried. Sources: notation-go `verifier/verifier.go` (`verifyIntegrity`: "unable to parse the
 * digital signature, error : %s") around notation-core-go `signature/errors.go`
 * (`UnsupportedSignatureFormatError`).
 */
export function unsupportedEnvelopeMessage(mediaType: string): string {
  return `unable to parse the digital signature, error : signature envelope format with media type "${mediaType}" is not supported`;
}

/** notation-core-go `InvalidSignatureError`. Source: notation-core-go `signature/errors.go`. */
export function signatureInvalidMessage(detail: string): string {
  return `signature is invalid. Error: ${detail}`;
}

/** notation-core-go `MalformedSignatureError`. Source: notation-core-go `signature/errors.go`. */
export function signatureMalformedMessage(detail: string): string {
  return `signature envelope format is malformed. error: ${detail}`;
}

/** Source: notation-go `verifier/verifier.go` (`processSignature`, plugin lookup). */
export function pluginNotFoundMessage(plugin: string): string {
  return `error while locating the verification plugin "${plugin}", make sure the plugin is installed successfully before verifying the signature. error: plugin not found`;
}

/** Source: notation-go `verifier/verifier.go` (`processSignature`, `isRequiredVerificationPluginVer`). */
export function pluginMinVersionMessage(plugin: string, installed: string, required: string): string {
  return `found plugin ${plugin} with version ${installed} but signature verification needs plugin version greater than or equal to ${required}`;
}

/** A plugin *error* (not a failed result): always fatal. Source: notation-go `verifier/verifier.go` (`executePlugin`). */
export function pluginErrorMessage(plugin: string, error: string): string {
  return `failed to verify with plugin ${plugin}: ${error}`;
}

/** The typo "identify" is upstream. Source: notation-go `verifier/verifier.go` (`processPluginResponse`). */
export function pluginTrustedIdentityFailedMessage(plugin: string, reason: string): string {
  return `trusted identify verification by plugin "${plugin}" failed with reason "${reason}"`;
}

/** Source: notation-go `verifier/verifier.go` (`processPluginResponse`). */
export function pluginRevocationFailedMessage(plugin: string, reason: string): string {
  return `revocation check by verification plugin "${plugin}" failed with reason "${reason}"`;
}

/** Source: notation-go `verifier/verifier.go` (`processPluginResponse`, processed attributes). */
export function unprocessedAttributeMessage(key: string, plugin: string): string {
  return `extended critical attribute "${key}" was not processed by the verification plugin "${plugin}" (all extended critical attributes must be processed by the verification plugin)`;
}

/**
 * stagesign's own text (no notation source). stagesign's own rule, stricter than notation (which checks processed attributes only when a
 * plugin is named): a critical header that no verification plugin processes fails, per RFC 7515.
 */
export function criticalAttributeWithoutPluginMessage(key: string): string {
  return `extended critical attribute ${goQuote(key)} is not supported without a verification plugin: stagesign rejects critical headers it does not understand (RFC 7515 "crit"), although notation would ignore it`;
}

/** Sources of the three texts below and the two reasons after them: AWS Signer plugin `internal/verify` (verify.go). */
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

/** Source: notation-go `verifier/verifier.go` (`verifyAuthenticity`). */
export const NO_TRUSTED_CERTIFICATES = 'no trusted certificates are found to verify authenticity';
/** Source: notation-core-go `signature/signer.go` (`VerifyAuthenticity`, `SignatureAuthenticityError`). */
export const CHAIN_NOT_TRUSTED = "the signature's certificate chain does not contain any trusted certificate";

/** Source: notation-go `verifier/verifier.go` (`verifyX509TrustedIdentities`). */
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

/** Source: notation-go `verifier/verifier.go` (`verifyExpiry`). */
export function signatureExpiredMessage(rfc1123z: string): string {
  return `digital signature has expired on "${rfc1123z}"`;
}

/** Source: notation-go `verifier/verifier.go` (`verifyAuthenticTimestamp`, notary.signingAuthority). */
export function certNotValidAtSigningTimeMessage(subject: string, rfc1123z: string): string {
  return `certificate ${goQuote(subject)} was not valid when the digital signature was produced at "${rfc1123z}"`;
}

/** notary.x509 without timestamp verification: every certificate must be valid now. Source: notation-go `verifier/verifier.go` (`verifyTimestamp`). */
export function certExpiredMessage(subject: string, rfc1123z: string): string {
  return `verification time is after certificate ${goQuote(subject)} validity period, it was expired at "${rfc1123z}"`;
}

/** Source: notation-go `verifier/verifier.go` (`verifyTimestamp`). */
export function certNotYetValidMessage(subject: string, rfc1123z: string): string {
  return `verification time is before certificate ${goQuote(subject)} validity period, it will be valid from "${rfc1123z}"`;
}

/** When a `tsa` store is configured and the envelope has no countersignature. Source: notation-go `verifier/verifier.go` (`verifyTimestamp`). */
export const NO_TIMESTAMP_COUNTERSIGNATURE =
  'no timestamp countersignature was found in the signature envelope';

/** stagesign's own text (no notation source): stagesign does not verify RFC 3161 countersignatures; notation would, so a `tsa` policy fails closed. */
export const TIMESTAMP_VERIFICATION_UNSUPPORTED =
  'timestamp countersignature verification is not supported by stagesign: the trust policy names a "tsa" trust store, so notation would verify the RFC 3161 countersignature; remove the tsa store from the policy, or set "verifyTimestamp" to "afterCertExpiry" while the signing certificates are valid';

/** For a store the policy names but that does not exist. Source: notation-go `verifier/truststore/truststore.go` (`GetCertificates`). */
export function trustStoreNotFoundMessage(name: string, type: string): string {
  return `the trust store ${goQuote(name)} of type ${goQuote(type)} does not exist`;
}

/** When the leaf subject is not a DN notation accepts. Source: notation-go `verifier/verifier.go` (`verifyX509TrustedIdentities`). */
export function leafSubjectUnparsableMessage(error: string): string {
  return `error while parsing the certificate subject from the digital signature. error : ${goQuote(error)}`;
}

/** Source: notation-go `verifier/verifier.go` (`Verify`, target artifact check). */
export const CONTENT_DESCRIPTOR_MISMATCH = 'content descriptor mismatch';
/** Source: notation-go `errors.go` (`ErrorUserMetadataVerificationFailed`), raised by `verifier/verifier.go` `verifyUserMetadata`. */
export const USER_METADATA_MISMATCH = 'unable to find specified metadata in the signature';
