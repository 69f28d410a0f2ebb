/**
 * The Notary Project JWS envelope (`application/jose+json`, spec `signature-envelope-jws.md`):
 * strict parsing and integrity verification exactly as notation-core-go performs it, and creation
 * of envelopes byte-compatible with a Go signer. Pure: no I/O, no clock.
 *
 * Parsing order follows notation-core-go: JSON → `x5c` present → leaf parses → JWT checks
 * (strict base64url segments, `alg` allowed, signature over `ASCII(protected.payload)`) →
 * protected-header types → signing-scheme and `crit` rules → certificate chain rules → `alg`
 * matches the leaf key → `cty`.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { VerificationError } from '../errors';
import type { Descriptor } from '../oci/types';
import { validateCodeSigningCertChain, verifyJwsSignature } from './cert-chain';
import {
  algorithmForKey,
  isValidAt,
  JWS_ALGORITHMS,
  parseCertificate,
  type JwsAlgorithm,
  type ParsedCertificate,
} from './certificate';
import { formatRfc3339 } from './go-format';
import { goInterface, goJsonText } from '../oci/go-json';
import { signatureInvalidMessage, signatureMalformedMessage } from './messages';
import { NOTARY_PAYLOAD_MEDIA_TYPE } from './payload';
import { decodeStrictBase64Url, encodeBase64Url, IllegalBase64Error } from './strict-base64url';

export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

export const HeaderKey = {
  SigningScheme: 'io.cncf.notary.signingScheme',
  SigningTime: 'io.cncf.notary.signingTime',
  AuthenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  Expiry: 'io.cncf.notary.expiry',
  VerificationPlugin: 'io.cncf.notary.verificationPlugin',
  VerificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
  SigningAgent: 'io.cncf.notary.signingAgent',
  TimestampSignature: 'io.cncf.notary.timestampSignature',
} as const;

/** Protected header names that are not extended attributes (notation-core-go `headerKeys`). */
const STANDARD_KEYS = new Set<string>([
  'alg',
  'cty',
  'crit',
  HeaderKey.Expiry,
  HeaderKey.SigningTime,
  HeaderKey.SigningScheme,
  HeaderKey.AuthenticSigningTime,
]);

/** A signed attribute other than the standard headers (verificationPlugin included, as in notation). */
export interface ExtendedAttribute {
  key: string;
  value: unknown;
  critical: boolean;
}

export interface JwsProtectedHeaders {
  alg: JwsAlgorithm;
  cty: string;
  crit: string[];
  signingScheme: SigningScheme;
  /** `notary.x509` only: untrusted signer's clock. */
  signingTime?: Date;
  /** `notary.x509.signingAuthority` only: the authority's clock. */
  authenticSigningTime?: Date;
  expiry?: Date;
  /** Present only when the header is a string marked critical (otherwise notation ignores it). */
  verificationPlugin?: string;
  verificationPluginMinVersion?: string;
  /** Every non-standard protected header, in the header's key order. */
  extendedAttributes: ExtendedAttribute[];
}

/** The payload (`application/vnd.cncf.notary.payload.v1+json`). */
export interface NotaryPayload {
  targetArtifact: Descriptor;
}

/** A JWS envelope that passed integrity verification. */
export interface ParsedJwsEnvelope {
  protectedHeaders: JwsProtectedHeaders;
  /** The decoded protected header object, as signed. */
  rawProtectedHeaders: Record<string, unknown>;
  payload: NotaryPayload;
  payloadBytes: Uint8Array;
  /** DER certificates from `x5c`, leaf first. */
  certificateChain: Uint8Array[];
  certificates: ParsedCertificate[];
  /** `signingTime` or `authenticSigningTime`, whichever the scheme uses. */
  signingTime: Date;
  signature: Uint8Array;
  signingAgent?: string;
  /** RFC 3161 countersignature bytes (`notary.x509` only). Parsed, not verified. */
  timestampSignature?: Uint8Array;
}

function invalid(detail: string): VerificationError {
  return new VerificationError('SIGNATURE_INVALID', signatureInvalidMessage(detail));
}

function malformed(detail: string): VerificationError {
  return new VerificationError('SIGNATURE_INVALID', signatureMalformedMessage(detail));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Go's `encoding/json` matches struct field names case-insensitively; notation relies on it for `SigningAgent`. */
function getCaseInsensitive(obj: Record<string, unknown>, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  const found = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : obj[found];
}

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeStdBase64(text: unknown, field: string): Uint8Array {
  if (typeof text !== 'string')
    throw malformed(`json: cannot unmarshal ${typeof text} into Go struct field ${field} of type []uint8`);
  if (!STD_BASE64.test(text)) throw malformed(`illegal base64 data in ${field}`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function decodeSegment(text: string): Uint8Array {
  try {
    return decodeStrictBase64Url(text);
  } catch (error) {
    if (error instanceof IllegalBase64Error) throw invalid(error.message);
    throw error;
  }
}

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw invalid(`${what}: ${(error as Error).message}`);
  }
  if (!isObject(value))
    throw invalid(
      `${what}: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type map[string]interface {}`,
    );
  return value;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function parseTime(value: unknown, key: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalid(
      `jws envelope protected header can't be decoded: parsing time ${JSON.stringify(value)} of ${key} as RFC 3339 failed`,
    );
  }
  return new Date(value);
}

function decodedProtectedError(detail: string): VerificationError {
  return invalid(`jws envelope protected header can't be decoded: ${detail}`);
}

function typedHeaders(
  raw: Record<string, unknown>,
): Omit<JwsProtectedHeaders, 'signingScheme' | 'alg'> & { signingScheme: string; alg: string } {
  const { alg, cty, crit } = raw;
  if (typeof alg !== 'string')
    throw decodedProtectedError('json: cannot unmarshal alg into Go struct field of type string');
  if (cty !== undefined && typeof cty !== 'string')
    throw decodedProtectedError('json: cannot unmarshal cty into Go struct field of type string');
  if (
    crit !== undefined &&
    crit !== null &&
    (!Array.isArray(crit) || crit.some((c) => typeof c !== 'string'))
  ) {
    throw decodedProtectedError('json: cannot unmarshal crit into Go struct field of type []string');
  }
  const scheme = raw[HeaderKey.SigningScheme];
  if (scheme !== undefined && typeof scheme !== 'string') {
    throw decodedProtectedError(
      `json: cannot unmarshal ${HeaderKey.SigningScheme} into Go struct field of type string`,
    );
  }
  const critList = (crit ?? []) as string[];
  const extendedAttributes: ExtendedAttribute[] = Object.keys(raw)
    .filter((key) => !STANDARD_KEYS.has(key))
    .map((key) => ({ key, value: raw[key], critical: critList.includes(key) }));
  const plugin = extendedAttributes.find((a) => a.key === HeaderKey.VerificationPlugin);
  const minVersion = extendedAttributes.find((a) => a.key === HeaderKey.VerificationPluginMinVersion);
  return {
    alg,
    cty: cty ?? '',
    crit: critList,
    signingScheme: scheme ?? '',
    signingTime: parseTime(raw[HeaderKey.SigningTime], HeaderKey.SigningTime),
    authenticSigningTime: parseTime(raw[HeaderKey.AuthenticSigningTime], HeaderKey.AuthenticSigningTime),
    expiry: parseTime(raw[HeaderKey.Expiry], HeaderKey.Expiry),
    verificationPlugin: plugin?.critical && typeof plugin.value === 'string' ? plugin.value : undefined,
    verificationPluginMinVersion:
      minVersion?.critical && typeof minVersion.value === 'string' ? minVersion.value : undefined,
    extendedAttributes,
  };
}

function validateSchemeAndCrit(
  h: ReturnType<typeof typedHeaders>,
  raw: Record<string, unknown>,
): SigningScheme {
  const scheme = h.signingScheme;
  if (scheme === 'notary.x509') {
    if (raw[HeaderKey.AuthenticSigningTime] !== undefined && raw[HeaderKey.AuthenticSigningTime] !== null) {
      throw invalid(
        `"${HeaderKey.AuthenticSigningTime}" header must not be present for notary.x509 signing scheme`,
      );
    }
  } else if (scheme === 'notary.x509.signingAuthority') {
    if (raw[HeaderKey.SigningTime] !== undefined && raw[HeaderKey.SigningTime] !== null) {
      throw invalid(
        `"${HeaderKey.SigningTime}" header must not be present for notary.x509.signingAuthority signing scheme`,
      );
    }
    if (h.authenticSigningTime === undefined) {
      throw invalid(
        `"${HeaderKey.AuthenticSigningTime}" header must be present for notary.x509 signing scheme`,
      );
    }
  } else {
    throw invalid(`unsupported SigningScheme: \`${scheme}\``);
  }
  if (h.crit.length === 0) throw invalid('missing "crit" header');
  const mustBeCritical = new Set<string>([HeaderKey.SigningScheme]);
  if (h.expiry !== undefined) mustBeCritical.add(HeaderKey.Expiry);
  if (scheme === 'notary.x509.signingAuthority') mustBeCritical.add(HeaderKey.AuthenticSigningTime);
  for (const name of h.crit) {
    if (mustBeCritical.has(name)) mustBeCritical.delete(name);
    else if (STANDARD_KEYS.has(name) || !(name in raw))
      throw invalid(`"${name}" header is marked critical but not present`);
  }
  if (mustBeCritical.size > 0)
    throw invalid(`these required headers are not marked as critical: [${[...mustBeCritical].join(' ')}]`);
  return scheme;
}

function parsePayload(bytes: Uint8Array): NotaryPayload {
  const failure = invalid(
    'failed to unmarshal the payload content in the signature blob to envelope.Payload',
  );
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw failure;
  }
  if (!isObject(value) || !isObject(value.targetArtifact)) throw failure;
  const t = value.targetArtifact;
  if (typeof t.mediaType !== 'string' || typeof t.digest !== 'string' || typeof t.size !== 'number')
    throw failure;
  if (
    t.annotations !== undefined &&
    (!isObject(t.annotations) || Object.values(t.annotations).some((v) => typeof v !== 'string'))
  ) {
    throw failure;
  }
  return { targetArtifact: t as unknown as Descriptor };
}

/**
 * Largest envelope blob parsed, checked before any parsing. An AWS Signer envelope is a few KiB;
 * the unprotected `x5c` header is the only part an attacker can grow at will.
 */
export const MAX_JWS_ENVELOPE_BYTES = 1024 * 1024;
/** Most `x5c` entries accepted (leaf, intermediates, root); checked before any is decoded. */
export const MAX_X5C_ENTRIES = 10;
/** Largest DER certificate accepted in `x5c`; checked on the base64 text before decoding. */
export const MAX_X5C_CERTIFICATE_BYTES = 16 * 1024;

/** The byte length standard base64 text decodes to, computed from the text alone. */
function base64DecodedLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/**
 * Refuses, before anything is decoded, an unprotected `x5c` that would make the verifier decode
 * and parse unbounded data: more than {@link MAX_X5C_ENTRIES} entries, or an entry whose base64
 * text is longer than {@link MAX_X5C_CERTIFICATE_BYTES} bytes decode to. The message names the limit.
 */
function checkX5cBounds(x5c: unknown[]): void {
  if (x5c.length > MAX_X5C_ENTRIES) {
    throw invalid(
      `x5c has ${x5c.length} certificates, more than the limit of ${MAX_X5C_ENTRIES} (MAX_X5C_ENTRIES)`,
    );
  }
  for (const [i, entry] of x5c.entries()) {
    if (typeof entry === 'string' && base64DecodedLength(entry) > MAX_X5C_CERTIFICATE_BYTES) {
      throw invalid(
        `x5c[${i}] is longer than the limit of ${MAX_X5C_CERTIFICATE_BYTES} bytes per certificate (MAX_X5C_CERTIFICATE_BYTES)`,
      );
    }
  }
}

/**
 * Parses a flattened JWS JSON envelope and verifies its integrity as notation does (see the file
 * comment). Throws VerificationError `SIGNATURE_INVALID` whose message is notation's
 * `signature is invalid. Error: …` text; never returns an envelope that failed any check.
 * Bounds first: an envelope over {@link MAX_JWS_ENVELOPE_BYTES} is refused unparsed, and `x5c`
 * over its bounds ({@link checkX5cBounds}) before any entry is decoded.
 */
export function parseJwsEnvelope(bytes: Uint8Array): ParsedJwsEnvelope {
  if (bytes.byteLength > MAX_JWS_ENVELOPE_BYTES) {
    throw malformed(
      `envelope is ${bytes.byteLength} bytes, more than the limit of ${MAX_JWS_ENVELOPE_BYTES} bytes (MAX_JWS_ENVELOPE_BYTES)`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw malformed((error as Error).message);
  }
  if (!isObject(doc))
    throw malformed('json: cannot unmarshal non-object into Go value of type jws.jwsEnvelope');
  for (const key of ['payload', 'protected', 'signature'] as const) {
    if (doc[key] !== undefined && typeof doc[key] !== 'string') {
      throw malformed(
        `json: cannot unmarshal ${typeof doc[key]} into Go struct field jwsEnvelope.${key} of type string`,
      );
    }
  }
  const header = doc.header === undefined || doc.header === null ? {} : doc.header;
  if (!isObject(header))
    throw malformed('json: cannot unmarshal header into Go struct field jwsEnvelope.header');
  const x5c = getCaseInsensitive(header, 'x5c');
  if (x5c !== undefined && x5c !== null && !Array.isArray(x5c))
    throw malformed('json: cannot unmarshal x5c into Go struct field of type [][]uint8');
  if (Array.isArray(x5c)) checkX5cBounds(x5c as unknown[]);
  const certificateChain = ((x5c ?? []) as unknown[]).map((c, i) => decodeStdBase64(c, `x5c[${i}]`));
  if (certificateChain.length === 0) throw invalid('certificate chain is not present');
  let leaf: ParsedCertificate;
  try {
    leaf = parseCertificate(certificateChain[0] as Uint8Array);
  } catch {
    throw invalid('malformed leaf certificate');
  }

  // golang-jwt: decode header, decode claims, check alg, then verify the signature.
  const protectedB64 = (doc.protected ?? '') as string;
  const payloadB64 = (doc.payload ?? '') as string;
  const signatureB64 = (doc.signature ?? '') as string;
  const protectedBytes = decodeSegment(protectedB64);
  const rawProtected = parseJsonObject(protectedBytes, 'protected header');
  const payloadBytes = decodeSegment(payloadB64);
  parseJsonObject(payloadBytes, 'payload');
  const algValue = rawProtected.alg;
  if (typeof algValue !== 'string' || !/^(?:[EPR]S|HS)(?:256|384|512)$|^EdDSA$|^none$/.test(algValue)) {
    throw invalid('signing method (alg) is unavailable.');
  }
  if (!(JWS_ALGORITHMS as readonly string[]).includes(algValue))
    throw invalid(`signing method ${algValue} is invalid`);
  const alg = algValue as JwsAlgorithm;
  const signature = decodeSegment(signatureB64);
  const keyType = leaf.node.publicKey.asymmetricKeyType;
  if (
    (alg.startsWith('ES') && keyType !== 'ec') ||
    (alg.startsWith('PS') && keyType !== 'rsa' && keyType !== 'rsa-pss')
  ) {
    throw invalid('key is of invalid type');
  }
  const signingInput = Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
  if (!verifyJwsSignature(alg, leaf, signingInput, signature)) {
    throw invalid(
      alg.startsWith('ES') ? 'crypto/ecdsa: verification error' : 'crypto/rsa: verification error',
    );
  }

  const headers = typedHeaders(rawProtected);
  const signingScheme = validateSchemeAndCrit(headers, rawProtected);
  if (signature.length === 0) throw invalid('signature not present or is empty');
  const certificates: ParsedCertificate[] = [leaf];
  for (let i = 1; i < certificateChain.length; i++) {
    try {
      certificates.push(parseCertificate(certificateChain[i] as Uint8Array));
    } catch (error) {
      throw invalid(`x509: malformed certificate at x5c[${i}]: ${(error as Error).message}`);
    }
  }
  if (payloadBytes.length === 0) throw invalid('content not present');
  const signingTime = signingScheme === 'notary.x509' ? headers.signingTime : headers.authenticSigningTime;
  if (signingTime === undefined) throw invalid('signing-time not present');
  if (headers.expiry !== undefined && headers.expiry.getTime() <= signingTime.getTime()) {
    throw invalid('expiry cannot be equal or before the signing time');
  }
  try {
    validateCodeSigningCertChain(certificates);
  } catch (error) {
    throw invalid(`certificate-chain is invalid, ${(error as Error).message}`);
  }
  const leafAlg = algorithmForKey(leaf);
  if (leafAlg !== alg) {
    throw invalid(
      `mismatch between signature algorithm derived from signing certificate (${leafAlg}) and signing algorithm specified (${alg})`,
    );
  }
  if (headers.cty !== NOTARY_PAYLOAD_MEDIA_TYPE) {
    throw invalid(`payload content type "${headers.cty}" is not supported`);
  }
  const payload = parsePayload(payloadBytes);
  const signingAgent = getCaseInsensitive(header, HeaderKey.SigningAgent);
  const timestamp = getCaseInsensitive(header, HeaderKey.TimestampSignature);
  return {
    protectedHeaders: { ...headers, alg, signingScheme },
    rawProtectedHeaders: rawProtected,
    payload,
    payloadBytes,
    certificateChain,
    certificates,
    signingTime,
    signature,
    ...(typeof signingAgent === 'string' ? { signingAgent } : {}),
    ...(timestamp !== undefined && timestamp !== null
      ? { timestampSignature: decodeStdBase64(timestamp, HeaderKey.TimestampSignature) }
      : {}),
  };
}

/** What {@link createJwsEnvelope} signs. */
export interface CreateJwsEnvelopeInput {
  /** The payload bytes, signed verbatim (build them with `buildPayload`). */
  payload: Uint8Array;
  signingScheme: SigningScheme;
  /** Truncated to whole seconds; emitted as `signingTime` or `authenticSigningTime` per the scheme. */
  signingTime: Date;
  expiry?: Date;
  /** Extra protected headers, in order; critical ones are listed in `crit` in this order. */
  extendedAttributes?: ExtendedAttribute[];
  /** Emitted as a critical `io.cncf.notary.verificationPlugin` after `extendedAttributes`. */
  verificationPlugin?: string;
  verificationPluginMinVersion?: string;
  /** DER certificates, leaf first; the leaf's key decides `alg`. */
  certificateChain: Uint8Array[];
  /** The leaf's private key. */
  privateKey: KeyObject;
  /** Unprotected `io.cncf.notary.signingAgent`, e.g. `stagesign/0.1.0`. */
  signingAgent?: string;
}

/** The header fields {@link encodeProtectedHeader} needs. */
export type ProtectedHeaderInput = Pick<
  CreateJwsEnvelopeInput,
  | 'signingScheme'
  | 'signingTime'
  | 'expiry'
  | 'extendedAttributes'
  | 'verificationPlugin'
  | 'verificationPluginMinVersion'
> & { alg: JwsAlgorithm };

/**
 * The protected header JSON text a Go signer (notation-core-go) would produce for these inputs:
 * keys sorted, Go HTML escaping, times truncated to seconds in UTC, `crit` = signingScheme,
 * critical extended attributes in order, authenticSigningTime (signing authority), expiry.
 */
export function encodeProtectedHeader(input: ProtectedHeaderInput): string {
  const { alg } = input;
  const signingTime = new Date(Math.floor(input.signingTime.getTime() / 1000) * 1000);
  const attributes = [...(input.extendedAttributes ?? [])];
  if (input.verificationPlugin !== undefined) {
    attributes.push({ key: HeaderKey.VerificationPlugin, value: input.verificationPlugin, critical: true });
  }
  if (input.verificationPluginMinVersion !== undefined) {
    attributes.push({
      key: HeaderKey.VerificationPluginMinVersion,
      value: input.verificationPluginMinVersion,
      critical: true,
    });
  }
  const header: Record<string, unknown> = {
    alg,
    cty: NOTARY_PAYLOAD_MEDIA_TYPE,
    [HeaderKey.SigningScheme]: input.signingScheme,
  };
  const crit: string[] = [HeaderKey.SigningScheme];
  for (const attr of attributes) {
    if (attr.key in header || STANDARD_KEYS.has(attr.key))
      throw invalid(`attribute key:${attr.key} repeated`);
    header[attr.key] = attr.value;
    if (attr.critical) crit.push(attr.key);
  }
  if (input.signingScheme === 'notary.x509') {
    header[HeaderKey.SigningTime] = formatRfc3339(signingTime);
  } else {
    header[HeaderKey.AuthenticSigningTime] = formatRfc3339(signingTime);
    crit.push(HeaderKey.AuthenticSigningTime);
  }
  if (input.expiry !== undefined) {
    header[HeaderKey.Expiry] = formatRfc3339(new Date(Math.floor(input.expiry.getTime() / 1000) * 1000));
    crit.push(HeaderKey.Expiry);
  }
  header.crit = crit;
  return goJsonText(goInterface(header));
}

const SALT_LENGTH: Record<string, number> = { PS256: 32, PS384: 48, PS512: 64 };

/**
 * Creates a flattened JWS envelope as notation-core-go does: protected header keys sorted (Go map
 * order), `crit` = signingScheme, critical extended attributes, authenticSigningTime (signing
 * authority), expiry; ES* signatures raw r‖s; PS* with salt length = hash length. The result is
 * re-parsed with {@link parseJwsEnvelope} (integrity and chain rules) and every certificate must
 * be valid at the signing time; throws VerificationError `SIGNATURE_INVALID` otherwise.
 */
export function createJwsEnvelope(input: CreateJwsEnvelopeInput): Uint8Array {
  const [leafDer] = input.certificateChain;
  if (!leafDer) throw invalid('certificate chain is not present');
  const certificates = input.certificateChain.map(parseCertificate);
  const leaf = certificates[0] as ParsedCertificate;
  const alg = algorithmForKey(leaf);
  const signingTime = new Date(Math.floor(input.signingTime.getTime() / 1000) * 1000);
  for (const cert of certificates) {
    if (!isValidAt(cert, signingTime)) {
      throw invalid(
        `certificate "${cert.subject}" is not valid at the signing time ${formatRfc3339(signingTime)}`,
      );
    }
  }
  const protectedB64 = encodeBase64Url(
    Buffer.from(encodeProtectedHeader({ ...input, alg, signingTime }), 'utf8'),
  );
  const payloadB64 = encodeBase64Url(input.payload);
  const signingInput = Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
  const hash = `sha${alg.slice(2)}`;
  const signature = alg.startsWith('ES')
    ? cryptoSign(hash, signingInput, { key: input.privateKey, dsaEncoding: 'ieee-p1363' })
    : cryptoSign(hash, signingInput, { key: input.privateKey, padding: 6, saltLength: SALT_LENGTH[alg] });
  const envelope = {
    payload: payloadB64,
    protected: protectedB64,
    header: {
      x5c: input.certificateChain.map((der) => Buffer.from(der).toString('base64')),
      ...(input.signingAgent !== undefined ? { [HeaderKey.SigningAgent]: input.signingAgent } : {}),
    },
    signature: encodeBase64Url(signature),
  };
  const bytes = new Uint8Array(Buffer.from(JSON.stringify(envelope), 'utf8'));
  parseJwsEnvelope(bytes);
  return bytes;
}
