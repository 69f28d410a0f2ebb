/**
 * Signing one artifact in a registry, as `notation sign` does (notary-and-signer.md §1.1 "What
 * notation-go does around it", §6.2, §7 "Sign"), shared by the sign-image stage, the
 * `stagesign sign` command and the demo:
 *
 * 1. resolve the reference to a descriptor — **the digest is what gets signed**;
 * 2. unless forced, reuse an existing signature of the same signing profile that still verifies
 *    (integrity, chain to a trusted signing authority root, identity, expiry, target, and — with
 *    a revocation checker — not revoked), has the requested manifest shape and stays valid for
 *    a while yet ({@link reuseMargin}), so that re-running a pipeline or retrying an invocation
 *    does not pile up signatures. When the revocation status cannot be obtained, nothing is
 *    signed: the job fails as a dependency failure, since signing anew on every re-run during an
 *    AWS Signer outage would pile up exactly the signatures reuse exists to avoid;
 * 3. otherwise build the Notary payload, have the `PayloadSigner` sign it, check the returned
 *    envelope before anything is pushed (integrity and target match, as notation-go does);
 * 4. push the envelope blob, the `{}` config and the signature manifest (OCI 1.1 shape by default;
 *    the registry maintains the referrers tag schema where the Referrers API is missing).
 *
 * Optionally (multi-architecture images) every platform manifest of an index is signed too.
 * No clock, environment or network of its own: `now`, the registry and the signer are passed in.
 * `options.signal` (a stage's `ctx.signal`) goes to every registry, signer and revocation call:
 * once it aborts, nothing more is signed or pushed and the call rejects with `ABORTED`.
 */
import type { CallOptions } from '../abort';
import { DependencyError, isStagesignError, PermissionError, VerificationError } from '../errors';
import { descriptorFor } from '../oci/digest';
import { formatReference, withDigest } from '../oci/reference';
import type { Reference } from '../oci/reference';
import { isIndexMediaType, listPlatformManifests } from '../oci/registry';
import type { Registry } from '../oci/registry';
import { MediaType } from '../oci/types';
import type { Descriptor, Platform } from '../oci/types';
import { AWS_PROFILE_VERSION_ATTRIBUTE, AWS_SIGNING_JOB_ATTRIBUTE, parseArn } from './aws-signer-plugin';
import { checkSignedEnvelope } from './fresh-envelope';
import { MAX_JWS_ENVELOPE_BYTES, type ParsedJwsEnvelope } from './jws';
import { buildPayload } from './payload';
import {
  buildSignatureManifest,
  parseSignatureManifest,
  signatureAnnotations as buildAnnotations,
} from './signature-manifest';
import type { SignatureManifestShape } from './signature-manifest';
import type { TrustPolicyStatement } from './trust-policy';
import { TrustStoreSet, trustStoreRef } from './trust-store';
import { verifySignature } from './verifier';
import type { PayloadSigner, RevocationChecker, RevocationQuery, SignedEnvelope } from './types';

/** What signing needs from the outside world. */
export interface SignArtifactDeps {
  readonly registry: Registry;
  readonly signer: PayloadSigner;
  /**
   * Roots a reusable signature must chain to: every `signingAuthority` store of the set counts.
   * Default {@link TrustStoreSet.builtIn} (the AWS Signer roots). Tests pass their test root.
   */
  readonly trustStores?: TrustStoreSet;
  /** When given, a revoked existing signature is not reused. */
  readonly revocation?: RevocationChecker;
  /** Told why an existing signature was not reused (never secrets: digests and reasons). */
  readonly logger?: { debug(message: string, attributes?: Record<string, unknown>): void };
}

/** How to sign. */
export interface SignArtifactOptions {
  /** The clock reading used for the reuse check (expiry, certificate validity). */
  readonly now: Date;
  /** Sign again even when a reusable signature exists. Default false. */
  readonly force?: boolean;
  /** Signature manifest shape. Default `oci-1.1`. */
  readonly shape?: SignatureManifestShape;
  /** For an image index, also sign each platform manifest. Default false. */
  readonly signPlatformManifests?: boolean;
  /**
   * The signing profile ARN (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`) whose
   * existing signatures may be reused. Without it nothing is reused (e.g. a local-key signer).
   */
  readonly profileArn?: string;
  /**
   * For a local-key signer (`stagesign sign --key`): existing signatures whose leaf certificate
   * has this SHA-256 thumbprint (lower-case hex) and that chain to `trustStores` (a `ca` store of
   * the signer's own root) may be reused, as `profileArn` allows for AWS Signer.
   */
  readonly reuseLocalKey?: { readonly leafSha256: string; readonly trustStores: TrustStoreSet };
  /**
   * User metadata signed into the payload's `targetArtifact.annotations` (`notation sign -m`). A
   * signature is reused only if it carries exactly this metadata (none when absent).
   */
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** How many existing signatures to examine before signing anew. Default 20. */
  readonly maxReuseCandidates?: number;
  /**
   * The descriptor `ref` resolves to, when the caller has resolved it already (the sign-image
   * stage resolves every reference first to sign each digest once); saves a registry request.
   * It must come from resolving `ref` in the same registry and repository.
   */
  readonly subject?: Descriptor;
  /**
   * Cancels the signing: passed to every registry, signer and revocation call, so that after an
   * abort (the stage's deadline) nothing more is signed or pushed. Rejects with `ABORTED`.
   */
  readonly signal?: AbortSignal;
}

/**
 * The least remaining validity of an existing signature for it to be reused: 30 days. A
 * signature about to expire would be passed to the deploy and verify stages only to fail them
 * soon after (a re-run of an old pipeline execution, a rollback); signing anew costs one
 * SignPayload call. See {@link reuseMargin} for signatures whose whole validity is shorter.
 */
export const REUSE_MIN_REMAINING_VALIDITY_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * The remaining validity an existing signature needs to be reused: {@link
 * REUSE_MIN_REMAINING_VALIDITY_MS}, or half the signature's own validity period (expiry minus
 * signing time) when that is shorter — a profile with a 7-day signature validity would otherwise
 * never reuse anything and every re-run would add a signature. Pure.
 */
export function reuseMargin(signingTime: Date, expiry: Date): number {
  const validity = expiry.getTime() - signingTime.getTime();
  return Math.min(REUSE_MIN_REMAINING_VALIDITY_MS, Math.max(0, validity) / 2);
}

/** The outcome for one signed manifest or index. */
export interface SignatureRecord {
  /** The digest-pinned reference, `<registry>/<repo>@sha256:…`. */
  readonly reference: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** Digest of the signature manifest (the referrer). */
  readonly signatureDigest: string;
  /** True when an existing signature was reused instead of signing again. */
  readonly reused: boolean;
  /** AWS Signer job id (from SignPayload, or the job ARN of a reused signature), when known. */
  readonly signingJobId?: string;
  /** `com.amazonaws.signer.signingJob` of the envelope, when present. */
  readonly signingJobArn?: string;
  /** `com.amazonaws.signer.signingProfileVersion` of the envelope, when present. */
  readonly signingProfileVersionArn?: string;
  /** The envelope's signing time (authenticSigningTime for AWS Signer), RFC 3339. */
  readonly signedAt: string;
}

/** The outcome of {@link signArtifact}: the artifact's record plus, when asked, its platform manifests'. */
export interface SignedArtifact extends SignatureRecord {
  /** Present when the artifact is an index and `signPlatformManifests` was set. */
  readonly platforms?: readonly (SignatureRecord & { readonly platform: Platform })[];
}

const DEFAULT_MAX_REUSE_CANDIDATES = 20;

/**
 * Signs `ref` (a tag or digest reference) and returns what was signed. See the module comment.
 *
 * Errors keep their kinds: registry and signer failures propagate as thrown by the adapters
 * (image not found → InputError, denied → PermissionError, throttled → DependencyError, …); an
 * envelope from the signer that fails the check is a VerificationError `SIGNED_ENVELOPE_INVALID`
 * and nothing is pushed.
 */
export async function signArtifact(
  deps: SignArtifactDeps,
  ref: Reference,
  options: SignArtifactOptions,
): Promise<SignedArtifact> {
  const call = callOptions(options);
  const subject = options.subject ?? (await deps.registry.resolve(ref, call));
  const record = await signDescriptor(deps, ref, subject, options);
  if (!options.signPlatformManifests || !isIndexMediaType(subject.mediaType)) return record;
  const manifests = await listPlatformManifests(deps.registry, ref, subject, call);
  const platforms: (SignatureRecord & { platform: Platform })[] = [];
  for (const manifest of manifests) {
    const desc: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
    const signed = await signDescriptor(deps, ref, desc, options);
    platforms.push({ ...signed, platform: manifest.platform as Platform });
  }
  return { ...record, platforms };
}

/** Signs one resolved descriptor (or reuses its signature). */
async function signDescriptor(
  deps: SignArtifactDeps,
  ref: Reference,
  subject: Descriptor,
  options: SignArtifactOptions,
): Promise<SignatureRecord> {
  const call = callOptions(options);
  const pinned = formatReference(withDigest(ref, subject.digest));
  const target: Descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  const criteria: ReuseCriteria | undefined =
    options.profileArn !== undefined
      ? { kind: 'profile', profileArn: options.profileArn }
      : options.reuseLocalKey !== undefined
        ? { kind: 'key', ...options.reuseLocalKey }
        : undefined;
  if (!options.force && criteria !== undefined) {
    const existing = await findReusableSignature(deps, ref, target, criteria, {
      ...options,
      shape: options.shape ?? 'oci-1.1',
    });
    if (existing) return { ...existing, reference: pinned };
  }

  const metadata =
    options.userMetadata && Object.keys(options.userMetadata).length > 0
      ? { ...options.userMetadata }
      : undefined;
  const signed = await deps.signer.sign(buildPayload(target, metadata), call);
  const envelope = checkFreshEnvelope(signed, target, pinned);
  const annotations = signatureAnnotations(envelope, signed.annotations);
  const envelopeDesc = descriptorFor(signed.envelope, MediaType.JwsEnvelope);
  const built = buildSignatureManifest({
    subject: target,
    envelope: envelopeDesc,
    annotations,
    shape: options.shape ?? 'oci-1.1',
  });
  // Blobs before the manifest that references them (distribution-spec; ECR checks layer existence).
  await deps.registry.pushBlob(ref, envelopeDesc, signed.envelope, call);
  await deps.registry.pushBlob(ref, built.config.descriptor, built.config.bytes, call);
  await deps.registry.pushManifest(ref, built.descriptor, built.bytes, call);

  const aws = awsAttributes(envelope);
  const jobId = signed.jobId ?? jobIdOf(aws.signingJobArn);
  return {
    reference: pinned,
    digest: target.digest,
    mediaType: target.mediaType,
    size: target.size,
    signatureDigest: built.descriptor.digest,
    reused: false,
    ...(jobId !== undefined ? { signingJobId: jobId } : {}),
    ...aws,
    signedAt: rfc3339(envelope.signingTime),
  };
}

/**
 * The check notation-go runs on a fresh envelope before pushing it (`generateSignatureEnvelope`):
 * integrity, header and chain rules, and `targetArtifact` equal to the requested descriptor
 * ({@link checkSignedEnvelope}). Any failure becomes VerificationError `SIGNED_ENVELOPE_INVALID`.
 */
function checkFreshEnvelope(signed: SignedEnvelope, target: Descriptor, pinned: string): ParsedJwsEnvelope {
  try {
    return checkSignedEnvelope(signed.envelope, signed.envelopeMediaType, target);
  } catch (error) {
    if (!isStagesignError(error)) throw error;
    throw new VerificationError(
      'SIGNED_ENVELOPE_INVALID',
      `the signer returned an envelope for ${pinned} that fails the check before push (${error.code}: ${error.message}); nothing was pushed`,
      { cause: error },
    );
  }
}

function signatureAnnotations(
  envelope: ParsedJwsEnvelope,
  signer: Record<string, string>,
): Record<string, string> {
  return buildAnnotations({
    certificateChain: envelope.certificateChain,
    signingTime: envelope.signingTime,
    signerAnnotations: signer,
  });
}

/**
 * Looks for an existing signature of `target` made with `profileArn` that still verifies, has the
 * requested shape and enough validity left; returns its record or undefined. A candidate that
 * cannot be read or does not qualify is skipped (and logged); registry failures other than bad
 * content (denied, unavailable) propagate, and so does an unobtainable revocation status
 * (DependencyError `REVOCATION_STATUS_UNAVAILABLE`, or the checker's PermissionError).
 */
async function findReusableSignature(
  deps: SignArtifactDeps,
  ref: Reference,
  target: Descriptor,
  criteria: ReuseCriteria,
  options: SignArtifactOptions & { shape: SignatureManifestShape },
): Promise<Omit<SignatureRecord, 'reference'> | undefined> {
  const referrers = await deps.registry.listReferrers(
    ref,
    target,
    MediaType.NotarySignature,
    callOptions(options),
  );
  const limit = options.maxReuseCandidates ?? DEFAULT_MAX_REUSE_CANDIDATES;
  // Newest last in the tag schema and (usually) in the Referrers API: look from the end.
  for (const candidate of referrers.slice(-limit).reverse()) {
    try {
      const reason = await reusable(deps, ref, target, candidate, criteria, options);
      if (typeof reason !== 'string') return reason;
      deps.logger?.debug('existing signature not reused', { signatureDigest: candidate.digest, reason });
    } catch (error) {
      if (!isStagesignError(error) || (error.kind !== 'input' && error.kind !== 'verification')) throw error;
      deps.logger?.debug('existing signature not reused', {
        signatureDigest: candidate.digest,
        code: error.code,
        reason: error.message,
      });
    }
  }
  return undefined;
}

/** The record of a reusable candidate, or the reason it is not reusable. */
async function reusable(
  deps: SignArtifactDeps,
  ref: Reference,
  target: Descriptor,
  candidate: Descriptor,
  criteria: ReuseCriteria,
  options: {
    readonly now: Date;
    readonly shape: SignatureManifestShape;
    readonly signal?: AbortSignal;
    readonly userMetadata?: Readonly<Record<string, string>>;
  },
): Promise<Omit<SignatureRecord, 'reference'> | string> {
  const { now } = options;
  const call = callOptions(options);
  const manifestBytes = await deps.registry.fetchManifest(
    ref,
    { mediaType: candidate.mediaType, digest: candidate.digest, size: candidate.size },
    call,
  );
  const { manifest, envelope: envelopeDesc } = parseSignatureManifest(manifestBytes);
  if (manifest.subject?.digest !== target.digest) return 'its subject is another manifest';
  const shape = shapeOf(manifest);
  if (shape !== options.shape) return `it has the ${shape} manifest shape, ${options.shape} was requested`;
  // The unprotected x5c makes an envelope as large as whoever pushed it likes: bound it before fetching.
  if (envelopeDesc.mediaType === MediaType.JwsEnvelope && envelopeDesc.size > MAX_JWS_ENVELOPE_BYTES)
    return `its envelope is ${envelopeDesc.size} bytes, over the ${MAX_JWS_ENVELOPE_BYTES}-byte limit`;
  const trustStores =
    criteria.kind === 'key' ? criteria.trustStores : (deps.trustStores ?? TrustStoreSet.builtIn());
  // The verifier turns a failing checker into a verdict; keep the error to tell "revoked" (sign
  // again) from "status unknown" (fail the job, sign nothing).
  const revocation = deps.revocation ? recordingChecker(deps.revocation) : undefined;
  const verdict = await verifySignature({
    envelope: await deps.registry.fetchBlob(ref, envelopeDesc, call),
    envelopeMediaType: envelopeDesc.mediaType,
    target,
    policy: reusePolicy(trustStores, criteria, revocation !== undefined),
    trustStores,
    ...(revocation ? { revocationChecker: revocation.checker } : {}),
    ...(call ? { signal: call.signal } : {}),
    now,
  });
  if (!verdict.passed && verdict.code === 'REVOCATION_CHECK_FAILED' && revocation?.failure) {
    throw revocationUnavailable(revocation.failure.error, candidate.digest);
  }
  if (!verdict.passed) return `${verdict.code ?? 'FAILED'}: ${verdict.error ?? 'does not verify'}`;
  if (!verdict.envelope) return 'its envelope could not be read';
  if (criteria.kind === 'profile' && !verdict.aws) return 'not an AWS Signer signature';
  if (criteria.kind === 'key' && verdict.certificateThumbprints[0] !== criteria.leafSha256)
    return 'it was signed with another certificate';
  if (!sameMetadata(verdict.targetArtifact?.annotations, options.userMetadata))
    return 'it carries other user metadata than requested';
  const aws: { signingProfileVersionArn?: string; signingJobArn?: string } = verdict.aws ?? {};
  const signingTime = verdict.envelope.signingTime;
  const expiry = verdict.envelope.protectedHeaders.expiry;
  if (expiry !== undefined) {
    const left = expiry.getTime() - now.getTime();
    const margin = reuseMargin(signingTime, expiry);
    if (left < margin) {
      return `it expires at ${rfc3339(expiry)}, less than ${formatDays(margin)} from now`;
    }
  }
  const jobId = jobIdOf(aws.signingJobArn);
  return {
    digest: target.digest,
    mediaType: target.mediaType,
    size: target.size,
    signatureDigest: candidate.digest,
    reused: true,
    ...(jobId !== undefined ? { signingJobId: jobId } : {}),
    ...aws,
    signedAt: rfc3339(signingTime),
  };
}

/**
 * The trust policy an existing signature must satisfy to be reused: `strict` (integrity,
 * authenticity, expiry, authentic timestamp), any signing-authority store of the set, and the
 * signing profile as the only trusted identity. Revocation is enforced when a checker is given.
 */
function reusePolicy(
  stores: TrustStoreSet,
  criteria: ReuseCriteria,
  checkRevocation: boolean,
): TrustPolicyStatement {
  return {
    name: 'stagesign-reuse-existing-signature',
    registryScopes: ['*'],
    signatureVerification: {
      level: 'strict',
      ...(checkRevocation ? {} : { override: { revocation: 'skip' } }),
    },
    trustStores: stores
      .list()
      .filter((s) => (criteria.kind === 'key' ? s.type === 'ca' : s.type === 'signingAuthority'))
      .map(trustStoreRef),
    // A local key's signature is matched by its leaf certificate after verification.
    trustedIdentities: [criteria.kind === 'key' ? '*' : criteria.profileArn],
  };
}

/** Which existing signatures may be reused: the same AWS Signer profile, or the same local key. */
type ReuseCriteria =
  { kind: 'profile'; profileArn: string } | { kind: 'key'; leafSha256: string; trustStores: TrustStoreSet };

/** True when a signed payload's annotations are exactly the requested user metadata (none = none). */
function sameMetadata(
  signed: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>> | undefined,
): boolean {
  const a = Object.entries(signed ?? {});
  const b = wanted ?? {};
  return a.length === Object.keys(b).length && a.every(([k, v]) => Object.hasOwn(b, k) && b[k] === v);
}

/** The manifest shape of a parsed signature manifest (see `isSignatureManifest`). */
function shapeOf(manifest: { artifactType?: string }): SignatureManifestShape {
  return manifest.artifactType === MediaType.NotarySignature ? 'oci-1.1' : 'legacy';
}

/** Wraps a checker so that the error it threw, if any, can be read after verification. */
function recordingChecker(inner: RevocationChecker): {
  checker: RevocationChecker;
  failure?: { error: unknown };
} {
  const holder: { checker: RevocationChecker; failure?: { error: unknown } } = {
    checker: {
      getRevocationStatus: async (query: RevocationQuery, options?: CallOptions) => {
        try {
          return await inner.getRevocationStatus(query, options);
        } catch (error) {
          holder.failure = { error };
          throw error;
        }
      },
    },
  };
  return holder;
}

/**
 * The error for an existing signature whose revocation status could not be obtained: the
 * checker's PermissionError as is (a human must grant `signer:GetRevocationStatus`), anything
 * else a DependencyError (SystemUnavailable: retry later) naming GetRevocationStatus.
 */
function revocationUnavailable(error: unknown, signatureDigest: string): Error {
  if (error instanceof PermissionError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new DependencyError(
    'REVOCATION_STATUS_UNAVAILABLE',
    `AWS Signer GetRevocationStatus failed for the existing signature ${signatureDigest} (${reason}); ` +
      'nothing was signed, so that re-runs during an outage do not pile up signatures. Retry the ' +
      'action later, or force a fresh signature (sign-image: UserParameters.forceResign).',
    { cause: error },
  );
}

/** The per-call options for `options.signal`, or undefined without one. */
function callOptions(options: { readonly signal?: AbortSignal }): { signal: AbortSignal } | undefined {
  return options.signal ? { signal: options.signal } : undefined;
}

function formatDays(ms: number): string {
  const days = ms / (24 * 60 * 60 * 1000);
  return `${Number.isInteger(days) ? days : days.toFixed(1)} days`;
}

function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function awsAttributes(envelope: ParsedJwsEnvelope): {
  signingJobArn?: string;
  signingProfileVersionArn?: string;
} {
  const value = (key: string): string | undefined => {
    const attr = envelope.protectedHeaders.extendedAttributes.find((a) => a.key === key);
    return typeof attr?.value === 'string' ? attr.value : undefined;
  };
  const job = value(AWS_SIGNING_JOB_ATTRIBUTE);
  const profileVersion = value(AWS_PROFILE_VERSION_ATTRIBUTE);
  return {
    ...(job !== undefined ? { signingJobArn: job } : {}),
    ...(profileVersion !== undefined ? { signingProfileVersionArn: profileVersion } : {}),
  };
}

/** `…:/signing-jobs/<id>` → `<id>`. */
function jobIdOf(jobArn: string | undefined): string | undefined {
  if (jobArn === undefined) return undefined;
  const resource = parseArn(jobArn)?.resource ?? '';
  const match = /^\/signing-jobs\/([^/]+)$/.exec(resource);
  return match?.[1];
}
