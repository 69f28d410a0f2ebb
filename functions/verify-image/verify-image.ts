/**
 * The verify-image stage: `notation verify` (with the AWS Signer plugin's semantics) for every
 * image of the job, as a CodePipeline action. Dependencies are passed in; `handler.ts` wires the
 * deployed ones.
 *
 * 1. collect the images (UserParameters, the sign stage's `signedImages`, or the input
 *    artifact's `imagedefinitions.json` / `imageDetail.json`);
 * 2. resolve the trust policy (artifact file → TRUST_POLICY → SSM → default) and trust stores;
 * 3. verify every image with the shared {@link verifyImageReference}, a few at a time, each
 *    stopping at its first passing signature;
 * 4. success: notation's lines in the summary and the verified digests as output variables;
 *    otherwise a failure whose message starts with notation's verdict for each failed image.
 *
 * Fail closed: an image is accepted only with a `verified` (or policy-`skipped`) verdict; any
 * error, for any image, fails the job.
 *
 * Output variables: `VERIFIED_IMAGES` (JSON, one `VerifiedImage` per image, written by
 * shared/pipeline/handoff.ts, which the deploy stage reads it with), `IMAGE_URI` / `IMAGE_DIGEST`
 * for a single image, and `VERIFIED`. A trust policy statement at level `skip` keeps notation's
 * semantics (the job succeeds and the image is listed, marked `"skipped": true`), but nothing was
 * verified: `VERIFIED` is `"true"` only when every image was actually verified and `"false"` when
 * any was skipped, and the summary says which. A later stage that must only deploy verified images
 * gates on `#{VerifyVariables.VERIFIED}` being `true`, not on the job's success or `IMAGE_URI`.
 */
import { mapBounded } from '../../shared/concurrency';
import { isStagesignError } from '../../shared/errors';
import { summariseItemFailures } from '../../shared/item-failures';
import type { ItemFailure } from '../../shared/item-failures';
import type { Registry } from '../../shared/oci/registry';
import type { TrustStoreSet } from '../../shared/notary/trust-store';
import type { RevocationChecker } from '../../shared/notary/types';
import { verifyImageReference } from '../../shared/notary/verify-image-reference';
import type { VerifyImageReferenceResult } from '../../shared/notary/verify-image-reference';
import type { ArtifactFiles } from '../../shared/pipeline/artifact-store';
import type { ActionSpec, StageInput, StageOutcome } from '../../shared/pipeline/action';
import { VERIFIED_IMAGES, writeVerifiedImages } from '../../shared/pipeline/handoff';
import type { VerifiedImage } from '../../shared/pipeline/handoff';
import type { Job } from '../../shared/pipeline/job';
import { collectImages, namesOf } from '../../shared/pipeline/image-sources';
import { pickInputArtifact } from '../../shared/pipeline/input-artifact';
import type { ImageSource } from '../../shared/pipeline/image-sources';
import { parseVerifyImageParams } from './params';
import type { VerifyImageEnvironment, VerifyImageParams } from './params';
import { resolveTrustPolicy, resolveTrustStores } from './trust-policy-source';
import type { ParameterReader } from './trust-policy-source';

/** What the stage needs from the outside world. */
export interface VerifyImageDeps {
  /** The registries holding the images (ECR / any OCI registry; an OCI layout store in the demo). */
  registry: Registry;
  /** AWS Signer revocation (GetRevocationStatus). */
  revocation: RevocationChecker;
  /** SSM parameters (trust policy / trust stores), cached. */
  parameters: ParameterReader;
  /** The environment, parsed at cold start. */
  environment: VerifyImageEnvironment;
  /**
   * The built-in roots configured stores sit next to. Defaults to the pinned AWS Signer roots
   * (`TrustStoreSet.builtIn()`); tests substitute a fixture root here, configuration never can.
   */
  builtInTrustStores?: TrustStoreSet;
}

/**
 * The stage as the action runtime sees it: `pipelineAction(verifyImageAction(deps))` is the
 * Lambda handler; local runners (the demo) pass the same spec to `runPipelineAction`.
 */
export function verifyImageAction(deps: VerifyImageDeps): ActionSpec<VerifyImageParams> {
  return {
    stage: 'verify-image',
    parseParams: (job) => parseVerifyImageParams(job.userParameters, deps.environment),
    run: (input) => verifyImagesOfJob(deps, input),
  };
}

/** The verdict, or the error that prevented one, for one image. */
type ImageResult =
  { image: ImageSource; result: VerifyImageReferenceResult } | { image: ImageSource; error: unknown };

/** Runs the stage for one job (see the module comment). */
async function verifyImagesOfJob(
  deps: VerifyImageDeps,
  input: Pick<StageInput<VerifyImageParams, never>, 'job' | 'params' | 'ctx'>,
): Promise<StageOutcome<never>> {
  const { job, params, ctx } = input;
  const artifacts = artifactReader(job, ctx.readInputArtifact.bind(ctx));

  ctx.setPhase('collecting the images to verify');
  const images = await collectImages(params.imageSources, {
    inputArtifactNames: job.inputArtifacts.map((a) => a.name),
    readInputArtifact: artifacts.read,
  });

  ctx.setPhase('loading the trust policy');
  let artifact: { name: string; read(path: string): Uint8Array | undefined } | undefined;
  if (params.trustPolicyPath !== undefined) {
    const name = artifacts.pick(params.imageSources.inputArtifact);
    if (name !== undefined) {
      const files = await artifacts.read(name);
      artifact = { name, read: (path) => files.get(path) };
    }
  }
  const policy = await resolveTrustPolicy({
    params,
    environment: deps.environment,
    images: images.map((i) => i.reference),
    ...(artifact ? { artifact } : {}),
    parameters: deps.parameters,
  });
  const trustStores = await resolveTrustStores(deps.environment, deps.parameters, deps.builtInTrustStores);
  ctx.logger.info('verifying images', { images: images.length, policySource: policy.source });

  ctx.setPhase(`verifying ${images.length} image${images.length === 1 ? '' : 's'}`);
  const now = ctx.now();
  const results = await mapBounded(
    images,
    deps.environment.concurrency,
    async (image): Promise<ImageResult> => {
      try {
        const result = await verifyImageReference({
          registry: deps.registry,
          reference: image.reference,
          policyDocument: policy.document,
          trustStores,
          revocationChecker: deps.revocation,
          now,
          maxSignatures: params.maxSignatures,
          ...(params.userMetadata ? { userMetadata: params.userMetadata } : {}),
          // At the deadline the wrapper reports and aborts: the registry and revocation calls
          // of every image end with it, instead of running on for a job already reported.
          signal: ctx.signal,
        });
        ctx.logger.info('image verdict', {
          image: result.digestReference,
          outcome: result.outcome,
          ...(result.code ? { code: result.code } : {}),
          ...(result.signatureDigest ? { signatureDigest: result.signatureDigest } : {}),
          signaturesRejected: result.failures.length,
        });
        return { image, result };
      } catch (error) {
        ctx.logger.warn('image could not be verified', {
          image: image.text,
          code: isStagesignError(error) ? error.code : undefined,
          errorName: error instanceof Error ? error.name : typeof error,
        });
        return { image, error };
      }
    },
  );

  const failed = results.filter((r) => 'error' in r || r.result.outcome === 'failed');
  if (failed.length > 0) throw failureFor(results);
  return success(results as Array<{ image: ImageSource; result: VerifyImageReferenceResult }>);
}

function success(
  results: Array<{ image: ImageSource; result: VerifyImageReferenceResult }>,
): StageOutcome<never> {
  const lines: string[] = [];
  const verified: VerifiedImage[] = [];
  for (const { image, result } of results) {
    if (result.tagWarning) lines.push(result.tagWarning);
    lines.push(...result.warnings);
    lines.push(result.message);
    // One entry per container name the image stands for (containers sharing an image).
    for (const name of namesOf(image))
      verified.push({
        ...(name !== undefined ? { name } : {}),
        image: image.text,
        imageUri: result.digestReference,
        digest: result.descriptor.digest,
        ...(result.signatureDigest ? { signatureDigest: result.signatureDigest } : {}),
        ...(result.signingProfileVersionArn
          ? { signingProfileVersionArn: result.signingProfileVersionArn }
          : {}),
        ...(result.signingTime ? { signingTime: rfc3339(result.signingTime) } : {}),
        ...(result.outcome === 'skipped' ? { skipped: true as const } : {}),
      });
  }
  const skipped = results.filter(({ result }) => result.outcome === 'skipped');
  if (skipped.length > 0) {
    lines.push(
      `Not verified: the trust policy skips signature verification for ${skipped
        .map(({ result }) => result.digestReference)
        .join(', ')}; VERIFIED is false.`,
    );
  }
  const outputVariables: Record<string, string> = {
    [VERIFIED_IMAGES]: writeVerifiedImages(verified),
    VERIFIED: skipped.length === 0 ? 'true' : 'false',
  };
  const [only] = results;
  if (results.length === 1 && only) {
    outputVariables.IMAGE_URI = only.result.digestReference;
    outputVariables.IMAGE_DIGEST = only.result.descriptor.digest;
  }
  return { kind: 'success', summary: lines.join('\n'), outputVariables };
}

/**
 * One error for the whole job. Its message puts notation's verdict line for every failed image
 * first (so truncation at 5000 characters keeps them), then each image's signature reasons,
 * then the images that passed. Its kind is the most actionable one among the failures
 * (`mostActionableKind`: configuration, permission, verification, input, dependency).
 */
function failureFor(results: ImageResult[]): Error {
  const headlines: string[] = [];
  const details: string[] = [];
  const passed: string[] = [];
  const failures: ItemFailure[] = [];
  for (const r of results) {
    if ('error' in r) {
      const err = r.error;
      const text = err instanceof Error ? err.message : String(err);
      headlines.push(`signature verification failed: ${text}`);
      failures.push({ error: err });
      continue;
    }
    const { result } = r;
    if (result.outcome !== 'failed') {
      passed.push(result.message);
      continue;
    }
    headlines.push(result.message);
    // A verdict that says no is a verification failure.
    failures.push({ verdict: { kind: 'verification', code: result.code ?? 'VERIFY_IMAGE_FAILED' } });
    const lines = [
      ...(result.tagWarning ? [result.tagWarning] : []),
      ...result.failures.flatMap((f) => f.lines),
    ];
    if (lines.length > 0) details.push(`${result.digestReference}:`, ...lines.map((l) => `  ${l}`));
  }
  const message = [
    ...headlines,
    ...(details.length > 0 ? ['', ...details] : []),
    ...(passed.length > 0 ? ['', ...passed] : []),
  ].join('\n');
  // An image that could not be judged for a reason of its own (an unexpected error) is an input
  // failure: VERIFY_IMAGE_ERROR.
  return summariseItemFailures(failures, message, { unexpectedCode: 'VERIFY_IMAGE_ERROR' });
}

/** Reads each input artifact at most once per job (image files and the trust policy may share one). */
function artifactReader(job: Job, read: (name?: string) => Promise<ArtifactFiles>) {
  const cache = new Map<string, Promise<ArtifactFiles>>();
  const names = job.inputArtifacts.map((a) => a.name);
  return {
    read: (name: string): Promise<ArtifactFiles> => {
      let files = cache.get(name);
      if (!files) {
        files = read(name);
        cache.set(name, files);
      }
      return files;
    },
    /** The artifact holding `trustPolicyPath`: `inputArtifact`, else the only one (undefined when none). */
    pick: (preferred: string | undefined): string | undefined =>
      pickInputArtifact(names, preferred, 'UserParameters.trustPolicyPath'),
  };
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
