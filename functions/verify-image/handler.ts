/**
 * The verify-image Lambda: wiring only (architecture.md §7). At cold start the environment is
 * parsed once (an invalid one is kept and reported on every job, never thrown here) and the
 * clients are built; the stage itself is `verify-image.ts`.
 */
import { createSsmClient, SsmParameterReader } from '../../shared/aws/ssm-parameter-reader';
import { createLogger } from '../../shared/log';
import { lambdaRegistry } from '../../shared/oci/lambda-registry';
import { pipelineAction } from '../../shared/pipeline/action';
import { S3ArtifactStore } from '../../shared/pipeline/s3-artifact-store';
import { AwsSignerRevocationChecker } from '../../shared/signer/aws-signer-revocation-checker';
import { parseVerifyImageEnvironment } from './params';
import { NO_PARAMETERS } from './trust-policy-source';
import type { ParameterReader } from './trust-policy-source';
import { verifyImageAction } from './verify-image';
import type { VerifyImageDeps } from './verify-image';

const environment = parseVerifyImageEnvironment(process.env);
const logger = createLogger('verify-image');

/**
 * The SSM client is built only when the environment names a parameter (TRUST_POLICY_PARAMETER or
 * TRUST_STORES_PARAMETER), at cold start like the other clients: the template's default (a trust
 * policy inline, or the built-in default) reads none, and building a client costs several
 * milliseconds of INIT (bench/run.ts).
 */
const parameters: ParameterReader =
  environment.trustPolicyParameter === undefined && environment.trustStoresParameter === undefined
    ? NO_PARAMETERS
    : new SsmParameterReader(createSsmClient());

const deps: VerifyImageDeps = {
  // Built once per container; its warnings go to the stage logger.
  registry: lambdaRegistry(logger),
  revocation: new AwsSignerRevocationChecker(),
  parameters,
  environment,
};

export const handler = pipelineAction(verifyImageAction(deps), { logger, artifacts: new S3ArtifactStore() });
