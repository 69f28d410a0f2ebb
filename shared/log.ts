import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one structured JSON logger (Powertools Logger). Every line carries the service name;
 * the pipeline wrapper appends job id, stage and request id per invocation.
 *
 * Never pass an event, credentials, tokens or Authorization headers to it: log job ids,
 * stages, image digests and error codes.
 */
export function createLogger(stage: string): Logger {
  return new Logger({ serviceName: 'stagesign', persistentKeys: { stage } });
}

export type { Logger };
