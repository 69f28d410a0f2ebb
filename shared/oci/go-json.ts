import type { Descriptor, ImageIndex, ImageManifest, Platform } from './types';

/**
 * JSON serialisation in the key order Go's encoding/json produces for the image-spec structs
 * (notary-and-signer.md §3.3), so that manifests and indexes we write are byte-identical to
 * the ones notation/oras write. Map keys (annotations) are sorted, as Go sorts map keys.
 */

function sortedMap(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (map === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const key of Object.keys(map).sort()) out[key] = map[key]!;
  return out;
}

function defined<T extends object>(entries: [string, unknown][]): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) if (value !== undefined) out[key] = value;
  return out as T;
}

function orderPlatform(p: Platform | undefined): Platform | undefined {
  if (p === undefined) return undefined;
  return defined<Platform>([
    ['architecture', p.architecture],
    ['os', p.os],
    ['os.version', p['os.version']],
    ['os.features', p['os.features']],
    ['variant', p.variant],
  ]);
}

/** Descriptor keys in Go order: mediaType, digest, size, urls, annotations, data, platform, artifactType. */
export function orderDescriptor(d: Descriptor): Descriptor {
  return defined<Descriptor>([
    ['mediaType', d.mediaType],
    ['digest', d.digest],
    ['size', d.size],
    ['urls', d.urls],
    ['annotations', sortedMap(d.annotations)],
    ['data', d.data],
    ['platform', orderPlatform(d.platform)],
    ['artifactType', d.artifactType],
  ]);
}

/** Manifest keys in Go order: schemaVersion, mediaType, artifactType, config, layers, subject, annotations. */
export function orderManifest(m: ImageManifest): ImageManifest {
  return defined<ImageManifest>([
    ['schemaVersion', m.schemaVersion],
    ['mediaType', m.mediaType],
    ['artifactType', m.artifactType],
    ['config', orderDescriptor(m.config)],
    ['layers', m.layers.map(orderDescriptor)],
    ['subject', m.subject && orderDescriptor(m.subject)],
    ['annotations', sortedMap(m.annotations)],
  ]);
}

/** Index keys in Go order: schemaVersion, mediaType, artifactType, manifests, subject, annotations. */
export function orderIndex(i: ImageIndex): ImageIndex {
  return defined<ImageIndex>([
    ['schemaVersion', i.schemaVersion],
    ['mediaType', i.mediaType],
    ['artifactType', i.artifactType],
    ['manifests', i.manifests.map(orderDescriptor)],
    ['subject', i.subject && orderDescriptor(i.subject)],
    ['annotations', sortedMap(i.annotations)],
  ]);
}

/** Compact JSON bytes of a manifest in Go key order. */
export function marshalManifest(m: ImageManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(orderManifest(m)));
}

/** Compact JSON bytes of an index in Go key order. */
export function marshalIndex(i: ImageIndex): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(orderIndex(i)));
}
