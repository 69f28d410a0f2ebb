import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { throwIfAborted } from '../abort';
import { InputError } from '../errors';
import { assertWithinLimit, parseDigest, verifyContent } from './digest';
import { MAX_BLOB_BYTES, MAX_MANIFEST_BYTES, OciErrorCode } from './error-codes';
import { digestProblem, formatReference, INVALID_REFERENCE, type Reference } from './reference';
import {
  artifactTypeOf,
  filterByArtifactType,
  parseIndex,
  parseManifest,
  referrersTag,
  type ParsedManifest,
} from './referrers-index';
import type { CallOptions, PushManifestOptions, Registry } from './registry';
import { MediaType, type Descriptor, type ImageIndex } from './types';

/** image-spec annotation naming a tag in `index.json`. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
const LAYOUT_FILE = '{"imageLayoutVersion":"1.0.0"}';
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/**
 * Parses an OCI image layout reference, `<path>:<tag>` or `<path>@<digest>` (as
 * `notation --oci-layout`), into a `Reference` with `registry: ''` and `repository` = the path.
 */
export function parseLayoutReference(input: string): Reference {
  const fail = (what: string) =>
    new InputError(
      INVALID_REFERENCE,
      `invalid OCI layout reference ${JSON.stringify(input)}: ${what}; expected <path>:<tag> or <path>@sha256:<64 hex>`,
    );
  const at = input.lastIndexOf('@');
  if (at >= 0) {
    const digest = input.slice(at + 1);
    const problem = digestProblem(digest);
    if (problem) throw fail(problem);
    const dir = input.slice(0, at);
    if (dir === '') throw fail('the path is empty');
    return { registry: '', repository: dir, digest };
  }
  const colon = input.lastIndexOf(':');
  const tag = colon >= 0 ? input.slice(colon + 1) : '';
  if (colon < 0 || tag.includes('/') || tag.includes(path.sep))
    throw fail('it has neither a tag nor a digest');
  if (!TAG_RE.test(tag))
    throw fail(`tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  const dir = input.slice(0, colon);
  if (dir === '') throw fail('the path is empty');
  return { registry: '', repository: dir, tag };
}

/**
 * `Registry` over an OCI image layout directory (image-spec `image-layout.md`): `oci-layout`,
 * `index.json`, `blobs/<alg>/<hex>`. `ref.repository` is the directory. Every pushed manifest
 * is recorded in `index.json` (tagged entries carry `org.opencontainers.image.ref.name`), so
 * referrers are found by reading the manifests listed there whose `subject` is the target,
 * and through a tag-schema index `sha256-<hex>` when one is present (written by other tools).
 *
 * A call's `signal` is checked before it starts and between its file operations (each one is
 * short and local, so none is interrupted midway): an aborted call rejects with `ABORTED` and
 * writes nothing more.
 */
export class OciLayoutRegistry implements Registry {
  async resolve(ref: Reference, options?: CallOptions): Promise<Descriptor> {
    const signal = options?.signal;
    const what = `resolving ${formatReference(ref)} in the OCI layout`;
    throwIfAborted(signal, what);
    const index = await this.readIndex(ref.repository, false);
    throwIfAborted(signal, what);
    if (ref.digest !== undefined) {
      const listed = index.manifests.find((d) => d.digest === ref.digest);
      if (listed) return plain(listed);
      const size = await this.blobSize(ref.repository, ref.digest);
      if (size === undefined)
        throw new InputError(
          OciErrorCode.ImageNotFound,
          `image ${formatReference(ref)} was not found in the OCI layout`,
        );
      const manifest = `manifest ${formatReference(ref)}`;
      assertWithinLimit({ mediaType: '', digest: ref.digest, size }, MAX_MANIFEST_BYTES, manifest);
      throwIfAborted(signal, what);
      const bytes = await readFile(this.blobPath(ref.repository, ref.digest));
      verifyContent({ mediaType: '', digest: ref.digest, size }, bytes, manifest);
      const parsed = parseManifest(bytes, manifest);
      const mediaType =
        parsed.mediaType ?? ('manifests' in parsed ? MediaType.ImageIndex : MediaType.ImageManifest);
      return { mediaType, digest: ref.digest, size };
    }
    if (ref.tag === undefined)
      throw new InputError(INVALID_REFERENCE, `reference ${formatReference(ref)} needs a tag or a digest`);
    const tagged = index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === ref.tag);
    const last = tagged[tagged.length - 1];
    if (last === undefined)
      throw new InputError(
        OciErrorCode.ImageNotFound,
        `image ${formatReference(ref)} was not found: no manifest in ${path.join(ref.repository, 'index.json')} is tagged "${ref.tag}"`,
      );
    return plain(last);
  }

  async fetchManifest(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array> {
    return this.readBlob(ref, desc, MAX_MANIFEST_BYTES, 'manifest', options?.signal);
  }

  async fetchBlob(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array> {
    return this.readBlob(ref, desc, MAX_BLOB_BYTES, 'blob', options?.signal);
  }

  async pushBlob(
    ref: Reference,
    desc: Descriptor,
    content: Uint8Array,
    options?: CallOptions,
  ): Promise<void> {
    const signal = options?.signal;
    const what = `writing blob ${desc.digest} to the OCI layout ${ref.repository}`;
    throwIfAborted(signal, what);
    verifyContent(desc, content, `blob to write to the OCI layout ${ref.repository}`);
    await this.ensureLayout(ref.repository);
    throwIfAborted(signal, what);
    if ((await this.blobSize(ref.repository, desc.digest)) === desc.size) return;
    throwIfAborted(signal, what);
    await writeAtomically(this.blobPath(ref.repository, desc.digest), content);
  }

  async pushManifest(
    ref: Reference,
    desc: Descriptor,
    content: Uint8Array,
    options?: PushManifestOptions,
  ): Promise<void> {
    const signal = options?.signal;
    const what = `manifest to write to the OCI layout ${ref.repository}`;
    const step = `writing manifest ${desc.digest} to the OCI layout ${ref.repository}`;
    throwIfAborted(signal, step);
    assertWithinLimit(desc, MAX_MANIFEST_BYTES, what);
    verifyContent(desc, content, what);
    parseManifest(content, what);
    await this.pushBlob(ref, desc, content, signal ? { signal } : undefined);
    throwIfAborted(signal, step);
    const index = await this.readIndex(ref.repository, true);
    throwIfAborted(signal, step);
    const entry = plain(desc);
    let manifests = index.manifests;
    if (options?.tag !== undefined) {
      const tag = options.tag;
      // A tag names one manifest: its previous holder loses the tag. index.json is the root
      // set of the layout (what tools keep when they collect garbage), so a previous holder
      // listed nowhere else stays as an untagged entry instead of being orphaned.
      const previous = manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === tag);
      manifests = manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== tag);
      for (const old of previous) {
        if (old.digest !== desc.digest && !manifests.some((d) => d.digest === old.digest))
          manifests.push(untagged(old));
      }
      manifests.push({ ...entry, annotations: { [REF_NAME_ANNOTATION]: tag } });
    } else if (!manifests.some((d) => d.digest === desc.digest)) {
      manifests = [...manifests, entry];
    } else {
      return;
    }
    await this.writeIndex(ref.repository, { ...index, manifests });
  }

  async listReferrers(
    ref: Reference,
    subject: Descriptor,
    artifactType?: string,
    options?: CallOptions,
  ): Promise<Descriptor[]> {
    const signal = options?.signal;
    throwIfAborted(signal, `listing the referrers of ${subject.digest} in the OCI layout ${ref.repository}`);
    const index = await this.readIndex(ref.repository, false);
    const found = new Map<string, Descriptor>();
    const tag = referrersTag(subject.digest);
    for (const entry of index.manifests) {
      if (found.has(entry.digest) || entry.digest === subject.digest) continue;
      if (entry.mediaType !== MediaType.ImageManifest && entry.mediaType !== MediaType.ImageIndex) continue;
      if (entry.size > MAX_MANIFEST_BYTES) continue;
      const bytes = await this.readBlob(ref, plain(entry), MAX_MANIFEST_BYTES, 'manifest', signal);
      const what = `manifest ${formatReference({ ...ref, tag: undefined, digest: entry.digest })}`;
      if (entry.annotations?.[REF_NAME_ANNOTATION] === tag) {
        for (const d of parseIndex(bytes, what).manifests) if (!found.has(d.digest)) found.set(d.digest, d);
        continue;
      }
      const manifest: ParsedManifest = parseManifest(bytes, what);
      if (manifest.subject?.digest !== subject.digest) continue;
      const desc: Descriptor = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
      if (manifest.annotations !== undefined) desc.annotations = manifest.annotations;
      const type = artifactTypeOf(manifest);
      if (type !== undefined) desc.artifactType = type;
      found.set(entry.digest, desc);
    }
    return filterByArtifactType([...found.values()], artifactType);
  }

  private async readBlob(
    ref: Reference,
    desc: Descriptor,
    limit: number,
    kind: 'manifest' | 'blob',
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const what = `${kind} ${formatReference({ ...ref, tag: undefined, digest: desc.digest })}`;
    throwIfAborted(signal, `reading ${what}`);
    assertWithinLimit(desc, limit, what);
    const size = await this.blobSize(ref.repository, desc.digest);
    throwIfAborted(signal, `reading ${what}`);
    if (size === undefined)
      throw new InputError(OciErrorCode.ContentNotFound, `${what} was not found in the OCI layout`);
    if (size !== desc.size)
      throw new InputError(
        OciErrorCode.SizeMismatch,
        `${what}: expected ${desc.size} bytes, the layout holds ${size}`,
      );
    const bytes = new Uint8Array(await readFile(this.blobPath(ref.repository, desc.digest)));
    verifyContent(desc, bytes, what);
    return bytes;
  }

  private blobPath(dir: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(dir, 'blobs', algorithm, hex);
  }

  private async blobSize(dir: string, digest: string): Promise<number | undefined> {
    try {
      const s = await stat(this.blobPath(dir, digest));
      return s.isFile() ? s.size : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async ensureLayout(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    try {
      await writeFile(path.join(dir, 'oci-layout'), LAYOUT_FILE, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }

  /** `index.json`; a missing layout is an input error unless `create` (push into a new directory). */
  private async readIndex(dir: string, create: boolean): Promise<ImageIndex> {
    const file = path.join(dir, 'index.json');
    let bytes: Uint8Array;
    try {
      // Size and type are checked on the open file before reading it whole: a huge index.json
      // must not be loaded into memory, and a FIFO or device must not block the read.
      const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const info = await handle.stat();
        if (!info.isFile())
          throw new InputError(
            OciErrorCode.InvalidLayout,
            `OCI layout ${dir}: index.json is not a regular file`,
          );
        if (info.size > MAX_MANIFEST_BYTES)
          throw new InputError(
            OciErrorCode.ContentTooLarge,
            `OCI layout ${dir}: index.json exceeds ${MAX_MANIFEST_BYTES} bytes`,
          );
        bytes = new Uint8Array(await handle.readFile());
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (!create) {
        throw new InputError(
          OciErrorCode.InvalidLayout,
          `OCI layout ${dir} has no index.json; point the reference at an OCI image layout directory`,
        );
      }
      await this.ensureLayout(dir);
      return { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
    }
    if (bytes.byteLength > MAX_MANIFEST_BYTES)
      throw new InputError(
        OciErrorCode.ContentTooLarge,
        `OCI layout ${dir}: index.json exceeds ${MAX_MANIFEST_BYTES} bytes`,
      );
    try {
      return parseIndex(bytes, `OCI layout ${path.join(dir, 'index.json')}`);
    } catch (cause) {
      throw new InputError(
        OciErrorCode.InvalidLayout,
        `OCI layout ${dir} has a malformed index.json: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  private async writeIndex(dir: string, index: ImageIndex): Promise<void> {
    await writeAtomically(path.join(dir, 'index.json'), new TextEncoder().encode(JSON.stringify(index)));
  }
}

/** `d` without the tag annotation (other annotations are kept). */
function untagged(d: Descriptor): Descriptor {
  const { [REF_NAME_ANNOTATION]: _tag, ...rest } = d.annotations ?? {};
  const out: Descriptor = { ...d };
  delete out.annotations;
  if (Object.keys(rest).length > 0) out.annotations = rest;
  return out;
}

function plain(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

/** Write to a temporary file and rename, so readers never see half a blob or index. */
async function writeAtomically(file: string, content: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID()}.tmp`;
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
