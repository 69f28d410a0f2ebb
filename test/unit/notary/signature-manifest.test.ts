import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../shared/errors';
import {
  buildSignatureManifest,
  CREATED_ANNOTATION,
  isSignatureManifest,
  parseSignatureManifest,
  signatureAnnotations,
  THUMBPRINT_ANNOTATION,
} from '../../../shared/notary/signature-manifest';
import { EMPTY_DESCRIPTOR } from '../../../shared/oci/types';
import type { Descriptor, ImageManifest } from '../../../shared/oci/types';
import { suiteTitle } from '../../helpers/skip-notice';

const VECTORS = fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));
const haveVectors = existsSync(VECTORS);
const ROOT_FINGERPRINT = suiteTitle(
  'gives the AWS Signer root the fingerprint notation inspect prints',
  haveVectors,
  `${VECTORS} not found`,
);
if (!haveVectors && process.env['STAGESIGN_REQUIRE_INTEGRATION'] === '1') {
  throw new Error(`conformance vectors are required in CI but ${VECTORS} does not exist`);
}
if (!haveVectors) console.warn(`SKIPPING AWS root thumbprint test: ${VECTORS} not found`);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const enc = (s: string) => new TextEncoder().encode(s);
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

const SUBJECT: Descriptor = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'b8'.repeat(32)}`,
  size: 517,
};
const ENVELOPE: Descriptor = {
  mediaType: 'application/jose+json',
  digest: `sha256:${'c9'.repeat(32)}`,
  size: 2070,
};
const ANNOTATIONS = {
  [THUMBPRINT_ANNOTATION]: `["${'e3'.repeat(32)}"]`,
  [CREATED_ANNOTATION]: '2023-06-27T05:30:33Z',
};

describe('signatureAnnotations', () => {
  const certA = enc('certificate A DER');
  const certB = enc('certificate B DER');

  it('lists the lowercase SHA-256 of each certificate in envelope order as a JSON array without spaces', () => {
    const annotations = signatureAnnotations({ certificateChain: [certA, certB], signingTime: new Date(0) });
    expect(annotations[THUMBPRINT_ANNOTATION]).toBe(`["${sha256(certA)}","${sha256(certB)}"]`);
  });

  it('formats the created time as RFC 3339 UTC without fractional seconds', () => {
    const annotations = signatureAnnotations({
      certificateChain: [certA],
      signingTime: new Date('2023-12-06T01:20:03.987+02:00'),
    });
    expect(annotations[CREATED_ANNOTATION]).toBe('2023-12-05T23:20:03Z');
  });

  it('keeps the signer annotations and overrides signer keys of the same name', () => {
    const annotations = signatureAnnotations({
      certificateChain: [certA],
      signingTime: new Date('2024-01-01T00:00:00Z'),
      signerAnnotations: {
        'com.amazonaws.signer.signingJob': 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/abc',
        [THUMBPRINT_ANNOTATION]: 'forged',
        [CREATED_ANNOTATION]: '1999-01-01T00:00:00Z',
      },
    });
    expect(annotations).toEqual({
      'com.amazonaws.signer.signingJob': 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/abc',
      [THUMBPRINT_ANNOTATION]: `["${sha256(certA)}"]`,
      [CREATED_ANNOTATION]: '2024-01-01T00:00:00Z',
    });
  });

  it('rejects an empty certificate chain', () => {
    expect(() => signatureAnnotations({ certificateChain: [], signingTime: new Date() })).toThrow(InputError);
  });

  it.skipIf(!haveVectors)(ROOT_FINGERPRINT, () => {
    const pem = readFileSync(
      `${VECTORS}kyverno-notation-aws/configs/samples/extracted/aws-signer-ts.aws-signer-notation-root.pem`,
      'utf8',
    );
    const der = new Uint8Array(new X509Certificate(pem).raw);
    const annotations = signatureAnnotations({ certificateChain: [der], signingTime: new Date() });
    expect(annotations[THUMBPRINT_ANNOTATION]).toBe(
      '["90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f"]',
    );
  });
});

describe('buildSignatureManifest', () => {
  describe('in the default OCI 1.1 shape', () => {
    const built = buildSignatureManifest({ subject: SUBJECT, envelope: ENVELOPE, annotations: ANNOTATIONS });

    it('emits the bytes of the specification example, in Go key order', () => {
      expect(text(built.bytes)).toBe(
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
          '"artifactType":"application/vnd.cncf.notary.signature",' +
          '"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},' +
          `"layers":[{"mediaType":"application/jose+json","digest":"sha256:${'c9'.repeat(32)}","size":2070}],` +
          `"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:${'b8'.repeat(32)}","size":517},` +
          `"annotations":{"io.cncf.notary.x509chain.thumbprint#S256":"[\\"${'e3'.repeat(32)}\\"]","org.opencontainers.image.created":"2023-06-27T05:30:33Z"}}`,
      );
    });

    it('returns a descriptor whose digest and size are those of the bytes, ready for a referrers index', () => {
      expect(built.descriptor).toEqual({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha256(built.bytes)}`,
        size: built.bytes.length,
        annotations: ANNOTATIONS,
        artifactType: 'application/vnd.cncf.notary.signature',
      });
    });

    it('returns the {} config blob with the empty descriptor', () => {
      expect(text(built.config.bytes)).toBe('{}');
      expect(built.config.descriptor).toEqual(EMPTY_DESCRIPTOR);
      expect(`sha256:${sha256(built.config.bytes)}`).toBe(built.config.descriptor.digest);
    });

    it('produces a manifest that parses back as a signature with the same envelope', () => {
      expect(isSignatureManifest(built.manifest)).toBe(true);
      expect(parseSignatureManifest(built.bytes)).toEqual({ manifest: built.manifest, envelope: ENVELOPE });
    });
  });

  describe('in the legacy notation 1.x shape', () => {
    const built = buildSignatureManifest({
      subject: SUBJECT,
      envelope: ENVELOPE,
      annotations: ANNOTATIONS,
      shape: 'legacy',
    });

    it('emits the bytes of the notation 1.x example: no artifactType, signature config without data', () => {
      expect(text(built.bytes)).toBe(
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
          '"config":{"mediaType":"application/vnd.cncf.notary.signature","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},' +
          `"layers":[{"mediaType":"application/jose+json","digest":"sha256:${'c9'.repeat(32)}","size":2070}],` +
          `"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:${'b8'.repeat(32)}","size":517},` +
          `"annotations":{"io.cncf.notary.x509chain.thumbprint#S256":"[\\"${'e3'.repeat(32)}\\"]","org.opencontainers.image.created":"2023-06-27T05:30:33Z"}}`,
      );
    });

    it('reports the effective artifact type on the descriptor and the {} config', () => {
      expect(built.descriptor.artifactType).toBe('application/vnd.cncf.notary.signature');
      expect(text(built.config.bytes)).toBe('{}');
      expect(built.config.descriptor.mediaType).toBe('application/vnd.cncf.notary.signature');
    });

    it('produces a manifest that parses back as a signature', () => {
      expect(parseSignatureManifest(built.bytes).envelope).toEqual(ENVELOPE);
    });
  });

  it('keeps only mediaType, digest and size of the subject', () => {
    const built = buildSignatureManifest({
      subject: { ...SUBJECT, annotations: { a: 'b' }, platform: { architecture: 'arm64', os: 'linux' } },
      envelope: ENVELOPE,
      annotations: ANNOTATIONS,
    });
    expect(built.manifest.subject).toEqual(SUBJECT);
  });

  it('sorts annotations by key and applies Go escaping to their values', () => {
    const built = buildSignatureManifest({
      subject: SUBJECT,
      envelope: ENVELOPE,
      annotations: { z: '1', 'com.amazonaws.signer.signingJob': 'a&b', '10': 'x', '9': 'y' },
    });
    expect(text(built.bytes)).toContain(
      '"annotations":{"10":"x","9":"y","com.amazonaws.signer.signingJob":"a\\u0026b","z":"1"}}',
    );
  });

  it('rejects an envelope layer that is neither JWS nor COSE', () => {
    expect(() =>
      buildSignatureManifest({
        subject: SUBJECT,
        envelope: { ...ENVELOPE, mediaType: 'text/plain' },
        annotations: {},
      }),
    ).toThrow(expect.objectContaining({ code: 'SIGNATURE_ENVELOPE_MEDIA_TYPE' }));
  });
});

describe('isSignatureManifest', () => {
  const base = (overrides: Partial<ImageManifest>): ImageManifest => ({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_DESCRIPTOR.digest, size: 2 },
    layers: [ENVELOPE],
    ...overrides,
  });
  const sigConfig = {
    mediaType: 'application/vnd.cncf.notary.signature',
    digest: EMPTY_DESCRIPTOR.digest,
    size: 2,
  };

  it.each([
    [
      'the OCI 1.1 shape (signature artifactType, empty config)',
      base({ artifactType: 'application/vnd.cncf.notary.signature' }),
      true,
    ],
    ['the legacy shape (no artifactType, signature config)', base({ config: sigConfig }), true],
    [
      'the legacy shape with an empty-string artifactType',
      base({ artifactType: '', config: sigConfig }),
      true,
    ],
    [
      'signature artifactType with the signature config',
      base({ artifactType: 'application/vnd.cncf.notary.signature', config: sigConfig }),
      false,
    ],
    ['no artifactType with the empty config', base({}), false],
    [
      'a cosign-style artifactType',
      base({ artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' }),
      false,
    ],
    ['an SBOM referrer', base({ artifactType: 'application/spdx+json' }), false],
    [
      'another artifactType with the signature config',
      base({ artifactType: 'application/example', config: sigConfig }),
      false,
    ],
  ])('for %s returns %s', (_name, manifest, expected) => {
    expect(isSignatureManifest(manifest)).toBe(expected);
  });
});

describe('parseSignatureManifest', () => {
  const valid = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cncf.notary.signature',
    config: EMPTY_DESCRIPTOR,
    layers: [ENVELOPE],
    subject: SUBJECT,
  };
  const parse = (value: unknown) =>
    parseSignatureManifest(enc(typeof value === 'string' ? value : JSON.stringify(value)));

  it('accepts a COSE envelope layer (it is the verifier that reports COSE as unsupported)', () => {
    const cose = { ...ENVELOPE, mediaType: 'application/cose' };
    expect(parse({ ...valid, layers: [cose] }).envelope).toEqual(cose);
  });

  it.each([
    ['bytes that are not JSON', '{"schemaVersion":', 'SIGNATURE_MANIFEST_INVALID', /not valid JSON/],
    ['a JSON array', [], 'SIGNATURE_MANIFEST_INVALID', /JSON object/],
    ['schemaVersion 1', { ...valid, schemaVersion: 1 }, 'SIGNATURE_MANIFEST_INVALID', /schemaVersion/],
    [
      'an index media type',
      { ...valid, mediaType: 'application/vnd.oci.image.index.v1+json' },
      'SIGNATURE_MANIFEST_INVALID',
      /mediaType/,
    ],
    [
      'a config without digest',
      { ...valid, config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2 } },
      'SIGNATURE_MANIFEST_INVALID',
      /config\.digest/,
    ],
    ['layers that are not an array', { ...valid, layers: {} }, 'SIGNATURE_MANIFEST_INVALID', /layers/],
    [
      'a layer with a bad size',
      { ...valid, layers: [{ ...ENVELOPE, size: -3 }] },
      'SIGNATURE_MANIFEST_INVALID',
      /layers\[0\]\.size/,
    ],
    [
      'non-string annotations',
      { ...valid, annotations: { a: 1 } },
      'SIGNATURE_MANIFEST_INVALID',
      /annotations/,
    ],
    [
      'an image manifest that is not a signature',
      { ...valid, artifactType: undefined },
      'SIGNATURE_MANIFEST_NOT_A_SIGNATURE',
      /not a Notary Project signature/,
    ],
    [
      'no layers',
      { ...valid, layers: [] },
      'SIGNATURE_MANIFEST_LAYER_COUNT',
      /^signature manifest requries exactly one signature envelope blob, got 0$/,
    ],
    [
      'two layers',
      { ...valid, layers: [ENVELOPE, ENVELOPE] },
      'SIGNATURE_MANIFEST_LAYER_COUNT',
      /^signature manifest requries exactly one signature envelope blob, got 2$/,
    ],
    [
      'a layer of another media type',
      { ...valid, layers: [{ ...ENVELOPE, mediaType: 'application/octet-stream' }] },
      'SIGNATURE_ENVELOPE_MEDIA_TYPE',
      /signature envelope format with media type "application\/octet-stream" is not supported/,
    ],
    [
      'an envelope over 32 MiB',
      { ...valid, layers: [{ ...ENVELOPE, size: 32 * 1024 * 1024 + 1 }] },
      'SIGNATURE_MANIFEST_INVALID',
      /limit/,
    ],
  ])('rejects %s as InputError %s', (_name, value, code, message) => {
    let caught: unknown;
    try {
      parse(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect(caught).toMatchObject({ code });
    expect((caught as Error).message).toMatch(message);
  });
});
