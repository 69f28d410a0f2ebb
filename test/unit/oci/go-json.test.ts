import { describe, expect, it } from 'vitest';
import {
  encodeGoJson,
  goInterface,
  goJsonText,
  goMap,
  marshalIndex,
  marshalManifest,
} from '../../../shared/oci/go-json';
import { MediaType } from '../../../shared/oci/types';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('encodeGoJson', () => {
  it('keeps plain-object key order, sorts Map keys and omits undefined members', () => {
    const bytes = encodeGoJson({ z: 1, a: undefined, m: goMap({ b: 'x', a: 'y' }), list: [true, null, 'q'] });
    expect(text(bytes)).toBe('{"z":1,"m":{"a":"y","b":"x"},"list":[true,null,"q"]}');
  });
});

describe('goInterface', () => {
  it('sorts object keys at every level, as Go marshals a map[string]interface{}', () => {
    expect(goJsonText(goInterface({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } }))).toBe(
      '{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe('marshalManifest', () => {
  it('escapes <, > and & and sorts integer-like annotation keys by bytes, as Go does', () => {
    const bytes = marshalManifest({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.Empty, digest: 'sha256:' + 'a'.repeat(64), size: 2 },
      layers: [],
      annotations: { '9': 'x', '10': 'a<b>&c' },
    });
    expect(text(bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        '"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:' +
        'a'.repeat(64) +
        '","size":2},"layers":[],"annotations":{"10":"a\\u003cb\\u003e\\u0026c","9":"x"}}',
    );
  });
});

describe('marshalIndex', () => {
  it('writes descriptors in Go field order and omits empty members', () => {
    const bytes = marshalIndex({
      schemaVersion: 2,
      mediaType: MediaType.ImageIndex,
      manifests: [
        {
          artifactType: MediaType.NotarySignature,
          size: 3,
          digest: 'sha256:' + 'b'.repeat(64),
          mediaType: MediaType.ImageManifest,
          annotations: {},
        },
      ],
    });
    expect(text(bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[' +
        '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:' +
        'b'.repeat(64) +
        '","size":3,"artifactType":"application/vnd.cncf.notary.signature"}]}',
    );
  });
});

describe('goMap', () => {
  it('is a Map over the record', () => {
    expect(encodeGoJson(goMap({ b: '1', a: '2' }))).toEqual(new TextEncoder().encode('{"a":"2","b":"1"}'));
  });
});
