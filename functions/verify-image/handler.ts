/**
 * verify-image Lambda handler: wiring only. Clients are built once per container; the
 * environment is parsed at cold start (an invalid one is reported on every job, never thrown).
 */
import { createLogger } from '../../shared/log';
import { lambdaRegistry } from '../../shared/oci/lambda-registry';
import { pipelineAction } from '../../shared/pipeline';
import { AwsSignerRevocationChecker } from '../../shared/signer/aws-signer-revocation-checker';
import { parseVerifyImageEnvironment } from './params';
import { createSsmClient, SsmParameterReader } from './ssm-parameter-reader';
import { verifyImageAction } from './verify-image';
import type { VerifyImageDeps } from './verify-image';

const environment = parseVerifyImageEnvironment(process.env);
const logger = createLogger('verify-image');
// Built once per container; its warnings go to the stage logger.
const registry = lambdaRegistry(logger);
const deps: VerifyImageDeps = {
  registryFor: () => registry,
  revocationChecker: new AwsSignerRevocationChecker(),
  parameters: new SsmParameterReader(createSsmClient()),
  environment,
};

export const handler = pipelineAction(verifyImageAction(deps), { logger });
