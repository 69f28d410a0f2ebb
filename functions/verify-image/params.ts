/**
 * The verify-image stage's inputs, parsed once at the boundary:
 *
 * - `UserParameters` (per job): which images (`image`, `images`, `signedImages`), which input
 *   artifact to read, `trustPolicyPath`, `maxSignatures`, `userMetadata`;
 * - the environment (per container, at cold start): `TRUST_POLICY`, `TRUST_POLICY_PARAMETER`,
 *   `TRUST_STORES`, `TRUST_STORES_PARAMETER`, `SIGNING_PROFILE_ARN`, `VERIFY_CONCURRENCY`,
 *   `ALLOW_ARTIFACT_TRUST_POLICY_SKIP`.
 *
 * A broken environment never throws at cold start (that would crash-loop the container and
 * leave every job unreported): {@link parseVerifyImageEnvironment} keeps the error and
 * {@link parseVerifyImageParams} throws it for each job, so every job gets a ConfigurationError
 * report naming the variable and the fix.
 */
import { ConfigurationError } from '../../shared/errors';
import { readSignedImages } from '../../shared/pipeline/handoff';
import { dedupeImages, IMAGE_SOURCE_KEYS, parseImageSourceParams } from '../../shared/pipeline/image-sources';
import type { ImageSource, ImageSourceParams } from '../../shared/pipeline/image-sources';
import { DEFAULT_MAX_SIGNATURES } from '../../shared/notary/verify-image-reference';
import { parseTrustPolicy } from '../../shared/notary/trust-policy';
import type { TrustPolicyDocument } from '../../shared/notary/trust-policy';
import { parseTrustStoresText } from './trust-stores-config';
import type { TrustStore } from '../../shared/notary/trust-store';

/** Error code of every bad UserParameters field of this stage. */
export const PARAM_INVALID = 'VERIFY_PARAMETERS_INVALID';
/** Error code of a bad environment variable (the template or the function configuration is wrong). */
const ENV_INVALID = 'VERIFY_ENVIRONMENT_INVALID';

/** Default number of images verified at the same time. */
const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 16;
/** Upper bound of `maxSignatures` (a runaway value would only cost time and registry requests). */
const MAX_MAX_SIGNATURES = 1000;

/** UserParameters keys of this stage besides the shared image-source keys. */
const STAGE_KEYS = ['signedImages', 'trustPolicyPath', 'maxSignatures', 'userMetadata'] as const;

/** Validated per-job parameters. */
export interface VerifyImageParams {
  /**
   * Which images: `image` / `images` / `imageFile` / `inputArtifact` (shared with the sign stage),
   * plus the sign stage's `signedImages` summary, appended to the UserParameters images.
   */
  imageSources: ImageSourceParams;
  /** A trust policy file inside the input artifact (wins over every other policy source). */
  trustPolicyPath?: string;
  /** notation's `--max-signatures`. */
  maxSignatures: number;
  /** notation's `--user-metadata`: payload annotations every accepted signature must carry. */
  userMetadata?: Record<string, string>;
}

/** What the environment configures, parsed at cold start. Errors are kept, not thrown. */
export interface VerifyImageEnvironment {
  /** `TRUST_POLICY` parsed and validated. */
  trustPolicy?: TrustPolicyDocument;
  /** `TRUST_POLICY_PARAMETER`: SSM parameter name holding the trust policy JSON. */
  trustPolicyParameter?: string;
  /** `TRUST_STORES` parsed (PEM per `type:name`). */
  trustStores: TrustStore[];
  /** `TRUST_STORES_PARAMETER`: SSM parameter name holding `TRUST_STORES`-format JSON. */
  trustStoresParameter?: string;
  /** `SIGNING_PROFILE_ARN`: the stack's signing profile, trusted by the default policy. */
  signingProfileArn?: string;
  /** `VERIFY_CONCURRENCY`: images verified at the same time. */
  concurrency: number;
  /**
   * `ALLOW_ARTIFACT_TRUST_POLICY_SKIP=true`: a trust policy from the input artifact
   * (`UserParameters.trustPolicyPath`) may contain statements that do not enforce authenticity
   * (level `skip` or `audit`, or an `authenticity` override). Dangerous: whoever controls the
   * source or build output then decides what passes. Default false.
   */
  allowArtifactTrustPolicySkip: boolean;
  /** The first configuration error found, reported on every job. */
  error?: ConfigurationError;
}

/**
 * Reads the stage's environment. Never throws: the first problem is kept in `error`, naming the
 * variable, so that each job reports it instead of the container failing to start.
 */
export function parseVerifyImageEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): VerifyImageEnvironment {
  const out: VerifyImageEnvironment = {
    trustStores: [],
    concurrency: DEFAULT_CONCURRENCY,
    allowArtifactTrustPolicySkip: false,
  };
  const keep = (error: unknown, variable: string, fix: string): void => {
    if (out.error) return;
    const reason = error instanceof Error ? error.message : String(error);
    out.error = new ConfigurationError(ENV_INVALID, `${variable} is invalid: ${reason}. ${fix}`, {
      cause: error,
    });
  };
  const text = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };

  const policy = text('TRUST_POLICY');
  if (policy !== undefined) {
    try {
      out.trustPolicy = parseTrustPolicy(policy);
    } catch (error) {
      keep(
        error,
        'TRUST_POLICY',
        'Set TRUST_POLICY to a notation trust policy document (JSON, version "1.0") or leave it empty.',
      );
    }
  }
  const policyParameter = text('TRUST_POLICY_PARAMETER');
  if (policyParameter !== undefined) {
    const problem = ssmNameProblem(policyParameter);
    if (problem)
      keep(
        new Error(problem),
        'TRUST_POLICY_PARAMETER',
        'Set it to the name of an SSM parameter, e.g. /stagesign/trust-policy.',
      );
    else out.trustPolicyParameter = policyParameter.trim();
  }
  const stores = text('TRUST_STORES');
  if (stores !== undefined) {
    try {
      out.trustStores = parseTrustStoresText(stores, 'TRUST_STORES');
    } catch (error) {
      keep(
        error,
        'TRUST_STORES',
        'Set TRUST_STORES to a JSON object mapping "signingAuthority:<name>" or "ca:<name>" to PEM certificates.',
      );
    }
  }
  const storesParameter = text('TRUST_STORES_PARAMETER');
  if (storesParameter !== undefined) {
    const problem = ssmNameProblem(storesParameter);
    if (problem)
      keep(
        new Error(problem),
        'TRUST_STORES_PARAMETER',
        'Set it to the name of an SSM parameter, e.g. /stagesign/trust-stores.',
      );
    else out.trustStoresParameter = storesParameter.trim();
  }
  const profile = text('SIGNING_PROFILE_ARN');
  if (profile !== undefined) {
    if (
      !/^arn:aws(-us-gov|-cn)?:signer:[a-z0-9-]+:\d{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,64}(\/[a-zA-Z0-9]+)?$/.test(
        profile.trim(),
      )
    ) {
      keep(
        new Error(`${JSON.stringify(profile)} is not an AWS Signer signing profile ARN`),
        'SIGNING_PROFILE_ARN',
        'Set it to a signing profile ARN such as arn:aws:signer:us-east-1:123456789012:/signing-profiles/my_profile.',
      );
    } else out.signingProfileArn = profile.trim();
  }
  const concurrency = text('VERIFY_CONCURRENCY');
  if (concurrency !== undefined) {
    const n = Number(concurrency);
    if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
      keep(
        new Error(`${JSON.stringify(concurrency)} is not an integer from 1 to ${MAX_CONCURRENCY}`),
        'VERIFY_CONCURRENCY',
        'Remove it or set a small integer.',
      );
    } else out.concurrency = n;
  }
  const allowSkip = text('ALLOW_ARTIFACT_TRUST_POLICY_SKIP');
  if (allowSkip !== undefined) {
    const v = allowSkip.trim().toLowerCase();
    if (v !== 'true' && v !== 'false') {
      keep(
        new Error(`${JSON.stringify(allowSkip)} is not "true" or "false"`),
        'ALLOW_ARTIFACT_TRUST_POLICY_SKIP',
        'Remove it (the safe default, false) or set "true" to let a trust policy in the input artifact skip verification.',
      );
    } else out.allowArtifactTrustPolicySkip = v === 'true';
  }
  return out;
}

/**
 * Validates `UserParameters` (a parsed JSON object, or undefined when the action sets none).
 * Throws the environment's configuration error first, then ConfigurationError
 * `VERIFY_PARAMETERS_INVALID` naming the field and showing the expected form. Images may also
 * come from the input artifact, so an empty `images` list is not an error here.
 */
export function parseVerifyImageParams(
  userParameters: Readonly<Record<string, unknown>> | undefined,
  environment: VerifyImageEnvironment,
): VerifyImageParams {
  if (environment.error) throw environment.error;
  const params = userParameters ?? {};
  const known: readonly string[] = [...IMAGE_SOURCE_KEYS, ...STAGE_KEYS];
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) {
      throw invalid(`UserParameters.${key} is not a parameter of verify-image (known: ${known.join(', ')})`);
    }
  }
  const base = parseImageSourceParams(params);
  const signed = params.signedImages === undefined ? [] : readSignedImagesParam(params.signedImages);
  const imageSources: ImageSourceParams =
    signed.length === 0 ? base : { ...base, images: dedupeImages([...base.images, ...signed]) };
  const out: VerifyImageParams = { imageSources, maxSignatures: DEFAULT_MAX_SIGNATURES };
  if (params.trustPolicyPath !== undefined) {
    const path = params.trustPolicyPath;
    if (
      typeof path !== 'string' ||
      path.trim() === '' ||
      path.startsWith('/') ||
      path.split('/').includes('..')
    ) {
      throw invalid(
        'UserParameters.trustPolicyPath must be a relative path inside the input artifact, e.g. "notation/trustpolicy.json"',
      );
    }
    out.trustPolicyPath = path.trim().replace(/^\.\//, '');
  }
  if (params.maxSignatures !== undefined) {
    const n = params.maxSignatures;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_MAX_SIGNATURES) {
      throw invalid(
        `UserParameters.maxSignatures must be an integer from 1 to ${MAX_MAX_SIGNATURES} (notation's default is ${DEFAULT_MAX_SIGNATURES})`,
      );
    }
    out.maxSignatures = n;
  }
  if (params.userMetadata !== undefined) {
    const m = params.userMetadata;
    if (
      typeof m !== 'object' ||
      m === null ||
      Array.isArray(m) ||
      Object.values(m).some((v) => typeof v !== 'string')
    ) {
      throw invalid('UserParameters.userMetadata must be an object of string values, e.g. {"buildId":"123"}');
    }
    out.userMetadata = { ...(m as Record<string, string>) };
  }
  return out;
}

/**
 * The form `UserParameters.signedImages` must be written in: the sign stage's variable unquoted,
 * so that after CodePipeline substitutes its text (a JSON array) UserParameters is still JSON.
 */
export const SIGNED_IMAGES_FORM = '{"signedImages": #{SignVariables.SIGNED_IMAGES}}';

/**
 * `signedImages` as the sign stage publishes it (`SIGNED_IMAGES`, read by the shared hand-off
 * reader), each entry parsed like `UserParameters.image` with messages naming its field, and
 * keeping its container `name`.
 */
function readSignedImagesParam(value: unknown): ImageSource[] {
  const field = 'UserParameters.signedImages';
  return readSignedImages(value, { field, form: SIGNED_IMAGES_FORM, code: PARAM_INVALID }).map((entry) => ({
    ...signedImage(entry.reference, `${field}[${entry.index}]`),
    ...(entry.name !== undefined ? { name: entry.name } : {}),
  }));
}

function signedImage(text: string, field: string): ImageSource {
  // The same validation as UserParameters.image, with messages naming this field.
  try {
    const [parsed] = parseImageSourceParams({ image: text }).images;
    return { ...parsed!, origin: field };
  } catch (error) {
    if (error instanceof ConfigurationError) {
      throw new ConfigurationError(error.code, error.message.replaceAll('UserParameters.image', field), {
        cause: error,
      });
    }
    throw error;
  }
}

function ssmNameProblem(name: string): string | undefined {
  const n = name.trim();
  if (n.startsWith('arn:')) return undefined;
  if (!/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(n))
    return `${JSON.stringify(name)} is not an SSM parameter name ([a-zA-Z0-9_.-/])`;
  return undefined;
}

function invalid(message: string): ConfigurationError {
  return new ConfigurationError(PARAM_INVALID, message);
}
