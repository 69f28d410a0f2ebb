/**
 * Wire-level tests: the real `SignerClient` (real REST-JSON serialisation, SigV4 signing and error
 * parsing) against the local Signer stand-in on 127.0.0.1, reached through
 * `AWS_ENDPOINT_URL_SIGNER` exactly as a deployed function reaches a configured endpoint.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, DependencyError, PermissionError } from '../../../shared/errors';
import { buildPayload, NOTARY_PAYLOAD_MEDIA_TYPE } from '../../../shared/notary/payload';
import type { RevocationQuery } from '../../../shared/notary/types';
import { AwsSignerPayloadSigner } from '../../../shared/signer/aws-signer-payload-signer';
import { AwsSignerRevocationChecker } from '../../../shared/signer/aws-signer-revocation-checker';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSignerClient } from '../../../shared/signer/clients';
import { checkSignedEnvelope } from '../../../shared/notary/fresh-envelope';
import {
  buildSignatureManifest,
  parseSignatureManifest,
  signatureAnnotations,
} from '../../../shared/notary/signature-manifest';
import { awsShapedSigning, signerError, startSignerStandIn } from '../../helpers/signer-stand-in';
import { makeChain } from '../../unit/signer/test-chain';
import type { SignerStandIn } from '../../helpers/signer-stand-in';

const PROFILE_ARN = 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/stage_sign_profile';
const TARGET = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333',
  size: 16724,
};
const ENVELOPE = new TextEncoder().encode(
  '{"payload":"e30","protected":"e30","header":{"x5c":[]},"signature":"AA"}',
);
const NO_WAIT = { sleep: async () => undefined };

const FAKE_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'stand-in-session-token',
  AWS_CONFIG_FILE: '/nonexistent/stagesign-test-aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/stagesign-test-aws-credentials',
};
const CLEARED_ENV = ['AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'AWS_REGION'];

let standIn: SignerStandIn;
let savedEnv: Record<string, string | undefined>;

beforeAll(async () => {
  standIn = await startSignerStandIn();
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => {
  savedEnv = {};
  for (const key of [...Object.keys(FAKE_ENV), ...CLEARED_ENV, 'AWS_ENDPOINT_URL_SIGNER'])
    savedEnv[key] = process.env[key];
  for (const key of CLEARED_ENV) delete process.env[key];
  Object.assign(process.env, FAKE_ENV, { AWS_ENDPOINT_URL_SIGNER: standIn.endpoint });
  standIn.requests.length = 0;
});
afterEach(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('AwsSignerPayloadSigner over the wire', () => {
  it('sends SignPayload with the profile name, owner, base64 payload and Notary payload format, signed for the profile region', async () => {
    standIn.onSignPayload(() => ({
      jobId: '5808635f-05de-4207-a891-c95f827b50f4',
      metadata: {
        'com.amazonaws.signer.signingJob': 'arn:aws:signer:eu-west-1:111122223333:/signing-jobs/5808635f',
      },
      signature: ENVELOPE,
    }));
    const payload = buildPayload(TARGET);

    await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN }).sign(payload);

    expect(standIn.requests).toHaveLength(1);
    const raw = standIn.requests[0]!;
    expect(raw.method).toBe('POST');
    expect(raw.path).toBe('/signing-jobs/with-payload');
    expect(raw.host).toBe(new URL(standIn.endpoint).host);
    expect(raw.headers['content-type']).toMatch(/^application\/json/);
    expect(raw.signingRegion).toBe('eu-west-1');
    expect(raw.signingService).toBe('signer');
    expect(JSON.parse(raw.body.toString('utf8'))).toEqual({
      profileName: 'stage_sign_profile',
      profileOwner: '111122223333',
      payload: Buffer.from(payload).toString('base64'),
      payloadFormat: NOTARY_PAYLOAD_MEDIA_TYPE,
    });
    const [parsed] = standIn.signPayloadRequests();
    expect(Buffer.from(parsed!.payload).equals(Buffer.from(payload))).toBe(true);
  });

  it('returns the signature bytes as the envelope, the metadata as annotations and the job id', async () => {
    const metadata = {
      'com.amazonaws.signer.signingProfileVersion':
        'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/stage_sign_profile/IrwHQeF7XW',
      'com.amazonaws.signer.signingJob': 'arn:aws:signer:eu-west-1:111122223333:/signing-jobs/job-42',
    };
    standIn.onSignPayload(() => ({ jobId: 'job-42', metadata, signature: ENVELOPE }));

    const signed = await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN }).sign(buildPayload(TARGET));

    expect(Buffer.from(signed.envelope).equals(Buffer.from(ENVELOPE))).toBe(true);
    expect(signed.envelopeMediaType).toBe('application/jose+json');
    expect(signed.annotations).toEqual(metadata);
    expect(signed.jobId).toBe('job-42');
  });

  it('round-trips an AWS-shaped envelope into a signature manifest carrying the Signer metadata', async () => {
    const chain = await makeChain({ leafKey: { kind: 'ec', curve: 'P-384' } });
    const certificateChain = [chain.leafPem, chain.rootPem].map(
      (pem) => new Uint8Array(new X509Certificate(pem).raw),
    );
    const signingTime = new Date('2025-06-01T12:00:00Z');
    standIn.onSignPayload(
      awsShapedSigning(
        { privateKey: createPrivateKey(chain.leafKeyPem), certificateChain },
        { now: () => signingTime, profileVersion: 'IrwHQeF7XW' },
      ),
    );

    const signed = await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN }).sign(buildPayload(TARGET));
    const parsed = checkSignedEnvelope(signed.envelope, signed.envelopeMediaType, TARGET);
    const envelopeDescriptor = {
      mediaType: 'application/jose+json',
      digest: `sha256:${createHash('sha256').update(signed.envelope).digest('hex')}`,
      size: signed.envelope.length,
    };
    const built = buildSignatureManifest({
      subject: TARGET,
      envelope: envelopeDescriptor,
      annotations: signatureAnnotations({
        certificateChain: parsed.certificateChain,
        signingTime: parsed.signingTime,
        signerAnnotations: signed.annotations,
      }),
    });

    expect(parsed.protectedHeaders.signingScheme).toBe('notary.x509.signingAuthority');
    expect(parsed.protectedHeaders.alg).toBe('ES384');
    expect(parsed.protectedHeaders.verificationPlugin).toBe('com.amazonaws.signer.notation.plugin');
    expect(parsed.rawProtectedHeaders['com.amazonaws.signer.signingProfileVersion']).toBe(
      'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/stage_sign_profile/IrwHQeF7XW',
    );
    expect(parseSignatureManifest(built.bytes).manifest.annotations).toMatchObject({
      'com.amazonaws.signer.signingProfileVersion':
        'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/stage_sign_profile/IrwHQeF7XW',
      'com.amazonaws.signer.signingJob': `arn:aws:signer:eu-west-1:111122223333:/signing-jobs/${signed.jobId}`,
      'org.opencontainers.image.created': '2025-06-01T12:00:00Z',
      'io.cncf.notary.x509chain.thumbprint#S256': JSON.stringify(
        certificateChain.map((der) => createHash('sha256').update(der).digest('hex')),
      ),
    });
  });

  it.each([
    ['header', 'AccessDeniedException'],
    ['body', 'AccessDeniedException'],
  ] as const)(
    'maps AccessDeniedException (error type in the %s) to a PermissionError naming signer:SignPayload and the profile',
    async (style, code) => {
      standIn.onSignPayload(() =>
        signerError(code, 'User is not authorized to perform signer:SignPayload', {
          style,
          requestId: 'req-403',
        }),
      );

      const error = await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN, retry: NO_WAIT })
        .sign(buildPayload(TARGET))
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(PermissionError);
      expect(error).toMatchObject({ code: 'SIGNER_ACCESS_DENIED' });
      const message = (error as Error).message;
      expect(message).toContain('signer:SignPayload');
      expect(message).toContain(PROFILE_ARN);
      expect(message).toContain('Failed to call AWSSigner. Error: AccessDeniedException');
      expect(message).toContain('RequestID: req-403.');
      expect(standIn.requests).toHaveLength(1);
    },
  );

  it.each([
    [
      'ResourceNotFoundException',
      'Signing profile stage_sign_profile does not exist',
      'SIGNING_PROFILE_NOT_FOUND',
    ],
    ['NotFoundException', 'not found', 'SIGNING_PROFILE_NOT_FOUND'],
    ['ValidationException', 'The signing profile has been canceled', 'SIGNING_PROFILE_NOT_ACTIVE'],
    ['BadRequestException', 'Signing profile is revoked', 'SIGNING_PROFILE_NOT_ACTIVE'],
    ['ValidationException', 'Payload format not supported by platform', 'SIGNER_REQUEST_REJECTED'],
  ])('maps %s ("%s") to a ConfigurationError %s quoting the profile ARN', async (awsCode, message, code) => {
    standIn.onSignPayload(() => signerError(awsCode, message));

    const error = await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN, retry: NO_WAIT })
      .sign(buildPayload(TARGET))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toContain(PROFILE_ARN);
    expect((error as Error).message).toContain(message);
    expect(standIn.requests).toHaveLength(1);
  });

  it('retries ThrottlingException and ends with a SystemUnavailable-kind DependencyError after the bounded attempts', async () => {
    standIn.onSignPayload(() =>
      signerError('ThrottlingException', 'Rate exceeded', { requestId: 'req-429' }),
    );

    const error = await new AwsSignerPayloadSigner({
      profileArn: PROFILE_ARN,
      retry: { maxAttempts: 4, ...NO_WAIT },
    })
      .sign(buildPayload(TARGET))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ code: 'SIGNER_THROTTLED', kind: 'dependency' });
    expect((error as Error).message).toContain('after 4 attempts');
    expect((error as Error).message).toContain('RequestID: req-429.');
    expect(standIn.requests).toHaveLength(4);
  });

  it('succeeds when throttling stops before the attempts run out', async () => {
    let calls = 0;
    standIn.onSignPayload(() => {
      calls += 1;
      return calls < 3
        ? signerError('ThrottlingException', 'Rate exceeded')
        : { jobId: 'job-3', signature: ENVELOPE };
    });

    const signed = await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN, retry: NO_WAIT }).sign(
      buildPayload(TARGET),
    );

    expect(signed.jobId).toBe('job-3');
    expect(standIn.requests).toHaveLength(3);
  });

  it('retries a 5xx and reports SIGNER_UNAVAILABLE when it persists', async () => {
    standIn.onSignPayload(() => signerError('InternalServiceErrorException', 'boom'));

    const error = await new AwsSignerPayloadSigner({
      profileArn: PROFILE_ARN,
      retry: { maxAttempts: 2, ...NO_WAIT },
    })
      .sign(buildPayload(TARGET))
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'SIGNER_UNAVAILABLE', kind: 'dependency' });
    expect(standIn.requests).toHaveLength(2);
  });

  it('maps any other AWS error to a DependencyError carrying the request id, without retrying', async () => {
    standIn.onSignPayload(() => signerError('ConflictException', 'conflict', { requestId: 'req-409' }));

    const error = await new AwsSignerPayloadSigner({ profileArn: PROFILE_ARN, retry: NO_WAIT })
      .sign(buildPayload(TARGET))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ code: 'SIGNER_CALL_FAILED' });
    expect((error as Error).message).toContain('RequestID: req-409.');
    expect(standIn.requests).toHaveLength(1);
  });
});

describe('AwsSignerRevocationChecker over the wire', () => {
  const QUERY: RevocationQuery = {
    certificateHashes: ['a'.repeat(192), 'b'.repeat(192), 'c'.repeat(192)],
    jobArn: 'arn:aws:signer:us-west-2:000000000000:/signing-jobs/97af3947-e7b2-4533-8d9d-6741156f0b79',
    profileVersionArn:
      'arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile/OF8IVUsPJq',
    platformId: 'Notation-OCI-SHA384-ECDSA',
    signatureTimestamp: new Date('2022-07-06T19:10:28Z'),
    region: 'us-west-2',
  };

  it('reaches the endpoint from AWS_ENDPOINT_URL_SIGNER as given (no data- host prefix) with every query field', async () => {
    const result = await new AwsSignerRevocationChecker().getRevocationStatus(QUERY);

    expect(result).toEqual({ revokedEntities: [] });
    expect(standIn.requests).toHaveLength(1);
    const [request] = standIn.revocationRequests();
    expect(request!.raw.method).toBe('GET');
    expect(request!.raw.path).toBe('/revocations');
    expect(request!.raw.host).toBe(new URL(standIn.endpoint).host);
    expect(request!.raw.signingRegion).toBe('us-west-2');
    expect(request!.raw.signingService).toBe('signer');
    expect(request!.certificateHashes).toEqual(QUERY.certificateHashes);
    expect(request!.jobArn).toBe(QUERY.jobArn);
    expect(request!.profileVersionArn).toBe(QUERY.profileVersionArn);
    expect(request!.platformId).toBe('Notation-OCI-SHA384-ECDSA');
    expect(new Date(request!.signatureTimestamp!).toISOString()).toBe('2022-07-06T19:10:28.000Z');
  });

  it('asks the region named in the query, not a default one', async () => {
    await new AwsSignerRevocationChecker().getRevocationStatus({ ...QUERY, region: 'us-gov-west-1' });

    expect(standIn.requests[0]!.signingRegion).toBe('us-gov-west-1');
  });

  it('returns the revoked entities the service lists', async () => {
    standIn.onGetRevocationStatus(() => ({ revokedEntities: [QUERY.profileVersionArn, 'a'.repeat(192)] }));

    const result = await new AwsSignerRevocationChecker().getRevocationStatus(QUERY);

    expect(result.revokedEntities).toEqual([QUERY.profileVersionArn, 'a'.repeat(192)]);
  });

  it('maps AccessDeniedException to a PermissionError naming signer:GetRevocationStatus', async () => {
    standIn.onGetRevocationStatus(() => signerError('AccessDeniedException', 'not authorized'));

    const error = await new AwsSignerRevocationChecker({ retry: NO_WAIT })
      .getRevocationStatus(QUERY)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PermissionError);
    expect((error as Error).message).toContain('signer:GetRevocationStatus');
  });

  it('retries throttling and then throws a DependencyError', async () => {
    standIn.onGetRevocationStatus(() => signerError('ThrottlingException', 'Rate exceeded'));

    const error = await new AwsSignerRevocationChecker({ retry: { maxAttempts: 3, ...NO_WAIT } })
      .getRevocationStatus(QUERY)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ code: 'SIGNER_THROTTLED' });
    expect(standIn.requests).toHaveLength(3);
  });

  it('maps a cross-partition ValidationException to a DependencyError with the service message', async () => {
    standIn.onGetRevocationStatus(() =>
      signerError('ValidationException', 'cross-partition call', { requestId: 'r-1' }),
    );

    const error = await new AwsSignerRevocationChecker({ retry: NO_WAIT })
      .getRevocationStatus(QUERY)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toContain('cross-partition call');
    expect((error as Error).message).toContain('RequestID: r-1.');
  });
});

describe('Signer calls against an endpoint that never answers', () => {
  let hung: HungServer;
  const query: RevocationQuery = {
    certificateHashes: ['a'.repeat(192)],
    jobArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-jobs/5808635f-05de-4207-a891-c95f827b50f4',
    profileVersionArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/stage_sign_profile/x',
    platformId: 'Notation-OCI-SHA384-ECDSA',
    signatureTimestamp: new Date('2026-01-15T10:00:00Z'),
    region: 'eu-west-1',
  };

  beforeEach(async () => {
    hung = await startHungServer();
  });
  afterEach(async () => {
    await hung.close();
  });

  it('fails within the client request timeout with SIGNER_UNAVAILABLE after the bounded attempts', async () => {
    const signer = new AwsSignerPayloadSigner({
      profileArn: PROFILE_ARN,
      clientForRegion: (region) =>
        createSignerClient(region, { endpoint: hung.endpoint, requestTimeoutMs: 100 }),
      retry: { maxAttempts: 2, ...NO_WAIT },
    });
    const error = await signer.sign(buildPayload(TARGET)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({
      code: 'SIGNER_UNAVAILABLE',
      message: expect.stringContaining('TimeoutError'),
    });
    expect(hung.received).toBe(2);
  });

  it('stops SignPayload when the call signal aborts: ABORTED, the request closed and no retry', async () => {
    const controller = new AbortController();
    hung.onRequest = () => controller.abort(new Error('deadline while signing'));
    const signer = new AwsSignerPayloadSigner({
      profileArn: PROFILE_ARN,
      // No request timeout to speak of: only the signal can end the call.
      clientForRegion: (region) =>
        createSignerClient(region, { endpoint: hung.endpoint, requestTimeoutMs: 60_000 }),
      retry: { maxAttempts: 5, ...NO_WAIT },
    });
    await expect(signer.sign(buildPayload(TARGET), { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
      kind: 'dependency',
      message: expect.stringContaining('deadline while signing'),
    });
    await hung.closedOnce;
    expect(hung.received).toBe(1);
  });

  it('stops GetRevocationStatus when the call signal aborts: ABORTED, not SIGNER_CALL_FAILED, and no retry', async () => {
    const controller = new AbortController();
    hung.onRequest = () => controller.abort();
    const checker = new AwsSignerRevocationChecker({
      clientForRegion: (region) =>
        createSignerClient(region, { endpoint: hung.endpoint, requestTimeoutMs: 60_000 }),
      retry: { maxAttempts: 5, ...NO_WAIT },
    });
    await expect(checker.getRevocationStatus(query, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(hung.received).toBe(1);
  });
});

interface HungServer {
  endpoint: string;
  received: number;
  closed: number;
  /** Settles when the client closes the first connection. */
  closedOnce: Promise<void>;
  onRequest?: () => void;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that reads requests and never answers them. */
async function startHungServer(): Promise<HungServer> {
  let markClosed!: () => void;
  const closedOnce = new Promise<void>((resolve) => (markClosed = resolve));
  const server: Server = createServer((req) => {
    handle.received++;
    req.resume();
    req.socket.once('close', () => {
      handle.closed++;
      markClosed();
    });
    handle.onRequest?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle: HungServer = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: 0,
    closed: 0,
    closedOnce,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return handle;
}
