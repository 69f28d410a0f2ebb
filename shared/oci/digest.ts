import { createHash } from 'node:crypto';
import { InputError } from '../errors';
import { OciErrorCode } from './error-codes';
import { digestProblem } from './reference';
import type { Descriptor } from './types';

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The descriptor `{mediaType, digest, size}` of `bytes` (sha256). */
export function descriptorFor(bytes: Uint8Array, mediaType: string): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength };
}

/** Splits a validated digest into algorithm and encoded hex; throws InputError when malformed. */
export function parseDigest(digest: string): { algorithm: 'sha256' | 'sha512'; hex: string } {
  const problem = digestProblem(digest);
  if (problem)
    throw new InputError(
      OciErrorCode.InvalidReference,
      `invalid digest ${JSON.stringify(digest)}: ${problem}`,
    );
  const [algorithm, hex] = digest.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex };
}

/** Digest of `bytes` computed with the algorithm of `digest` (sha256 or sha512). */
export function digestWithAlgorithmOf(digest: string, bytes: Uint8Array): string {
  const { algorithm } = parseDigest(digest);
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Checks that `bytes` are exactly the content `desc` names (size first, then digest).
 * `what` names the content in the message, e.g. `manifest of 127.0.0.1:5000/app`.
 */
export function verifyContent(desc: Descriptor, bytes: Uint8Array, what: string): void {
  if (bytes.byteLength !== desc.size) {
    throw new InputError(
      OciErrorCode.SizeMismatch,
      `${what}: expected ${desc.size} bytes for ${desc.digest}, got ${bytes.byteLength}; the content is not the one the descriptor names`,
    );
  }
  const actual = digestWithAlgorithmOf(desc.digest, bytes);
  if (actual !== desc.digest) {
    throw new InputError(
      OciErrorCode.DigestMismatch,
      `${what}: expected digest ${desc.digest}, got ${actual}; the content was altered or the descriptor is wrong`,
    );
  }
}

/** Throws CONTENT_TOO_LARGE when a descriptor announces more than `limit` bytes. */
export function assertWithinLimit(desc: Descriptor, limit: number, what: string): void {
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new InputError(
      OciErrorCode.InvalidManifest,
      `${what}: descriptor size ${String(desc.size)} is not a non-negative integer`,
    );
  }
  if (desc.size > limit) {
    throw new InputError(
      OciErrorCode.ContentTooLarge,
      `${what}: ${desc.size} bytes for ${desc.digest} exceeds the limit of ${limit} bytes`,
    );
  }
}
