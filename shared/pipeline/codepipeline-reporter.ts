import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { assertNever } from '../errors';
import type { JobReport, JobReporter } from './reporter';

/**
 * Reports to CodePipeline with PutJobSuccessResult / PutJobFailureResult, using a client built
 * from the function's own execution role (never the job's artifact credentials: that role may
 * not call CodePipeline, aws-cdk#15235). Honours `AWS_ENDPOINT_URL_CODEPIPELINE` through the SDK.
 */
export class CodePipelineReporter implements JobReporter {
  constructor(private readonly client: CodePipelineClient = new CodePipelineClient({})) {}

  async report(report: JobReport): Promise<void> {
    switch (report.kind) {
      case 'success':
        await this.client.send(
          new PutJobSuccessResultCommand({
            jobId: report.jobId,
            executionDetails: report.executionDetails,
            outputVariables: report.outputVariables,
          }),
        );
        return;
      case 'continuation':
        await this.client.send(
          new PutJobSuccessResultCommand({
            jobId: report.jobId,
            continuationToken: report.continuationToken,
            executionDetails: report.executionDetails,
          }),
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
        );
        return;
      }
      default:
        assertNever(report);
    }
  }
}
