import type { CallOptions } from '../abort';
import { InputError } from '../errors';
import { OciErrorCode } from './error-codes';
import { formatReference, type Reference } from './reference';
import { parseIndex } from './referrers-index';
import { MediaType, type Descriptor } from './types';

/**
 * The one interface the stages use to read and write OCI content, whatever holds it: Amazon
 * ECR or any OCI Distribution registry (`DistributionRegistry`), or an OCI image layout on
 * disk (`OciLayoutRegistry`). `ref` always names the repository (registry + repository, or
 * the layout directory); content is addressed by descriptor.
 *
 * Errors follow the shared model with the codes of `OciErrorCode`: input errors for missing
 * images, malformed or mismatching content; permission errors for 401/403; dependency errors
 * for 429/5xx after retries.
 *
 * Every method takes, last, optional {@link CallOptions}: a `signal` (a stage passes
 * `ctx.signal`) that cancels the call — requests in flight end, no retry starts — and makes it
 * reject with DependencyError `ABORTED` (`shared/abort.ts`), never with a registry failure.
 */
export interface Registry {
  /** Resolves a tag or digest reference to `{mediaType, digest, size}` of its manifest or index. */
  resolve(ref: Reference, options?: CallOptions): Promise<Descriptor>;
  /** Fetches a manifest or index, verifying digest and size; at most 4 MiB. */
  fetchManifest(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array>;
  /** Fetches a blob, verifying digest and size; at most 32 MiB. */
  fetchBlob(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array>;
  /** Pushes a blob; does nothing more when the repository already holds it. */
  pushBlob(ref: Reference, desc: Descriptor, content: Uint8Array, options?: CallOptions): Promise<void>;
  /**
   * Pushes a manifest or index by digest (and also under `options.tag` when given). When the
   * manifest has a `subject` and the registry does not index it itself (no `OCI-Subject`
   * answer), maintains the referrers tag-schema index `sha256-<hex>`. `options.signal` as for
   * every method ({@link PushManifestOptions} extends {@link CallOptions}).
   */
  pushManifest(
    ref: Reference,
    desc: Descriptor,
    content: Uint8Array,
    options?: PushManifestOptions,
  ): Promise<void>;
  /**
   * Lists the referrers of `subject` (Referrers API, else the tag schema), keeping only those
   * whose `artifactType` equals `artifactType` when given. Order: as the registry lists them.
   */
  listReferrers(
    ref: Reference,
    subject: Descriptor,
    artifactType?: string,
    options?: CallOptions,
  ): Promise<Descriptor[]>;
  /**
   * The same listing one page at a time, each page already filtered, so a caller that stops
   * early fetches and keeps no more (`DistributionRegistry`: Referrers API pages). Optional: use
   * {@link referrerPages}, which falls back to one page from `listReferrers`.
   */
  referrerPages?(
    ref: Reference,
    subject: Descriptor,
    artifactType?: string,
    options?: CallOptions,
  ): AsyncIterable<Descriptor[]>;
}

/** The referrers of `subject`, page by page ({@link Registry.referrerPages}, else one page). */
export async function* referrerPages(
  registry: Registry,
  ref: Reference,
  subject: Descriptor,
  artifactType?: string,
  options?: CallOptions,
): AsyncGenerator<Descriptor[], void, undefined> {
  if (registry.referrerPages !== undefined) {
    yield* registry.referrerPages(ref, subject, artifactType, options);
    return;
  }
  yield await registry.listReferrers(ref, subject, artifactType, options);
}

export type { CallOptions };

/** Options of {@link Registry.pushManifest}: a tag, and the call's `signal`. */
export interface PushManifestOptions extends CallOptions {
  /** Also make this tag point at the manifest (one more request on a remote registry). */
  tag?: string;
}

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ImageIndex, MediaType.DockerManifestList]);

/** True for OCI image index and Docker manifest list media types. */
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

/**
 * Lists the platform manifests of a multi-architecture image (an image index or Docker
 * manifest list resolved to `indexDesc`), in index order, each with its `platform`.
 */
export async function listPlatformManifests(
  registry: Registry,
  ref: Reference,
  indexDesc: Descriptor,
  options?: CallOptions,
): Promise<Descriptor[]> {
  const what = `index ${formatReference({ ...ref, tag: undefined, digest: indexDesc.digest })}`;
  if (!isIndexMediaType(indexDesc.mediaType)) {
    throw new InputError(
      OciErrorCode.InvalidManifest,
      `${what} has media type ${indexDesc.mediaType}, not an image index; it is a single-platform image`,
    );
  }
  // parseIndex validates every entry: their digests go into URLs and paths next.
  const parsed = parseIndex(await registry.fetchManifest(ref, indexDesc, options), what);
  return parsed.manifests.filter((d) => d.platform !== undefined);
}
