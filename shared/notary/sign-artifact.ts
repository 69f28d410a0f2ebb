/**
 * Signing one artifact in a registry, as `notation sign` does (notary-and-signer.md §1.1 "What
 * notation-go does around it", §6.2, §7 "Sign"), shared by the sign-image stage, the
 * `stagesign sign` command and the demo:
 *
 * 1. resolve the reference to a descriptor — **the digest is what gets signed**;
 * 2. unless forced, reuse an existing signature of the same signing profile that still verifies
 *    (integrity, chain to a trusted signing authority root, identity, expiry, target), so that
 *    re-running a pipeline or retrying an invocation does not pile up signatures;
 * 3. otherwise build the Notary payload, have the `PayloadSigner` sign it, check the returned
 *    envelope before anything is pushed (integrity and target match, as notation-go does);
 * 4. push the envelope blob, the `{}` config and the signature manifest (OCI 1.1 shape by default;
 *    the registry maintains the referrers tag schema where the Referrers API is missing).
 *
 * Optionally (multi-architecture images) every platform manifest of an index is signed too.
 * No clock, environment or network of its own: `now`, the registry and the signer are passed in.
 */
import { isStagesignError, VerificationError } from '../errors';
import { descriptorFor } from '../oci/digest';
import { formatReference, withDigest } from '../oci/reference';
import type { Reference } from '../oci/reference';
import { isIndexMediaType, listPlatformManifests } from '../oci/registry';
import type { Registry } from '../oci/registry';
import { MediaType } from '../oci/types';
import type { Descriptor, Platform } from '../oci/types';
import { AWS_PROFILE_VERSION_ATTRIBUTE, AWS_SIGNING_JOB_ATTRIBUTE, parseArn } from './aws-signer-plugin';
import { checkSignedEnvelope } from './fresh-envelope';
import type { ParsedJwsEnvelope } from './jws';
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
import type { PayloadSigner, RevocationChecker, SignedEnvelope } from './types';

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
  /** How many existing signatures to examine before signing anew. Default 20. */
  readonly maxReuseCandidates?: number;
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
  const subject = await deps.registry.resolve(ref);
  const record = await signDescriptor(deps, ref, subject, options);
  if (!options.signPlatformManifests || !isIndexMediaType(subject.mediaType)) return record;
  const manifests = await listPlatformManifests(deps.registry, ref, subject);
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
  const pinned = formatReference(withDigest(ref, subject.digest));
  const target: Descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  if (!options.force && options.profileArn !== undefined) {
    const existing = await findReusableSignature(deps, ref, target, options.profileArn, options);
    if (existing) return { ...existing, reference: pinned };
  }

  const signed = await deps.signer.sign(buildPayload(target));
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
  await deps.registry.pushBlob(ref, envelopeDesc, signed.envelope);
  await deps.registry.pushBlob(ref, built.config.descriptor, built.config.bytes);
  await deps.registry.pushManifest(ref, built.descriptor, built.bytes);

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
 * Looks for an existing signature of `target` made with `profileArn` that still verifies; returns
 * its record or undefined. A candidate that cannot be read or does not verify is skipped (and
 * logged); registry failures other than bad content (denied, unavailable) propagate.
 */
async function findReusableSignature(
  deps: SignArtifactDeps,
  ref: Reference,
  target: Descriptor,
  profileArn: string,
  options: SignArtifactOptions,
): Promise<Omit<SignatureRecord, 'reference'> | undefined> {
  const referrers = await deps.registry.listReferrers(ref, target, MediaType.NotarySignature);
  const limit = options.maxReuseCandidates ?? DEFAULT_MAX_REUSE_CANDIDATES;
  // Newest last in the tag schema and (usually) in the Referrers API: look from the end.
  for (const candidate of referrers.slice(-limit).reverse()) {
    try {
      const reason = await reusable(deps, ref, target, candidate, profileArn, options.now);
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
  profileArn: string,
  now: Date,
): Promise<Omit<SignatureRecord, 'reference'> | string> {
  const manifestBytes = await deps.registry.fetchManifest(ref, {
    mediaType: candidate.mediaType,
    digest: candidate.digest,
    size: candidate.size,
  });
  const { manifest, envelope: envelopeDesc } = parseSignatureManifest(manifestBytes);
  if (manifest.subject?.digest !== target.digest) return 'its subject is another manifest';
  const trustStores = deps.trustStores ?? TrustStoreSet.builtIn();
  const verdict = await verifySignature({
    envelope: await deps.registry.fetchBlob(ref, envelopeDesc),
    envelopeMediaType: envelopeDesc.mediaType,
    target,
    policy: reusePolicy(trustStores, profileArn, deps.revocation !== undefined),
    trustStores,
    ...(deps.revocation ? { revocationChecker: deps.revocation } : {}),
    now,
  });
  if (!verdict.passed) return `${verdict.code ?? 'FAILED'}: ${verdict.error ?? 'does not verify'}`;
  if (!verdict.aws || !verdict.envelope) return 'not an AWS Signer signature';
  const aws = verdict.aws;
  const signingTime = verdict.envelope.signingTime;
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
  profileArn: string,
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
      .filter((s) => s.type === 'signingAuthority')
      .map(trustStoreRef),
    trustedIdentities: [profileArn],
  };
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
