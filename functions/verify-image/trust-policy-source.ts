/**
 * Where the verify-image stage's trust policy and extra trust stores come from, in order:
 *
 * 1. `UserParameters.trustPolicyPath`: a notation trust policy file in the input artifact;
 * 2. `TRUST_POLICY`: the policy JSON in the environment (validated at cold start);
 * 3. `TRUST_POLICY_PARAMETER`: an SSM parameter holding the policy JSON;
 * 4. the default: trust the stack's own signing profile (`SIGNING_PROFILE_ARN`) for the
 *    repositories of the images being verified, at `strict`, with the built-in AWS Signer root.
 *
 * A policy from the input artifact is controlled by whoever controls the source or the build, so
 * it may only tighten the deployment's own policy (sources 2–4, whichever applies): every
 * statement must be at least as strict as the deployment statement it stands in for (same or
 * fewer trusted identities and trust stores, every check the deployment enforces enforced;
 * `shared/notary/trust-policy-tightening.ts`), else ConfigurationError `TRUST_POLICY_RELAXED`.
 * It must also enforce authenticity in every statement: level `skip` or `audit`, or an override
 * of `authenticity`, is refused unless the deployment opts in with
 * `ALLOW_ARTIFACT_TRUST_POLICY_SKIP=true` (which accepts exactly such statements, nothing else).
 * Policies from the environment or SSM are the deployment's own and may use any level.
 *
 * Trust stores: the built-in AWS Signer roots, plus `TRUST_STORES` and the SSM parameter named by
 * `TRUST_STORES_PARAMETER` next to them (a configured store may not take a built-in's name; between
 * the two configured sources, a store of the same `type:name` replaces an earlier one).
 */
import { ConfigurationError, isStagesignError } from '../../shared/errors';
import type { Reference } from '../../shared/oci/reference';
import { formatReference, isLayoutReference } from '../../shared/oci/reference';
import {
  AWS_SIGNER_TRUST_STORE_NAME,
  AWS_US_GOV_SIGNER_TRUST_STORE_NAME,
} from '../../shared/notary/aws-signer-roots';
import { parseTrustPolicy } from '../../shared/notary/trust-policy';
import type { TrustPolicyDocument } from '../../shared/notary/trust-policy';
import { findRelaxation, findUncoveredImage } from '../../shared/notary/trust-policy-tightening';
import { resolveActions } from '../../shared/notary/verification-levels';
import { TrustStoreSet } from '../../shared/notary/trust-store';
import type { VerifyImageEnvironment, VerifyImageParams } from './params';
import { parseTrustStoresText } from './trust-stores-config';

/** Reads SSM parameters (decrypted). Implementation: `SsmParameterReader`. */
export interface ParameterReader {
  read(name: string): Promise<string>;
}

/**
 * The reader of a function whose environment names no SSM parameter (neither
 * TRUST_POLICY_PARAMETER nor TRUST_STORES_PARAMETER): nothing reads one then, and if something
 * did, it fails rather than guess.
 */
export const NO_PARAMETERS: ParameterReader = {
  read: (name) =>
    Promise.reject(
      new ConfigurationError(
        'SSM_PARAMETER_NOT_CONFIGURED',
        `SSM parameter ${name} was asked for, but neither TRUST_POLICY_PARAMETER nor TRUST_STORES_PARAMETER is set. Set the one that names it.`,
      ),
    ),
};

/** A trust policy and a human description of where it came from (for the summary and errors). */
export interface ResolvedTrustPolicy {
  document: TrustPolicyDocument;
  source: string;
}

/** The name of the default policy's single statement. */
export const DEFAULT_POLICY_NAME = 'stagesign-default';

/** What {@link resolveTrustPolicy} needs. */
export interface TrustPolicySourceInput {
  params: Pick<VerifyImageParams, 'trustPolicyPath'>;
  environment: Pick<
    VerifyImageEnvironment,
    'trustPolicy' | 'trustPolicyParameter' | 'signingProfileArn' | 'allowArtifactTrustPolicySkip'
  >;
  /** The images being verified (scopes of the default policy). */
  images: readonly Reference[];
  /** Reads a file of the input artifact; `artifactName` is for messages. Absent when the action has none. */
  artifact?: { name: string; read(path: string): Uint8Array | undefined };
  parameters: ParameterReader;
}

/**
 * The trust policy for this job, from the first source that is configured (see the module
 * comment). Throws ConfigurationError naming the source and, for an invalid policy, notation's
 * message naming the statement and field.
 */
export async function resolveTrustPolicy(input: TrustPolicySourceInput): Promise<ResolvedTrustPolicy> {
  const { params, environment } = input;
  if (params.trustPolicyPath !== undefined) {
    const source = `trust policy file ${params.trustPolicyPath} of input artifact ${input.artifact?.name ?? '(none)'}`;
    if (input.artifact === undefined) {
      throw new ConfigurationError(
        'TRUST_POLICY_NOT_FOUND',
        `UserParameters.trustPolicyPath is ${JSON.stringify(params.trustPolicyPath)} but the action has no input artifact to read it from. Add the artifact holding the policy to the action's InputArtifacts.`,
      );
    }
    const bytes = input.artifact.read(params.trustPolicyPath);
    if (bytes === undefined) {
      throw new ConfigurationError(
        'TRUST_POLICY_NOT_FOUND',
        `UserParameters.trustPolicyPath: input artifact ${input.artifact.name} has no file ${params.trustPolicyPath}. Fix the path or add the file to the artifact.`,
      );
    }
    const document = parseFrom(new TextDecoder().decode(bytes), source);
    if (!environment.allowArtifactTrustPolicySkip) refuseUnenforcedAuthenticity(document, source);
    // No deployment policy: the deployment would refuse every image, so the artifact's policy
    // may only hold statements the opt-in accepts as they are.
    const deployment = (await deploymentTrustPolicy(input)) ?? {
      document: { version: '1.0', trustPolicies: [] },
      source:
        'no deployment trust policy (TRUST_POLICY, TRUST_POLICY_PARAMETER and SIGNING_PROFILE_ARN are unset)',
    };
    refuseRelaxation(document, source, deployment, input.images, environment.allowArtifactTrustPolicySkip);
    return { document, source };
  }
  const deployment = await deploymentTrustPolicy(input);
  if (deployment !== undefined) return deployment;
  throw new ConfigurationError(
    'TRUST_POLICY_MISSING',
    'No trust policy is configured: set UserParameters.trustPolicyPath, the TRUST_POLICY or TRUST_POLICY_PARAMETER environment variable, or SIGNING_PROFILE_ARN for the default policy that trusts that signing profile.',
  );
}

/** The deployment's own policy (TRUST_POLICY → SSM → default), or undefined when none is configured. */
async function deploymentTrustPolicy(
  input: TrustPolicySourceInput,
): Promise<ResolvedTrustPolicy | undefined> {
  const { environment } = input;
  if (environment.trustPolicy !== undefined)
    return { document: environment.trustPolicy, source: 'TRUST_POLICY' };
  if (environment.trustPolicyParameter !== undefined) {
    const source = `SSM parameter ${environment.trustPolicyParameter} (TRUST_POLICY_PARAMETER)`;
    const text = await input.parameters.read(environment.trustPolicyParameter);
    return { document: parseFrom(text, source), source };
  }
  if (environment.signingProfileArn !== undefined) {
    return {
      document: defaultTrustPolicy(environment.signingProfileArn, input.images),
      source: `the default policy (signing profile ${environment.signingProfileArn})`,
    };
  }
  return undefined;
}

/**
 * The default policy: one `strict` statement scoped to the images' repositories, trusting
 * `signingProfileArn` (any version of the profile) through the built-in AWS Signer root of the
 * profile's partition.
 */
export function defaultTrustPolicy(
  signingProfileArn: string,
  images: readonly Reference[],
): TrustPolicyDocument {
  const scopes: string[] = [];
  for (const image of images) {
    if (isLayoutReference(image)) {
      throw new ConfigurationError(
        'TRUST_POLICY_MISSING',
        `The default trust policy only covers registry images, not the OCI layout ${formatReference(image)}; configure a trust policy with "registryScopes": ["*"].`,
      );
    }
    const scope = `${image.registry}/${image.repository}`;
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  const store = signingProfileArn.startsWith('arn:aws-us-gov:')
    ? AWS_US_GOV_SIGNER_TRUST_STORE_NAME
    : AWS_SIGNER_TRUST_STORE_NAME;
  return parseTrustPolicy({
    version: '1.0',
    trustPolicies: [
      {
        name: DEFAULT_POLICY_NAME,
        registryScopes: scopes,
        signatureVerification: { level: 'strict' },
        trustStores: [`signingAuthority:${store}`],
        trustedIdentities: [signingProfileArn],
      },
    ],
  });
}

/** Error code of an input-artifact policy that would not enforce authenticity. */
export const TRUST_POLICY_SKIP_REFUSED = 'TRUST_POLICY_SKIP_REFUSED';

/**
 * Throws ConfigurationError {@link TRUST_POLICY_SKIP_REFUSED} when a statement of `document` does
 * not enforce authenticity (level `skip` or `audit`, or an `authenticity` override), naming the
 * statement and both fixes.
 */
function refuseUnenforcedAuthenticity(document: TrustPolicyDocument, source: string): void {
  for (const statement of document.trustPolicies) {
    const { level, override } = statement.signatureVerification;
    const action = resolveActions(statement).authenticity;
    if (action === 'enforce') continue;
    const how =
      override?.authenticity !== undefined
        ? `overrides "authenticity" to "${override.authenticity}"`
        : `sets level "${level}"`;
    throw new ConfigurationError(
      TRUST_POLICY_SKIP_REFUSED,
      `The ${source}: trust policy statement "${statement.name}" ${how}, so images would pass without an authentic signature, and a policy in the input artifact is controlled by whoever controls the source or build. Use level "strict" or "permissive" in that statement, move the policy to TRUST_POLICY or TRUST_POLICY_PARAMETER, or (dangerous) set ALLOW_ARTIFACT_TRUST_POLICY_SKIP=true on the function.`,
    );
  }
}

/** Error code of an input-artifact policy that would relax the deployment's own policy. */
export const TRUST_POLICY_RELAXED = 'TRUST_POLICY_RELAXED';

/**
 * Throws ConfigurationError {@link TRUST_POLICY_RELAXED} when a statement of the artifact's
 * `document` is less strict than the deployment statement it stands in for
 * (`shared/notary/trust-policy-tightening.ts`), or verifies an image of this job the deployment's
 * policy has no statement for; names the statement, the deployment's statement and what relaxes.
 */
function refuseRelaxation(
  document: TrustPolicyDocument,
  source: string,
  deployment: ResolvedTrustPolicy,
  images: readonly Reference[],
  allowUnenforcedAuthenticity: boolean,
): void {
  const references = images.filter((i) => !isLayoutReference(i)).map((i) => formatReference(i));
  const relaxation =
    findRelaxation(document, deployment.document, { allowUnenforcedAuthenticity }) ??
    findUncoveredImage(document, deployment.document, references, { allowUnenforcedAuthenticity });
  if (relaxation === undefined) return;
  const against =
    relaxation.deploymentStatement !== undefined
      ? `statement "${relaxation.deploymentStatement}" of ${deployment.source}`
      : deployment.source;
  throw new ConfigurationError(
    TRUST_POLICY_RELAXED,
    `The ${source}: trust policy statement "${relaxation.statement}" ${relaxation.relaxes}; compared with ${against}. A trust policy in the input artifact may only tighten the deployment's own policy: make that statement at least as strict, or change the deployment's policy (TRUST_POLICY or TRUST_POLICY_PARAMETER).`,
  );
}

/**
 * The built-in AWS Signer stores plus the configured ones (`TRUST_STORES`, then the SSM parameter
 * named by `TRUST_STORES_PARAMETER`), which may not use a built-in store's name.
 * `builtIn` is the pinned AWS Signer roots; only tests pass another set (configuration cannot).
 */
export async function resolveTrustStores(
  environment: Pick<VerifyImageEnvironment, 'trustStores' | 'trustStoresParameter'>,
  parameters: ParameterReader,
  builtIn: TrustStoreSet = TrustStoreSet.builtIn(),
): Promise<TrustStoreSet> {
  let set = builtIn.with(...environment.trustStores);
  if (environment.trustStoresParameter !== undefined) {
    const source = `SSM parameter ${environment.trustStoresParameter} (TRUST_STORES_PARAMETER)`;
    set = set.with(...parseTrustStoresText(await parameters.read(environment.trustStoresParameter), source));
  }
  return set;
}

function parseFrom(text: string, source: string): TrustPolicyDocument {
  try {
    return parseTrustPolicy(text);
  } catch (error) {
    if (isStagesignError(error)) {
      throw new ConfigurationError(error.code, `The ${source} is invalid: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
