import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descriptorFor } from '../../../shared/oci/digest';
import { marshalIndex } from '../../../shared/oci/go-json';
import { OciLayoutRegistry, parseLayoutReference } from '../../../shared/oci/oci-layout-registry';
import { formatReference, type Reference } from '../../../shared/oci/reference';
import type { CallOptions } from '../../../shared/oci/registry';
import { referrerDescriptor, parseManifest } from '../../../shared/oci/referrers-index';
import { MediaType, type Descriptor } from '../../../shared/oci/types';
import { buildSignature, pushImage, registryBehaviour } from './registry-behaviour';

describe('OciLayoutRegistry', () => {
  let root: string;
  let counter = 0;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'stagesign-layout-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('behaves like every Registry', () => {
    registryBehaviour(async () => ({
      registry: new OciLayoutRegistry(),
      ref: parseLayoutReference(`${path.join(root, `layout-${++counter}`)}:latest`),
    }));
  });

  describe('when the call signal is already aborted', () => {
    it.each([
      [
        'resolve',
        (r: OciLayoutRegistry, ref: Reference, img: Descriptor, o: CallOptions) => r.resolve(ref, o),
      ],
      [
        'fetchManifest',
        (r: OciLayoutRegistry, ref: Reference, img: Descriptor, o: CallOptions) =>
          r.fetchManifest(ref, img, o),
      ],
      [
        'fetchBlob',
        (r: OciLayoutRegistry, ref: Reference, img: Descriptor, o: CallOptions) => r.fetchBlob(ref, img, o),
      ],
      [
        'listReferrers',
        (r: OciLayoutRegistry, ref: Reference, img: Descriptor, o: CallOptions) =>
          r.listReferrers(ref, img, undefined, o),
      ],
    ])('%s rejects with ABORTED instead of reading', async (_name, call) => {
      const dir = path.join(root, `layout-aborted-${++counter}`);
      const registry = new OciLayoutRegistry();
      const ref = parseLayoutReference(`${dir}:v1`);
      const image = await pushImage(registry, ref, 'aborted-read');
      const controller = new AbortController();
      controller.abort(new Error('deadline while testing'));
      await expect(call(registry, ref, image, { signal: controller.signal })).rejects.toMatchObject({
        code: 'ABORTED',
        kind: 'dependency',
        message: expect.stringContaining('deadline while testing'),
      });
    });

    it('pushBlob and pushManifest write nothing to the layout', async () => {
      const dir = path.join(root, 'layout-aborted-push');
      const registry = new OciLayoutRegistry();
      const ref = parseLayoutReference(`${dir}:v1`);
      const image = await pushImage(registry, ref, 'aborted-push');
      const sig = buildSignature(image, 'never-written');
      const indexBefore = await readFile(path.join(dir, 'index.json'), 'utf8');
      const controller = new AbortController();
      controller.abort();
      const signal = controller.signal;
      await expect(registry.pushBlob(ref, sig.envelopeDesc, sig.envelope, { signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
      await expect(registry.pushManifest(ref, sig.desc, sig.manifest, { signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
      await expect(
        readFile(path.join(dir, 'blobs', 'sha256', sig.envelopeDesc.digest.slice(7))),
      ).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(
        readFile(path.join(dir, 'blobs', 'sha256', sig.desc.digest.slice(7))),
      ).rejects.toMatchObject({
        code: 'ENOENT',
      });
      expect(await readFile(path.join(dir, 'index.json'), 'utf8')).toBe(indexBefore);
    });
  });

  it('writes an image layout other tools can read: oci-layout, index.json with tags, blobs/sha256', async () => {
    const dir = path.join(root, 'layout-shape');
    const registry = new OciLayoutRegistry();
    const ref = parseLayoutReference(`${dir}:v1`);
    const image = await pushImage(registry, ref, 'shape');
    await registry.pushManifest(ref, image, await registry.fetchManifest(ref, image), { tag: 'v1' });
    expect(JSON.parse(await readFile(path.join(dir, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    expect(
      index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === 'v1')?.digest,
    ).toBe(image.digest);
    expect((await readFile(path.join(dir, 'blobs', 'sha256', image.digest.slice(7)))).byteLength).toBe(
      image.size,
    );
  });

  it('finds referrers listed only in a tag-schema index written by another tool', async () => {
    const dir = path.join(root, 'layout-tag-schema');
    const registry = new OciLayoutRegistry();
    const ref = parseLayoutReference(`${dir}:v1`);
    const image = await pushImage(registry, ref, 'tag-schema');
    const sig = buildSignature(image, 'listed-by-tag');
    const index = marshalIndex({
      schemaVersion: 2,
      mediaType: MediaType.ImageIndex,
      manifests: [referrerDescriptor(sig.desc, parseManifest(sig.manifest, 'sig'))],
    });
    const indexDesc = descriptorFor(index, MediaType.ImageIndex);
    await registry.pushBlob(ref, sig.desc, sig.manifest); // the manifest blob exists, but index.json does not list it
    await registry.pushManifest(ref, indexDesc, index, { tag: `sha256-${image.digest.slice(7)}` });
    const found = await registry.listReferrers(ref, image, MediaType.NotarySignature);
    expect(found.map((d) => d.digest)).toEqual([sig.desc.digest]);
  });

  it('keeps the previous holder of a tag as an untagged entry, so index.json still roots it', async () => {
    const dir = path.join(root, 'layout-retag');
    const registry = new OciLayoutRegistry();
    const ref = parseLayoutReference(`${dir}:v1`);
    const older = await pushImage(registry, ref, 'older');
    const newer = await pushImage(registry, ref, 'newer');
    const olderBytes = await registry.fetchManifest(ref, older);
    const newerBytes = await registry.fetchManifest(ref, newer);
    // Tag v1 with the older image only (it is then listed once, tagged), then move the tag.
    await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    await registry.pushManifest(ref, older, olderBytes, { tag: 'v1' });
    await registry.pushManifest(ref, newer, newerBytes, { tag: 'v1' });
    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    expect(index.manifests).toEqual([
      { mediaType: MediaType.ImageManifest, digest: older.digest, size: older.size },
      {
        mediaType: MediaType.ImageManifest,
        digest: newer.digest,
        size: newer.size,
        annotations: { 'org.opencontainers.image.ref.name': 'v1' },
      },
    ]);
    expect((await registry.resolve({ ...ref, tag: 'v1' })).digest).toBe(newer.digest);
  });

  it('does not add an untagged entry when the previous holder is listed elsewhere in index.json', async () => {
    const dir = path.join(root, 'layout-retag-listed');
    const registry = new OciLayoutRegistry();
    const ref = parseLayoutReference(`${dir}:v1`);
    const older = await pushImage(registry, ref, 'listed-older');
    const olderBytes = await registry.fetchManifest(ref, older);
    await registry.pushManifest(ref, older, olderBytes, { tag: 'v1' });
    await registry.pushManifest(ref, older, olderBytes, { tag: 'stable' });
    const newer = await pushImage(registry, ref, 'listed-newer');
    await registry.pushManifest(ref, newer, await registry.fetchManifest(ref, newer), { tag: 'v1' });
    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(index.manifests.filter((d) => d.digest === older.digest)).toHaveLength(2); // untagged + stable
  });

  it('refuses an index.json over 4 MiB without reading it', async () => {
    const dir = path.join(root, 'layout-huge-index');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(path.join(dir, 'index.json'), '');
    await truncate(path.join(dir, 'index.json'), 4 * 1024 * 1024 + 1); // sparse: no real bytes
    await expect(new OciLayoutRegistry().resolve(parseLayoutReference(`${dir}:v1`))).rejects.toMatchObject({
      code: 'CONTENT_TOO_LARGE',
      message: expect.stringContaining('index.json exceeds'),
    });
  });

  it.runIf(process.platform === 'linux')(
    'refuses an index.json that is not a regular file (a FIFO would block the read forever)',
    async () => {
      const dir = path.join(root, 'layout-fifo-index');
      await mkdir(dir, { recursive: true });
      execFileSync('mkfifo', [path.join(dir, 'index.json')]);
      await expect(new OciLayoutRegistry().resolve(parseLayoutReference(`${dir}:v1`))).rejects.toMatchObject({
        code: 'INVALID_OCI_LAYOUT',
        message: expect.stringContaining('not a regular file'),
      });
    },
  );

  it('reports a directory without index.json as INVALID_OCI_LAYOUT', async () => {
    const registry = new OciLayoutRegistry();
    await expect(
      registry.resolve(parseLayoutReference(`${path.join(root, 'nothing-here')}:v1`)),
    ).rejects.toMatchObject({ code: 'INVALID_OCI_LAYOUT' });
  });
});

describe('parseLayoutReference', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it.each([
    ['./layout:v1', { registry: '', repository: './layout', tag: 'v1' }],
    [`/tmp/layout@${digest}`, { registry: '', repository: '/tmp/layout', digest }],
    ['/tmp/with:colon/layout:latest', { registry: '', repository: '/tmp/with:colon/layout', tag: 'latest' }],
  ])('parses %s', (input, expected) => {
    expect(parseLayoutReference(input)).toEqual(expected);
  });

  it.each([
    ['/tmp/layout', 'neither a tag nor a digest'],
    ['/tmp/layout@sha256:abc', '64 hex'],
    [':v1', 'path is empty'],
    ['/tmp/layout:-bad', 'tag'],
  ])('rejects %s', (input, why) => {
    expect(() => parseLayoutReference(input)).toThrow(why);
  });

  it('formats back like notation --oci-layout: <path>@<digest>', () => {
    expect(formatReference({ registry: '', repository: '/tmp/layout', digest })).toBe(
      `/tmp/layout@${digest}`,
    );
  });
});
