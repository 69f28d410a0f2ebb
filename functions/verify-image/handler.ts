/**
 * The verify-image Lambda: wiring only (architecture.md §7). At cold start the environment is
 * parsed once (an invalid one is kept and reported on every job, never thrown here) and the
 * clients are built; the stage itself is `verify-image.ts`.
 */
import { createSsmClient, SsmParameterReader } from '../../shared/aws/ssm-parameter-reader';
import { createLogger } from '../../shared/log';
import { lambdaRegistry } from '../../shared/oci/lambda-registry';
import { pipelineAction } from '../../shared/pipeline';
import { AwsSignerRevocationChecker } from '../../shared/signer/aws-signer-revocation-checker';
import { parseVerifyImageEnvironment } from './params';
import { verifyImageAction } from './verify-image';
import type { VerifyImageDeps } from './verify-image';

const environment = parseVerifyImageEnvironment(process.env);
const logger = createLogger('verify-image');
const deps: VerifyImageDeps = {
  // Built once per container; its warnings go to the stage logger.
  registry: lambdaRegistry(logger),
  revocation: new AwsSignerRevocationChecker(),
  parameters: new SsmParameterReader(createSsmClient()),
  environment,
};

export const handler = pipelineAction(verifyImageAction(deps), { logger });
