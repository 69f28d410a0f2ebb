/**
 * The sign-image stage's parameters: `UserParameters` (JSON object) plus the function's
 * environment, parsed once and validated. Unknown keys are refused so a typo (`forceResing`)
 * does not silently change nothing.
 *
 * | UserParameters key      | meaning                                                                |
 * | ----------------------- | ---------------------------------------------------------------------- |
 * | `image` / `images`      | references to sign (tags are resolved; the digest is signed)           |
 * | `imageFile`             | path in the input artifact (default: imagedefinitions.json, then imageDetail.json) |
 * | `inputArtifact`         | which input artifact holds it (default: the only one)                  |
 * | `signingProfileArn`     | overrides the environment's `SIGNING_PROFILE_ARN`                      |
 * | `forceResign`           | sign again even when a reusable signature exists (default false)      |
 * | `signatureFormat`       | `oci-1.1` (default) or `legacy` (notation CLI 1.x manifest shape)      |
 * | `signPlatformManifests` | for an image index, also sign every platform manifest (default false) |
 * | `userMetadata`          | `{"key":"value"}` signed into the payload, as `notation sign -m key=value` |
 */
import { ConfigurationError } from '../../shared/errors';
import type { SignatureManifestShape } from '../../shared/notary/signature-manifest';
import { IMAGE_SOURCE_KEYS, parseImageSourceParams } from '../../shared/pipeline/image-sources';
import type { ImageSourceParams } from '../../shared/pipeline/image-sources';
import { parseSigningProfileArn } from '../../shared/signer/signing-profile-arn';
import type { SigningProfileArn } from '../../shared/signer/signing-profile-arn';

/** The environment variable the template sets from its `AWS::Signer::SigningProfile`. */
export const SIGNING_PROFILE_ARN_ENV = 'SIGNING_PROFILE_ARN';

/** Validated parameters of one sign-image job. */
export interface SignImageParams {
  readonly sources: ImageSourceParams;
  readonly profile: SigningProfileArn;
  /** Where the profile ARN came from, for messages. */
  readonly profileSource: 'UserParameters.signingProfileArn' | typeof SIGNING_PROFILE_ARN_ENV;
  readonly force: boolean;
  readonly shape: SignatureManifestShape;
  readonly signPlatformManifests: boolean;
  /** Signed into the payload's annotations (`notation sign -m`); absent when not given. */
  readonly userMetadata?: Readonly<Record<string, string>>;
}

const STAGE_KEYS = [
  'signingProfileArn',
  'forceResign',
  'signatureFormat',
  'signPlatformManifests',
  'userMetadata',
] as const;
const KNOWN_KEYS: ReadonlySet<string> = new Set<string>([...IMAGE_SOURCE_KEYS, ...STAGE_KEYS]);
const SHAPES: readonly SignatureManifestShape[] = ['oci-1.1', 'legacy'];

/**
 * The function's environment, parsed once at cold start: `SIGNING_PROFILE_ARN` parsed, or why it
 * is unusable (missing or malformed), kept to be thrown by each job that needs it.
 */
export type SignImageEnvironment =
  { readonly signingProfile: SigningProfileArn } | { readonly error: ConfigurationError };

/**
 * Reads the stage's environment. Never throws (that would crash-loop the container and leave
 * every job unreported): the problem is kept and {@link parseSignImageParams} throws it for each
 * job that has no `UserParameters.signingProfileArn` of its own.
 */
export function parseSignImageEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): SignImageEnvironment {
  const fromEnv = env[SIGNING_PROFILE_ARN_ENV];
  if (fromEnv === undefined || fromEnv.trim() === '') {
    return {
      error: new ConfigurationError(
        'SIGNING_PROFILE_MISSING',
        `No signing profile: the function's ${SIGNING_PROFILE_ARN_ENV} environment variable is not set and UserParameters has no signingProfileArn. Deploy with template.yaml (it sets ${SIGNING_PROFILE_ARN_ENV} from its signing profile) or set UserParameters.signingProfileArn.`,
      ),
    };
  }
  try {
    return { signingProfile: profileFrom(fromEnv, SIGNING_PROFILE_ARN_ENV) };
  } catch (error) {
    if (error instanceof ConfigurationError) return { error };
    throw error;
  }
}

/**
 * Parses `UserParameters` against the environment parsed at cold start. Throws ConfigurationError
 * naming the field: an unknown key, a wrong type, a signing profile ARN that is missing, a
 * version ARN or malformed.
 */
export function parseSignImageParams(
  userParameters: Readonly<Record<string, unknown>> | undefined,
  environment: SignImageEnvironment,
): SignImageParams {
  const up = userParameters ?? {};
  const unknown = Object.keys(up).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      'USER_PARAMETERS_UNKNOWN_KEY',
      `UserParameters has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the sign-image stage accepts ${[...KNOWN_KEYS].join(', ')}.`,
    );
  }
  const sources = parseImageSourceParams(up);

  let profile: SigningProfileArn;
  let profileSource: SignImageParams['profileSource'];
  if (up.signingProfileArn !== undefined) {
    if (typeof up.signingProfileArn !== 'string') {
      throw new ConfigurationError(
        'SIGNING_PROFILE_ARN_INVALID',
        `UserParameters.signingProfileArn must be a string such as arn:aws:signer:us-east-1:123456789012:/signing-profiles/my_profile.`,
      );
    }
    profileSource = 'UserParameters.signingProfileArn';
    profile = profileFrom(up.signingProfileArn, profileSource);
  } else {
    if ('error' in environment) throw environment.error;
    profile = environment.signingProfile;
    profileSource = SIGNING_PROFILE_ARN_ENV;
  }

  return {
    sources,
    profile,
    profileSource,
    force: optionalBoolean(up.forceResign, 'UserParameters.forceResign'),
    shape: parseShape(up.signatureFormat),
    signPlatformManifests: optionalBoolean(up.signPlatformManifests, 'UserParameters.signPlatformManifests'),
    ...(up.userMetadata !== undefined ? { userMetadata: parseUserMetadata(up.userMetadata) } : {}),
  };
}

/** parseSigningProfileArn, its error naming where the ARN came from. */
function profileFrom(arn: string, source: SignImageParams['profileSource']): SigningProfileArn {
  try {
    return parseSigningProfileArn(arn);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new ConfigurationError(error.code, `${source}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function parseUserMetadata(value: unknown): Record<string, string> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== 'string')
  ) {
    throw new ConfigurationError(
      'USER_PARAMETERS_INVALID',
      `UserParameters.userMetadata must be an object of string values, e.g. {"buildId":"123"}, but is ${JSON.stringify(value)}.`,
    );
  }
  return { ...(value as Record<string, string>) };
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  // Pipeline variables resolve to strings: accept "true"/"false" spelled out.
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ConfigurationError(
    'USER_PARAMETERS_INVALID',
    `${field} must be true or false, but is ${JSON.stringify(value)}.`,
  );
}

function parseShape(value: unknown): SignatureManifestShape {
  if (value === undefined) return 'oci-1.1';
  if (typeof value === 'string' && (SHAPES as readonly string[]).includes(value))
    return value as SignatureManifestShape;
  throw new ConfigurationError(
    'USER_PARAMETERS_INVALID',
    `UserParameters.signatureFormat must be "oci-1.1" (OCI 1.1 artifactType manifest, the default) or "legacy" (notation CLI 1.x shape), but is ${JSON.stringify(value)}.`,
  );
}
