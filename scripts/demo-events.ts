/**
 * CodePipeline job events and Lambda contexts for the demo: the shape CodePipeline sends to a
 * Lambda invoke action (`{"CodePipeline.job": {...}}`), with UserParameters as JSON text. The
 * artifact credentials are placeholders: the demo's actions have no input or output artifacts.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lib/lambda-context';

/** Account id used in the demo's events (no AWS account is contacted). */
export const DEMO_ACCOUNT_ID = '000000000000';

/** A CodePipeline job event for a Lambda action of function `functionName` with these UserParameters. */
export function demoJobEvent(
  functionName: string,
  userParameters: Record<string, unknown>,
): Record<string, unknown> {
  return {
    'CodePipeline.job': {
      id: randomUUID(),
      accountId: DEMO_ACCOUNT_ID,
      data: {
        actionConfiguration: {
          configuration: { FunctionName: functionName, UserParameters: JSON.stringify(userParameters) },
        },
        inputArtifacts: [],
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
