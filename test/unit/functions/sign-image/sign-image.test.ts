import { SignerClient, SignPayloadCommand } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signImageAction } from '../../../../functions/sign-image/sign-image';
import { parseSignImageEnvironment } from '../../../../functions/sign-image/params';
import type { SignedImage } from '../../../../shared/pipeline/handoff';
import type { SignImageDeps } from '../../../../functions/sign-image/sign-image';
import type { PayloadSigner } from '../../../../shared/notary/types';
import { DistributionRegistry } from '../../../../shared/oci/distribution-registry';
import { parseReference } from '../../../../shared/oci/reference';
import type { Reference } from '../../../../shared/oci/reference';
import type { CallOptions } from '../../../../shared/oci/registry';
import { MediaType } from '../../../../shared/oci/types';
import type { Descriptor } from '../../../../shared/oci/types';
import { runPipelineAction } from '../../../../shared/pipeline/action';
import type { ArtifactFiles, ArtifactStore } from '../../../../shared/pipeline/artifact-store';
import type { Job, JobArtifact } from '../../../../shared/pipeline/job';
import { RecordingReporter } from '../../../../shared/pipeline/recording-reporter';
import type { JobReport } from '../../../../shared/pipeline/reporter';
import { AwsSignerPayloadSigner } from '../../../../shared/signer/aws-signer-payload-signer';
import { jobEvent, fakeContext } from '../../../helpers/codepipeline-events';
import { FakeRegistry } from '../../../helpers/fake-registry';
import {
  PROFILE_ARN,
  pushTestImage,
  TEST_NOW,
  TestAwsSigner,
  testTrustStores,
} from '../../../integration/sign-image/support';

const artifact = (
  name: string,
): JobArtifact & { location: { type: 'S3'; s3Location: { bucketName: string; objectKey: string } } } =>
  ({
    name,
    revision: null,
    location: { type: 'S3', s3Location: { bucketName: 'bucket', objectKey: `key/${name}` } },
  }) as never;

/** In-memory artifact store: input artifacts by name, records what was written. */
class MemoryArtifacts implements ArtifactStore {
  readonly written = new Map<string, ArtifactFiles>();
  constructor(private readonly inputs: Record<string, ArtifactFiles> = {}) {}
  async read(_job: Job, a: JobArtifact): Promise<ArtifactFiles> {
    return this.inputs[a.name] ?? new Map();
  }
  async write(_job: Job, a: JobArtifact, files: ArtifactFiles): Promise<void> {
    this.written.set(a.name, files);
  }
}

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

let fake: FakeRegistry;
let registry: DistributionRegistry;
let signer: TestAwsSigner;

beforeEach(async () => {
  fake = await FakeRegistry.start({ referrersApi: false });
  registry = new DistributionRegistry({ plainHttp: true });
  signer = new TestAwsSigner();
});
afterEach(async () => {
  await fake.close();
});

function deps(
  overrides: Partial<SignImageDeps> & { env?: Record<string, string | undefined> } = {},
): SignImageDeps {
  const { env = { SIGNING_PROFILE_ARN: PROFILE_ARN }, ...rest } = overrides;
  return {
    registry,
    signerFor: () => signer,
    trustStores: testTrustStores(),
    environment: parseSignImageEnvironment(env),
    ...rest,
  };
}

async function run(
  userParameters: Record<string, unknown> | undefined,
  options: { deps?: SignImageDeps; data?: Record<string, unknown>; artifacts?: MemoryArtifacts } = {},
): Promise<JobReport> {
  const reporter = new RecordingReporter();
  const result = await runPipelineAction(
    jobEvent(userParameters === undefined ? undefined : JSON.stringify(userParameters), options.data ?? {}),
    fakeContext(),
    signImageAction(options.deps ?? deps()),
    {
      reporter,
      clock: () => TEST_NOW,
      artifacts: options.artifacts ?? new MemoryArtifacts(),
      sleep: async () => undefined,
    },
  );
  expect(reporter.reports).toHaveLength(1);
  return result.report!;
}

describe('sign-image stage', () => {
  it('signs one image by digest and reports notation’s summary, the job id and the output variables', async () => {
    const ref = parseReference(`${fake.host}/app:v1`);
    const image = await pushTestImage(registry, ref, 'v1');
    const report = await run({ image: `${fake.host}/app:v1` });

    expect(report.kind).toBe('success');
    if (report.kind !== 'success') return;
    const pinned = `${fake.host}/app@${image.digest}`;
    expect(report.executionDetails).toEqual({
      summary: `Successfully signed ${pinned}`,
      externalExecutionId: '00000000-0000-4000-8000-000000000001',
    });
    const [signature] = await registry.listReferrers(ref, image, MediaType.NotarySignature);
    expect(report.outputVariables).toMatchObject({
      IMAGE_URI: pinned,
      IMAGE_DIGEST: image.digest,
      SIGNATURE_DIGEST: signature!.digest,
      SIGNING_JOB_ARN:
        'arn:aws:signer:us-west-2:111122223333:/signing-jobs/00000000-0000-4000-8000-000000000001',
      SIGNING_PROFILE_VERSION_ARN:
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign_test/Ab12Cd34Ef',
    });
    expect(JSON.parse(report.outputVariables!.SIGNED_IMAGES!)).toEqual([
      expect.objectContaining({ source: `${fake.host}/app:v1`, imageUri: pinned, reused: false }),
    ]);
  });

  it('is idempotent: a re-run reuses the signature; forceResign adds one', async () => {
    const ref = parseReference(`${fake.host}/app:v1`);
    const image = await pushTestImage(registry, ref, 'v1');
    const first = await run({ image: `${fake.host}/app:v1` });
    const again = await run({ image: `${fake.host}/app:v1` });
    expect(signer.calls).toBe(1);
    expect(again.kind === 'success' && again.executionDetails?.summary).toMatch(
      /^Successfully signed .* \(existing signature sha256:[0-9a-f]{64} reused\)$/,
    );
    expect(again.kind === 'success' && again.outputVariables?.SIGNATURE_DIGEST).toBe(
      first.kind === 'success' && first.outputVariables?.SIGNATURE_DIGEST,
    );
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(1);

    await run({ image: `${fake.host}/app:v1`, forceResign: true });
    expect(signer.calls).toBe(2);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
  });

  it('signs UserParameters.userMetadata into the payload (notation sign -m) and reuses only a signature carrying it', async () => {
    const ref = parseReference(`${fake.host}/app:v1`);
    await pushTestImage(registry, ref, 'v1');
    const report = await run({ image: `${fake.host}/app:v1`, userMetadata: { buildId: '42' } });
    expect(report.kind).toBe('success');
    const payload = JSON.parse(text(signer.payloads[0])) as { targetArtifact: { annotations?: unknown } };
    expect(payload.targetArtifact.annotations).toEqual({ buildId: '42' });
    await run({ image: `${fake.host}/app:v1`, userMetadata: { buildId: '42' } });
    expect(signer.calls).toBe(1);
    await run({ image: `${fake.host}/app:v1`, userMetadata: { buildId: '43' } });
    expect(signer.calls).toBe(2);
  });

  it('refuses a userMetadata that is not an object of strings, naming the field', async () => {
    const report = await run({ image: `${fake.host}/app:v1`, userMetadata: { buildId: 42 } });
    expect(report.kind).toBe('failure');
    expect(report.kind === 'failure' && report.failureDetails.message).toContain(
      'UserParameters.userMetadata must be an object of string values, e.g. {"buildId":"123"}, but is {"buildId":42}.',
    );
  });

  it('signs several images under indexed variable names with a JSON summary', async () => {
    const a = await pushTestImage(registry, parseReference(`${fake.host}/a:1`), '1');
    const b = await pushTestImage(registry, parseReference(`${fake.host}/b:1`), '1', 'b');
    const report = await run({ images: [`${fake.host}/a:1`, `${fake.host}/b:1`] });
    if (report.kind !== 'success') throw new Error(JSON.stringify(report));
    expect(report.outputVariables).toMatchObject({
      IMAGE_1_URI: `${fake.host}/a@${a.digest}`,
      IMAGE_2_URI: `${fake.host}/b@${b.digest}`,
      IMAGE_1_DIGEST: a.digest,
      IMAGE_2_DIGEST: b.digest,
      IMAGE_1_SIGNATURE_DIGEST: expect.stringMatching(/^sha256:/),
      IMAGE_2_SIGNING_JOB_ARN: expect.stringMatching(/:\/signing-jobs\//),
      IMAGE_2_SIGNING_PROFILE_VERSION_ARN: expect.stringMatching(/stagesign_test\/Ab12Cd34Ef$/),
    });
    expect(report.outputVariables).not.toHaveProperty('IMAGE_URI');
    expect(JSON.parse(report.outputVariables!.SIGNED_IMAGES!)).toHaveLength(2);
    expect(report.executionDetails?.summary?.split('\n')).toEqual([
      'Signed 2 images (0 reused)',
      `Successfully signed ${fake.host}/a@${a.digest}`,
      `Successfully signed ${fake.host}/b@${b.digest}`,
    ]);
  });

  it('puts the count line first, so that it survives the 2048-character cut of many images', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 30; i++) {
      await pushTestImage(registry, parseReference(`${fake.host}/team/service-${i}:1`), '1', `s${i}`);
      refs.push(`${fake.host}/team/service-${i}:1`);
    }
    await run({ images: refs.slice(0, 3) });
    const report = await run({ images: refs });
    if (report.kind !== 'success') throw new Error(JSON.stringify(report));
    const summary = report.executionDetails!.summary!;
    expect(summary.length).toBeLessThanOrEqual(2048);
    const lines = summary.split('\n');
    expect(lines[0]).toBe('Signed 30 images (3 reused)');
    expect(lines[1]).toMatch(
      new RegExp(`^Successfully signed ${fake.host}/team/service-0@sha256:[0-9a-f]{64} \\(existing`),
    );
    expect(signer.calls).toBe(30);
  });

  it('signs an image given by tag and by digest once, and reports both references with that one signature', async () => {
    const ref = parseReference(`${fake.host}/app:v1`);
    const image = await pushTestImage(registry, ref, 'v1');
    const report = await run({ images: [`${fake.host}/app:v1`, `${fake.host}/app@${image.digest}`] });
    if (report.kind !== 'success') throw new Error(JSON.stringify(report));

    expect(signer.calls).toBe(1);
    const listed = await registry.listReferrers(ref, image, MediaType.NotarySignature);
    expect(listed).toHaveLength(1);
    const pinned = `${fake.host}/app@${image.digest}`;
    expect(report.outputVariables).toMatchObject({
      IMAGE_1_URI: pinned,
      IMAGE_2_URI: pinned,
      IMAGE_1_SIGNATURE_DIGEST: listed[0]!.digest,
      IMAGE_2_SIGNATURE_DIGEST: listed[0]!.digest,
    });
    expect(
      (JSON.parse(report.outputVariables!.SIGNED_IMAGES!) as Array<Record<string, unknown>>).map((e) => [
        e.source,
        e.signatureDigest,
      ]),
    ).toEqual([
      [`${fake.host}/app:v1`, listed[0]!.digest],
      [`${fake.host}/app@${image.digest}`, listed[0]!.digest],
    ]);
    expect(report.executionDetails?.summary).toBe(`Successfully signed ${pinned}`);
  });

  it('keeps every container of imagedefinitions.json, with its extra fields, when two run the same image', async () => {
    const web = await pushTestImage(registry, parseReference(`${fake.host}/web:1.2`), '1.2');
    const worker = await pushTestImage(registry, parseReference(`${fake.host}/worker:7`), '7', 'worker');
    const definitions = [
      { name: 'web', imageUri: `${fake.host}/web:1.2`, note: 'front' },
      { name: 'sidecar', imageUri: `${fake.host}/web:1.2` },
      { name: 'worker', imageUri: `${fake.host}/worker:7` },
      { name: 'web-by-digest', imageUri: `${fake.host}/web@${web.digest}` },
    ];
    const artifacts = new MemoryArtifacts({
      BuildOutput: new Map([
        ['imagedefinitions.json', new TextEncoder().encode(JSON.stringify(definitions))],
      ]),
    });
    const report = await run(undefined, {
      artifacts,
      data: { inputArtifacts: [artifact('BuildOutput')], outputArtifacts: [artifact('SignedOutput')] },
    });
    expect(report.kind).toBe('success');
    expect(signer.calls).toBe(2);
    const out = artifacts.written.get('SignedOutput')!;
    const webPinned = `${fake.host}/web@${web.digest}`;
    expect(JSON.parse(text(out.get('imagedefinitions.json')))).toEqual([
      { name: 'web', imageUri: webPinned, note: 'front' },
      { name: 'sidecar', imageUri: webPinned },
      { name: 'worker', imageUri: `${fake.host}/worker@${worker.digest}` },
      { name: 'web-by-digest', imageUri: webPinned },
    ]);
    const records = JSON.parse(text(out.get('signatures.json'))) as Array<Record<string, unknown>>;
    expect(records.map((r) => r.name)).toEqual(['web', 'sidecar', 'worker', 'web-by-digest']);
    // SIGNED_IMAGES lists each image under every container name that runs it (signed once), so the
    // next stages can pin a placeholder container of any of those names.
    expect(
      (
        JSON.parse(report.kind === 'success' ? report.outputVariables!.SIGNED_IMAGES! : '[]') as SignedImage[]
      ).map((e) => [e.name, e.imageUri]),
    ).toEqual([
      ['web', webPinned],
      ['sidecar', webPinned],
      ['worker', `${fake.host}/worker@${worker.digest}`],
      ['web-by-digest', webPinned],
    ]);
    expect(new Set(records.filter((r) => r.digest === web.digest).map((r) => r.signatureDigest)).size).toBe(
      1,
    );
  });

  it('rewrites imageDetail.json keeping its other fields, and adds the image to imagedefinitions.json', async () => {
    const image = await pushTestImage(registry, parseReference(`${fake.host}/team/app:v1`), 'v1');
    const detail = { ImageURI: `${fake.host}/team/app:v1`, ImageTags: ['v1'], RepositoryName: 'team/app' };
    const artifacts = new MemoryArtifacts({
      Source: new Map([['imageDetail.json', new TextEncoder().encode(JSON.stringify(detail))]]),
    });
    const report = await run(undefined, {
      artifacts,
      data: { inputArtifacts: [artifact('Source')], outputArtifacts: [artifact('SignedOutput')] },
    });
    expect(report.kind).toBe('success');
    const out = artifacts.written.get('SignedOutput')!;
    const pinned = `${fake.host}/team/app@${image.digest}`;
    expect(JSON.parse(text(out.get('imageDetail.json')))).toEqual({ ...detail, ImageURI: pinned });
    expect(JSON.parse(text(out.get('imagedefinitions.json')))).toEqual([{ name: 'app', imageUri: pinned }]);
  });

  it('fails as SystemUnavailable naming GetRevocationStatus, signing nothing, when revocation status cannot be obtained', async () => {
    const ref = parseReference(`${fake.host}/app:v1`);
    const image = await pushTestImage(registry, ref, 'v1');
    await run({ image: `${fake.host}/app:v1` });
    const revocation = {
      getRevocationStatus: async (): Promise<{ revokedEntities: string[] }> => {
        throw new Error('socket hang up');
      },
    };
    const report = await run({ image: `${fake.host}/app:v1` }, { deps: deps({ revocation }) });
    expect(report.kind === 'failure' && report.code).toBe('REVOCATION_STATUS_UNAVAILABLE');
    expect(report.kind === 'failure' && report.failureDetails).toMatchObject({
      type: 'SystemUnavailable',
      message: expect.stringContaining('GetRevocationStatus'),
    });
    expect(signer.calls).toBe(1);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(1);
  });

  it('fails the job when one of several images is missing, listing every image and its outcome', async () => {
    const a = await pushTestImage(registry, parseReference(`${fake.host}/a:1`), '1');
    const report = await run({ images: [`${fake.host}/a:1`, `${fake.host}/missing:1`] });
    expect(report.kind).toBe('failure');
    if (report.kind !== 'failure') return;
    expect(report.failureDetails.type).toBe('JobFailed');
    expect(report.code).toBe('IMAGE_NOT_FOUND');
    const lines = report.failureDetails.message.split('\n');
    expect(lines[0]).toBe('Signing failed for 1 of 2 images; the others are signed:');
    expect(lines[1]).toBe(
      `- ${fake.host}/a:1 (UserParameters.images[0]): signed ${fake.host}/a@${a.digest}, signature ${lines[1]!.split('signature ')[1]}`,
    );
    expect(lines[2]).toMatch(
      new RegExp(`^- ${fake.host}/missing:1 \\(UserParameters.images\\[1\\]\\): failed: .*missing:1`),
    );
    // The good image is signed all the same.
    expect(
      await registry.listReferrers(parseReference(`${fake.host}/a:1`), a, MediaType.NotarySignature),
    ).toHaveLength(1);
  });

  it('reports the most severe failure type when several images fail differently', async () => {
    await pushTestImage(registry, parseReference(`${fake.host}/a:1`), '1');
    fake.intercept((r) =>
      r.method === 'POST'
        ? { status: 403, body: '{"errors":[{"code":"DENIED","message":"no"}]}' }
        : undefined,
    );
    const report = await run({ images: [`${fake.host}/missing:1`, `${fake.host}/a:1`] });
    expect(report.kind === 'failure' && report.code).toBe('SIGN_IMAGES_FAILED');
    expect(report.kind === 'failure' && report.failureDetails).toMatchObject({
      type: 'PermissionError',
      message: expect.stringMatching(/^Signing failed for 2 of 2 images/),
    });
  });

  it('rewrites imagedefinitions.json with digest-pinned URIs and writes signatures.json when the action declares an output artifact', async () => {
    const web = await pushTestImage(registry, parseReference(`${fake.host}/web:1.2`), '1.2');
    const worker = await pushTestImage(registry, parseReference(`${fake.host}/team/worker:7`), '7', 'worker');
    const input = new Map([
      [
        'imagedefinitions.json',
        new TextEncoder().encode(
          JSON.stringify([
            { name: 'web', imageUri: `${fake.host}/web:1.2` },
            { name: 'worker', imageUri: `${fake.host}/team/worker:7` },
          ]),
        ),
      ],
    ]);
    const artifacts = new MemoryArtifacts({ BuildOutput: input });
    const report = await run(undefined, {
      artifacts,
      data: { inputArtifacts: [artifact('BuildOutput')], outputArtifacts: [artifact('SignedOutput')] },
    });
    expect(report.kind).toBe('success');
    const out = artifacts.written.get('SignedOutput')!;
    expect(JSON.parse(text(out.get('imagedefinitions.json')))).toEqual([
      { name: 'web', imageUri: `${fake.host}/web@${web.digest}` },
      { name: 'worker', imageUri: `${fake.host}/team/worker@${worker.digest}` },
    ]);
    const records = JSON.parse(text(out.get('signatures.json'))) as Array<Record<string, unknown>>;
    expect(records.map((r) => [r.name, r.digest, r.reused])).toEqual([
      ['web', web.digest, false],
      ['worker', worker.digest, false],
    ]);
  });

  it.each([
    {
      code: 'AccessDeniedException',
      message: 'not authorized',
      type: 'PermissionError',
      expected: 'signer:SignPayload',
    },
    {
      code: 'ResourceNotFoundException',
      message: 'profile not found',
      type: 'ConfigurationError',
      expected: PROFILE_ARN,
    },
    {
      code: 'ValidationException',
      message: 'The signing profile is canceled',
      type: 'ConfigurationError',
      expected: PROFILE_ARN,
    },
    {
      code: 'ValidationException',
      message: 'The signing profile is revoked',
      type: 'ConfigurationError',
      expected: PROFILE_ARN,
    },
    {
      code: 'ThrottlingException',
      message: 'Rate exceeded',
      type: 'SystemUnavailable',
      expected: 'after 5 attempts',
    },
  ])('maps Signer $code ($message) to $type', async ({ code, message, type, expected }) => {
    await pushTestImage(registry, parseReference(`${fake.host}/app:v1`), 'v1');
    const mock = mockClient(SignerClient);
    mock.on(SignPayloadCommand).rejects(
      Object.assign(new Error(message), {
        name: code,
        $metadata: { httpStatusCode: code === 'ThrottlingException' ? 429 : 400 },
      }),
    );
    const client = new SignerClient({
      region: 'us-west-2',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const aws: PayloadSigner = new AwsSignerPayloadSigner({
      profileArn: PROFILE_ARN,
      clientForRegion: () => client,
      retry: { sleep: async () => undefined },
    });
    try {
      const report = await run({ image: `${fake.host}/app:v1` }, { deps: deps({ signerFor: () => aws }) });
      expect(report.kind === 'failure' && report.failureDetails.type).toBe(type);
      expect(report.kind === 'failure' && report.failureDetails.message).toContain(expected);
      expect(report.kind === 'failure' && report.failureDetails.message).toContain(
        `${fake.host}/app:v1 (UserParameters.image)`,
      );
      expect(mock.commandCalls(SignPayloadCommand).length).toBe(code === 'ThrottlingException' ? 5 : 1);
    } finally {
      mock.restore();
    }
  });

  it.each([
    {
      what: 'an image tag that does not exist',
      image: 'app:nope',
      intercept: false,
      type: 'JobFailed',
      code: 'IMAGE_NOT_FOUND',
      message: (host: string) =>
        `image ${host}/app:nope was not found (404); check the repository, tag or digest`,
    },
    {
      what: 'a registry that denies the push',
      image: 'app:v1',
      intercept: true,
      type: 'PermissionError',
      code: 'REGISTRY_DENIED',
      message: (host: string) =>
        `registry ${host} denied POST /v2/app/blobs/uploads/ (403 DENIED: no); no credentials are configured for ${host}`,
    },
  ])('maps $what to $type', async ({ image, intercept, type, code, message }) => {
    await pushTestImage(registry, parseReference(`${fake.host}/app:v1`), 'v1');
    if (intercept)
      fake.intercept((r) =>
        r.method === 'POST'
          ? { status: 403, body: '{"errors":[{"code":"DENIED","message":"no"}]}' }
          : undefined,
      );
    const report = await run({ image: `${fake.host}/${image}` });
    expect(report.kind === 'failure' && report.code).toBe(code);
    expect(report.kind === 'failure' && report.failureDetails).toMatchObject({
      type,
      message: `${fake.host}/${image} (UserParameters.image): ${message(fake.host)}`,
    });
  });

  it.each([
    {
      up: { image: 'nohost:v1' },
      env: {},
      code: 'IMAGE_REFERENCE_INVALID',
      message:
        /^UserParameters\.image is not a valid image reference: invalid reference "nohost:v1": it has no registry host/,
    },
    {
      up: { image: 'r.example/app:v1' },
      env: {},
      code: 'SIGNING_PROFILE_MISSING',
      message:
        /^No signing profile: the function's SIGNING_PROFILE_ARN environment variable is not set and UserParameters has no signingProfileArn\./,
    },
    {
      up: { image: 'r.example/app:v1', signingProfileArn: `${PROFILE_ARN}/V1` },
      env: {},
      code: 'SIGNING_PROFILE_ARN_IS_VERSION',
      message:
        /^UserParameters\.signingProfileArn: "arn:aws:signer:[^"]+\/V1" is a signing profile version ARN/,
    },
    {
      up: { image: 'r.example/app:v1', forceResing: true },
      env: { SIGNING_PROFILE_ARN: PROFILE_ARN },
      code: 'USER_PARAMETERS_UNKNOWN_KEY',
      message: /^UserParameters has unknown key "forceResing"; the sign-image stage accepts /,
    },
    {
      up: { image: 'r.example/app:v1', signatureFormat: 'cose' },
      env: { SIGNING_PROFILE_ARN: PROFILE_ARN },
      code: 'USER_PARAMETERS_INVALID',
      message: /^UserParameters\.signatureFormat must be "oci-1\.1" .* but is "cose"\.$/,
    },
    {
      up: {},
      env: { SIGNING_PROFILE_ARN: PROFILE_ARN },
      code: 'NO_IMAGES',
      message: /^No image to act on\. Looked in UserParameters\.image and UserParameters\.images/,
    },
  ])('reports ConfigurationError $code for $up', async ({ up, env, code, message }) => {
    const report = await run(up, { deps: deps({ env }) });
    expect(report.kind === 'failure' && report.failureDetails.type).toBe('ConfigurationError');
    expect(report.kind === 'failure' && report.code).toBe(code);
    expect(report.kind === 'failure' && report.failureDetails.message).toMatch(message);
    expect(signer.calls).toBe(0);
  });
});

describe('sign-image at the deadline', () => {
  /** A DistributionRegistry that keeps, per resolve call, how it ended and the signal it got. */
  class WatchedRegistry extends DistributionRegistry {
    readonly ended: Promise<unknown>[] = [];
    readonly signals: (AbortSignal | undefined)[] = [];
    override resolve(ref: Reference, options?: CallOptions): Promise<Descriptor> {
      this.signals.push(options?.signal);
      const call = super.resolve(ref, options);
      this.ended.push(
        call.then(
          () => 'resolved',
          (error: unknown) => error,
        ),
      );
      return call;
    }
  }

  it('reports a hung registry call as timed out, aborts it, and sends the registry nothing more', async () => {
    const ref = parseReference(`${fake.host}/app:v1`);
    await pushTestImage(registry, ref, 'v1');
    fake.resetRequests();
    fake.intercept((r) => (r.method === 'HEAD' && r.path.includes('/manifests/') ? 'hang' : undefined));
    // The attempt timeout is far beyond the stage's budget: only the stage's signal can end
    // the hung request before it (without it, the registry would retry once it timed out).
    const watched = new WatchedRegistry({
      plainHttp: true,
      requestTimeoutMs: 5_000,
      retry: { maxAttempts: 2, sleep: async () => undefined },
    });
    const reporter = new RecordingReporter();

    const result = await runPipelineAction(
      jobEvent(JSON.stringify({ image: `${fake.host}/app:v1` })),
      fakeContext(1_000),
      signImageAction(deps({ registry: watched })),
      { reporter, clock: () => TEST_NOW, deadlineMarginMs: 0, sleep: async () => undefined },
    );

    expect(result.report).toMatchObject({
      kind: 'failure',
      code: 'STAGE_TIMED_OUT',
      failureDetails: {
        type: 'SystemUnavailable',
        message: expect.stringContaining('timed out while signing'),
      },
    });
    const requestsAtReport = fake.registryRequests().length;
    expect(requestsAtReport).toBe(1);
    await fake.untilAbandoned(1);
    expect(watched.signals[0]).toBeDefined();
    expect(await Promise.all(watched.ended)).toEqual([expect.objectContaining({ code: 'ABORTED' })]);
    expect(fake.registryRequests()).toHaveLength(requestsAtReport);
    expect(signer.calls).toBe(0);
  });
});
