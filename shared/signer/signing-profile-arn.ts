/**
 * AWS Signer signing-profile ARNs, as the sign stage accepts them. Pure.
 *
 * Like the AWS Signer notation plugin (`generate-envelope`), signing needs a profile ARN,
 * `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`; a profile-version ARN
 * (`…/signing-profiles/<name>/<version>`) is rejected. Unlike the plugin, the region used for
 * SignPayload is the profile's own region, taken from the ARN.
 */
import { ConfigurationError } from '../errors';

export type AwsPartition = 'aws' | 'aws-us-gov' | 'aws-cn';

export interface SigningProfileArn {
  partition: AwsPartition;
  region: string;
  accountId: string;
  /** `[a-zA-Z0-9_]{2,64}` — what SignPayload's `profileName` accepts. */
  profileName: string;
  /** The ARN as given (validated). */
  arn: string;
}

const ARN_PATTERN =
  /^arn:(aws|aws-us-gov|aws-cn):signer:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):\/signing-profiles\/([^/]*)(?:\/([^/]*))?$/;
const PROFILE_NAME_PATTERN = /^[a-zA-Z0-9_]{2,64}$/;
const EXAMPLE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/my_profile';

/**
 * Parses and validates a signing-profile ARN. Throws ConfigurationError (code
 * `SIGNING_PROFILE_ARN_INVALID`, or `SIGNING_PROFILE_ARN_IS_VERSION` for a profile-version ARN)
 * quoting the ARN and showing the expected form.
 */
export function parseSigningProfileArn(arn: string): SigningProfileArn {
  const quoted = JSON.stringify(arn);
  if (typeof arn !== 'string' || arn.trim() === '') {
    throw new ConfigurationError(
      'SIGNING_PROFILE_ARN_INVALID',
      `the signing profile ARN is empty: set it to a signing profile ARN such as ${EXAMPLE}`,
    );
  }
  const match = ARN_PATTERN.exec(arn);
  if (!match) {
    throw new ConfigurationError(
      'SIGNING_PROFILE_ARN_INVALID',
      `${quoted} is not a valid AWS Signer signing profile ARN: expected arn:aws|aws-us-gov|aws-cn:signer:<region>:<12-digit account>:/signing-profiles/<name>, e.g. ${EXAMPLE}`,
    );
  }
  const [, partition, region, accountId, profileName, version] = match as unknown as [
    string,
    AwsPartition,
    string,
    string,
    string,
    string | undefined,
  ];
  // Name and partition first: a corrected ARN is suggested below only when it would itself pass.
  if (!PROFILE_NAME_PATTERN.test(profileName)) {
    throw new ConfigurationError(
      'SIGNING_PROFILE_ARN_INVALID',
      `${quoted} has an invalid signing profile name ${JSON.stringify(profileName)}: AWS Signer profile names are 2 to 64 characters of [a-zA-Z0-9_]; use the ARN of an existing profile, e.g. ${EXAMPLE}`,
    );
  }
  const regionPartition = partitionOfRegion(region);
  if (regionPartition !== partition) {
    throw new ConfigurationError(
      'SIGNING_PROFILE_ARN_INVALID',
      `${quoted} names region ${region}, which belongs to partition ${regionPartition}, not ${partition}`,
    );
  }
  const profileArn = `arn:${partition}:signer:${region}:${accountId}:/signing-profiles/${profileName}`;
  if (version === '') {
    throw new ConfigurationError(
      'SIGNING_PROFILE_ARN_INVALID',
      `${quoted} ends with "/" after the profile name; remove it: ${profileArn}`,
    );
  }
  if (version !== undefined) {
    throw new ConfigurationError(
      'SIGNING_PROFILE_ARN_IS_VERSION',
      `${quoted} is a signing profile version ARN; signing needs the signing profile ARN without the version, i.e. ${profileArn}`,
    );
  }
  return { partition, region, accountId, profileName, arn };
}

/** The partition a region belongs to (`us-gov-*` → aws-us-gov, `cn-*` → aws-cn, else aws). */
export function partitionOfRegion(region: string): AwsPartition {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}
