/**
 * The verifier's {@link SignatureSource} over a `Registry` (Amazon ECR, any OCI Distribution
 * registry, or an OCI image layout), finding signatures the way notation-go does:
 *
 * 1. list the subject's referrers with artifact type `application/vnd.cncf.notary.signature`
 *    (Referrers API, else the `sha256-<hex>` tag schema: the `Registry` implementation decides);
 * 2. fetch each listed manifest and keep only real signature manifests (notation-go
 *    `registry/repository.go` `signatureReferrers`: the OCI 1.1 shape with the empty config, or
 *    the legacy shape without `artifactType`); other referrers are skipped, never failed on;
 * 3. on request, fetch the single envelope layer (digest and size verified by the registry).
 *
 * Spec: notary-and-signer.md §6.1 and §3.3. Signatures stream ({@link RegistrySignatureSource.signatures}):
 * referrers page by page, each manifest fetched when the verifier asks for the next signature
 * (a referrer is only known to be a signature once its manifest is read) and its envelope when
 * it is tried, so the verifier fetches, verifies and discards one signature at a time and stops
 * at the first that passes. Bounded per image: `maxSignatures + 1` signatures, a JWS envelope of
 * at most 1 MiB, and {@link MAX_SIGNATURE_BYTES_PER_IMAGE} bytes of manifests and envelopes.
 */
import { isAbortedError } from '../abort';
import { DependencyError, InputError, isStagesignError, PermissionError } from '../errors';
import { referrerPages, type Registry } from '../oci/registry';
import type { Reference } from '../oci/reference';
import { formatReference } from '../oci/reference';
import { MediaType } from '../oci/types';
import type { Descriptor, ImageManifest } from '../oci/types';
import { MAX_JWS_ENVELOPE_BYTES } from './jws';
import { signatureRetrievalFailedMessage } from './messages';
import {
  isSignatureManifest,
  MAX_SIGNATURE_ENVELOPE_BYTES,
  MAX_SIGNATURE_MANIFEST_BYTES,
  parseSignatureManifest,
} from './signature-manifest';
import type { SignatureSource } from './verifier';

/** Error code when a listed signature's manifest or envelope cannot be fetched or parsed. */
export const SIGNATURE_RETRIEVAL_FAILED = 'SIGNATURE_RETRIEVAL_FAILED';
/** Error code when an image's signatures need more than {@link MAX_SIGNATURE_BYTES_PER_IMAGE}. */
export const SIGNATURE_LIMIT_EXCEEDED = 'SIGNATURE_LIMIT_EXCEEDED';
/**
 * Most bytes of signature manifests and envelopes fetched for one image (by their descriptors'
 * sizes, before fetching). Real AWS Signer signatures are a few KiB each.
 */
export const MAX_SIGNATURE_BYTES_PER_IMAGE = 32 * 1024 * 1024;

/** One fetched signature: its manifest descriptor (as listed) and its envelope (for `stagesign inspect`). */
export interface FetchedSignature {
  /** The signature manifest's descriptor; `digest` is what notation prints as the signature digest. */
  descriptor: Descriptor;
  /** The envelope layer's media type. */
  mediaType: string;
  envelope: Uint8Array;
}

/** Options of {@link RegistrySignatureSource}. */
export interface RegistrySignatureSourceOptions {
  /** The verifier's signature limit; listing stops after `maxSignatures + 1` signatures. Default 100. */
  maxSignatures?: number;
  /**
   * Passed to every registry call (a stage's `ctx.signal`); an aborted call's `ABORTED` error is
   * thrown as is, never wrapped in notation's retrieval message.
   */
  signal?: AbortSignal;
}

/**
 * The signatures of `subject` in `reference`'s repository. `subject` is the resolved descriptor
 * of the artifact (the digest that is verified); `reference` only names the repository.
 */
export class RegistrySignatureSource implements SignatureSource {
  readonly #registry: Registry;
  readonly #repository: Reference;
  readonly #subject: Descriptor;
  readonly #limit: number;
  readonly #call: { signal: AbortSignal } | undefined;
  /** Bytes of manifests and envelopes fetched so far. */
  #bytes = 0;
  /** Parsed signature manifests by digest, from {@link signatures} until their envelope is fetched. */
  readonly #manifests = new Map<string, { manifest: ImageManifest; envelope: Descriptor }>();

  constructor(
    registry: Registry,
    reference: Reference,
    subject: Descriptor,
    options: RegistrySignatureSourceOptions = {},
  ) {
    this.#registry = registry;
    this.#repository = { registry: reference.registry, repository: reference.repository };
    this.#subject = subject;
    this.#limit = (options.maxSignatures ?? 100) + 1;
    this.#call = options.signal ? { signal: options.signal } : undefined;
  }

  /** `registry/repository@digest` of the subject, as notation prints it. */
  get subjectReference(): string {
    return formatReference({ ...this.#repository, digest: this.#subject.digest });
  }

  /**
   * The signature manifests referring to the subject, in registry order, non-signature referrers
   * skipped, one at a time: each page of referrers is filtered as it arrives and each manifest
   * is fetched only when the caller asks for the next signature, so a verifier that stops at the
   * first passing signature fetches and keeps nothing more (notation's order). At most
   * `maxSignatures + 1` signatures, and at most {@link MAX_SIGNATURE_BYTES_PER_IMAGE} bytes of
   * manifests and envelopes per image: past it, InputError `SIGNATURE_LIMIT_EXCEEDED` naming
   * the bound. Throws InputError `SIGNATURE_RETRIEVAL_FAILED` (notation's retrieval text) when a
   * listed manifest cannot be fetched or is malformed; permission and dependency errors keep
   * their kind.
   */
  async *signatures(): AsyncGenerator<Descriptor, void, undefined> {
    let yielded = 0;
    const pages = referrerPages(
      this.#registry,
      this.#repository,
      this.#subject,
      MediaType.NotarySignature,
      this.#call,
    );
    for await (const page of pages) {
      for (const descriptor of page) {
        if (yielded >= this.#limit) return;
        // Filter client-side as oras-go does: a registry or tag-schema index may list other artifacts.
        if (
          descriptor.artifactType !== MediaType.NotarySignature ||
          descriptor.mediaType !== MediaType.ImageManifest
        )
          continue;
        const parsed = await this.#fetchSignatureManifest(descriptor);
        if (parsed === undefined) continue;
        this.#manifests.set(descriptor.digest, parsed);
        yielded++;
        yield descriptor;
      }
    }
  }

  /** Every signature manifest of {@link signatures}, collected (for `stagesign inspect`). */
  async list(): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    for await (const descriptor of this.signatures()) out.push(descriptor);
    return out;
  }

  /**
   * The envelope blob of a signature manifest returned by {@link list}, with its layer media
   * type. A permission or dependency failure keeps its kind and carries notation's full
   * retrieval message; any other failure is an InputError `SIGNATURE_RETRIEVAL_FAILED` whose
   * message is only the cause, because `verifyArtifact` wraps it in notation's retrieval text.
   */
  async fetchEnvelope(signatureManifest: Descriptor): Promise<{ mediaType: string; envelope: Uint8Array }> {
    const parsed =
      this.#manifests.get(signatureManifest.digest) ??
      (await this.#fetchSignatureManifest(signatureManifest));
    if (parsed === undefined) {
      throw new InputError(
        SIGNATURE_RETRIEVAL_FAILED,
        'the manifest is not a Notary Project signature manifest',
      );
    }
    // Fetched once: the verifier discards it after this call.
    this.#manifests.delete(signatureManifest.digest);
    const limit =
      parsed.envelope.mediaType === MediaType.JwsEnvelope
        ? MAX_JWS_ENVELOPE_BYTES
        : MAX_SIGNATURE_ENVELOPE_BYTES;
    if (parsed.envelope.size > limit) {
      throw new InputError(
        SIGNATURE_RETRIEVAL_FAILED,
        `signature envelope size ${parsed.envelope.size} exceeds the ${limit}-byte limit`,
      );
    }
    this.#spend(parsed.envelope.size);
    try {
      const envelope = await this.#registry.fetchBlob(this.#repository, parsed.envelope, this.#call);
      return { mediaType: parsed.envelope.mediaType, envelope };
    } catch (error) {
      if (isAbortedError(error)) throw error;
      const wrapped = this.#retrievalError(signatureManifest, error);
      if (wrapped instanceof InputError) {
        throw new InputError(
          SIGNATURE_RETRIEVAL_FAILED,
          error instanceof Error ? error.message : String(error),
          { cause: error },
        );
      }
      throw wrapped;
    }
  }

  /** Fetches and parses one listed manifest; `undefined` when it is not a signature manifest. */
  async #fetchSignatureManifest(
    descriptor: Descriptor,
  ): Promise<{ manifest: ImageManifest; envelope: Descriptor } | undefined> {
    if (descriptor.size > MAX_SIGNATURE_MANIFEST_BYTES) {
      throw this.#retrievalError(
        descriptor,
        new Error(
          `signature manifest size ${descriptor.size} exceeds the ${MAX_SIGNATURE_MANIFEST_BYTES}-byte limit`,
        ),
      );
    }
    this.#spend(descriptor.size);
    let bytes: Uint8Array;
    try {
      bytes = await this.#registry.fetchManifest(this.#repository, descriptor, this.#call);
    } catch (error) {
      if (isAbortedError(error)) throw error;
      throw this.#retrievalError(descriptor, error);
    }
    if (isOtherArtifact(bytes)) return undefined;
    try {
      // As notation-go: the envelope's media type is judged by the verifier (integrity), so an
      // unsupported envelope fails that signature only and the next one is still tried.
      return parseSignatureManifest(bytes, { anyEnvelopeMediaType: true });
    } catch (error) {
      throw this.#retrievalError(descriptor, error);
    }
  }

  /** Counts bytes about to be fetched against {@link MAX_SIGNATURE_BYTES_PER_IMAGE}; throws past it. */
  #spend(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes > MAX_SIGNATURE_BYTES_PER_IMAGE) {
      throw new InputError(
        SIGNATURE_LIMIT_EXCEEDED,
        `the signatures of ${this.subjectReference} need more than ${MAX_SIGNATURE_BYTES_PER_IMAGE} bytes of manifests and envelopes (MAX_SIGNATURE_BYTES_PER_IMAGE); refusing to fetch more`,
      );
    }
  }

  #retrievalError(descriptor: Descriptor, error: unknown): Error {
    const detail = error instanceof Error ? error.message : String(error);
    const message = signatureRetrievalFailedMessage(descriptor.digest, this.subjectReference, detail);
    // Keep the kind of a permission or dependency failure (→ PermissionError / SystemUnavailable).
    if (isStagesignError(error) && error.kind === 'permission')
      return new PermissionError(error.code, message, { cause: error });
    if (isStagesignError(error) && error.kind === 'dependency')
      return new DependencyError(error.code, message, { cause: error });
    return new InputError(SIGNATURE_RETRIEVAL_FAILED, message, { cause: error });
  }
}

/**
 * True when the bytes are a well-formed manifest that is simply not a Notary signature (skip
 * it, as notation-go does); false for a signature manifest or anything malformed (parse it and
 * let the parser say what is wrong).
 */
function isOtherArtifact(bytes: Uint8Array): boolean {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const manifest = value as { artifactType?: unknown; config?: { mediaType?: unknown } };
  if (typeof manifest.config !== 'object' || manifest.config === null) return false;
  if (manifest.artifactType !== undefined && typeof manifest.artifactType !== 'string') return false;
  if (typeof manifest.config.mediaType !== 'string') return false;
  return !isSignatureManifest(value as ImageManifest);
}
