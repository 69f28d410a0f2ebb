/**
 * `notation verify <reference>` as one function: the single verifier shared by the verify-image
 * stage, the `stagesign verify` command and the demo, so that all three give the same verdict
 * with the same words.
 *
 * Steps (notation CLI `cmd/notation/verify.go` → notation-go `notation.Verify`):
 * 1. resolve the reference to a descriptor; a tag gets notation's "always verify by digest"
 *    warning and the resolved digest is what is verified (and reported);
 * 2. select the trust policy statement for the reference (skip level → no signatures fetched);
 * 3. list and fetch the signatures through {@link RegistrySignatureSource} and verify them in
 *    order, stopping at the first that passes (at most `maxSignatures`);
 * 4. turn the outcome into notation's texts (notary-and-signer.md §5).
 *
 * Pure apart from the injected registry and revocation checker: the clock is a parameter.
 */
import { InputError, isStagesignError } from '../errors';
import { OciErrorCode } from '../oci/error-codes';
import type { Registry } from '../oci/registry';
import type { Reference } from '../oci/reference';
import { formatReference, isLayoutReference, parseReference, withDigest } from '../oci/reference';
import type { Descriptor } from '../oci/types';
import { verifiedMessage } from './messages';
import { RegistrySignatureSource, SIGNATURE_RETRIEVAL_FAILED } from './registry-signature-source';
import type { TrustPolicyDocument } from './trust-policy';
import type { TrustStoreSet } from './trust-store';
import type { RevocationChecker } from './types';
import { verifyArtifact } from './verifier';
import type { ArtifactVerdict, StepResult } from './verifier';

/** notation's default `--max-signatures`. */
export const DEFAULT_MAX_SIGNATURES = 100;

/** Stable codes of a failed verification (on the result and on thrown VerificationErrors). */
export const VerifyImageCode = {
  /** No Notary signature is attached to the digest. */
  NoSignature: 'NO_SIGNATURE',
  /** Every signature failed (each one's reasons are in `failures`). */
  AllSignaturesFailed: 'ALL_SIGNATURES_FAILED',
  /** More than `maxSignatures` signatures were evaluated without one passing. */
  MaxSignaturesExceeded: 'MAX_SIGNATURES_EXCEEDED',
  /** A listed signature's manifest or envelope could not be fetched or parsed. */
  SignatureRetrievalFailed: 'SIGNATURE_RETRIEVAL_FAILED',
} as const;
export type VerifyImageCode = (typeof VerifyImageCode)[keyof typeof VerifyImageCode];

/** Everything one verification needs. */
export interface VerifyImageReferenceOptions {
  /** Where the image and its signatures live (ECR/registry or OCI layout). */
  registry: Registry;
  /** The image: a tag or digest reference (parsed), or its text (parsed here with `parseReference`). */
  reference: Reference | string;
  /** A validated trust policy document (`parseTrustPolicy`). */
  policyDocument: TrustPolicyDocument;
  /** Trust stores the policy's `trustStores` name (built-ins plus any configured ones). */
  trustStores: TrustStoreSet;
  /** Answers AWS Signer revocation questions (`AwsSignerRevocationChecker`). */
  revocationChecker: RevocationChecker;
  /** The verification time (expiry and certificate validity are judged at this instant). */
  now: Date;
  /** At most this many signatures are evaluated (notation `--max-signatures`); default 100. */
  maxSignatures?: number;
  /** Payload annotations every accepted signature must carry (notation `--user-metadata`). */
  userMetadata?: Readonly<Record<string, string>>;
  /**
   * For an OCI layout reference only: the trust policy scope it is verified under (notation
   * `--scope`, e.g. `local/my-layout`); default {@link DEFAULT_LAYOUT_SCOPE}, so a `*` statement
   * (or one scoped to that name) applies.
   */
  layoutScope?: string;
  /**
   * Cancels every registry and revocation call of this verification (a stage passes
   * `ctx.signal`); the verification then rejects with DependencyError `ABORTED`, never a verdict.
   */
  signal?: AbortSignal;
}

/** The registry scope an OCI layout is verified under when no `layoutScope` is given. */
export const DEFAULT_LAYOUT_SCOPE = 'local/oci-layout';

/** notation's warning when a tag is verified (printed on stderr as `Warning: …`). */
export function tagWarningMessage(tag: string): string {
  return `Always verify the artifact using digest(@sha256:...) rather than a tag(:${tag}) because resolved digest may not point to the same signed artifact, as tags are mutable.`;
}

/** Why one signature was rejected. */
export interface SignatureFailure {
  /** The signature manifest digest. */
  signatureDigest: string;
  /** The verifier's stable failure code (e.g. `UNTRUSTED_CHAIN`, `REVOKED`). */
  code?: string;
  /**
   * notation's `-v` lines: `Signature <d> failed verification with error: <err>`, then one
   * `<type> validation failed. Failure reason: <err>` per failed validation (enforced or logged).
   */
  lines: string[];
}

/**
 * The verdict on one image. `verified`: a signature passed (possibly with logged failures in
 * `warnings`); `skipped`: the policy's level is `skip`; `failed`: no signature passed.
 */
export interface VerifyImageReferenceResult {
  outcome: 'verified' | 'skipped' | 'failed';
  /** Set when `outcome` is `failed`. */
  code?: VerifyImageCode;
  /**
   * notation's main line, without the CLI's `Error: ` prefix: `Successfully verified signature
   * for <ref>@<digest>`, the skip line, `signature verification failed: no signature is
   * associated with "<ref>@<digest>", make sure the artifact was signed successfully`, or
   * `signature verification failed for all the signatures associated with <ref>@<digest>`.
   */
  message: string;
  /** The reference as given (`registry/repository[:tag][@digest]`). */
  reference: string;
  /** `registry/repository@<digest>`: the digest that was verified. */
  digestReference: string;
  /** The resolved descriptor of the image (manifest or index). */
  descriptor: { mediaType: string; digest: string; size: number };
  /** notation's warning when the reference was a tag (with its `Warning: ` prefix, as notation prints it). */
  tagWarning?: string;
  /** `Warning: <type> was set to "log" and failed with error: <err>` lines of the passing signature. */
  warnings: string[];
  /** The name of the trust policy statement that applied. */
  policyName: string;
  /** The passing signature's manifest digest. */
  signatureDigest?: string;
  /** `com.amazonaws.signer.signingProfileVersion` of the passing signature (AWS Signer signatures). */
  signingProfileVersionArn?: string;
  /** `com.amazonaws.signer.signingJob` of the passing signature (AWS Signer signatures). */
  signingJobArn?: string;
  /** The passing signature's (authentic) signing time. */
  signingTime?: Date;
  /** The passing signature's payload annotations (user metadata), when it has any. */
  userMetadata?: Record<string, string>;
  /** Each rejected signature with its reasons, in evaluation order. */
  failures: SignatureFailure[];
  /**
   * Every evaluated signature's step results, in evaluation order (the CLI's `-d` log, like
   * notation-go's per-step debug lines). Empty when nothing was evaluated.
   */
  evaluated: EvaluatedSignature[];
}

/** One evaluated signature's steps (for debug output). */
export interface EvaluatedSignature {
  signatureDigest: string;
  passed: boolean;
  steps: StepResult[];
}

/**
 * Verifies one image as `notation verify` with the AWS Signer plugin would. A verdict (passed,
 * skipped, no signature, all failed) is returned; conditions that prevent a verdict are thrown
 * as StagesignErrors: ConfigurationError (no applicable policy, a policy statement naming a
 * missing trust store), PermissionError (registry or Signer access denied), DependencyError
 * (registry unavailable after retries), InputError (unknown image, unretrievable signature).
 * Callers must treat anything but `verified`/`skipped` as a failure (fail closed).
 */
export async function verifyImageReference(
  options: VerifyImageReferenceOptions,
): Promise<VerifyImageReferenceResult> {
  const ref = typeof options.reference === 'string' ? parseReference(options.reference) : options.reference;
  const given = formatReference(ref);
  const call = options.signal ? { signal: options.signal } : undefined;
  const resolved = await options.registry.resolve(ref, call);
  if (ref.digest !== undefined && resolved.digest !== ref.digest) {
    // Fail closed: what is verified must be exactly what was named.
    throw new InputError(
      OciErrorCode.DigestMismatch,
      `${given} resolved to ${resolved.digest}, not the digest named in the reference`,
    );
  }
  const descriptor: Descriptor = {
    mediaType: resolved.mediaType,
    digest: resolved.digest,
    size: resolved.size,
  };
  const digestReference = formatReference(withDigest(ref, descriptor.digest));
  // notation selects the policy by the reference; an OCI layout is scoped by name (`--scope`).
  const policyReference = isLayoutReference(ref)
    ? `${options.layoutScope ?? DEFAULT_LAYOUT_SCOPE}@${descriptor.digest}`
    : digestReference;
  const maxSignatures = options.maxSignatures ?? DEFAULT_MAX_SIGNATURES;
  const source = new RegistrySignatureSource(options.registry, ref, descriptor, {
    maxSignatures,
    ...(call ? { signal: call.signal } : {}),
  });

  const base = {
    reference: given,
    digestReference,
    descriptor,
    ...(ref.digest === undefined && ref.tag !== undefined
      ? { tagWarning: `Warning: ${tagWarningMessage(ref.tag)}` }
      : {}),
  };
  const display = (text: string): string =>
    policyReference === digestReference ? text : text.split(policyReference).join(digestReference);

  let verdict: ArtifactVerdict;
  try {
    verdict = await verifyArtifact({
      artifactReference: policyReference,
      target: descriptor,
      signatures: source,
      policyDocument: options.policyDocument,
      trustStores: options.trustStores,
      revocationChecker: options.revocationChecker,
      now: options.now,
      maxSignatures,
      ...(options.userMetadata ? { userMetadata: { ...options.userMetadata } } : {}),
      ...(call ? { signal: call.signal } : {}),
    });
  } catch (error) {
    if (isStagesignError(error) && error.code === SIGNATURE_RETRIEVAL_FAILED && error.kind === 'input') {
      return {
        ...base,
        outcome: 'failed',
        code: VerifyImageCode.SignatureRetrievalFailed,
        message: `signature verification failed: ${display(error.message)}`,
        warnings: [],
        policyName: '',
        failures: [],
        evaluated: [],
      };
    }
    throw error;
  }

  const failures: SignatureFailure[] = verdict.failures.map((f) => ({
    signatureDigest: f.signatureDigest,
    ...(f.code ? { code: f.code } : {}),
    lines: [
      display(f.reason),
      ...f.verdict.steps
        .filter((step) => !step.passed && step.error !== undefined)
        .map((step) => `${step.type} validation failed. Failure reason: ${display(step.error!)}`),
    ],
  }));
  const evaluated: EvaluatedSignature[] = [
    ...verdict.failures.map((f) => ({
      signatureDigest: f.signatureDigest,
      passed: false,
      steps: f.verdict.steps,
    })),
    ...(verdict.verdict && verdict.signatureDigest
      ? [{ signatureDigest: verdict.signatureDigest, passed: true, steps: verdict.verdict.steps }]
      : []),
  ];
  const common = {
    ...base,
    policyName: verdict.policyName,
    warnings: verdict.warnings.map(display),
    failures,
    evaluated,
  };
  switch (verdict.outcome) {
    case 'verified': {
      const v = verdict.verdict;
      const annotations = v?.targetArtifact?.annotations;
      return {
        ...common,
        outcome: 'verified',
        message: verifiedMessage(digestReference),
        ...(verdict.signatureDigest ? { signatureDigest: verdict.signatureDigest } : {}),
        ...(v?.aws
          ? { signingProfileVersionArn: v.aws.signingProfileVersionArn, signingJobArn: v.aws.signingJobArn }
          : {}),
        ...(v?.signingTime ? { signingTime: v.signingTime } : {}),
        ...(annotations && Object.keys(annotations).length > 0 ? { userMetadata: { ...annotations } } : {}),
      };
    }
    case 'skipped':
      return { ...common, outcome: 'skipped', message: display(verdict.message) };
    case 'failed': {
      const code = verdict.code ?? VerifyImageCode.AllSignaturesFailed;
      // notation CLI: "signature verification failed for all …" stands alone; every other
      // failure is printed as "signature verification failed: <error>".
      const message =
        code === VerifyImageCode.AllSignaturesFailed
          ? display(verdict.message)
          : `signature verification failed: ${display(verdict.message)}`;
      return { ...common, outcome: 'failed', code, message };
    }
  }
}
