import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * A Lambda context like the runtime's: a fresh request id, function names derived from the stage
 * and a `getRemainingTimeInMillis()` that counts down from `timeoutMs` from now.
 */
export function lambdaContext(options: {
  readonly stage: string;
  readonly timeoutMs: number;
  readonly region: string;
  readonly memoryMb?: number;
  readonly now?: () => number;
}): Context {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const functionName = `stagesign-${options.stage}`;
  const requestId = randomUUID();
  const day = new Date(now()).toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:123456789012:function:${functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 512),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
