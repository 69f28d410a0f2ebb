import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ConfigurationError } from '../errors';

/**
 * The CodePipeline `Invoke/Lambda` job, parsed once at the boundary (architecture.md §6.3).
 * Event shape: codepipeline-and-sam.md §1.1. `@types/aws-lambda` gets two things wrong
 * (`UserParameters` is optional, `artifactCredentials.expirationTime` exists), so the event is
 * validated with zod here and nothing after this point re-checks it.
 */

/** Where an artifact zip lives. CodePipeline only uses S3 locations. */
export interface S3ArtifactLocation {
  readonly bucketName: string;
  readonly objectKey: string;
}

/** One input or output artifact of the action. */
export interface JobArtifact {
  readonly name: string;
  /** Commit id / S3 version id of an input artifact; `null` for outputs and some sources. */
  readonly revision: string | null;
  readonly location: S3ArtifactLocation;
}

/**
 * Temporary credentials of the action role, valid only for the artifact bucket (and its KMS
 * key). Never use them for CodePipeline, Signer, ECR or EKS calls; never log them.
 */
export interface ArtifactCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When the credentials expire (present in real events, missing from @types/aws-lambda). */
  readonly expirationTime?: Date;
}

/** The KMS key CodePipeline encrypts artifacts with; absent means the S3 default key. */
export interface EncryptionKey {
  /** Key id, key ARN or alias ARN. */
  readonly id: string;
  readonly type: 'KMS';
}

/** A validated CodePipeline job. */
export interface Job {
  /** Job id (a UUID). A continuation re-invocation has a new job id. */
  readonly id: string;
  readonly accountId: string;
  /** `actionConfiguration.configuration.FunctionName`, when present. */
  readonly functionName?: string;
  /** `UserParameters` parsed as a JSON object; `undefined` when the action sets none. */
  readonly userParameters: Readonly<Record<string, unknown>> | undefined;
  readonly inputArtifacts: readonly JobArtifact[];
  readonly outputArtifacts: readonly JobArtifact[];
  readonly artifactCredentials: ArtifactCredentials;
  /** Present only when CodePipeline re-invokes the function after a continuation report. */
  readonly continuationToken?: string;
  readonly encryptionKey?: EncryptionKey;
}

/** The top-level key of every CodePipeline job event. */
export const JOB_EVENT_KEY = 'CodePipeline.job';

const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// zod/mini: the same validator with a tree-shakeable API (the classic API adds ~440 KB to every
// bundle); only the English messages are loaded, so reasons read "expected string, received number".
z.config(en());
const nonEmpty = z.string().check(z.minLength(1));

const artifactSchema = z.object({
  name: nonEmpty,
  revision: z.optional(z.nullable(z.string())),
  location: z.object({
    type: z.literal('S3'),
    s3Location: z.object({ bucketName: nonEmpty, objectKey: nonEmpty }),
  }),
});

const artifactList = z._default(z.array(artifactSchema).check(z.maxLength(5)), []);

const jobSchema = z.object({
  id: z.string().check(z.regex(JOB_ID_PATTERN)),
  accountId: z.string().check(z.regex(/^\d{12}$/)),
  data: z.object({
    actionConfiguration: z.optional(
      z.object({
        configuration: z.optional(
          z.object({ FunctionName: z.optional(z.string()), UserParameters: z.optional(z.string()) }),
        ),
      }),
    ),
    inputArtifacts: artifactList,
    outputArtifacts: artifactList,
    artifactCredentials: z.object({
      accessKeyId: nonEmpty,
      secretAccessKey: nonEmpty,
      sessionToken: z.optional(z.string()),
      expirationTime: z.optional(z.union([z.number(), z.string()])),
    }),
    continuationToken: z.optional(nonEmpty),
    encryptionKey: z.optional(z.object({ id: nonEmpty, type: z.literal('KMS') })),
  }),
});

/**
 * The job id of an event, if it has a well-formed one. Used to decide whether a malformed event
 * can still be reported (there is a job to fail) or can only be logged.
 */
export function peekJobId(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const job = (event as Record<string, unknown>)[JOB_EVENT_KEY];
  if (typeof job !== 'object' || job === null) return undefined;
  const id = (job as Record<string, unknown>).id;
  return typeof id === 'string' && JOB_ID_PATTERN.test(id) ? id : undefined;
}

/**
 * Validates a `CodePipeline.job` event into a {@link Job}.
 *
 * @throws ConfigurationError (code `EVENT_INVALID`) naming the first bad field (never its
 *   value: the event carries credentials), or (code `USER_PARAMETERS_INVALID`) when
 *   `UserParameters` is present but not a JSON object.
 */
export function parseJob(event: unknown): Job {
  if (typeof event !== 'object' || event === null || !(JOB_EVENT_KEY in event)) {
    throw new ConfigurationError(
      'EVENT_INVALID',
      `The event has no "${JOB_EVENT_KEY}" object. This function must be invoked by a CodePipeline Invoke/Lambda action.`,
    );
  }
  const parsed = jobSchema.safeParse((event as Record<string, unknown>)[JOB_EVENT_KEY]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = [JOB_EVENT_KEY, ...(issue?.path ?? [])].map(String).join('.');
    // Only the path and zod's generic reason: quoting the value could leak credentials.
    throw new ConfigurationError(
      'EVENT_INVALID',
      `The CodePipeline job event is malformed at ${field}: ${issue?.message ?? 'invalid'}. This function must be invoked by a CodePipeline Invoke/Lambda action.`,
    );
  }
  const raw = parsed.data;
  const configuration = raw.data.actionConfiguration?.configuration;
  const creds = raw.data.artifactCredentials;
  const job: Job = {
    id: raw.id,
    accountId: raw.accountId,
    ...(configuration?.FunctionName ? { functionName: configuration.FunctionName } : {}),
    userParameters: parseUserParameters(configuration?.UserParameters),
    inputArtifacts: raw.data.inputArtifacts.map(toArtifact),
    outputArtifacts: raw.data.outputArtifacts.map(toArtifact),
    artifactCredentials: {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}),
      ...(creds.expirationTime !== undefined ? { expirationTime: toDate(creds.expirationTime) } : {}),
    },
    ...(raw.data.continuationToken ? { continuationToken: raw.data.continuationToken } : {}),
    ...(raw.data.encryptionKey ? { encryptionKey: raw.data.encryptionKey } : {}),
  };
  return job;
}

/**
 * Parses the `UserParameters` string of the action configuration. Absent → `undefined`;
 * present → must be a JSON object.
 */
export function parseUserParameters(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const example = 'e.g. {"image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:…"}';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigurationError(
      'USER_PARAMETERS_INVALID',
      `UserParameters is not valid JSON: ${reason}. Fix the action configuration so UserParameters is a JSON object, ${example}.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new ConfigurationError(
      'USER_PARAMETERS_INVALID',
      `UserParameters must be a JSON object but is ${got}. Fix the action configuration, ${example}.`,
    );
  }
  return value as Record<string, unknown>;
}

function toArtifact(raw: z.infer<typeof artifactSchema>): JobArtifact {
  return { name: raw.name, revision: raw.revision ?? null, location: raw.location.s3Location };
}

function toDate(value: number | string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new ConfigurationError(
      'EVENT_INVALID',
      `The CodePipeline job event is malformed at ${JOB_EVENT_KEY}.data.artifactCredentials.expirationTime: not a timestamp.`,
    );
  }
  return date;
}
