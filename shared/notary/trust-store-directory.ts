/**
 * The file-system adapter for trust stores: loads a notation config directory's
 * `truststore/x509/<type>/<name>/*.{pem,crt,cer}` into a TrustStoreSet.
 * notation-go `verifier/truststore/truststore.go` (`x509TrustStore.GetCertificates`).
 */
import type { TrustStoreSet } from './trust-store';

/** Loads every store under `<configDir>/truststore/x509`, PEM or DER; symlinks and sub-directories are rejected. */
export async function loadTrustStoreDirectory(configDir: string): Promise<TrustStoreSet> {
  throw new Error(`not implemented yet: ${configDir}`);
}
