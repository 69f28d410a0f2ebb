import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VerificationError } from '../../../shared/errors';
import { runPipelineAction } from '../../../shared/pipeline/action';
import {
  CodePipelineReporter,
  REPORT_REQUEST_TIMEOUT_MS,
  codePipelineReportingClient,
} from '../../../shared/pipeline/codepipeline-reporter';
import { captureOutput } from '../../helpers/codepipeline-capture';
import { fakeContext, jobEvent } from '../../helpers/codepipeline-events';

/**
 * The real SDK CodePipeline client against a local server speaking the AWS JSON 1.1 protocol:
 * real request serialization and real error parsing.
 */
interface Seen {
  target: string | undefined;
  contentType: string | undefined;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}
type Reply = { status: number; body: Record<string, unknown> };

let server: Server;
let endpoint: string;
let seen: Seen[] = [];
let replies: Reply[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        target: req.headers['x-amz-target'] as string | undefined,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
        headers: req.headers,
      });
      const reply = replies.shift() ?? { status: 200, body: {} };
      res.writeHead(reply.status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': 'wire-req',
      });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  replies = [];
});

function reporter(): CodePipelineReporter {
  return new CodePipelineReporter(
    new CodePipelineClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXECUTIONROLE', secretAccessKey: 'execution-role-secret' },
      maxAttempts: 1,
    }),
  );
}

async function run(
  outcome: () => Promise<never> | Promise<{ kind: 'success'; outputVariables?: Record<string, string> }>,
) {
  const { result } = await captureOutput(() =>
    runPipelineAction(
      jobEvent('{}'),
      fakeContext(),
      { stage: 'verify-image', parseParams: () => ({}), run: outcome },
      {
        reporter: reporter(),
        sleep: async () => undefined,
      },
    ),
  );
  return result;
}

describe('CodePipelineReporter over the wire', () => {
  it('sends PutJobSuccessResult as JSON 1.1 with output variables and execution details', async () => {
    const result = await run(async () => ({
      kind: 'success',
      outputVariables: { verifiedDigest: 'sha256:1' },
    }));
    expect(result.delivered).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.target).toBe('CodePipeline_20150709.PutJobSuccessResult');
    expect(seen[0]?.contentType).toBe('application/x-amz-json-1.1');
    expect(seen[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXECUTIONROLE\//);
    expect(seen[0]?.body).toEqual({
      jobId: '11111111-abcd-1111-abcd-111111abcdef',
      executionDetails: { externalExecutionId: 'req-0001' },
      outputVariables: { verifiedDigest: 'sha256:1' },
    });
  });

  it('sends PutJobFailureResult with the mapped failure type', async () => {
    await run(async () => {
      throw new TypeError('boom');
    });
    expect(seen.map((s) => s.target)).toEqual(['CodePipeline_20150709.PutJobFailureResult']);
    expect(seen[0]?.body).toMatchObject({
      jobId: '11111111-abcd-1111-abcd-111111abcdef',
      failureDetails: {
        type: 'JobFailed',
        message: expect.stringContaining('boom'),
        externalExecutionId: 'req-0001',
      },
    });
  });

  it("sends a StagesignError's own text as the message and keeps its code out of the request", async () => {
    const text =
      'signature verification failed: no signature is associated with "example.com/app@sha256:' +
      'b'.repeat(64) +
      '", make sure the artifact was signed successfully';
    const result = await run(async () => {
      throw new VerificationError('SIGNATURE_NOT_FOUND', text);
    });
    expect(result.report).toMatchObject({ kind: 'failure', code: 'SIGNATURE_NOT_FOUND' });
    expect(seen.map((s) => s.target)).toEqual(['CodePipeline_20150709.PutJobFailureResult']);
    expect(seen[0]?.body).toEqual({
      jobId: '11111111-abcd-1111-abcd-111111abcdef',
      failureDetails: { type: 'JobFailed', message: text, externalExecutionId: 'req-0001' },
    });
    expect(JSON.stringify(seen[0]?.body)).not.toContain('SIGNATURE_NOT_FOUND');
  });

  it('parses InvalidJobStateException on a retry as "already reported"', async () => {
    replies = [
      { status: 500, body: { __type: 'InternalFailure', message: 'try again' } },
      { status: 400, body: { __type: 'InvalidJobStateException', message: 'Job is not in progress' } },
    ];
    const result = await run(async () => ({ kind: 'success' }));
    expect(seen).toHaveLength(2);
    expect(result.delivered).toBe(true);
  });

  it('parses a ValidationException and replaces the rejected success with a failure report', async () => {
    replies = [
      {
        status: 400,
        body: {
          __type: 'com.amazonaws.codepipeline#ValidationException',
          message: 'outputVariables failed to satisfy constraint',
        },
      },
    ];
    const result = await run(async () => ({ kind: 'success', outputVariables: { k: 'v' } }));
    expect(seen.map((s) => s.target)).toEqual([
      'CodePipeline_20150709.PutJobSuccessResult',
      'CodePipeline_20150709.PutJobFailureResult',
    ]);
    expect(seen[1]?.body).toMatchObject({
      failureDetails: { type: 'JobFailed', message: expect.stringContaining('ValidationException') },
    });
    expect(seen[1]?.body.failureDetails).toMatchObject({
      message: expect.stringContaining('outputVariables failed to satisfy constraint'),
    });
    expect(result.delivered).toBe(true);
  });

  it('gives up on JobNotFoundException without retrying and reports nothing delivered', async () => {
    replies = [{ status: 400, body: { __type: 'JobNotFoundException', message: 'no such job' } }];
    const result = await run(async () => ({ kind: 'success' }));
    expect(seen).toHaveLength(1);
    expect(result.delivered).toBe(false);
    expect((result.error as Error).name).toBe('JobNotFoundException');
  });
});

describe('the reporting client against an endpoint that never answers', () => {
  let hung: Server;
  let hungEndpoint = '';
  let requests = 0;

  beforeAll(async () => {
    hung = createServer((req) => {
      requests++;
      req.resume(); // read the request, never answer it
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    hungEndpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
  });

  beforeEach(() => {
    requests = 0;
  });

  const hungReporter = () =>
    new CodePipelineReporter(
      codePipelineReportingClient({
        endpoint: hungEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDEXECUTIONROLE', secretAccessKey: 'execution-role-secret' },
      }),
    );
  const success = { kind: 'success', jobId: '11111111-abcd-1111-abcd-111111abcdef' } as const;

  it('ends a hung request with a TimeoutError after one attempt (the wrapper owns retries)', async () => {
    await expect(hungReporter().report(success)).rejects.toMatchObject({
      name: 'TimeoutError',
      message: expect.stringContaining(`${REPORT_REQUEST_TIMEOUT_MS} ms requestTimeout`),
    });
    expect(requests).toBe(1);
  });

  it('ends a hung request when the attempt signal is aborted', async () => {
    const controller = new AbortController();
    const pending = hungReporter().report(success, { signal: controller.signal });
    while (requests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('attempt time is up'));
    await expect(pending).rejects.toThrow();
    expect(requests).toBe(1);
  });
});
