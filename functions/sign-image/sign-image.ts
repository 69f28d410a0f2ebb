/**
 * The sign-image stage: replaces the "ApplicationSigning" CodeBuild stage (`notation sign
 * --plugin com.amazonaws.signer.notation.plugin --id <profile ARN>`). For each image (from
 * UserParameters or the input artifact) it resolves the digest, reuses a still-valid signature of
 * the same profile or signs through AWS Signer, and pushes the Notary Project signature as an OCI
 * referrer. Dependencies are passed in; the handler only wires them.
 *
 * Every reference is resolved first; references that name the same registry, repository and
 * digest (`app:v1` and `app@<digest of v1>`) are signed once and share the result. Two signings of
 * one digest at once would cost two SignPayload calls and, on a registry without the Referrers
 * API, race on the `sha256-<hex>` referrers index so that one signature is lost from it.
 *
 * Several images are signed concurrently ({@link SIGN_CONCURRENCY} at a time). One failing image
 * does not hide the others: the failure message lists every image with its outcome, and the
 * failure type is that of the most actionable error (`mostActionableKind` in shared/errors: a fix
 * a human must make outranks a verdict, which outranks one a retry could bring): ConfigurationError >
 * PermissionError > JobFailed (verification, input, unexpected) > SystemUnavailable.
 *
 * Output variables: one image → `IMAGE_URI` (digest-pinned), `IMAGE_DIGEST`, `SIGNATURE_DIGEST`,
 * `SIGNING_JOB_ARN`, `SIGNING_PROFILE_VERSION_ARN`; several → the same per image as
 * `IMAGE_<n>_URI`, `IMAGE_<n>_DIGEST`, `IMAGE_<n>_SIGNATURE_DIGEST`, `IMAGE_<n>_SIGNING_JOB_ARN`,
 * `IMAGE_<n>_SIGNING_PROFILE_VERSION_ARN` (n = 1, 2, … in input order). Always `SIGNED_IMAGES`:
 * a JSON array of `SignedImage` (shared/pipeline/handoff.ts, which verify-image reads). Variables that are unknown (a local-key signer has no
 * job ARN) are left out.
 *
 * The output artifact (when declared) is rebuilt from every input entry, not from the signed
 * images: two containers of `imagedefinitions.json` running the same image both stay, each pinned.
 *
 * Every registry and Signer call gets `ctx.signal`: when the wrapper's deadline guard reports the
 * job as timed out, the calls in flight end and nothing more is signed or pushed for it.
 */
import { mapBounded } from '../../shared/concurrency';
import { isStagesignError } from '../../shared/errors';
import { itemsFailedHeadline, summariseItemFailures, withMessage } from '../../shared/item-failures';
import { signArtifact } from '../../shared/notary/sign-artifact';
import type { SignedArtifact } from '../../shared/notary/sign-artifact';
import type { TrustStoreSet } from '../../shared/notary/trust-store';
import type { PayloadSigner, RevocationChecker } from '../../shared/notary/types';
import type { Registry } from '../../shared/oci/registry';
import type { Descriptor } from '../../shared/oci/types';
import type { ActionSpec, OutputArtifactFiles, StageContext } from '../../shared/pipeline/action';
import { SIGNED_IMAGES, writeSignedImages } from '../../shared/pipeline/handoff';
import type { SignedImage } from '../../shared/pipeline/handoff';
import { collectImageSources, imageSourceKey, namesOf } from '../../shared/pipeline/image-sources';
import type { ImageSource } from '../../shared/pipeline/image-sources';
import type { SigningProfileArn } from '../../shared/signer/signing-profile-arn';
import { parseSignImageParams } from './params';
import type { SignImageEnvironment, SignImageParams } from './params';

/** How many images are signed at the same time. */
const SIGN_CONCURRENCY = 4;

/** What the stage needs; the handler builds the deployed ones, tests pass fakes. */
export interface SignImageDeps {
  readonly registry: Registry;
  /** The signer for a signing profile (the handler caches one per profile ARN). */
  signerFor(profile: SigningProfileArn): PayloadSigner;
  /** Roots a reusable existing signature must chain to; default: the built-in AWS Signer roots. */
  readonly trustStores?: TrustStoreSet;
  /** When given, revoked existing signatures are not reused. */
  readonly revocation?: RevocationChecker;
  /** The function's environment (`SIGNING_PROFILE_ARN`), parsed at cold start. */
  readonly environment: SignImageEnvironment;
  /** Default {@link SIGN_CONCURRENCY}. */
  readonly concurrency?: number;
}

/** What happened to one image. */
type ImageOutcome =
  | { readonly source: ImageSource; readonly status: 'signed' | 'reused'; readonly result: SignedArtifact }
  | { readonly source: ImageSource; readonly status: 'failed'; readonly error: unknown };

type Done = Extract<ImageOutcome, { status: 'signed' | 'reused' }>;

/**
 * The stage as the action runtime runs it: `pipelineAction(signImageAction(deps))` is the Lambda
 * handler; local runners (the demo, the tests) pass the same spec to `runPipelineAction`.
 */
export function signImageAction(deps: SignImageDeps): ActionSpec<SignImageParams> {
  return {
    stage: 'sign-image',
    parseParams: (job) => parseSignImageParams(job.userParameters, deps.environment),
    // The stage never asks for a continuation; a token (a retried old job) is ignored and the
    // work is redone, which is safe because signing reuses existing signatures.
    run: async ({ job, params, ctx }) => {
      ctx.setPhase('reading the images to sign');
      const { images, entries } = await collectImageSources(params.sources, {
        inputArtifactNames: job.inputArtifacts.map((a) => a.name),
        readInputArtifact: (name) => ctx.readInputArtifact(name),
      });
      ctx.setPhase(
        `signing ${images.length} image${images.length === 1 ? '' : 's'} with ${params.profile.arn}`,
      );
      const outcomes = await signImages(deps, params, images, ctx);
      if (outcomes.some((o) => o.status === 'failed')) throw failureFor(outcomes);
      const done = outcomes as Done[];
      const jobId = done.map((o) => o.result.signingJobId).find((id) => id !== undefined);
      return {
        kind: 'success',
        summary: summaryOf(done),
        ...(jobId !== undefined ? { externalExecutionId: jobId } : {}),
        outputVariables: outputVariablesOf(done),
        ...(job.outputArtifacts.length > 0
          ? {
              outputArtifacts: Object.fromEntries(
                job.outputArtifacts.map((a) => [a.name, outputFilesOf(entries, done)]),
              ),
            }
          : {}),
      };
    },
  };
}

/**
 * Signs every image, never throwing: every image gets an outcome. All references are resolved
 * first; each distinct registry/repository/digest is then signed once (at most `deps.concurrency`
 * at a time) and its result is shared by every reference that resolved to it.
 */
async function signImages(
  deps: SignImageDeps,
  params: SignImageParams,
  images: readonly ImageSource[],
  ctx: Pick<StageContext, 'now' | 'logger' | 'signal'>,
): Promise<ImageOutcome[]> {
  const signer = deps.signerFor(params.profile);
  const width = deps.concurrency ?? SIGN_CONCURRENCY;
  const outcomes: ImageOutcome[] = new Array<ImageOutcome>(images.length);
  const fail = (index: number, error: unknown): void => {
    const source = images[index] as ImageSource;
    if (isStagesignError(error)) {
      ctx.logger.warn('image not signed', { image: source.text, code: error.code });
    } else {
      ctx.logger.error('image not signed: unexpected error', error instanceof Error ? error : String(error));
    }
    outcomes[index] = { source, status: 'failed', error };
  };

  const resolved = await mapBounded(images, width, async (source, index) => {
    try {
      return await deps.registry.resolve(source.reference, { signal: ctx.signal });
    } catch (error) {
      fail(index, error);
      return undefined;
    }
  });
  const groups = new Map<string, { subject: Descriptor; members: number[] }>();
  resolved.forEach((subject, index) => {
    if (subject === undefined) return;
    const { registry, repository } = (images[index] as ImageSource).reference;
    const key = `${registry}/${repository}@${subject.digest}`;
    const group = groups.get(key);
    if (group) group.members.push(index);
    else groups.set(key, { subject, members: [index] });
  });

  await mapBounded([...groups.values()], width, async ({ subject, members }) => {
    const first = images[members[0] as number] as ImageSource;
    try {
      const result = await signArtifact(
        {
          registry: deps.registry,
          signer,
          ...(deps.trustStores ? { trustStores: deps.trustStores } : {}),
          ...(deps.revocation ? { revocation: deps.revocation } : {}),
          logger: { debug: (message, attributes) => ctx.logger.debug(message, { ...attributes }) },
        },
        first.reference,
        {
          now: ctx.now(),
          force: params.force,
          shape: params.shape,
          signPlatformManifests: params.signPlatformManifests,
          profileArn: params.profile.arn,
          ...(params.userMetadata ? { userMetadata: params.userMetadata } : {}),
          subject,
          signal: ctx.signal,
        },
      );
      ctx.logger.info(result.reused ? 'existing signature reused' : 'image signed', {
        digest: result.digest,
        signatureDigest: result.signatureDigest,
        signingJobId: result.signingJobId,
        references: members.length,
      });
      for (const index of members) {
        const source = images[index] as ImageSource;
        outcomes[index] = { source, status: result.reused ? 'reused' : 'signed', result };
      }
    } catch (error) {
      for (const index of members) fail(index, error);
    }
  });
  return outcomes;
}

/**
 * `Successfully signed <registry>/<repo>@sha256:…`, one line per signed image (references that
 * resolved to one image give one line) and platform manifest. With several images a count line
 * comes first (`Signed 12 images (3 reused)`), so that it survives the console's 2048-character
 * cut when the per-image lines do not.
 */
function summaryOf(done: readonly Done[]): string {
  const lines: string[] = [];
  const results = distinctResults(done);
  if (results.length > 1) {
    const reused = results.filter((r) => r.reused).length;
    lines.push(`Signed ${results.length} images (${reused} reused)`);
  }
  for (const result of results) {
    lines.push(
      `Successfully signed ${result.reference}${result.reused ? ` (existing signature ${result.signatureDigest} reused)` : ''}`,
    );
    for (const p of result.platforms ?? []) {
      lines.push(
        `Successfully signed ${p.reference} (${platformText(p.platform)})${p.reused ? ' (existing signature reused)' : ''}`,
      );
    }
  }
  return lines.join('\n');
}

/** The output variables (see the module comment for the names). */
function outputVariablesOf(done: readonly Done[]): Record<string, string> {
  const variables: Record<string, string> = {};
  // One image: IMAGE_URI, IMAGE_DIGEST, SIGNATURE_DIGEST, …; several: IMAGE_<n>_ before every name.
  const put = (image: string, other: string, r: SignedArtifact): void => {
    variables[`${image}URI`] = r.reference;
    variables[`${image}DIGEST`] = r.digest;
    variables[`${other}SIGNATURE_DIGEST`] = r.signatureDigest;
    if (r.signingJobArn !== undefined) variables[`${other}SIGNING_JOB_ARN`] = r.signingJobArn;
    if (r.signingProfileVersionArn !== undefined) {
      variables[`${other}SIGNING_PROFILE_VERSION_ARN`] = r.signingProfileVersionArn;
    }
  };
  if (done.length === 1) put('IMAGE_', '', (done[0] as (typeof done)[number]).result);
  else done.forEach((o, i) => put(`IMAGE_${i + 1}_`, `IMAGE_${i + 1}_`, o.result));
  variables[SIGNED_IMAGES] = writeSignedImages(done.flatMap(summaryEntries));
  return variables;
}

/**
 * The output artifact, rebuilt from every input entry (`entries`, duplicates included) with the
 * result of its reference (`done`):
 *
 * - `imagedefinitions.json`: every `imagedefinitions.json` entry in input order, each with its
 *   `imageUri` pinned by digest and its other fields kept; an image given otherwise (user
 *   parameters, `imageDetail.json`) is added as `{name: <repository's last path component>,
 *   imageUri}` unless a container already runs that pinned image;
 * - `imageDetail.json` (when an image came from one): its fields kept, `ImageURI` pinned;
 * - `signatures.json`: one record per entry (so that each container finds its signature), with
 *   the platform manifests' records where signed.
 */
function outputFilesOf(entries: readonly ImageSource[], done: readonly Done[]): OutputArtifactFiles {
  const byKey = new Map(done.map((o) => [imageSourceKey(o.source), o.result]));
  const rows = entries.map((source) => {
    const result = byKey.get(imageSourceKey(source));
    if (result === undefined) throw new Error(`no outcome for ${source.text} (${source.origin})`);
    return { source, result };
  });
  const fromFile = new Set(
    rows.filter((r) => r.source.kind === 'imagedefinitions').map((r) => r.result.reference),
  );
  const added = new Set<string>();
  const definitions: Record<string, unknown>[] = [];
  for (const { source, result } of rows) {
    if (source.kind === 'imagedefinitions') {
      definitions.push(
        source.fields !== undefined
          ? { ...source.fields, imageUri: result.reference }
          : { ...(source.name !== undefined ? { name: source.name } : {}), imageUri: result.reference },
      );
    } else if (!fromFile.has(result.reference) && !added.has(result.reference)) {
      added.add(result.reference);
      definitions.push({
        name: source.name ?? source.reference.repository.split('/').at(-1) ?? source.reference.repository,
        imageUri: result.reference,
      });
    }
  }
  const files: Record<string, string> = {
    'imagedefinitions.json': JSON.stringify(definitions),
    'signatures.json': `${JSON.stringify(
      rows.map(({ source, result }) => ({
        ...summaryEntry({ source, result }, source.name),
        ...(result.platforms ? { platforms: result.platforms } : {}),
      })),
      null,
      2,
    )}\n`,
  };
  const detail = rows.find((r) => r.source.kind === 'imageDetail');
  if (detail) {
    files['imageDetail.json'] = JSON.stringify({
      ...detail.source.fields,
      ImageURI: detail.result.reference,
    });
  }
  return files;
}

/** Each distinct signature result once, in first-appearance order. */
function distinctResults(done: readonly Done[]): SignedArtifact[] {
  const seen = new Set<string>();
  const results: SignedArtifact[] = [];
  for (const { result } of done) {
    const key = `${result.reference} ${result.signatureDigest}`;
    if (seen.has(key)) continue;
    seen.add(key);
    results.push(result);
  }
  return results;
}

/** The `SIGNED_IMAGES` entries of one image: one per container name it stands for. */
function summaryEntries(done: { source: ImageSource; result: SignedArtifact }): SignedImage[] {
  return namesOf(done.source).map((name) => summaryEntry(done, name));
}

function summaryEntry(
  { source, result }: { source: ImageSource; result: SignedArtifact },
  name: string | undefined,
): SignedImage {
  return {
    ...(name !== undefined ? { name } : {}),
    source: source.text,
    imageUri: result.reference,
    digest: result.digest,
    signatureDigest: result.signatureDigest,
    reused: result.reused,
    ...(result.signingJobArn !== undefined ? { signingJobArn: result.signingJobArn } : {}),
    ...(result.signingProfileVersionArn !== undefined
      ? { signingProfileVersionArn: result.signingProfileVersionArn }
      : {}),
    signedAt: result.signedAt,
  };
}

/**
 * The error to report when at least one image failed: one image → its own error, prefixed with
 * the image; several → the shared "N of M items failed" summary (code `SIGN_IMAGES_FAILED` unless
 * all failures share one code) whose message lists every image and its outcome.
 */
function failureFor(outcomes: readonly ImageOutcome[]): Error {
  const failures = outcomes.filter(
    (o): o is Extract<ImageOutcome, { status: 'failed' }> => o.status === 'failed',
  );
  const [only] = outcomes;
  if (outcomes.length === 1 && only?.status === 'failed') {
    return withMessage(only.error, `${only.source.text} (${only.source.origin}): ${messageOf(only.error)}`);
  }
  const lines = outcomes.map((o) => {
    const where = `${o.source.text} (${o.source.origin})`;
    switch (o.status) {
      case 'signed':
        return `- ${where}: signed ${o.result.reference}, signature ${o.result.signatureDigest}`;
      case 'reused':
        return `- ${where}: already signed ${o.result.reference}, signature ${o.result.signatureDigest} reused`;
      case 'failed':
        return `- ${where}: failed: ${messageOf(o.error)}`;
    }
  });
  const message = `${itemsFailedHeadline('Signing', failures.length, outcomes.length, 'images')}; the others are signed:\n${lines.join('\n')}`;
  return summariseItemFailures(
    failures.map((f) => ({ error: f.error })),
    message,
    { mixedCode: 'SIGN_IMAGES_FAILED' },
  );
}

function messageOf(error: unknown): string {
  if (isStagesignError(error)) return error.message;
  return `unexpected error (${error instanceof Error ? error.name : typeof error}): ${error instanceof Error ? error.message : String(error)}`;
}

function platformText(p: { os: string; architecture: string; variant?: string }): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
