import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CodePipelineReporter } from '../../../shared/pipeline/codepipeline-reporter';
import type { JobReport } from '../../../shared/pipeline/reporter';

const codepipeline = mockClient(CodePipelineClient);

beforeEach(() => {
  codepipeline.reset();
});

const JOB_ID = '11111111-abcd-1111-abcd-111111abcdef';
const NOTATION_TEXT =
  'signature verification failed: no signature is associated with "111122223333.dkr.ecr.us-west-2.amazonaws.com/app@sha256:' +
  'a'.repeat(64) +
  '", make sure the artifact was signed successfully';

describe('CodePipelineReporter', () => {
  it.each<[string, Extract<JobReport, { kind: 'failure' }>]>([
    [
      'with an externalExecutionId',
      {
        kind: 'failure',
        jobId: JOB_ID,
        failureDetails: { type: 'JobFailed', message: NOTATION_TEXT, externalExecutionId: 'req-0001' },
        code: 'SIGNATURE_NOT_FOUND',
      },
    ],
    [
      'without an externalExecutionId',
      {
        kind: 'failure',
        jobId: JOB_ID,
        failureDetails: { type: 'JobFailed', message: 'CodePipeline rejected the success report' },
        code: 'REPORT_REJECTED',
      },
    ],
  ])(
    'sends a failure %s as jobId and failureDetails only, never the internal code',
    async (_label, report) => {
      codepipeline.on(PutJobFailureResultCommand).resolves({});
      await new CodePipelineReporter(new CodePipelineClient({ region: 'us-east-1' })).report(report);
      const inputs = codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input);
      expect(inputs).toEqual([{ jobId: JOB_ID, failureDetails: { ...report.failureDetails } }]);
      expect(JSON.stringify(inputs)).not.toContain(report.code ?? '');
      expect(Object.keys(inputs[0]?.failureDetails ?? {}).sort()).toEqual(
        Object.keys(report.failureDetails).sort(),
      );
      expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
    },
  );

  it('sends the message as the error text, exactly as the report has it', async () => {
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    await new CodePipelineReporter(new CodePipelineClient({ region: 'us-east-1' })).report({
      kind: 'failure',
      jobId: JOB_ID,
      failureDetails: { type: 'JobFailed', message: NOTATION_TEXT },
      code: 'SIGNATURE_NOT_FOUND',
    });
    const [call] = codepipeline.commandCalls(PutJobFailureResultCommand);
    expect(call?.args[0].input.failureDetails?.message).toBe(NOTATION_TEXT);
  });
});
