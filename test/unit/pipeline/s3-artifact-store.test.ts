import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJob } from '../../../shared/pipeline/job';
import { DEFAULT_ZIP_LIMITS, readZip } from '../../../shared/pipeline/zip';
import { S3ArtifactStore, artifactS3Client } from '../../../shared/pipeline/s3-artifact-store';
import { EVENT_SECRETS, loadEvent } from '../../helpers/codepipeline-events';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const job = parseJob(loadEvent('sign-image', 'input-artifact-kms'));
const input = job.inputArtifacts[0]!;
const output = {
  name: 'SignOutput',
  revision: null,
  location: { bucketName: 'out-bucket', objectKey: 'p/SignOutput/abc' },
};
// The two SdkStreamMixin methods the store uses (the real mixin lives in a nested @smithy package).
const body = (bytes: Uint8Array) =>
  ({
    transformToByteArray: async () => bytes,
    transformToWebStream: () => new Blob([Buffer.from(bytes)]).stream(),
  }) as never;

describe('S3ArtifactStore', () => {
  it('downloads and extracts an input artifact zip from its location', async () => {
    s3.on(GetObjectCommand, { Bucket: input.location.bucketName, Key: input.location.objectKey }).resolves({
      Body: body(zipSync({ 'k8s/deployment.yaml': new TextEncoder().encode('kind: Deployment') })),
    });
    const files = await new S3ArtifactStore({ env: { AWS_REGION: 'us-east-1' } }).read(job, input);
    expect(new TextDecoder().decode(files.get('k8s/deployment.yaml'))).toBe('kind: Deployment');
  });

  it('refuses an object larger than the archive limit before reading it', async () => {
    s3.on(GetObjectCommand).resolves({ ContentLength: 10_000, Body: body(new Uint8Array(1)) });
    const store = new S3ArtifactStore({
      env: { AWS_REGION: 'us-east-1' },
      limits: { ...DEFAULT_ZIP_LIMITS, maxArchiveBytes: 100 },
    });
    await expect(store.read(job, input)).rejects.toMatchObject({ code: 'ARTIFACT_TOO_LARGE' });
  });

  it('stops reading a body without ContentLength as soon as it passes the archive limit', async () => {
    // 10 MB in 1 KiB chunks, no ContentLength (chunked transfer): only what the limit needs is pulled.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === 10_000) return controller.close();
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    s3.on(GetObjectCommand).resolves({
      Body: {
        transformToWebStream: () => endless,
        transformToByteArray: async () => new Uint8Array(await new Response(endless).arrayBuffer()),
      } as never,
    });
    const store = new S3ArtifactStore({
      env: { AWS_REGION: 'us-east-1' },
      limits: { ...DEFAULT_ZIP_LIMITS, maxArchiveBytes: 4096 },
    });
    await expect(store.read(job, input)).rejects.toMatchObject({
      name: 'InputError',
      code: 'ARTIFACT_TOO_LARGE',
      message: `The input artifact ${input.name} is too large: the zip is over the limit of 4096 bytes (the download was stopped there).`,
    });
    // The stream's own read-ahead (highWaterMark 1) may add one chunk.
    expect(pulled).toBeLessThanOrEqual(7);
  });

  it('passes the abort signal to GetObject and PutObject', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body(zipSync({ 'a.txt': new Uint8Array([1]) })) });
    s3.on(PutObjectCommand).resolves({});
    const { signal } = new AbortController();
    const store = new S3ArtifactStore({ env: { AWS_REGION: 'us-east-1' } });
    await store.read(job, input, { signal });
    await store.write(job, output, new Map(), { signal });
    // `send(command, options)`: the mock's typings list only the command.
    const sendOptions = (call: { args: readonly unknown[] } | undefined) => call?.args[1];
    expect(sendOptions(s3.commandCalls(GetObjectCommand)[0])).toEqual({ abortSignal: signal });
    expect(sendOptions(s3.commandCalls(PutObjectCommand)[0])).toEqual({ abortSignal: signal });
  });

  it('stops reading the body when the signal is aborted mid-download', async () => {
    let cancelled = false;
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10)); // then nothing more ever arrives
      },
      cancel() {
        cancelled = true;
      },
    });
    s3.on(GetObjectCommand).resolves({
      Body: { transformToWebStream: () => stalled } as never,
    });
    const controller = new AbortController();
    const reading = new S3ArtifactStore({ env: { AWS_REGION: 'us-east-1' } }).read(job, input, {
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('deadline while reading the input artifact'));
    await expect(reading).rejects.toMatchObject({
      name: 'DependencyError',
      code: 'ARTIFACT_TRANSFER_ABORTED',
    });
    expect(cancelled).toBe(true);
  });

  it('writes the output zip with SSE-KMS and the job encryption key', async () => {
    s3.on(PutObjectCommand).resolves({});
    await new S3ArtifactStore({ env: { AWS_REGION: 'us-east-1' } }).write(
      job,
      output,
      new Map([['signature.jws', new TextEncoder().encode('{}')]]),
    );
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    const params = calls[0]!.args[0].input;
    expect(params).toMatchObject({
      Bucket: 'out-bucket',
      Key: 'p/SignOutput/abc',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      ContentType: 'application/zip',
    });
    expect(new TextDecoder().decode(readZip(params.Body as Uint8Array).get('signature.jws'))).toBe('{}');
  });

  it('still asks for aws:kms (the bucket default key) when the job has no encryption key', async () => {
    s3.on(PutObjectCommand).resolves({});
    const plain = parseJob(loadEvent('sign-image', 'happy-path'));
    await new S3ArtifactStore({ env: { AWS_REGION: 'us-east-1' } }).write(plain, output, new Map());
    const params = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(params.ServerSideEncryption).toBe('aws:kms');
    expect(params).not.toHaveProperty('SSEKMSKeyId');
  });

  it.each([
    [
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
      'PermissionError',
      'ARTIFACT_ACCESS_DENIED',
    ],
    [
      Object.assign(new Error('gone'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }),
      'InputError',
      'ARTIFACT_NOT_FOUND',
    ],
    [
      Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
      'DependencyError',
      'ARTIFACT_STORE_UNAVAILABLE',
    ],
  ])('maps the S3 error %s to the error model', async (error, name, code) => {
    s3.on(GetObjectCommand).rejects(error);
    await expect(
      new S3ArtifactStore({ env: { AWS_REGION: 'us-east-1' } }).read(job, input),
    ).rejects.toMatchObject({ name, code });
  });
});

describe('artifactS3Client', () => {
  it('acts with the job credentials, never the default chain', async () => {
    const client = artifactS3Client(job.artifactCredentials, { AWS_REGION: 'eu-west-1' });
    const credentials = await client.config.credentials();
    expect(credentials).toMatchObject({
      accessKeyId: EVENT_SECRETS[0],
      secretAccessKey: EVENT_SECRETS[1],
      sessionToken: EVENT_SECRETS[2],
    });
    expect(await client.config.region()).toBe('eu-west-1');
    expect(client.config.forcePathStyle).toBe(false);
  });

  it('uses path-style addressing when an S3 endpoint is configured', () => {
    const client = artifactS3Client(job.artifactCredentials, {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5000',
    });
    expect(client.config.forcePathStyle).toBe(true);
  });
});
