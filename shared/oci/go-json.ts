import { InputError } from '../errors';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from './types';

/**
 * The one place that writes JSON the way Go's `encoding/json` does, so that what stagesign signs
 * and pushes is byte-identical to what notation / oras write (notary-and-signer.md §3.2–3.3):
 * the Notary payload, the JWS protected header, signature manifests and referrers indexes.
 *
 * Plain objects stand for Go structs and keep their own key order (write them in Go's field
 * order); `Map`s stand for Go maps and are emitted with keys sorted by UTF-8 bytes (a plain object
 * cannot do this: JavaScript lists integer-like keys such as "10" first). `undefined` members are
 * omitted (Go's `omitempty`). Output is compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * Go escapes them; other escapes agree between `JSON.stringify` and Go ≥ 1.22.
 */
export function encodeGoJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(goJsonText(value));
}

/** {@link encodeGoJson} as text. */
export function goJsonText(value: unknown): string {
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
      if (Array.isArray(value)) return `[${value.map((item) => goJsonText(item)).join(',')}]`;
      if (value instanceof Map) {
        const entries = [...(value as Map<string, unknown>).entries()]
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => compareUtf8(a, b));
        return `{${entries.map(([k, v]) => `${goString(k)}:${goJsonText(v)}`).join(',')}}`;
      }
      const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      return `{${members.map(([k, v]) => `${goString(k)}:${goJsonText(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`Go JSON cannot encode a ${typeof value}`);
  }
}

/** `record` as a Go map for {@link encodeGoJson} (keys sorted by UTF-8 bytes on output). */
export function goMap<V>(record: Record<string, V>): Map<string, V> {
  return new Map(Object.entries(record));
}

/**
 * A JSON value as Go holds it in an `interface{}` (e.g. a JWS header `map[string]interface{}`):
 * every object becomes a map, so its keys are sorted on output at every level.
 */
export function goInterface(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goInterface);
  if (value !== null && typeof value === 'object' && !(value instanceof Map)) {
    return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, goInterface(v)]));
  }
  return value;
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

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

function goAnnotations(map: Record<string, string> | undefined): Map<string, string> | undefined {
  return map && Object.keys(map).length > 0 ? goMap(map) : undefined;
}

function goPlatform(p: Platform | undefined): Record<string, unknown> | undefined {
  if (p === undefined) return undefined;
  return {
    architecture: p.architecture,
    os: p.os,
    'os.version': p['os.version'] || undefined,
    'os.features': nonEmpty(p['os.features']),
    variant: p.variant || undefined,
  };
}

/** image-spec descriptor in Go field order: mediaType, digest, size, urls, annotations, data, platform, artifactType. */
export function goDescriptor(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    urls: nonEmpty(d.urls),
    annotations: goAnnotations(d.annotations),
    data: d.data || undefined,
    platform: goPlatform(d.platform),
    artifactType: d.artifactType || undefined,
  };
}

/** Manifest in Go field order: schemaVersion, mediaType, artifactType, config, layers, subject, annotations. */
export function goManifest(m: ImageManifest): Record<string, unknown> {
  return {
    schemaVersion: m.schemaVersion,
    mediaType: m.mediaType,
    artifactType: m.artifactType || undefined,
    config: goDescriptor(m.config),
    layers: m.layers.map(goDescriptor),
    subject: m.subject && goDescriptor(m.subject),
    annotations: goAnnotations(m.annotations),
  };
}

/** Index in Go field order: schemaVersion, mediaType, artifactType, manifests, subject, annotations. */
export function goIndex(i: ImageIndex): Record<string, unknown> {
  return {
    schemaVersion: i.schemaVersion,
    mediaType: i.mediaType,
    artifactType: i.artifactType || undefined,
    manifests: i.manifests.map(goDescriptor),
    subject: i.subject && goDescriptor(i.subject),
    annotations: goAnnotations(i.annotations),
  };
}

/** A descriptor as a plain object in Go key order (for in-memory use; serialise with {@link encodeGoJson}). */
export function orderDescriptor(d: Descriptor): Descriptor {
  return JSON.parse(goJsonText(goDescriptor(d))) as Descriptor;
}

/** Compact JSON bytes of a manifest, as Go writes it. */
export function marshalManifest(m: ImageManifest): Uint8Array {
  return encodeGoJson(goManifest(m));
}

/** Compact JSON bytes of an index, as Go writes it. */
export function marshalIndex(i: ImageIndex): Uint8Array {
  return encodeGoJson(goIndex(i));
}
