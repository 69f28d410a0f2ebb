import { describe, expect, it } from 'vitest';
import { descriptorFor, verifyContent } from '../../../shared/oci/digest';
import { marshalIndex, marshalManifest } from '../../../shared/oci/go-json';
import {
  addReferrer,
  filterByArtifactType,
  parseIndex,
  parseManifest,
  referrerDescriptor,
  referrersTag,
} from '../../../shared/oci/referrers-index';
import { EMPTY_DESCRIPTOR, MediaType } from '../../../shared/oci/types';

const subject = { mediaType: MediaType.ImageManifest, digest: `sha256:${'b8'.repeat(32)}`, size: 517 };

describe('referrersTag', () => {
  it('turns sha256:<hex> into sha256-<hex>', () => {
    expect(referrersTag(subject.digest)).toBe(`sha256-${'b8'.repeat(32)}`);
  });

  it('truncates the encoded part of a sha512 digest to 64 characters', () => {
    expect(referrersTag(`sha512:${'c'.repeat(128)}`)).toBe(`sha512-${'c'.repeat(64)}`);
  });
});

describe('referrerDescriptor', () => {
  it.each([
    [
      'an OCI 1.1 signature',
      { artifactType: MediaType.NotarySignature, config: EMPTY_DESCRIPTOR },
      MediaType.NotarySignature,
    ],
    [
      'a legacy notation 1.x signature',
      { config: { mediaType: MediaType.NotarySignature, digest: EMPTY_DESCRIPTOR.digest, size: 2 } },
      MediaType.NotarySignature,
    ],
  ])('lists %s under the notary artifact type with its annotations', (_, shape, artifactType) => {
    const bytes = marshalManifest({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      ...shape,
      layers: [],
      subject,
      annotations: { b: '2', a: '1' },
    });
    const desc = descriptorFor(bytes, MediaType.ImageManifest);
    expect(referrerDescriptor(desc, parseManifest(bytes, 'sig'))).toEqual({
      ...desc,
      annotations: { a: '1', b: '2' },
      artifactType,
    });
  });
});

describe('addReferrer', () => {
  const entry = {
    mediaType: MediaType.ImageManifest,
    digest: `sha256:${'1'.repeat(64)}`,
    size: 10,
    artifactType: MediaType.NotarySignature,
  };

  it('starts an index when there is none and appends to an existing one', () => {
    const first = addReferrer(undefined, entry)!;
    expect(first.manifests).toEqual([entry]);
    const second = addReferrer(first, { ...entry, digest: `sha256:${'2'.repeat(64)}` })!;
    expect(second.manifests.map((d) => d.digest)).toEqual([entry.digest, `sha256:${'2'.repeat(64)}`]);
  });

  it('skips a duplicate', () => {
    expect(addReferrer(addReferrer(undefined, entry), entry)).toBeUndefined();
  });
});

describe('filterByArtifactType', () => {
  it('keeps everything without a filter and only matching types with one', () => {
    const list = [
      { mediaType: 'm', digest: 'd1', size: 1, artifactType: 'a' },
      { mediaType: 'm', digest: 'd2', size: 1, artifactType: 'b' },
    ];
    expect(filterByArtifactType(list, undefined)).toHaveLength(2);
    expect(filterByArtifactType(list, 'b').map((d) => d.digest)).toEqual(['d2']);
  });
});

describe('Go key order', () => {
  it('serialises a referrers index entry as notation does', () => {
    const index = marshalIndex({
      manifests: [
        {
          artifactType: MediaType.NotarySignature,
          annotations: { z: '1', a: '2' },
          size: 728,
          digest: `sha256:${'9'.repeat(64)}`,
          mediaType: MediaType.ImageManifest,
        },
      ],
      mediaType: MediaType.ImageIndex,
      schemaVersion: 2,
    });
    expect(new TextDecoder().decode(index)).toBe(
      `{"schemaVersion":2,"mediaType":"${MediaType.ImageIndex}","manifests":[{"mediaType":"${MediaType.ImageManifest}","digest":"sha256:${'9'.repeat(64)}","size":728,"annotations":{"a":"2","z":"1"},"artifactType":"${MediaType.NotarySignature}"}]}`,
    );
  });

  it('serialises a signature manifest in notation-go field order', () => {
    const bytes = marshalManifest({
      subject,
      layers: [],
      config: EMPTY_DESCRIPTOR,
      artifactType: MediaType.NotarySignature,
      mediaType: MediaType.ImageManifest,
      schemaVersion: 2,
    });
    expect(Object.keys(JSON.parse(new TextDecoder().decode(bytes)) as object)).toEqual([
      'schemaVersion',
      'mediaType',
      'artifactType',
      'config',
      'layers',
      'subject',
    ]);
    expect(new TextDecoder().decode(bytes)).toContain(
      `"config":{"mediaType":"${MediaType.Empty}","digest":"${EMPTY_DESCRIPTOR.digest}","size":2,"data":"e30="}`,
    );
  });
});

describe('verifyContent', () => {
  const bytes = new TextEncoder().encode('{}');
  it('accepts the empty config blob for the EMPTY_DESCRIPTOR', () => {
    expect(() => verifyContent(EMPTY_DESCRIPTOR, bytes, 'config')).not.toThrow();
  });
  it.each([
    ['a wrong size', { ...EMPTY_DESCRIPTOR, size: 3 }, 'SIZE_MISMATCH'],
    ['a wrong digest', { ...EMPTY_DESCRIPTOR, digest: `sha256:${'0'.repeat(64)}` }, 'DIGEST_MISMATCH'],
  ])('rejects %s', (_, desc, code) => {
    expect(() => verifyContent(desc, bytes, 'config')).toThrow(expect.objectContaining({ code }));
  });
});

describe('parseIndex', () => {
  const good = { mediaType: MediaType.ImageManifest, digest: `sha256:${'ab'.repeat(32)}`, size: 10 };
  const index = (entry: unknown) =>
    new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [good, entry] }),
    );

  it('accepts valid sha256 and sha512 entries', () => {
    const sha512 = { ...good, digest: `sha512:${'cd'.repeat(64)}`, artifactType: MediaType.NotarySignature };
    expect(parseIndex(index(sha512), 'referrers').manifests).toEqual([good, sha512]);
  });

  it.each([
    ['a path in the digest', { ...good, digest: 'sha256:../../x' }, 'sha256'],
    ['a digest of the wrong length', { ...good, digest: `sha256:${'a'.repeat(63)}` }, 'hex characters'],
    ['uppercase hex', { ...good, digest: `sha256:${'AB'.repeat(32)}` }, 'lowercase'],
    ['an unknown algorithm', { ...good, digest: `md5:${'a'.repeat(32)}` }, 'not supported'],
    ['a negative size', { ...good, size: -1 }, '"size"'],
    ['a fractional size', { ...good, size: 1.5 }, '"size"'],
    ['an empty media type', { ...good, mediaType: '' }, '"mediaType"'],
    ['a media type with a line break', { ...good, mediaType: 'a/b\r\nx: y' }, '"mediaType"'],
    ['a non-string artifactType', { ...good, artifactType: 7 }, '"artifactType"'],
    ['no digest', { mediaType: good.mediaType, size: 1 }, '"digest"'],
    ['null', null, 'not an object'],
  ])('refuses the whole index when an entry has %s, naming the entry', (_, entry, problem) => {
    expect(() => parseIndex(index(entry), 'referrers of x')).toThrow(
      expect.objectContaining({
        code: 'INVALID_MANIFEST',
        message: expect.stringMatching(/^referrers of x: entry 1 of "manifests" is not a valid descriptor: /),
      }),
    );
    expect(() => parseIndex(index(entry), 'referrers of x')).toThrow(problem);
  });
});
