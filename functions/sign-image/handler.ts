/**
 * The sign-image Lambda: wiring only (architecture.md §7). At cold start the environment is parsed
 * once (an invalid one is kept and reported on every job that needs it, never thrown here) and the
 * clients are built; the stage itself is `sign-image.ts`.
 */
import { lambdaRegistry } from '../../shared/oci/lambda-registry';
import { createLogger } from '../../shared/log';
import type { PayloadSigner } from '../../shared/notary/types';
import { pipelineAction } from '../../shared/pipeline/action';
import { S3ArtifactStore } from '../../shared/pipeline/s3-artifact-store';
import { AwsSignerPayloadSigner } from '../../shared/signer/aws-signer-payload-signer';
import { AwsSignerRevocationChecker } from '../../shared/signer/aws-signer-revocation-checker';
import { cachedSignerClientFactory } from '../../shared/signer/clients';
import { parseSignImageEnvironment } from './params';
import { signImageAction } from './sign-image';
import type { SignImageDeps } from './sign-image';

const environment = parseSignImageEnvironment(process.env);
const logger = createLogger('sign-image');
const signerClients = cachedSignerClientFactory();
const signers = new Map<string, PayloadSigner>();
const deps: SignImageDeps = {
  registry: lambdaRegistry(logger),
  signerFor: (profile) => {
    let signer = signers.get(profile.arn);
    if (!signer) {
      signer = new AwsSignerPayloadSigner({ profileArn: profile.arn, clientForRegion: signerClients });
      signers.set(profile.arn, signer);
    }
    return signer;
  },
  // An existing signature is reused only if it is not revoked: a signature whose profile or
  // job was revoked must not be passed downstream as if fresh (fail closed).
  revocation: new AwsSignerRevocationChecker({ clientForRegion: signerClients }),
  environment,
};

export const handler = pipelineAction(signImageAction(deps), { logger, artifacts: new S3ArtifactStore() });
