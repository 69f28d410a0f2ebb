import { InputError } from '../errors';
import { parseDigest } from './digest';
import { OciErrorCode } from './error-codes';
import { digestProblem } from './reference';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from './types';

/**
 * The pure parts of referrers discovery and the referrers tag schema
 * (distribution-spec "Referrers Tag Schema"; oras-go `pushWithIndexing`), shared by the
 * Distribution API client and the OCI layout store.
 */

/** The tag-schema tag of a subject digest: `<alg>-<hex>`, alg ≤ 32 chars, hex ≤ 64, others → `-`. */
export function referrersTag(subjectDigest: string): string {
  const { algorithm, hex } = parseDigest(subjectDigest);
  return `${algorithm.slice(0, 32)}-${hex.slice(0, 64)}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/** A manifest or index as far as referrers care: its subject, artifact type and annotations. */
export type ParsedManifest = ImageManifest | ImageIndex;

/** Parses manifest/index JSON bytes; throws INVALID_MANIFEST naming `what` when it is not an object with schemaVersion 2. */
export function parseManifest(bytes: Uint8Array, what: string): ParsedManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new InputError(OciErrorCode.InvalidManifest, `${what} is not valid UTF-8 JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(OciErrorCode.InvalidManifest, `${what} must be a JSON object`);
  }
  const obj = value as Record<string, unknown>;
  if (obj.schemaVersion !== 2)
    throw new InputError(OciErrorCode.InvalidManifest, `${what} must have schemaVersion 2`);
  if ('manifests' in obj) {
    if (!Array.isArray(obj.manifests))
      throw new InputError(OciErrorCode.InvalidManifest, `${what}: "manifests" must be an array`);
  } else if (typeof obj.config !== 'object' || obj.config === null) {
    throw new InputError(
      OciErrorCode.InvalidManifest,
      `${what} has neither "manifests" (index) nor "config" (manifest)`,
    );
  }
  return obj as unknown as ParsedManifest;
}

/**
 * Why `value` is not a usable descriptor, or undefined when it is: a non-empty `mediaType`,
 * a valid sha256/sha512 `digest` (lowercase hex of the exact length) and a non-negative integer
 * `size`. Registry-supplied digests end up in request URLs and file paths, so nothing else
 * may pass (e.g. `sha256:../../x`).
 */
export function descriptorProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not an object';
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') return '"mediaType" must be a non-empty string';
  if (d.mediaType.length > 255 || !/^[\x20-\x7e]+$/.test(d.mediaType))
    return `"mediaType" ${JSON.stringify(d.mediaType)} is not a media type`;
  if (typeof d.digest !== 'string') return '"digest" must be a string';
  const problem = digestProblem(d.digest);
  if (problem !== undefined) return problem;
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    return `"size" ${JSON.stringify(d.size)} must be a non-negative integer`;
  if (d.artifactType !== undefined && typeof d.artifactType !== 'string')
    return '"artifactType" must be a string';
  return undefined;
}

/**
 * Parses an image index; throws INVALID_MANIFEST when `bytes` is not one or when any entry of
 * `manifests` is not a valid descriptor (fail closed: the whole index is refused, naming the entry).
 */
export function parseIndex(bytes: Uint8Array, what: string): ImageIndex {
  const parsed = parseManifest(bytes, what);
  if (!('manifests' in parsed))
    throw new InputError(OciErrorCode.InvalidManifest, `${what} is not an image index`);
  parsed.manifests.forEach((d: unknown, i) => {
    const problem = descriptorProblem(d);
    if (problem !== undefined) {
      throw new InputError(
        OciErrorCode.InvalidManifest,
        `${what}: entry ${i} of "manifests" is not a valid descriptor: ${problem}`,
      );
    }
  });
  return parsed;
}

/** The artifact type a referrer is listed under: `artifactType`, else `config.mediaType` (distribution-spec). */
export function artifactTypeOf(manifest: ParsedManifest): string | undefined {
  if (manifest.artifactType !== undefined) return manifest.artifactType;
  return 'config' in manifest ? manifest.config.mediaType : undefined;
}

/** The referrers-index entry for a pushed manifest: mediaType, digest, size, annotations, artifactType. */
export function referrerDescriptor(desc: Descriptor, manifest: ParsedManifest): Descriptor {
  const out: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (manifest.annotations !== undefined && Object.keys(manifest.annotations).length > 0)
    out.annotations = { ...manifest.annotations };
  const artifactType = artifactTypeOf(manifest);
  if (artifactType !== undefined) out.artifactType = artifactType;
  return out;
}

/** An empty referrers index. */
export function emptyReferrersIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
}

/**
 * Adds `entry` to a referrers index unless an entry with the same digest exists. Returns the
 * new index, or undefined when nothing changed (the caller then writes nothing).
 */
export function addReferrer(index: ImageIndex | undefined, entry: Descriptor): ImageIndex | undefined {
  const base = index ?? emptyReferrersIndex();
  if (base.manifests.some((d) => d.digest === entry.digest)) return undefined;
  return {
    ...base,
    schemaVersion: 2,
    mediaType: MediaType.ImageIndex,
    manifests: [...base.manifests, entry],
  };
}

/** Client-side artifactType filter (applied unless the registry says `OCI-Filters-Applied: artifactType`). */
export function filterByArtifactType(
  descriptors: Descriptor[],
  artifactType: string | undefined,
): Descriptor[] {
  return artifactType === undefined
    ? descriptors
    : descriptors.filter((d) => d.artifactType === artifactType);
}
