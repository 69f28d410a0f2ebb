import type { Job, JobArtifact } from './job';

/** The files of an artifact: path inside the zip → contents. */
export type ArtifactFiles = ReadonlyMap<string, Uint8Array>;

/**
 * Reads and writes CodePipeline artifacts (zips in the artifact bucket). Implementations:
 * {@link S3ArtifactStore} (deployed: S3 with the job's artifact credentials) and in-memory
 * fakes in tests.
 */
export interface ArtifactStore {
  /** Downloads and extracts an input artifact, enforcing the zip limits. */
  read(job: Job, artifact: JobArtifact, options?: ArtifactOptions): Promise<ArtifactFiles>;
  /** Zips `files` and uploads them to the output artifact's location (SSE-KMS). */
  write(job: Job, artifact: JobArtifact, files: ArtifactFiles, options?: ArtifactOptions): Promise<void>;
}

/** Per-call options of an {@link ArtifactStore}. */
export interface ArtifactOptions {
  /**
   * Aborts the transfer (the wrapper passes the stage's deadline signal, so no artifact is read
   * or written for a job already reported as timed out).
   */
  readonly signal?: AbortSignal;
}
