/**
 * Byte-exact fields of a certificate, taken from `@peculiar/asn1-x509`'s parse: the
 * TBSCertificate as it was encoded (AWS Signer's revocation hashes are SHA-384 over these bytes,
 * like `openssl asn1parse -strparse 4`) and the issuer and subject Names (Go compares `RawIssuer`
 * with the parent's `RawSubject` byte for byte; a DER Name re-encodes to the same bytes).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

/** The exact TBSCertificate, issuer Name and subject Name bytes of a DER certificate. */
export interface CertificateFields {
  tbs: Uint8Array;
  rawIssuer: Uint8Array;
  rawSubject: Uint8Array;
  /** X.509 version as printed (1 or 3); Go treats v3 certificates without basicConstraints as non-CA. */
  version: number;
  /** The OID of the certificate's outer signatureAlgorithm (Go refuses MD5 and SHA-1 ones in chains). */
  signatureAlgorithm: string;
}

/** Reads the TBSCertificate and the Names of a DER X.509 certificate; throws on malformed DER. */
export function certificateFields(der: Uint8Array): CertificateFields {
  return certificateFieldsOf(AsnConvert.parse(der, Certificate));
}

/**
 * The same fields from a certificate the library has already parsed (e.g. by parseCertificate),
 * so a certificate is decoded once.
 */
export function certificateFieldsOf(parsed: Certificate): CertificateFields {
  // `tbsCertificateRaw` is the library's `raw: true` view: the bytes as received, not re-encoded.
  const cert = parsed as Certificate & { tbsCertificateRaw?: ArrayBuffer };
  if (cert.tbsCertificateRaw === undefined) throw new Error('TBSCertificate bytes are not available');
  const tbs = cert.tbsCertificate;
  return {
    tbs: new Uint8Array(cert.tbsCertificateRaw),
    rawIssuer: new Uint8Array(AsnConvert.serialize(tbs.issuer)),
    rawSubject: new Uint8Array(AsnConvert.serialize(tbs.subject)),
    version: tbs.version + 1,
    signatureAlgorithm: parsed.signatureAlgorithm.algorithm,
  };
}
