import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import type { CodePipelineClientConfig } from '@aws-sdk/client-codepipeline';
import { assertNever } from '../errors';
import type { JobReport, JobReporter, ReportOptions } from './reporter';
import { boundedRequestHandler } from '../aws/request-handler';

/** Longest wait for the TCP/TLS connection of one report request. */
export const REPORT_CONNECTION_TIMEOUT_MS = 1000;
/** Longest wait for one report request's response once connected. */
export const REPORT_REQUEST_TIMEOUT_MS = 1500;
/**
 * The worst case of one report attempt. The wrapper keeps back a 5 s margin for reporting, so
 * one attempt must be a fraction of it; the wrapper does not start an attempt it cannot finish.
 */
export const REPORT_ATTEMPT_TIMEOUT_MS = REPORT_CONNECTION_TIMEOUT_MS + REPORT_REQUEST_TIMEOUT_MS;

/**
 * The CodePipeline client reports are sent with: the function's execution role, a bounded
 * request time and a single attempt per `send`. The SDK's defaults (no request timeout, three
 * attempts with backoff) could spend the whole deadline margin on a hung or throttled endpoint;
 * the wrapper owns the retries and bounds them by the time Lambda has left.
 */
export function codePipelineReportingClient(config: CodePipelineClientConfig = {}): CodePipelineClient {
  return new CodePipelineClient({
    maxAttempts: 1,
    requestHandler: boundedRequestHandler(REPORT_CONNECTION_TIMEOUT_MS, REPORT_REQUEST_TIMEOUT_MS),
    ...config,
  });
}

/**
 * Reports to CodePipeline with PutJobSuccessResult / PutJobFailureResult, using a client built
 * from the function's own execution role (never the job's artifact credentials: that role may
 * not call CodePipeline, aws-cdk#15235). Honours `AWS_ENDPOINT_URL_CODEPIPELINE` through the SDK.
 * The default client is {@link codePipelineReportingClient} (bounded, one attempt per call).
 */
export class CodePipelineReporter implements JobReporter {
  constructor(private readonly client: CodePipelineClient = codePipelineReportingClient()) {}

  async report(report: JobReport, options: ReportOptions = {}): Promise<void> {
    const send = options.signal ? { abortSignal: options.signal } : {};
    switch (report.kind) {
      case 'success':
        await this.client.send(
          new PutJobSuccessResultCommand({
            jobId: report.jobId,
            executionDetails: report.executionDetails,
            outputVariables: report.outputVariables,
          }),
          send,
        );
        return;
      case 'continuation':
        await this.client.send(
          new PutJobSuccessResultCommand({
            jobId: report.jobId,
            continuationToken: report.continuationToken,
            executionDetails: report.executionDetails,
          }),
          send,
        );
        return;
      case 'failure': {
        // Only the API's fields: the report's internal `code` stays in the logs.
        const { type, message, externalExecutionId } = report.failureDetails;
        await this.client.send(
          new PutJobFailureResultCommand({
            jobId: report.jobId,
            failureDetails: {
              type,
              message,
              ...(externalExecutionId !== undefined ? { externalExecutionId } : {}),
            },
          }),
          send,
        );
        return;
      }
      default:
        assertNever(report);
    }
  }
}
