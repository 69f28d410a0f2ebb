/**
 * The CodePipeline action runtime: every stage's handler is `pipelineAction(<stage>Action(deps))`.
 * See README.md in this folder.
 */
export {
  pipelineAction,
  runPipelineAction,
  DEFAULT_DEADLINE_MARGIN_MS,
  REPORT_LOG_RESERVE_MS,
} from './action';
export type {
  ActionDeps,
  ActionSpec,
  InvocationResult,
  LambdaContextLike,
  OutputArtifactFiles,
  PipelineHandler,
  StageContext,
  StageInput,
  StageName,
  StageOutcome,
} from './action';
export type { ArtifactFiles, ArtifactOptions, ArtifactStore } from './artifact-store';
export {
  CodePipelineReporter,
  REPORT_ATTEMPT_TIMEOUT_MS,
  REPORT_CONNECTION_TIMEOUT_MS,
  REPORT_REQUEST_TIMEOUT_MS,
  codePipelineReportingClient,
} from './codepipeline-reporter';
export { decodeContinuationToken, encodeContinuationToken } from './continuation';
export { clearLocalReporter, defaultReporter, useLocalReporter } from './default-reporter';
export { failureTypeFor, mapFailure } from './failure';
export type { FailureDetails, FailureType, MappedFailure } from './failure';
export { JOB_EVENT_KEY, parseJob, parseUserParameters, peekJobId } from './job';
export type { ArtifactCredentials, EncryptionKey, Job, JobArtifact, S3ArtifactLocation } from './job';
export { LIMITS, OUTPUT_VARIABLE_KEY, checkOutputVariables, outputVariablesBytes, truncate } from './limits';
export { RecordingReporter } from './recording-reporter';
export { TERMINAL_REPORT_ERRORS } from './reporter';
export type { ExecutionDetails, JobReport, JobReporter, ReportOptions } from './reporter';
export { S3ArtifactStore, artifactS3Client } from './s3-artifact-store';
export type { ArtifactClientEnv } from './s3-artifact-store';
export { DEFAULT_ZIP_LIMITS, checkEntryPath, readZip, writeZip } from './zip';
export type { ZipLimits } from './zip';
