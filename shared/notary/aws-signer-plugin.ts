/**
 * The AWS Signer Notation plugin's (`com.amazonaws.signer.notation.plugin`) verification semantics,
 * reproduced natively (spec "Guidelines for implementations"; aws-signer-notation-plugin
 * `internal/verifier/verifier.go`, notary-and-signer.md §1.3): ARN trusted identities and the
 * revocation question. Pure: the revocation call itself goes through `RevocationChecker`.
 */
import type { RevocationQuery } from './types';
import { compositeCertificateHashes } from './revocation-hashes';
import { AWS_IDENTITY_MISMATCH, AWS_NOT_REVOKED, awsIdentityMatchedReason } from './messages';

export const AWS_PROFILE_VERSION_ATTRIBUTE = 'com.amazonaws.signer.signingProfileVersion';
export const AWS_SIGNING_JOB_ATTRIBUTE = 'com.amazonaws.signer.signingJob';
/** The attributes the plugin reports as processed; any other extended attribute fails verification. */
export const AWS_PROCESSED_ATTRIBUTES: readonly string[] = [
  AWS_PROFILE_VERSION_ATTRIBUTE,
  AWS_SIGNING_JOB_ATTRIBUTE,
];

/** An ARN split like aws-sdk-go-v2 `arn.Parse`. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/** Parses `arn:partition:service:region:account:resource`; undefined when it is not an ARN. */
export function parseArn(value: string): Arn | undefined {
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition = '', service = '', region = '', accountId = ''] = parts;
  return { partition, service, region, accountId, resource: parts.slice(5).join(':') };
}

export type IdentityMatch =
  { matched: true; identity: string; reason: string } | { matched: false; reason: string };

/**
 * The plugin's TRUSTED_IDENTITY check: each identity that is a signer ARN for `/signing-profiles/`
 * matches when it equals the signature's profile-version ARN (4-part resource) or that ARN without
 * its version (3-part resource), case-insensitively. Other entries (x509.subject:…) are ignored.
 * The caller rejects `*` first (a plugin error, not a mismatch).
 */
export function matchAwsTrustedIdentity(
  profileVersionArn: string,
  trustedIdentities: readonly string[],
): IdentityMatch {
  // The plugin strips the version after the last '/'; without one, no profile ARN can match.
  const slash = profileVersionArn.lastIndexOf('/');
  const profileArn = slash === -1 ? undefined : profileVersionArn.slice(0, slash);
  for (const identity of trustedIdentities) {
    const arn = parseArn(identity);
    if (!arn || arn.service !== 'signer' || !arn.resource.startsWith('/signing-profiles/')) continue;
    const parts = arn.resource.split('/');
    const candidate = parts.length === 3 ? profileArn : parts.length === 4 ? profileVersionArn : undefined;
    if (candidate !== undefined && candidate.toLowerCase() === identity.toLowerCase()) {
      return { matched: true, identity, reason: awsIdentityMatchedReason(identity) };
    }
  }
  return { matched: false, reason: AWS_IDENTITY_MISMATCH };
}

/** The GetRevocationStatus question for an AWS signature; the region is the one in the ARNs. */
export function awsRevocationQuery(input: {
  certificateChain: Uint8Array[];
  jobArn: string;
  profileVersionArn: string;
  authenticSigningTime: Date;
}): RevocationQuery {
  const region = parseArn(input.jobArn)?.region || parseArn(input.profileVersionArn)?.region || '';
  return {
    certificateHashes: compositeCertificateHashes(input.certificateChain),
    jobArn: input.jobArn,
    profileVersionArn: input.profileVersionArn,
    platformId: 'Notation-OCI-SHA384-ECDSA',
    signatureTimestamp: input.authenticSigningTime,
    region,
  };
}

/** The plugin's reason for a `revokedEntities` answer; undefined when nothing is revoked. */
export function revokedReason(revokedEntities: readonly string[]): string | undefined {
  if (revokedEntities.length === 0) return undefined;
  const arns = revokedEntities.filter((e) => e.startsWith('arn'));
  const others = revokedEntities.length - arns.length;
  let reason = arns.length > 0 ? `Resource(s) ${arns.join(', ')} have been revoked.` : '';
  if (others > 0)
    reason = reason ? `${reason} Certificate(s) have been revoked.` : 'Certificate(s) have been revoked.';
  return reason;
}

export { AWS_NOT_REVOKED };
