/**
 * The Notary Project payload (`application/vnd.cncf.notary.payload.v1+json`), built byte for byte
 * as notation-go builds it: `json.Marshal(envelope.Payload{TargetArtifact: SanitizeTargetArtifact(desc)})`.
 *
 * Spec: https://github.com/notaryproject/specifications/blob/main/specs/signature-specification.md#payload
 * Pure: no I/O.
 */
import { InputError } from '../errors';
import { encodeGoJson, goMap } from '../oci/go-json';
import type { Descriptor } from '../oci/types';

export const NOTARY_PAYLOAD_MEDIA_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

/** Annotation keys with this prefix are reserved by the Notary Project (notation `-m` rejects them). */
export const RESERVED_ANNOTATION_PREFIX = 'io.cncf.notary';

const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Builds the payload that gets signed for `target`: exactly the bytes Go's `json.Marshal` produces,
 * `{"targetArtifact":{"mediaType":…,"digest":…,"size":N[,"annotations":{…sorted…}]}}`, with Go's HTML
 * escaping of `<`, `>`, `&` (and U+2028/U+2029). Like notation-go's `SanitizeTargetArtifact`, only
 * mediaType, digest, size and the user metadata `annotations` are kept from the descriptor.
 *
 * `annotations` (user metadata, `notation sign -m k=v`) replace any annotations on `target`.
 * Throws InputError when the descriptor is incomplete or an annotation key starts with
 * `io.cncf.notary` (reserved).
 */
export function buildPayload(target: Descriptor, annotations?: Record<string, string>): Uint8Array {
  if (typeof target.mediaType !== 'string' || target.mediaType === '') {
    throw new InputError(
      'PAYLOAD_TARGET_INVALID',
      'the target descriptor has no mediaType; resolve the image first',
    );
  }
  if (typeof target.digest !== 'string' || !DIGEST_PATTERN.test(target.digest)) {
    throw new InputError(
      'PAYLOAD_TARGET_INVALID',
      `the target descriptor digest ${JSON.stringify(target.digest)} is not a valid digest such as sha256:<64 hex>`,
    );
  }
  if (!Number.isSafeInteger(target.size) || target.size < 0) {
    throw new InputError(
      'PAYLOAD_TARGET_INVALID',
      `the target descriptor size ${String(target.size)} must be a non-negative integer`,
    );
  }
  const metadata = annotations ?? target.annotations;
  const targetArtifact: Record<string, unknown> = {
    mediaType: target.mediaType,
    digest: target.digest,
    size: target.size,
  };
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (key.startsWith(RESERVED_ANNOTATION_PREFIX)) {
        throw new InputError(
          'PAYLOAD_ANNOTATION_RESERVED',
          `metadata key ${JSON.stringify(key)} is reserved: keys starting with "${RESERVED_ANNOTATION_PREFIX}" cannot be used as user metadata`,
        );
      }
      if (typeof value !== 'string') {
        throw new InputError(
          'PAYLOAD_ANNOTATION_INVALID',
          `metadata value for ${JSON.stringify(key)} must be a string`,
        );
      }
    }
    // Go's `omitempty` drops an empty map, which is why the length check guards this key.
    targetArtifact['annotations'] = goMap(metadata);
  }
  return encodeGoJson({ targetArtifact });
}
