import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DependencyError, InputError, PermissionError } from '../errors';
import { describeAwsError } from '../aws/aws-error';
import type { ArtifactFiles, ArtifactOptions, ArtifactStore } from './artifact-store';
import type { ArtifactCredentials, Job, JobArtifact } from './job';
import { DEFAULT_ZIP_LIMITS, readZip, writeZip } from './zip';
import type { ZipLimits } from './zip';

/** Environment variables the artifact S3 client reads. */
export interface ArtifactClientEnv {
  readonly AWS_REGION?: string;
  readonly AWS_ENDPOINT_URL_S3?: string;
  readonly AWS_ENDPOINT_URL?: string;
}

/**
 * An S3 client that acts only with the job's artifact credentials (the action role), never the
 * function's role. `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`) selects a local endpoint (moto,
 * localstack), addressed path-style, which the SDK has no variable for.
 */
export function artifactS3Client(credentials: ArtifactCredentials, env: ArtifactClientEnv): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      ...(credentials.expirationTime ? { expiration: credentials.expirationTime } : {}),
    },
    // Passed explicitly so an injected `env` wins over the process environment.
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}

/**
 * Artifacts in the pipeline's S3 artifact bucket. Reads are size-limited before and after
 * download; writes use SSE-KMS (artifact buckets commonly deny unencrypted uploads), with the
 * job's `encryptionKey` when present.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly limits: ZipLimits;
  private readonly clientFor: (credentials: ArtifactCredentials) => S3Client;

  constructor(
    options: {
      readonly limits?: ZipLimits;
      /** Builds the client for a job's credentials; defaults to {@link artifactS3Client}. */
      readonly clientFor?: (credentials: ArtifactCredentials) => S3Client;
      readonly env?: ArtifactClientEnv;
    } = {},
  ) {
    this.limits = options.limits ?? DEFAULT_ZIP_LIMITS;
    const env = options.env ?? process.env;
    this.clientFor = options.clientFor ?? ((credentials) => artifactS3Client(credentials, env));
  }

  async read(job: Job, artifact: JobArtifact, options: ArtifactOptions = {}): Promise<ArtifactFiles> {
    const { bucketName, objectKey } = artifact.location;
    const label = `input artifact ${artifact.name}`;
    const client = this.clientFor(job.artifactCredentials);
    try {
      const response = await client.send(
        new GetObjectCommand({ Bucket: bucketName, Key: objectKey }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      if (response.ContentLength !== undefined && response.ContentLength > this.limits.maxArchiveBytes) {
        response.Body?.transformToWebStream()
          .cancel()
          .catch(() => undefined);
        throw this.tooLarge(label, response.ContentLength);
      }
      if (!response.Body) throw new InputError('ARTIFACT_CORRUPT', `The ${label} has no content.`);
      const body = response.Body.transformToWebStream();
      // Counted while reading: ContentLength may be absent (chunked) or not match the body.
      const bytes = await readBounded(body, this.limits.maxArchiveBytes, options.signal, () =>
        this.tooLarge(label),
      );
      return readZip(bytes, this.limits, label);
    } catch (error) {
      throw options.signal?.aborted ? stopped(error, 'read', artifact) : mapS3Error(error, 'read', artifact);
    } finally {
      client.destroy();
    }
  }

  /** The oversize error; without a declared size, the download was stopped at the limit. */
  private tooLarge(label: string, declaredBytes?: number): InputError {
    const max = this.limits.maxArchiveBytes;
    const text =
      declaredBytes === undefined
        ? `the zip is over the limit of ${max} bytes (the download was stopped there)`
        : `the zip is ${declaredBytes} bytes, over the limit of ${max}`;
    return new InputError('ARTIFACT_TOO_LARGE', `The ${label} is too large: ${text}.`);
  }

  async write(
    job: Job,
    artifact: JobArtifact,
    files: ArtifactFiles,
    options: ArtifactOptions = {},
  ): Promise<void> {
    const { bucketName, objectKey } = artifact.location;
    const body = writeZip(files, `output artifact ${artifact.name}`);
    const client = this.clientFor(job.artifactCredentials);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucketName,
          Key: objectKey,
          Body: body,
          ContentType: 'application/zip',
          ServerSideEncryption: 'aws:kms',
          ...(job.encryptionKey ? { SSEKMSKeyId: job.encryptionKey.id } : {}),
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
    } catch (error) {
      throw options.signal?.aborted
        ? stopped(error, 'write', artifact)
        : mapS3Error(error, 'write', artifact);
    } finally {
      client.destroy();
    }
  }
}

/**
 * Reads a byte stream to the end, but never more than `maxBytes`: past that it cancels the
 * stream and throws `tooLarge()`. Aborting `signal` cancels it too (with the signal's reason).
 */
async function readBounded(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  signal: AbortSignal | undefined,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const onAbort = (): void => {
    reader.cancel(signal?.reason).catch(() => undefined);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The transfer was aborted by the caller's signal (the stage's deadline): not an S3 failure. */
function stopped(error: unknown, verb: 'read' | 'write', artifact: JobArtifact): Error {
  const { bucketName, objectKey } = artifact.location;
  return new DependencyError(
    'ARTIFACT_TRANSFER_ABORTED',
    `Stopped the ${verb} of s3://${bucketName}/${objectKey} (${verb === 'read' ? 'input' : 'output'} artifact ${artifact.name}): the stage ran out of time.`,
    { cause: error },
  );
}

/** S3 errors → the error model. Already-mapped StagesignErrors pass through. */
function mapS3Error(error: unknown, verb: 'read' | 'write', artifact: JobArtifact): Error {
  if (error instanceof InputError) return error;
  const { bucketName, objectKey } = artifact.location;
  const where = `s3://${bucketName}/${objectKey} (${verb === 'read' ? 'input' : 'output'} artifact ${artifact.name})`;
  const { code, kind } = describeAwsError(error);
  if (kind === 'access-denied' || kind === 'credentials' || code.startsWith('KMS.')) {
    const needs = verb === 'read' ? 's3:GetObject and kms:Decrypt' : 's3:PutObject and kms:GenerateDataKey';
    return new PermissionError(
      'ARTIFACT_ACCESS_DENIED',
      `The pipeline's artifact credentials cannot ${verb} ${where}: grant the pipeline (or action) role ${needs} on the artifact bucket and its KMS key.`,
      { cause: error },
    );
  }
  if (kind === 'not-found') {
    return new InputError('ARTIFACT_NOT_FOUND', `The artifact ${where} does not exist.`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new DependencyError(
    'ARTIFACT_STORE_UNAVAILABLE',
    `S3 failed to ${verb} ${where} after retries: ${detail}`,
    {
      cause: error,
    },
  );
}
