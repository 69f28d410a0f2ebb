/**
 * The X.509 v3 extensions the Notary core reads (basic constraints, key usage, extended key
 * usage, and whether OCSP or CRL locations are named), decoded with `@peculiar/asn1-x509`'s
 * schemas from the certificate it has already parsed.
 *
 * This used to go through `@peculiar/x509`'s `X509Certificate`, which re-encodes the whole
 * certificate and every extension, and whose module loads tsyringe, reflect-metadata and
 * precomputed RSA/EC algorithm parameters at import: about 30 ms of every sign-image and
 * verify-image cold start (bench/run.ts) for four extension reads. Every extension of a type that
 * library decodes is decoded here too, when the certificate is parsed, so a malformed one still
 * fails the certificate (fail closed; Go's `x509.ParseCertificate` rejects it as well), and, as
 * in Go (unlike that library, which read the first), a certificate with two extensions of one
 * type is refused.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  CertificatePolicies,
  ExtendedKeyUsage,
  IssueAlternativeName,
  KeyUsage,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ad_ocsp,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_issuerAltName,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import type { Certificate } from '@peculiar/asn1-x509';

export { KeyUsageFlags } from '@peculiar/asn1-x509';

export interface BasicConstraintsView {
  readonly critical: boolean;
  readonly ca: boolean;
  readonly pathLength?: number;
}

export interface KeyUsageView {
  readonly critical: boolean;
  /** `KeyUsageFlags` bits (digitalSignature = 1, …, keyCertSign = 32, …). */
  readonly usages: number;
}

export interface CertificateExtensions {
  readonly basicConstraints: BasicConstraintsView | null;
  readonly keyUsage: KeyUsageView | null;
  /** The extended key usage OIDs, or null without the extension. */
  readonly extendedKeyUsage: readonly string[] | null;
  /** How many OCSP responders the Authority Information Access extension names. */
  readonly ocspResponders: number;
  /** How many distribution points the CRL Distribution Points extension names. */
  readonly crlDistributionPoints: number;
}

/** The extension types decoded at parse time (the ones `@peculiar/x509`'s ExtensionFactory knows). */
const SCHEMAS: ReadonlyMap<string, new () => unknown> = new Map<string, new () => unknown>([
  [id_ce_basicConstraints, BasicConstraints],
  [id_ce_keyUsage, KeyUsage],
  [id_ce_extKeyUsage, ExtendedKeyUsage],
  [id_ce_subjectKeyIdentifier, SubjectKeyIdentifier],
  [id_ce_authorityKeyIdentifier, AuthorityKeyIdentifier],
  [id_ce_subjectAltName, SubjectAlternativeName],
  [id_ce_issuerAltName, IssueAlternativeName],
  [id_ce_cRLDistributionPoints, CRLDistributionPoints],
  [id_pe_authorityInfoAccess, AuthorityInfoAccessSyntax],
  [id_ce_certificatePolicies, CertificatePolicies],
]);

/** Decodes the certificate's extensions; throws a plain Error when one of a known type is malformed. */
export function certificateExtensions(cert: Certificate): CertificateExtensions {
  const first = new Map<string, { critical: boolean; value: unknown }>();
  const seen = new Set<string>();
  for (const extension of cert.tbsCertificate.extensions ?? []) {
    // RFC 5280 4.2: a certificate must not include more than one instance of an extension. Go's
    // x509.ParseCertificate (so notation) refuses such a certificate; so does this.
    if (seen.has(extension.extnID)) throw new Error('x509: certificate contains duplicate extensions');
    seen.add(extension.extnID);
    const schema = SCHEMAS.get(extension.extnID);
    if (!schema) continue;
    first.set(extension.extnID, {
      critical: extension.critical,
      value: AsnConvert.parse(extension.extnValue.buffer, schema),
    });
  }
  const bc = first.get(id_ce_basicConstraints);
  const ku = first.get(id_ce_keyUsage);
  const eku = first.get(id_ce_extKeyUsage)?.value as ExtendedKeyUsage | undefined;
  const aia = first.get(id_pe_authorityInfoAccess)?.value as AuthorityInfoAccessSyntax | undefined;
  const crl = first.get(id_ce_cRLDistributionPoints)?.value as CRLDistributionPoints | undefined;
  const constraints = bc?.value as BasicConstraints | undefined;
  return {
    basicConstraints:
      bc && constraints
        ? {
            critical: bc.critical,
            ca: constraints.cA,
            ...(constraints.pathLenConstraint !== undefined
              ? { pathLength: constraints.pathLenConstraint }
              : {}),
          }
        : null,
    keyUsage: ku ? { critical: ku.critical, usages: (ku.value as KeyUsage).toNumber() } : null,
    extendedKeyUsage: eku ? eku.map(String) : null,
    ocspResponders: aia ? aia.filter((d) => d.accessMethod === id_ad_ocsp).length : 0,
    crlDistributionPoints: crl ? crl.length : 0,
  };
}
