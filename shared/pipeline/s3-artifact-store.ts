import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DependencyError, InputError, PermissionError } from '../errors';
import type { ArtifactFiles, ArtifactStore } from './artifact-store';
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

  async read(job: Job, artifact: JobArtifact): Promise<ArtifactFiles> {
    const { bucketName, objectKey } = artifact.location;
    const label = `input artifact ${artifact.name}`;
    const client = this.clientFor(job.artifactCredentials);
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucketName, Key: objectKey }));
      if (response.ContentLength !== undefined && response.ContentLength > this.limits.maxArchiveBytes) {
        response.Body?.transformToWebStream()
          .cancel()
          .catch(() => undefined);
        throw new InputError(
          'ARTIFACT_TOO_LARGE',
          `The ${label} is too large: the zip is ${response.ContentLength} bytes, over the limit of ${this.limits.maxArchiveBytes}.`,
        );
      }
      if (!response.Body) throw new InputError('ARTIFACT_CORRUPT', `The ${label} has no content.`);
      const bytes = await response.Body.transformToByteArray();
      return readZip(bytes, this.limits, label);
    } catch (error) {
      throw mapS3Error(error, 'read', artifact);
    } finally {
      client.destroy();
    }
  }

  async write(job: Job, artifact: JobArtifact, files: ArtifactFiles): Promise<void> {
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
      );
    } catch (error) {
      throw mapS3Error(error, 'write', artifact);
    } finally {
      client.destroy();
    }
  }
}

/** S3 errors → the error model. Already-mapped StagesignErrors pass through. */
function mapS3Error(error: unknown, verb: 'read' | 'write', artifact: JobArtifact): Error {
  if (error instanceof InputError) return error;
  const { bucketName, objectKey } = artifact.location;
  const where = `s3://${bucketName}/${objectKey} (${verb === 'read' ? 'input' : 'output'} artifact ${artifact.name})`;
  const name = error instanceof Error ? error.name : '';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  if (
    name === 'AccessDenied' ||
    name === 'AccessDeniedException' ||
    name.startsWith('KMS.') ||
    status === 403
  ) {
    const needs = verb === 'read' ? 's3:GetObject and kms:Decrypt' : 's3:PutObject and kms:GenerateDataKey';
    return new PermissionError(
      'ARTIFACT_ACCESS_DENIED',
      `The pipeline's artifact credentials cannot ${verb} ${where}: grant the pipeline (or action) role ${needs} on the artifact bucket and its KMS key.`,
      { cause: error },
    );
  }
  if (name === 'NoSuchKey' || name === 'NoSuchBucket' || status === 404) {
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
