/**
 * The Notary Project payload (`application/vnd.cncf.notary.payload.v1+json`), built byte for byte
 * as notation-go builds it: `json.Marshal(envelope.Payload{TargetArtifact: SanitizeTargetArtifact(desc)})`.
 *
 * Spec: https://github.com/notaryproject/specifications/blob/main/specs/signature-specification.md#payload
 * Pure: no I/O.
 */
import { InputError } from '../errors';
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

/**
 * Serialises `value` as Go's `encoding/json` Marshal would. Plain objects stand for Go structs and
 * keep their own key order (write them in Go's field order); `Map`s stand for Go maps and are
 * emitted with keys sorted by UTF-8 bytes (a plain object cannot do this: JavaScript lists
 * integer-like keys such as "10" first). `undefined` members are omitted (Go's `omitempty`).
 * Output is compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`, `\u003e`, `\u0026`,
 * `\u2028`, `\u2029`; other escapes agree between `JSON.stringify` and Go ≥ 1.22 (`\b`, `\f`, `\n`,
 * `\r`, `\t`, `\u00XX` in lowercase hex). Exported for the signature manifest, which needs the
 * same bytes.
 */
export function encodeGoJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(goJson(value));
}

function goJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return goString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('Go JSON cannot encode a non-finite number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => goJson(item)).join(',')}]`;
      if (value instanceof Map) {
        const entries = [...(value as Map<string, unknown>).entries()].sort(([a], [b]) => compareUtf8(a, b));
        return `{${entries.map(([k, v]) => `${goString(k)}:${goJson(v)}`).join(',')}}`;
      }
      const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      return `{${members.map(([k, v]) => `${goString(k)}:${goJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`Go JSON cannot encode a ${typeof value}`);
  }
}

function goString(text: string): string {
  if (LONE_SURROGATE.test(text)) {
    // Go would replace the lone surrogate with U+FFFD; refusing is safer than guessing bytes to sign.
    throw new InputError(
      'JSON_STRING_INVALID',
      `the string ${JSON.stringify(text)} is not well-formed Unicode`,
    );
  }
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (ch) => GO_HTML_ESCAPES[ch] ?? ch);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const GO_HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `record` as a Go map for `encodeGoJson` (keys sorted by UTF-8 bytes on output). */
export function goMap(record: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(record));
}
