/**
 * Just enough DER framing to cut byte-exact fields out of a certificate: the TBSCertificate (for
 * AWS Signer's revocation hashes, like `openssl asn1parse -strparse 4`) and the raw issuer and
 * subject Names (Go compares `RawIssuer` with the parent's `RawSubject` byte for byte). Parsing of
 * the certificate's meaning is left to `node:crypto` and `@peculiar/x509`.
 */

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new Error('truncated DER');
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const b = bytes[offset + 2 + i];
      if (b === undefined) throw new Error('truncated DER');
      length = length * 256 + b;
    }
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new Error('truncated DER');
  return { tag, start: offset, contentStart: offset + header, end };
}

/** The exact TBSCertificate, issuer Name and subject Name bytes of a DER certificate. */
export interface CertificateFields {
  tbs: Uint8Array;
  rawIssuer: Uint8Array;
  rawSubject: Uint8Array;
  /** X.509 version as printed (1 or 3); Go treats v3 certificates without basicConstraints as non-CA. */
  version: number;
}

/** Cuts the TBSCertificate and the raw Names out of a DER X.509 certificate; throws on malformed DER. */
export function certificateFields(der: Uint8Array): CertificateFields {
  const cert = readTlv(der, 0);
  if (cert.tag !== 0x30) throw new Error('certificate is not a DER SEQUENCE');
  const tbs = readTlv(der, cert.contentStart);
  if (tbs.tag !== 0x30) throw new Error('TBSCertificate is not a SEQUENCE');
  let field = readTlv(der, tbs.contentStart);
  let version = 1;
  if (field.tag === 0xa0) {
    const versionInt = readTlv(der, field.contentStart);
    version = (der[versionInt.end - 1] ?? 0) + 1;
    field = readTlv(der, field.end);
  }
  const signature = readTlv(der, field.end); // field is serialNumber
  const issuer = readTlv(der, signature.end);
  const validity = readTlv(der, issuer.end);
  const subject = readTlv(der, validity.end);
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    rawIssuer: der.subarray(issuer.start, issuer.end),
    rawSubject: der.subarray(subject.start, subject.end),
    version,
  };
}
