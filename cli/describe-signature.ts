/**
 * What `stagesign inspect` shows of one stored signature. Like `notation inspect`, it reads the
 * envelope's content without requiring it to verify, so a corrupted or tampered signature can still
 * be looked at; whether the envelope passes the integrity check (`parseJwsEnvelope`, notation-core-go's
 * rules) is reported next to it. Nothing here is a trust decision: that is `verify`'s job.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { AWS_PROFILE_VERSION_ATTRIBUTE, AWS_SIGNING_JOB_ATTRIBUTE } from '../shared/notary/aws-signer-plugin';
import { goIssuerString, goSubjectString } from '../shared/notary/go-format';
import { HeaderKey, parseJwsEnvelope } from '../shared/notary/jws';
import { MediaType } from '../shared/oci/types';
import type { Descriptor } from '../shared/oci/types';

/** One certificate of the envelope's `x5c`, leaf first. */
export interface CertificateDetails {
  sha256Fingerprint: string;
  issuedTo: string;
  issuedBy: string;
  notBefore: string;
  expiry: string;
}

export interface SignatureDetails {
  /** The signature manifest digest (what notation prints as the signature's digest). */
  digest: string;
  /** The envelope media type (the manifest's layer media type). */
  mediaType: string;
  /** `org.opencontainers.image.created` of the signature manifest, when present. */
  created?: string;
  /** notation's name of the JWS `alg` (e.g. ECDSA-SHA-384). */
  signatureAlgorithm?: string;
  /** Protected headers: content type, signing scheme, signing time or authentic signing time, expiry, and every extended attribute. */
  signedAttributes: Record<string, unknown>;
  /** The payload's target annotations (notation's user metadata). */
  userDefinedAttributes: Record<string, string>;
  /** Unprotected headers other than `x5c` (signing agent; a timestamp countersignature is shown as present). */
  unsignedAttributes: Record<string, string>;
  certificates: CertificateDetails[];
  /** The signed payload's `targetArtifact`. */
  signedArtifact?: Descriptor;
  /** AWS Signer's ARNs, when the signature was made by AWS Signer. */
  aws?: { signingProfileVersionArn?: string; signingJobArn?: string };
  /** `valid` when the envelope passes the integrity check, else the reason (as `verify` would say it). */
  integrity: string;
}

const ALGORITHM_NAMES: Record<string, string> = {
  PS256: 'RSASSA-PSS-SHA-256',
  PS384: 'RSASSA-PSS-SHA-384',
  PS512: 'RSASSA-PSS-SHA-512',
  ES256: 'ECDSA-SHA-256',
  ES384: 'ECDSA-SHA-384',
  ES512: 'ECDSA-SHA-512',
};

const SIGNED_ATTRIBUTE_NAMES: Record<string, string> = {
  cty: 'contentType',
  [HeaderKey.SigningScheme]: 'signingScheme',
  [HeaderKey.SigningTime]: 'signingTime',
  [HeaderKey.AuthenticSigningTime]: 'authenticSigningTime',
  [HeaderKey.Expiry]: 'expiry',
};

/** One stored signature: its manifest descriptor (with the manifest's annotations, as listed) and envelope. */
export interface StoredSignature {
  descriptor: Descriptor;
  /** The envelope layer's media type. */
  mediaType: string;
  envelope: Uint8Array;
}

/**
 * Describes a fetched signature. Throws when the envelope cannot be read at all (not JSON, or a
 * protected header or payload that does not decode); `inspect` then reports the signature as skipped.
 */
export function describeSignature(signature: StoredSignature): SignatureDetails {
  const mediaType = signature.mediaType;
  const base: Pick<SignatureDetails, 'digest' | 'mediaType'> & { created?: string } = {
    digest: signature.descriptor.digest,
    mediaType,
  };
  const created = signature.descriptor.annotations?.['org.opencontainers.image.created'];
  if (created !== undefined) base.created = created;
  if (mediaType !== MediaType.JwsEnvelope) {
    throw new Error(`signature envelope format with media type "${mediaType}" is not supported`);
  }
  const envelope = JSON.parse(Buffer.from(signature.envelope).toString('utf8')) as Record<string, unknown>;
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope))
    throw new Error('the envelope is not a JSON object');
  const protectedHeader = decodeJsonSegment(envelope['protected'], 'protected header');
  const payload = decodeJsonSegment(envelope['payload'], 'payload');
  const header = (
    typeof envelope['header'] === 'object' && envelope['header'] !== null ? envelope['header'] : {}
  ) as Record<string, unknown>;

  const signedAttributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(protectedHeader)) {
    if (key === 'alg' || key === 'crit') continue;
    signedAttributes[SIGNED_ATTRIBUTE_NAMES[key] ?? key] = value;
  }
  const unsignedAttributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(header)) {
    if (key === 'x5c') continue;
    if (key.toLowerCase() === HeaderKey.SigningAgent.toLowerCase())
      unsignedAttributes['signingAgent'] = String(value);
    else if (key === HeaderKey.TimestampSignature) unsignedAttributes['timestampSignature'] = '(present)';
    else unsignedAttributes[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const x5c = Array.isArray(header['x5c']) ? header['x5c'] : [];
  const certificates = x5c.map((entry) => describeCertificate(String(entry)));
  const target = (payload['targetArtifact'] ?? undefined) as Descriptor | undefined;
  const profileVersion = protectedHeader[AWS_PROFILE_VERSION_ATTRIBUTE];
  const job = protectedHeader[AWS_SIGNING_JOB_ATTRIBUTE];
  const alg = protectedHeader['alg'];

  let integrity = 'valid';
  try {
    parseJwsEnvelope(signature.envelope);
  } catch (error) {
    integrity = (error as Error).message;
  }
  return {
    ...base,
    ...(typeof alg === 'string' ? { signatureAlgorithm: ALGORITHM_NAMES[alg] ?? alg } : {}),
    signedAttributes,
    userDefinedAttributes: target?.annotations ?? {},
    unsignedAttributes,
    certificates,
    ...(target !== undefined
      ? { signedArtifact: { mediaType: target.mediaType, digest: target.digest, size: target.size } }
      : {}),
    ...(typeof profileVersion === 'string' || typeof job === 'string'
      ? {
          aws: {
            ...(typeof profileVersion === 'string' ? { signingProfileVersionArn: profileVersion } : {}),
            ...(typeof job === 'string' ? { signingJobArn: job } : {}),
          },
        }
      : {}),
    integrity,
  };
}

function decodeJsonSegment(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'string') throw new Error(`the envelope has no ${what}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch (error) {
    throw new Error(`the envelope's ${what} is not base64url-encoded JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`the envelope's ${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

function describeCertificate(base64: string): CertificateDetails {
  const der = Buffer.from(base64, 'base64');
  try {
    const cert = new X509Certificate(der);
    return {
      sha256Fingerprint: createHash('sha256').update(der).digest('hex'),
      issuedTo: goSubjectString(cert),
      issuedBy: goIssuerString(cert),
      notBefore: new Date(cert.validFrom).toISOString().replace(/\.000Z$/, 'Z'),
      expiry: new Date(cert.validTo).toISOString().replace(/\.000Z$/, 'Z'),
    };
  } catch {
    return {
      sha256Fingerprint: createHash('sha256').update(der).digest('hex'),
      issuedTo: '(unparseable certificate)',
      issuedBy: '',
      notBefore: '',
      expiry: '',
    };
  }
}
