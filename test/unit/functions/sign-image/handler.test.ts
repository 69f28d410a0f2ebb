/**
 * Drives every events/sign-image/*.json through the exported handler module, unchanged, with the
 * AWS clients mocked (CodePipeline, ECR, Signer via aws-sdk-client-mock) and the ECR registry host
 * routed to a local fake registry, and asserts what CodePipeline received.
 */
import { readdirSync } from 'node:fs';
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { SignerClient, SignPayloadCommand } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DistributionRegistry } from '../../../../shared/oci/distribution-registry';
import { parseReference } from '../../../../shared/oci/reference';
import { clearLocalReporter } from '../../../../shared/pipeline/default-reporter';
import { captureOutput } from '../../../helpers/codepipeline-capture';
import { EVENT_SECRETS, fakeContext, loadEvent } from '../../../helpers/codepipeline-events';
import { FakeRegistry } from '../../../helpers/fake-registry';
import { signLikeAwsSigner } from '../../../helpers/test-signing-authority';
import { pushTestImage } from '../../../integration/sign-image/support';

const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const TOKEN = Buffer.from('AWS:stand-in-password').toString('base64');
const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/app_signing';

const codepipeline = mockClient(CodePipelineClient);
const ecr = mockClient(ECRClient);
const signer = mockClient(SignerClient);
let fake: FakeRegistry;
let handler: (event: unknown, context: unknown) => Promise<void>;
let appDigest: string;
const logged: string[] = [];

beforeAll(async () => {
  clearLocalReporter();
  fake = await FakeRegistry.start({ referrersApi: true, auth: { scheme: 'token', token: TOKEN } });
  const seed = new DistributionRegistry({
    plainHttp: true,
    basicCredentials: () => ({ username: 'AWS', password: 'stand-in-password' }),
  });
  appDigest = (await pushTestImage(seed, parseReference(`${fake.host}/app:v1`), 'v1')).digest;

  // The deployed handler speaks HTTPS to the ECR host; route it to the fake registry.
  const realFetch = globalThis.fetch;
  vi.stubGlobal('fetch', (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.host === ECR_HOST) return realFetch(`${fake.url}${url.pathname}${url.search}`, init);
    return realFetch(input, init);
  });
  vi.stubEnv('SIGNING_PROFILE_ARN', PROFILE);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(
      (...args: unknown[]) => void logged.push(args.map(String).join(' ')),
    );
  }
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: TOKEN,
        expiresAt: new Date(Date.now() + 3_600_000),
        proxyEndpoint: `https://${ECR_HOST}`,
      },
    ],
  });
  signer.on(SignPayloadCommand).callsFake((input: { payload: Uint8Array }) => {
    const signed = signLikeAwsSigner(input.payload, {
      profileVersionArn: `${PROFILE}/Ab12Cd34Ef`,
      jobArn: 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0b9e2a1c-5d4f-4e3a-9b8c-7d6e5f4a3b2c',
    });
    return { jobId: signed.jobId, metadata: signed.annotations, signature: signed.envelope };
  });
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  ({ handler } = (await import('../../../../functions/sign-image/handler')) as unknown as {
    handler: typeof handler;
  });
});

afterAll(async () => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await fake.close();
});

/**
 * The stable code of the failure, from the wrapper's `job reported` log line: CodePipeline only
 * gets the error's text, the code travels in the function's log.
 */
function reportedCode(output: string): string | undefined {
  const reported = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { message?: string; outcome?: string; code?: string })
    .filter((entry) => entry.message === 'job reported');
  expect(reported).toHaveLength(1);
  return reported[0]?.code;
}

async function invoke(name: string) {
  codepipeline.resetHistory();
  signer.resetHistory();
  const { output } = await captureOutput(() => handler(loadEvent('sign-image', name), fakeContext()));
  logged.push(output);
  const success = codepipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input);
  const failure = codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input);
  expect(success.length + failure.length).toBe(1);
  return {
    success: success[0],
    failure: failure[0],
    code: reportedCode(output),
    signPayloadCalls: signer.commandCalls(SignPayloadCommand).length,
  };
}

const notFound = (jobId: string) => ({
  jobId,
  failureDetails: expect.objectContaining({
    type: 'JobFailed',
    message: expect.stringMatching(
      /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/app@sha256:2d3f6b5c[0-9a-f]{56} \(UserParameters\.image\): image \S+app@sha256:2d3f6b5c[0-9a-f]{56} was not found \(404\)/,
    ),
  }),
});

const EXPECTED: Record<string, (r: Awaited<ReturnType<typeof invoke>>) => void> = {
  'bad-user-parameters': ({ failure, code }) => {
    expect(code).toBe('USER_PARAMETERS_INVALID');
    expect(failure).toMatchObject({
      jobId: '5a1e3000-aaaa-4bbb-8ccc-1234567890ab',
      failureDetails: {
        type: 'ConfigurationError',
        message: expect.stringMatching(/^UserParameters is not valid JSON/),
      },
    });
  },
  'missing-user-parameters': ({ failure, code }) => {
    expect(code).toBe('NO_IMAGES');
    expect(failure).toMatchObject({
      jobId: '5a1e4000-aaaa-4bbb-8ccc-1234567890ab',
      failureDetails: {
        type: 'ConfigurationError',
        message: expect.stringMatching(/^No image to act on/),
      },
    });
  },
  // The sample digest is not in the registry: the job fails naming the reference, nothing is signed.
  'happy-path': ({ failure, code, signPayloadCalls }) => {
    expect(code).toBe('IMAGE_NOT_FOUND');
    expect(failure).toMatchObject(notFound('5a1e1000-aaaa-4bbb-8ccc-1234567890ab'));
    expect(signPayloadCalls).toBe(0);
  },
  // A continuation token is ignored: the stage never continues, and redoing the work is safe.
  continuation: ({ failure, code }) => {
    expect(code).toBe('IMAGE_NOT_FOUND');
    expect(failure).toMatchObject(notFound('5a1e2000-aaaa-4bbb-8ccc-1234567890ab'));
  },
  // UserParameters names the image, so the input artifact is not read (no S3 call is made).
  'input-artifact-kms': ({ failure, code }) => {
    expect(code).toBe('IMAGE_NOT_FOUND');
    expect(failure).toMatchObject(notFound('5a1e5000-aaaa-4bbb-8ccc-1234567890ab'));
  },
  'tag-reference': ({ success, code, signPayloadCalls }) => {
    expect(code).toBeUndefined();
    expect(signPayloadCalls).toBe(1);
    expect(success).toMatchObject({
      jobId: '5a1e6000-aaaa-4bbb-8ccc-1234567890ab',
      executionDetails: {
        summary: `Successfully signed ${ECR_HOST}/app@${appDigest}`,
        externalExecutionId: '0b9e2a1c-5d4f-4e3a-9b8c-7d6e5f4a3b2c',
      },
      outputVariables: expect.objectContaining({
        IMAGE_URI: `${ECR_HOST}/app@${appDigest}`,
        IMAGE_DIGEST: appDigest,
        SIGNING_JOB_ARN:
          'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0b9e2a1c-5d4f-4e3a-9b8c-7d6e5f4a3b2c',
        SIGNING_PROFILE_VERSION_ARN: `${PROFILE}/Ab12Cd34Ef`,
      }),
    });
  },
  'several-images': ({ failure, code }) => {
    expect(code).toBe('IMAGE_NOT_FOUND');
    expect(failure).toMatchObject({
      jobId: '5a1e7000-aaaa-4bbb-8ccc-1234567890ab',
      failureDetails: {
        type: 'JobFailed',
        message: expect.stringMatching(
          new RegExp(
            `^Signing failed for 1 of 2 images; the others are signed:\\n- ${ECR_HOST}/app:v1 \\(UserParameters.images\\[0\\]\\): signed ${ECR_HOST}/app@${appDigest.replace(':', '\\:')}, signature sha256:[0-9a-f]{64}\\n- ${ECR_HOST}/worker:v1 \\(UserParameters.images\\[1\\]\\): failed: image ${ECR_HOST}/worker:v1 was not found`,
          ),
        ),
      },
    });
  },
  'bad-profile-version-arn': ({ failure, code }) => {
    expect(code).toBe('SIGNING_PROFILE_ARN_IS_VERSION');
    expect(failure).toMatchObject({
      failureDetails: {
        type: 'ConfigurationError',
        message: expect.stringMatching(
          /^UserParameters\.signingProfileArn: "arn:aws:signer:us-east-1:123456789012:\/signing-profiles\/app_signing\/Ab12Cd34Ef" is a signing profile version ARN/,
        ),
      },
    });
  },
};

describe('sign-image handler on events/sign-image', () => {
  const events = readdirSync(new URL('../../../../events/sign-image/', import.meta.url))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .sort();

  it('has an expectation for every sample event', () => {
    expect(events).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(events)(
    'reports %s to CodePipeline as expected, never logging the event credentials',
    async (name) => {
      logged.length = 0;
      const result = await invoke(name);
      EXPECTED[name]!(result);
      for (const secret of EVENT_SECRETS) expect(logged.join('\n')).not.toContain(secret);
    },
  );
});
