import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors';
import { buildPayload } from '../../../shared/notary/payload';
import type { Descriptor } from '../../../shared/oci/types';
import { suiteTitle } from '../../helpers/skip-notice';

const VECTORS = fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));
const haveVectors = existsSync(VECTORS);
const VECTOR_SUITE = suiteTitle('against notation-go vectors', haveVectors, `${VECTORS} not found`);
if (!haveVectors && process.env['STAGESIGN_REQUIRE_INTEGRATION'] === '1') {
  throw new Error(`conformance vectors are required in CI but ${VECTORS} does not exist`);
}
if (!haveVectors)
  console.warn(
    `SKIPPING payload vector tests: ${VECTORS} not found (clone the shared vectors beside the repo)`,
  );

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The payload of a JWS vector, decoded from base64url. */
function vectorPayload(relative: string): string {
  const envelope = JSON.parse(readFileSync(VECTORS + relative, 'utf8')) as { payload: string };
  return Buffer.from(envelope.payload, 'base64url').toString('utf8');
}

const IMAGE: Descriptor = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333',
  size: 16724,
};

describe('buildPayload', () => {
  describe('without user metadata', () => {
    it('emits the targetArtifact with mediaType, digest and size in Go struct order', () => {
      expect(text(buildPayload(IMAGE))).toBe(
        '{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333","size":16724}}',
      );
    });

    it('drops every other descriptor field, as notation-go SanitizeTargetArtifact does', () => {
      const noisy: Descriptor = {
        ...IMAGE,
        urls: ['https://example.com/x'],
        data: 'e30=',
        platform: { architecture: 'amd64', os: 'linux' },
        artifactType: 'application/example',
      };
      expect(text(buildPayload(noisy))).toBe(text(buildPayload(IMAGE)));
    });

    it('omits an empty annotations map (Go omitempty)', () => {
      expect(text(buildPayload(IMAGE, {}))).toBe(text(buildPayload(IMAGE)));
    });
  });

  describe('with user metadata', () => {
    it('matches the signature specification example byte for byte', () => {
      expect(text(buildPayload(IMAGE, { 'io.wabbit-networks.buildId': '123' }))).toBe(
        '{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333","size":16724,"annotations":{"io.wabbit-networks.buildId":"123"}}}',
      );
    });

    it('uses annotations already on the descriptor when none are passed', () => {
      expect(text(buildPayload({ ...IMAGE, annotations: { k: 'v' } }))).toContain(
        '"size":16724,"annotations":{"k":"v"}}',
      );
    });

    it('sorts keys by UTF-8 bytes as Go sorts map keys, including integer-like and astral keys', () => {
      const payload = buildPayload(IMAGE, {
        b: '1',
        a: '2',
        '9': '3',
        '10': '4',
        '😀': '5',
        '\uFF01': '6',
        é: '7',
      });
      expect(text(payload)).toContain(
        '"annotations":{"10":"4","9":"3","a":"2","b":"1","é":"7","！":"6","😀":"5"}',
      );
    });

    it('HTML-escapes <, > and & and escapes U+2028/U+2029 the way Go does', () => {
      const payload = buildPayload(IMAGE, { 'a&b': '<script>\u2028\u2029' });
      expect(text(payload)).toContain('"annotations":{"a\\u0026b":"\\u003cscript\\u003e\\u2028\\u2029"}');
    });

    it('escapes control characters with Go 1.22+ forms', () => {
      const payload = buildPayload(IMAGE, { k: '\u0001\b\f\n\r\t"\\\u007f' });
      expect(text(payload)).toContain('"k":"\\u0001\\b\\f\\n\\r\\t\\"\\\\\u007f"');
    });

    it.each(['io.cncf.notary', 'io.cncf.notary.x509chain.thumbprint#S256', 'io.cncf.notaryfoo'])(
      'rejects the reserved key %s',
      (key) => {
        expect(() => buildPayload(IMAGE, { [key]: 'x' })).toThrow(
          expect.objectContaining({ code: 'PAYLOAD_ANNOTATION_RESERVED' }),
        );
      },
    );

    it('rejects a value that is not well-formed Unicode instead of guessing the bytes Go would sign', () => {
      expect(() => buildPayload(IMAGE, { k: 'bad\uD800' })).toThrow(InputError);
    });
  });

  describe('with an incomplete target', () => {
    it.each([
      ['no mediaType', { ...IMAGE, mediaType: '' }],
      ['a digest without algorithm', { ...IMAGE, digest: '73c803930ea3ba1e' }],
      ['a negative size', { ...IMAGE, size: -1 }],
      ['a fractional size', { ...IMAGE, size: 1.5 }],
    ])('rejects a descriptor with %s as InputError PAYLOAD_TARGET_INVALID', (_name, target) => {
      expect(() => buildPayload(target)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TARGET_INVALID' }));
    });
  });

  describe.skipIf(!haveVectors)(VECTOR_SUITE, () => {
    it.each([
      [
        'internal/mock/testdata/ca_valid_sig_env.json',
        {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
          size: 528,
        },
      ],
      [
        'internal/mock/testdata/sa_valid_sig_env.json',
        {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
          size: 528,
        },
      ],
    ])('reproduces the payload of %s byte for byte', (file, target) => {
      expect(text(buildPayload(target))).toBe(vectorPayload(`notation-go/${file}`));
    });

    it('agrees with sig_env_with_metadata.json on content and on the annotations bytes', () => {
      // This vector was marshalled from a map (every key sorted), not from notation-go's
      // Payload struct, so only its annotations fragment can match byte for byte.
      const signed = vectorPayload('notation-go/internal/mock/testdata/sig_env_with_metadata.json');
      const ours = text(
        buildPayload(
          {
            mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
            digest: 'sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b',
            size: 942,
          },
          { 'io.wabbit-networks.buildTime': '1672944615', 'io.wabbit-networks.buildId': '123' },
        ),
      );
      expect(JSON.parse(ours)).toEqual(JSON.parse(signed));
      const annotations =
        '"annotations":{"io.wabbit-networks.buildId":"123","io.wabbit-networks.buildTime":"1672944615"}';
      expect(ours).toContain(annotations);
      expect(signed).toContain(annotations);
    });
  });
});
