/**
 * What the sign stage runs on a freshly returned envelope before pushing anything (notation-go
 * `generateSignatureEnvelope`, notary-and-signer.md §1.1 "Check the response"): integrity (JWS,
 * header and chain rules, `cty`) and `targetArtifact` equal to the requested descriptor.
 */
import { InputError } from '../errors';
import type { Descriptor } from '../oci/types';
import { MediaType } from '../oci/types';
import { parseJwsEnvelope, type ParsedJwsEnvelope } from './jws';

const ALLOWED_TARGET_KEYS = new Set([
  'mediaType',
  'digest',
  'size',
  'urls',
  'annotations',
  'data',
  'platform',
  'artifactType',
]);

/**
 * Verifies `envelope` (integrity) and that it signs `expectedTarget`: same mediaType, digest and
 * size; every requested annotation present with the same value (extra ones allowed); no unknown
 * keys in `targetArtifact` or at the payload's top level. Throws VerificationError
 * `SIGNATURE_INVALID` for integrity and InputError `TARGET_MISMATCH` / `UNSUPPORTED_ENVELOPE`.
 */
export function checkSignedEnvelope(
  envelope: Uint8Array,
  mediaType: string,
  expectedTarget: Descriptor,
): ParsedJwsEnvelope {
  if (mediaType !== MediaType.JwsEnvelope) {
    throw new InputError(
      'UNSUPPORTED_ENVELOPE',
      `signer returned envelope type "${mediaType}"; only "${MediaType.JwsEnvelope}" is supported`,
    );
  }
  const parsed = parseJwsEnvelope(envelope);
  const payload = JSON.parse(Buffer.from(parsed.payloadBytes).toString('utf8')) as Record<string, unknown>;
  const extraTop = Object.keys(payload).filter((k) => k !== 'targetArtifact');
  if (extraTop.length > 0) {
    throw new InputError(
      'TARGET_MISMATCH',
      `signed payload has unknown top-level keys ${JSON.stringify(extraTop)}; only "targetArtifact" is allowed`,
    );
  }
  const signed = parsed.payload.targetArtifact;
  const unknown = Object.keys(signed).filter((k) => !ALLOWED_TARGET_KEYS.has(k));
  if (unknown.length > 0) {
    throw new InputError(
      'TARGET_MISMATCH',
      `signed targetArtifact has unknown keys ${JSON.stringify(unknown)}`,
    );
  }
  if (
    signed.mediaType !== expectedTarget.mediaType ||
    signed.digest !== expectedTarget.digest ||
    signed.size !== expectedTarget.size
  ) {
    throw new InputError(
      'TARGET_MISMATCH',
      `signed targetArtifact ${JSON.stringify({ mediaType: signed.mediaType, digest: signed.digest, size: signed.size })} does not match the requested descriptor ${JSON.stringify({ mediaType: expectedTarget.mediaType, digest: expectedTarget.digest, size: expectedTarget.size })}`,
    );
  }
  for (const [key, value] of Object.entries(expectedTarget.annotations ?? {})) {
    if (signed.annotations?.[key] !== value) {
      throw new InputError(
        'TARGET_MISMATCH',
        `signed targetArtifact lacks the requested annotation "${key}"="${value}"`,
      );
    }
  }
  return parsed;
}
