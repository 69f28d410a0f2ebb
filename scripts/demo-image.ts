/**
 * A small, deterministic sample image for the demo: one gzip-compressed tar layer holding a text
 * file, an OCI image config and an OCI image manifest. The same text always gives the same digest.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { descriptorFor } from '../shared/oci/digest';
import type { Reference } from '../shared/oci/reference';
import type { Registry } from '../shared/oci/registry';
import { MediaType } from '../shared/oci/types';
import type { Descriptor, ImageManifest } from '../shared/oci/types';

const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** One piece of content with its descriptor. */
export interface Blob {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

export interface SampleImage {
  layer: Blob;
  config: Blob;
  manifest: Blob;
}

/** A POSIX ustar archive with one regular file (mode 0644, owner 0, mtime 0). */
export function tarWithOneFile(name: string, content: Uint8Array): Uint8Array {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, 'ascii');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  field(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  const padding = (512 - (content.length % 512)) % 512;
  return new Uint8Array(
    Buffer.concat([header, Buffer.from(content), Buffer.alloc(padding), Buffer.alloc(1024)]),
  );
}

function blob(bytes: Uint8Array, mediaType: string): Blob {
  return { descriptor: descriptorFor(bytes, mediaType), bytes };
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Builds the sample image whose only file, `/hello.txt`, holds `text`. */
export function buildSampleImage(text: string): SampleImage {
  const tar = tarWithOneFile('hello.txt', new TextEncoder().encode(text));
  // Node's gzip header carries mtime 0, so the compressed layer is deterministic too.
  const layer = blob(new Uint8Array(gzipSync(tar, { level: 9 })), LAYER_MEDIA_TYPE);
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const config = blob(
    json({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['cat', '/hello.txt'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
    MediaType.ImageConfig,
  );
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config: config.descriptor,
    layers: [layer.descriptor],
  };
  return { layer, config, manifest: blob(json(manifest), MediaType.ImageManifest) };
}

/** Pushes the image's blobs and then its manifest under `tag`. Returns the manifest descriptor. */
export async function pushSampleImage(
  registry: Registry,
  repository: Reference,
  image: SampleImage,
  tag: string,
): Promise<Descriptor> {
  await registry.pushBlob(repository, image.layer.descriptor, image.layer.bytes);
  await registry.pushBlob(repository, image.config.descriptor, image.config.bytes);
  await registry.pushManifest(repository, image.manifest.descriptor, image.manifest.bytes, { tag });
  return image.manifest.descriptor;
}
