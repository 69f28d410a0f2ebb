/**
 * CodePipeline job events and Lambda contexts for the demo: the shape CodePipeline sends to a
 * Lambda invoke action (`{"CodePipeline.job": {...}}`), with UserParameters as JSON text (or the
 * text CodePipeline produced by resolving `#{Namespace.VARIABLE}`s). The artifact credentials are
 * placeholders: the demo's artifact store reads a local folder.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lib/lambda-context';

/** Account id used in the demo's events (no AWS account is contacted). */
export const DEMO_ACCOUNT_ID = '000000000000';
/** The artifact bucket the demo's events name (the demo's artifact store reads a local folder instead). */
export const DEMO_ARTIFACT_BUCKET = 'stagesign-demo-artifacts';

/**
 * A CodePipeline job event for a Lambda action of function `functionName` with these
 * UserParameters (an object, or the exact text), reading the named input artifacts.
 */
export function demoJobEvent(
  functionName: string,
  userParameters: Record<string, unknown> | string,
  inputArtifacts: readonly { name: string; objectKey: string }[] = [],
): Record<string, unknown> {
  return {
    'CodePipeline.job': {
      id: randomUUID(),
      accountId: DEMO_ACCOUNT_ID,
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: functionName,
            UserParameters:
              typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters),
          },
        },
        inputArtifacts: inputArtifacts.map((a) => ({
          name: a.name,
          revision: null,
          location: { type: 'S3', s3Location: { bucketName: DEMO_ARTIFACT_BUCKET, objectKey: a.objectKey } },
        })),
        outputArtifacts: [],
        artifactCredentials: {
          accessKeyId: 'DEMO-NOT-A-CREDENTIAL',
          secretAccessKey: 'DEMO-NOT-A-CREDENTIAL',
          sessionToken: 'DEMO-NOT-A-CREDENTIAL',
          expirationTime: Date.now() + 3600_000,
        },
      },
    },
  };
}

/** A Lambda context with a 60-second budget, as the deployed functions have. */
export function demoContext(stage: string): Context {
  return lambdaContext({ stage, timeoutMs: 60_000, region: 'us-east-1' });
}
