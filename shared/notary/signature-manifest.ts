/**
 * The Notary Project signature manifest: the OCI image manifest that carries one signature envelope
 * as its only layer and points at the signed artifact through `subject`.
 *
 * Spec: https://github.com/notaryproject/specifications/blob/main/specs/signature-specification.md#storage
 * Builders emit the bytes notation-go would (Go key order, Go escaping); parsers accept exactly what
 * notation-go accepts (`registry/repository.go` `signatureReferrers`, `notation.go` signature fetch).
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors';
import { EMPTY_DESCRIPTOR, MediaType } from '../oci/types';
import type { Descriptor, ImageManifest } from '../oci/types';
import { marshalManifest, orderDescriptor } from '../oci/go-json';

/**
 * `oci-1.1`: `artifactType: application/vnd.cncf.notary.signature` with the OCI empty config
 * (notation-go main, notation v2 — the default). `legacy`: `config.mediaType:
 * application/vnd.cncf.notary.signature` and no `artifactType` (notation CLI 1.0–1.3).
 */
export type SignatureManifestShape = 'oci-1.1' | 'legacy';

export const THUMBPRINT_ANNOTATION = 'io.cncf.notary.x509chain.thumbprint#S256';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

/** The config blob of every signature manifest, in both shapes: the two bytes `{}`. */
export const SIGNATURE_CONFIG_BYTES: Uint8Array = new TextEncoder().encode('{}');

/** Limits notation-go applies when fetching (4 MiB manifest, 32 MiB envelope blob). */
export const MAX_SIGNATURE_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_SIGNATURE_ENVELOPE_BYTES = 32 * 1024 * 1024;

const ENVELOPE_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.JwsEnvelope, MediaType.CoseEnvelope]);
const DIGEST_PATTERN = /^sha(256:[a-f0-9]{64}|384:[a-f0-9]{96}|512:[a-f0-9]{128})$/;

/**
 * The annotations notation-go puts on a signature manifest: the signer's own annotations (AWS Signer
 * `metadata`) plus `io.cncf.notary.x509chain.thumbprint#S256` (a JSON array of the lowercase SHA-256
 * hex of each certificate in envelope order, no spaces) and `org.opencontainers.image.created` (the
 * signing time, RFC 3339 UTC, whole seconds). The two computed keys override signer keys of the same
 * name, as in notation-go.
 */
export function signatureAnnotations(input: {
  certificateChain: Uint8Array[];
  signingTime: Date;
  signerAnnotations?: Record<string, string>;
}): Record<string, string> {
  if (input.certificateChain.length === 0) {
    throw new InputError(
      'SIGNATURE_CHAIN_EMPTY',
      'the signature envelope carries no certificate chain (x5c)',
    );
  }
  if (Number.isNaN(input.signingTime.getTime())) {
    throw new InputError('SIGNATURE_TIME_INVALID', 'the signing time is not a valid date');
  }
  const thumbprints = input.certificateChain.map((der) => createHash('sha256').update(der).digest('hex'));
  return {
    ...(input.signerAnnotations ?? {}),
    [THUMBPRINT_ANNOTATION]: JSON.stringify(thumbprints),
    [CREATED_ANNOTATION]: formatRfc3339Seconds(input.signingTime),
  };
}

/** `2023-12-06T01:20:03Z`: Go's `time.RFC3339` of a UTC time (fractional seconds dropped). */
export function formatRfc3339Seconds(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Builds the signature manifest for `envelope` (the already-pushed-or-to-be-pushed envelope blob's
 * descriptor) over `subject`, and returns it with its exact bytes, its descriptor and the config
 * blob to push before it. The returned `descriptor` also carries `artifactType` (always
 * `application/vnd.cncf.notary.signature`, the effective type used in referrers indexes) and the
 * manifest annotations, as oras-go's `PackManifest` returns them, ready for a referrers tag index.
 * The subject keeps only mediaType, digest and size.
 */
export function buildSignatureManifest(input: {
  subject: Descriptor;
  envelope: Descriptor;
  annotations: Record<string, string>;
  shape?: SignatureManifestShape;
}): {
  manifest: ImageManifest;
  bytes: Uint8Array;
  descriptor: Descriptor;
  config: { descriptor: Descriptor; bytes: Uint8Array };
} {
  const shape = input.shape ?? 'oci-1.1';
  if (!ENVELOPE_MEDIA_TYPES.has(input.envelope.mediaType)) {
    throw new InputError(
      'SIGNATURE_ENVELOPE_MEDIA_TYPE',
      `signature envelope media type ${JSON.stringify(input.envelope.mediaType)} must be ${MediaType.JwsEnvelope} or ${MediaType.CoseEnvelope}`,
    );
  }
  const config: Descriptor =
    shape === 'oci-1.1'
      ? { ...EMPTY_DESCRIPTOR }
      : {
          mediaType: MediaType.NotarySignature,
          digest: EMPTY_DESCRIPTOR.digest,
          size: EMPTY_DESCRIPTOR.size,
        };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    ...(shape === 'oci-1.1' ? { artifactType: MediaType.NotarySignature } : {}),
    config,
    layers: [orderDescriptor(input.envelope)],
    subject: { mediaType: input.subject.mediaType, digest: input.subject.digest, size: input.subject.size },
    ...(Object.keys(input.annotations).length > 0 ? { annotations: { ...input.annotations } } : {}),
  };
  const bytes = marshalManifest(manifest);
  const descriptor: Descriptor = {
    mediaType: MediaType.ImageManifest,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    ...(manifest.annotations ? { annotations: { ...manifest.annotations } } : {}),
    artifactType: MediaType.NotarySignature,
  };
  return {
    manifest,
    bytes,
    descriptor,
    config: { descriptor: { ...config }, bytes: SIGNATURE_CONFIG_BYTES },
  };
}

/**
 * Whether notation-go would treat `manifest` as a Notary Project signature (§3.3): either
 * `artifactType` is the Notary signature type and the config is the OCI empty descriptor (OCI 1.1
 * shape), or there is no `artifactType` and the config media type is the Notary signature type
 * (legacy shape). Every other referrer is skipped.
 */
export function isSignatureManifest(manifest: ImageManifest): boolean {
  const artifactType = manifest.artifactType ?? '';
  const configMediaType = manifest.config?.mediaType;
  if (artifactType === MediaType.NotarySignature) return configMediaType === MediaType.Empty;
  if (artifactType === '') return configMediaType === MediaType.NotarySignature;
  return false;
}

/**
 * Parses fetched signature manifest bytes and returns the manifest and its single envelope layer.
 * Throws InputError (codes `SIGNATURE_MANIFEST_INVALID`, `SIGNATURE_MANIFEST_NOT_A_SIGNATURE`,
 * `SIGNATURE_MANIFEST_LAYER_COUNT`, `SIGNATURE_ENVELOPE_MEDIA_TYPE`) with notation-go's wording
 * where it has one.
 */
export function parseSignatureManifest(
  bytes: Uint8Array,
  options: {
    /**
     * Accept any envelope layer media type (notation-go fetches the blob whatever its type; an
     * unsupported envelope then fails that signature's integrity check). Default false.
     */
    anyEnvelopeMediaType?: boolean;
  } = {},
): { manifest: ImageManifest; envelope: Descriptor } {
  if (bytes.length > MAX_SIGNATURE_MANIFEST_BYTES) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest is ${bytes.length} bytes, larger than the ${MAX_SIGNATURE_MANIFEST_BYTES}-byte limit`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest is not valid JSON: ${errorText(error)}`,
      {
        cause: error,
      },
    );
  }
  if (!isPlainObject(value)) {
    throw new InputError('SIGNATURE_MANIFEST_INVALID', 'signature manifest must be a JSON object');
  }
  if (value['schemaVersion'] !== 2) {
    throw new InputError('SIGNATURE_MANIFEST_INVALID', 'signature manifest schemaVersion must be 2');
  }
  if (value['mediaType'] !== undefined && value['mediaType'] !== MediaType.ImageManifest) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest mediaType ${JSON.stringify(value['mediaType'])} must be ${MediaType.ImageManifest}`,
    );
  }
  if (value['artifactType'] !== undefined && typeof value['artifactType'] !== 'string') {
    throw new InputError('SIGNATURE_MANIFEST_INVALID', 'signature manifest artifactType must be a string');
  }
  const config = parseDescriptor(value['config'], 'config');
  if (!Array.isArray(value['layers'])) {
    throw new InputError('SIGNATURE_MANIFEST_INVALID', 'signature manifest layers must be an array');
  }
  const layers = value['layers'].map((layer, i) => parseDescriptor(layer, `layers[${i}]`));
  const subject = value['subject'] === undefined ? undefined : parseDescriptor(value['subject'], 'subject');
  const annotations =
    value['annotations'] === undefined ? undefined : parseAnnotations(value['annotations'], 'annotations');
  const manifest: ImageManifest = {
    schemaVersion: 2,
    ...(value['mediaType'] !== undefined ? { mediaType: value['mediaType'] as string } : {}),
    ...(value['artifactType'] !== undefined ? { artifactType: value['artifactType'] as string } : {}),
    config,
    layers,
    ...(subject ? { subject } : {}),
    ...(annotations ? { annotations } : {}),
  };
  if (!isSignatureManifest(manifest)) {
    throw new InputError(
      'SIGNATURE_MANIFEST_NOT_A_SIGNATURE',
      `manifest is not a Notary Project signature: expected artifactType ${MediaType.NotarySignature} with config ${MediaType.Empty}, or config mediaType ${MediaType.NotarySignature} without artifactType`,
    );
  }
  if (layers.length !== 1) {
    // notation-go's wording, including its "requries" typo.
    throw new InputError(
      'SIGNATURE_MANIFEST_LAYER_COUNT',
      `signature manifest requries exactly one signature envelope blob, got ${layers.length}`,
    );
  }
  const envelope = layers[0] as Descriptor;
  if (!options.anyEnvelopeMediaType && !ENVELOPE_MEDIA_TYPES.has(envelope.mediaType)) {
    throw new InputError(
      'SIGNATURE_ENVELOPE_MEDIA_TYPE',
      `signature envelope format with media type ${JSON.stringify(envelope.mediaType)} is not supported`,
    );
  }
  if (envelope.size > MAX_SIGNATURE_ENVELOPE_BYTES) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature envelope blob is ${envelope.size} bytes, larger than the ${MAX_SIGNATURE_ENVELOPE_BYTES}-byte limit`,
    );
  }
  return { manifest, envelope };
}

function parseDescriptor(value: unknown, field: string): Descriptor {
  if (!isPlainObject(value)) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest ${field} must be a descriptor object`,
    );
  }
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest ${field}.mediaType must be a non-empty string`,
    );
  }
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest ${field}.digest ${JSON.stringify(digest)} must be a sha256/sha384/sha512 digest`,
    );
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest ${field}.size must be a non-negative integer`,
    );
  }
  const descriptor: Descriptor = { mediaType, digest, size };
  if (value['urls'] !== undefined) {
    if (!Array.isArray(value['urls']) || !value['urls'].every((u) => typeof u === 'string')) {
      throw new InputError(
        'SIGNATURE_MANIFEST_INVALID',
        `signature manifest ${field}.urls must be an array of strings`,
      );
    }
    descriptor.urls = value['urls'] as string[];
  }
  if (value['annotations'] !== undefined) {
    descriptor.annotations = parseAnnotations(value['annotations'], `${field}.annotations`);
  }
  if (value['data'] !== undefined) {
    if (typeof value['data'] !== 'string') {
      throw new InputError(
        'SIGNATURE_MANIFEST_INVALID',
        `signature manifest ${field}.data must be a base64 string`,
      );
    }
    descriptor.data = value['data'];
  }
  if (value['artifactType'] !== undefined) {
    if (typeof value['artifactType'] !== 'string') {
      throw new InputError(
        'SIGNATURE_MANIFEST_INVALID',
        `signature manifest ${field}.artifactType must be a string`,
      );
    }
    descriptor.artifactType = value['artifactType'];
  }
  if (value['platform'] !== undefined) {
    const platform = value['platform'];
    if (
      !isPlainObject(platform) ||
      typeof platform['architecture'] !== 'string' ||
      typeof platform['os'] !== 'string'
    ) {
      throw new InputError(
        'SIGNATURE_MANIFEST_INVALID',
        `signature manifest ${field}.platform must have string architecture and os`,
      );
    }
    descriptor.platform = platform as unknown as NonNullable<Descriptor['platform']>;
  }
  return descriptor;
}

function parseAnnotations(value: unknown, field: string): Record<string, string> {
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InputError(
      'SIGNATURE_MANIFEST_INVALID',
      `signature manifest ${field} must map strings to strings`,
    );
  }
  return { ...(value as Record<string, string>) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
