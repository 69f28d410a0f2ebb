/**
 * AWS Signer `GetRevocationStatus` `certificateHashes` (notary-and-signer.md §1.3): for each
 * certificate in `x5c` order, hex SHA-384 of its TBSCertificate followed by its issuer's; the root
 * is paired with itself. Same as the AWS Signer plugin and the AWS docs' OpenSSL recipe.
 */
import { createHash } from 'node:crypto';
import { certificateFields } from './certificate-fields';

/** `lowercase hex(SHA-384(TBSCertificate))` of a DER certificate. */
export function tbsSha384(der: Uint8Array): string {
  return createHash('sha384').update(certificateFields(der).tbs).digest('hex');
}

/** The composite hashes (192 hex chars each), one per certificate of `chain` (DER, leaf first). */
export function compositeCertificateHashes(chain: Uint8Array[]): string[] {
  const hashes = chain.map(tbsSha384);
  return hashes.map((h, i) => h + (hashes[i + 1] ?? h));
}
