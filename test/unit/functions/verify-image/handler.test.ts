/**
 * Drives every events/verify-image/*.json through the exported handler, unchanged: the real
 * DistributionRegistry (its HTTPS requests to the ECR host are routed to a fake registry on
 * 127.0.0.1), with ECR GetAuthorizationToken, Signer GetRevocationStatus and CodePipeline mocked
 * at the SDK, and asserts what CodePipeline received.
 */
import { readdirSync } from 'node:fs';
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import type {
  PutJobFailureResultCommandInput,
  PutJobSuccessResultCommandInput,
} from '@aws-sdk/client-codepipeline';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { GetRevocationStatusCommand, SignerClient } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DistributionRegistry } from '../../../../shared/oci/distribution-registry';
import { parseReference } from '../../../../shared/oci/reference';
import { MediaType } from '../../../../shared/oci/types';
import type { Descriptor } from '../../../../shared/oci/types';
import type { PipelineHandler } from '../../../../shared/pipeline';
import { captureOutput } from '../../../helpers/codepipeline-capture';
import { EVENT_SECRETS, fakeContext, loadEvent } from '../../../helpers/codepipeline-events';
import { FakeRegistry } from '../../../helpers/fake-registry';
import { answerManifestHeads } from '../../../helpers/manifest-heads';
import { AWS_FIXTURE, awsEnvelope, fixturePolicy, fixtureRootPem, pushSignature } from './signed-images';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
/** The image the sample events name (A's events use this digest). */
const APP: Descriptor = {
  mediaType: MediaType.ImageManifest,
  digest: 'sha256:2d3f6b5c0e7a4b1f9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b',
  size: 1024,
};
const UNSIGNED: Descriptor = {
  mediaType: MediaType.ImageManifest,
  digest: 'sha256:9b1e7a8c2d4f6e0a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a',
  size: 2048,
};
const TOKEN = Buffer.from('AWS:ecr-password').toString('base64');

type Expected =
  | { kind: 'success'; summary: string; variables?: Record<string, string> }
  | {
      kind: 'failure';
      type: string;
      /** The stable code, from the wrapper's `job reported` log line (CodePipeline never gets it). */
      code: string;
      message: RegExp;
      /** Exact text the message must begin with (notation's wording). */
      startsWith?: string;
    };

/** What each sample event must lead to. Every file in events/verify-image/ must be listed. */
const EXPECTED: Record<string, Expected> = {
  'happy-path': {
    kind: 'success',
    summary: `Successfully verified signature for ${HOST}/app@${APP.digest}`,
    variables: { IMAGE_URI: `${HOST}/app@${APP.digest}`, IMAGE_DIGEST: APP.digest, VERIFIED: 'true' },
  },
  // The stage keeps no continuation state: a re-invocation simply verifies again.
  continuation: { kind: 'success', summary: `Successfully verified signature for ${HOST}/app@${APP.digest}` },
  'input-artifact-kms': {
    kind: 'success',
    summary: `Successfully verified signature for ${HOST}/app@${APP.digest}`,
  },
  'tag-reference': {
    kind: 'success',
    summary: [
      'Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1) because resolved digest may not point to the same signed artifact, as tags are mutable.',
      `Successfully verified signature for ${HOST}/app@${APP.digest}`,
    ].join('\n'),
    variables: { IMAGE_URI: `${HOST}/app@${APP.digest}` },
  },
  'signed-images-variable': {
    kind: 'success',
    summary: `Successfully verified signature for ${HOST}/app@${APP.digest}`,
    variables: { IMAGE_DIGEST: APP.digest },
  },
  'unsigned-image': {
    kind: 'failure',
    type: 'JobFailed',
    code: 'NO_SIGNATURE',
    message: new RegExp(
      `^signature verification failed: no signature is associated with "${HOST}/unsigned@${UNSIGNED.digest}", make sure the artifact was signed successfully$`,
    ),
    startsWith: `signature verification failed: no signature is associated with "${HOST}/unsigned@${UNSIGNED.digest}", make sure the artifact was signed successfully`,
  },
  'bad-user-parameters': {
    kind: 'failure',
    type: 'ConfigurationError',
    code: 'USER_PARAMETERS_INVALID',
    message: /^UserParameters is not valid JSON/,
  },
  'missing-user-parameters': {
    kind: 'failure',
    type: 'ConfigurationError',
    code: 'NO_IMAGES',
    message: /^No image to act on/,
  },
};

const codepipeline = mockClient(CodePipelineClient);
const ecr = mockClient(ECRClient);
const signer = mockClient(SignerClient);

describe('the verify-image handler on the sample events', () => {
  let fake: FakeRegistry;
  let handler: PipelineHandler;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    fake = await FakeRegistry.start({ auth: { scheme: 'token', token: TOKEN } });
    // The images of the events are not content we could push under those digests: answer the
    // manifest HEADs directly (the verifier needs only the descriptor of the image).
    answerManifestHeads(fake, [
      ['app', APP.digest, APP],
      ['app', 'v1', APP],
      ['unsigned', UNSIGNED.digest, UNSIGNED],
    ]);
    fake.seedBlob('unsigned', new TextEncoder().encode('a layer')); // the repository exists
    // The handler's DistributionRegistry speaks HTTPS to the ECR host; route it to the fake.
    const realFetch = globalThis.fetch;
    const routed: typeof fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      return realFetch(url.replace(`https://${HOST}`, fake.url), init);
    };
    vi.stubGlobal('fetch', routed);

    // Sign the sample image as the test signing authority would (AWS-shaped envelope).
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: TOKEN,
          expiresAt: new Date(Date.now() + 3600_000),
          proxyEndpoint: `https://${HOST}`,
        },
      ],
    });
    const setup = new DistributionRegistry();
    await pushSignature(setup, parseReference(`${HOST}/app:v1`), APP, awsEnvelope(APP));

    process.env.AWS_REGION = 'us-east-1';
    // The built-in AWS Signer roots cannot be replaced by configuration, so the default policy
    // cannot trust the test signing authority: configure a policy and a store of its own name.
    delete process.env.SIGNING_PROFILE_ARN;
    process.env.TRUST_POLICY = JSON.stringify(fixturePolicy());
    process.env.TRUST_STORES = JSON.stringify({ [AWS_FIXTURE.trustStore]: fixtureRootPem() });
    delete process.env.TRUST_POLICY_PARAMETER;
    ({ handler } = await import('../../../../functions/verify-image/handler'));
  });

  afterAll(async () => {
    vi.unstubAllGlobals();
    process.env = savedEnv;
    codepipeline.restore();
    ecr.restore();
    signer.restore();
    await fake.close();
  });

  beforeEach(() => {
    codepipeline.reset();
    codepipeline.on(PutJobSuccessResultCommand).resolves({});
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    signer.reset();
    signer.on(GetRevocationStatusCommand).resolves({ revokedEntities: [] });
  });

  it('has an expectation for every sample event', () => {
    const files = readdirSync(new URL('../../../../events/verify-image/', import.meta.url)).map((f) =>
      f.replace(/\.json$/, ''),
    );
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('reports %s as CodePipeline expects', async (name, expected) => {
    const event = loadEvent('verify-image', name);
    const { output } = await captureOutput(() => handler(event, fakeContext() as never));
    const reportedLogs = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { message?: string; outcome?: string; code?: string })
      .filter((entry) => entry.message === 'job reported');
    expect(reportedLogs).toHaveLength(1);
    const successes = codepipeline
      .commandCalls(PutJobSuccessResultCommand)
      .map((c) => c.args[0].input as PutJobSuccessResultCommandInput);
    const failures = codepipeline
      .commandCalls(PutJobFailureResultCommand)
      .map((c) => c.args[0].input as PutJobFailureResultCommandInput);
    const jobId = (event['CodePipeline.job'] as { id: string }).id;
    if (expected.kind === 'success') {
      expect(failures).toEqual([]);
      expect(successes).toHaveLength(1);
      expect(successes[0]!.jobId).toBe(jobId);
      expect(successes[0]!.executionDetails?.summary).toBe(expected.summary);
      expect(successes[0]!.outputVariables).toMatchObject(expected.variables ?? {});
      expect(JSON.parse(successes[0]!.outputVariables!.VERIFIED_IMAGES!)).toEqual([
        expect.objectContaining({
          digest: APP.digest,
          signingProfileVersionArn: AWS_FIXTURE.profileVersionArn,
        }),
      ]);
      // Revocation was asked in the signature's region.
      expect(signer.commandCalls(GetRevocationStatusCommand)).toHaveLength(1);
      expect(reportedLogs[0]).toMatchObject({ outcome: 'success' });
      expect(reportedLogs[0]).not.toHaveProperty('code');
    } else {
      expect(successes).toEqual([]);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.jobId).toBe(jobId);
      expect(failures[0]!.failureDetails?.type).toBe(expected.type);
      expect(failures[0]!.failureDetails?.message).toMatch(expected.message);
      if (expected.startsWith !== undefined) {
        expect(failures[0]!.failureDetails?.message?.slice(0, expected.startsWith.length)).toBe(
          expected.startsWith,
        );
      }
      // The code is logged with the report, and only there.
      expect(reportedLogs[0]).toMatchObject({ outcome: 'failure', code: expected.code });
      expect(JSON.stringify(failures)).not.toContain(expected.code);
    }
    const reported = JSON.stringify([successes, failures]);
    for (const secret of EVENT_SECRETS) {
      expect(reported).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
  });
});
