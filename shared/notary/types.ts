/**
 * The two interfaces through which the Notary core reaches the outside world. Implementations
 * live in `shared/signer/` (AWS Signer adapters, the local-key signer) and in tests (fakes).
 *
 * Both take, last, optional `CallOptions` (`shared/abort.ts`): a `signal` (a stage passes
 * `ctx.signal`) that cancels the call, stops its retries and makes it reject with
 * DependencyError `ABORTED` — never a Signer failure.
 */
import type { CallOptions } from '../abort';

/** Envelope media types the verifier knows; only JWS is supported (AWS Signer emits JWS only). */
export type EnvelopeMediaType = 'application/jose+json' | 'application/cose';

/** What `PayloadSigner.sign` returns: the complete signature envelope plus manifest annotations. */
export interface SignedEnvelope {
  /** The complete envelope bytes (for JWS: the flattened JSON serialization). */
  envelope: Uint8Array;
  envelopeMediaType: 'application/jose+json';
  /** Annotations the signer wants on the signature manifest (AWS Signer `metadata`). */
  annotations: Record<string, string>;
  /** The signer's own id for this signing operation (AWS Signer job id), used as externalExecutionId. */
  jobId?: string;
}

/**
 * Signs a Notary Project payload (`application/vnd.cncf.notary.payload.v1+json` bytes) and returns
 * the finished envelope. Implementations: `AwsSignerPayloadSigner` (SignPayload), `LocalKeySigner`.
 */
export interface PayloadSigner {
  sign(payload: Uint8Array, options?: CallOptions): Promise<SignedEnvelope>;
}

/** One AWS Signer `GetRevocationStatus` question. */
export interface RevocationQuery {
  /** Composite SHA-384 TBS hashes, one per certificate in x5c order (192 lowercase hex chars each). */
  certificateHashes: string[];
  jobArn: string;
  profileVersionArn: string;
  platformId: 'Notation-OCI-SHA384-ECDSA';
  /** The envelope's authenticSigningTime. */
  signatureTimestamp: Date;
  /** The region named in the signature's ARNs: revocation is asked there, not in the caller's region. */
  region: string;
}

/**
 * Answers revocation questions for AWS Signer signatures. Throws when the status cannot be
 * obtained; the verifier turns that into a revocation failure that follows the policy level.
 */
export interface RevocationChecker {
  getRevocationStatus(query: RevocationQuery, options?: CallOptions): Promise<{ revokedEntities: string[] }>;
}
