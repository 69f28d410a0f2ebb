/**
 * One parsed X.509 certificate as the Notary core uses it: DER bytes, `node:crypto`'s view (keys,
 * signature checks), `@peculiar/asn1-x509`'s decode (validity, the extensions, the byte-exact
 * fields), and the JWS algorithm its key implies (notation-core-go `signature.ExtractKeySpec`).
 */
import { X509Certificate as NodeCertificate, createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { certificateFieldsOf } from './certificate-fields';
import { certificateExtensions } from './x509-extensions';
import type { CertificateExtensions } from './x509-extensions';
import { goNameString } from './go-format';

/** The JWS algorithms notation accepts, one per supported key. */
export type JwsAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

export const JWS_ALGORITHMS: readonly JwsAlgorithm[] = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

export interface ParsedCertificate {
  der: Uint8Array;
  node: NodeCertificate;
  /** The extensions notation's rules read (x509-extensions.ts). */
  extensions: CertificateExtensions;
  notBefore: Date;
  notAfter: Date;
  tbs: Uint8Array;
  rawIssuer: Uint8Array;
  rawSubject: Uint8Array;
  version: number;
  /** Go's `pkix.Name.String()` of the subject, used in every message and for x509.subject matching. */
  subject: string;
  /** Go's `pkix.Name.String()` of the issuer. */
  issuer: string;
  /** OID of the certificate's signature algorithm. */
  signatureAlgorithm: string;
  /** Lower-case hex SHA-256 of the DER bytes (the manifest thumbprint). */
  sha256: string;
}

/**
 * Parsed certificates by SHA-256 of their DER. The intermediate and root of every AWS Signer
 * signature from one region are the same bytes, and ASN.1 decoding is most of the cost of
 * reading an envelope, so a warm verifier decodes only the leaf. A digest names exact bytes, and
 * a ParsedCertificate is never modified, so a cached entry is the same answer. Bounded; cleared
 * wholesale when full.
 */
const parsedCertificates = new Map<string, ParsedCertificate>();
const MAX_PARSED_CERTIFICATES = 256;

/** Parses DER bytes; throws a plain Error on malformed input (callers wrap it in notation's message). */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const sha256 = createHash('sha256').update(der).digest('hex');
  const cached = parsedCertificates.get(sha256);
  if (cached) return cached;
  const node = new NodeCertificate(der);
  // Decode the ASN.1 once: the extensions, the validity and the raw TBSCertificate / Names all
  // come from the same parse.
  const asn = AsnConvert.parse(der, Certificate);
  const fields = certificateFieldsOf(asn);
  const { validity } = asn.tbsCertificate;
  const parsed: ParsedCertificate = {
    der: new Uint8Array(der),
    node,
    extensions: certificateExtensions(asn),
    notBefore: validity.notBefore.getTime(),
    notAfter: validity.notAfter.getTime(),
    ...fields,
    subject: goNameString(asn.tbsCertificate.subject),
    issuer: goNameString(asn.tbsCertificate.issuer),
    sha256,
  };
  if (parsedCertificates.size >= MAX_PARSED_CERTIFICATES) parsedCertificates.clear();
  parsedCertificates.set(sha256, parsed);
  return parsed;
}

/**
 * The signature algorithm implied by a certificate's key (RSA-2048/3072/4096 → PS256/384/512,
 * EC P-256/384/521 → ES256/384/512); throws with notation-core-go's text for anything else.
 */
export function algorithmForKey(cert: ParsedCertificate): JwsAlgorithm {
  const key = cert.node.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits === 2048) return 'PS256';
      if (bits === 3072) return 'PS384';
      if (bits === 4096) return 'PS512';
      throw new Error(`rsa key size ${bits} bits is not supported`);
    }
    case 'ec': {
      const curve = details.namedCurve;
      if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
      if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
      if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
      // notation-core-go names the curve by its bit size (Go parses only the NIST curves).
      throw new Error(`ecdsa key size ${curveBits(curve)} bits is not supported`);
    }
    default:
      throw new Error('unsupported public key type');
  }
}

const CURVE_BITS: Readonly<Record<string, number>> = {
  secp224r1: 224,
  'P-224': 224,
  secp256k1: 256,
  secp192r1: 192,
  prime192v1: 192,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};

function curveBits(curve: string | undefined): string {
  const bits = curve === undefined ? undefined : CURVE_BITS[curve];
  return bits === undefined ? `${String(curve)}` : String(bits);
}

/** True when `now` lies within [notBefore, notAfter] of the certificate. */
export function isValidAt(cert: ParsedCertificate, at: Date): boolean {
  return at.getTime() >= notBefore(cert).getTime() && at.getTime() <= notAfter(cert).getTime();
}

export function notBefore(cert: ParsedCertificate): Date {
  return cert.notBefore;
}

export function notAfter(cert: ParsedCertificate): Date {
  return cert.notAfter;
}

/**
 * True when the certificate names an OCSP responder (AIA) or a CRL distribution point: notation
 * would check its revocation status; certificates without either are "not revocable".
 */
export function hasRevocationLocations(cert: ParsedCertificate): boolean {
  return cert.extensions.ocspResponders > 0 || cert.extensions.crlDistributionPoints > 0;
}
