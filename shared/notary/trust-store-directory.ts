/**
 * The file-system adapter for trust stores: loads a notation configuration directory's
 * `truststore/x509/<type>/<name>/*.{pem,crt,cer}` into a TrustStoreSet. Everything else about trust
 * stores is pure and lives in `trust-store.ts`.
 * Spec: `specs/trust-store-trust-policy.md` §"Trust Store"; notation-go `verifier/truststore/truststore.go`
 * (`x509TrustStore.GetCertificates`; messages are notation-go's).
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../errors';
import { goQuote } from './x509-identity';
import type { TrustStore, TrustStoreType } from './trust-store';
import { TRUST_STORE_INVALID, TRUST_STORE_TYPES, TrustStoreSet, trustStoreFromPem } from './trust-store';

function invalid(message: string): never {
  throw new ConfigurationError(TRUST_STORE_INVALID, message);
}

/**
 * Loads every named store under `<configDir>/truststore/x509/<type>/` (types `ca`,
 * `signingAuthority`, `tsa`). Each store is a real directory of files holding PEM or DER certificates
 * (the spec names `.pem`, `.crt` and `.cer`; like notation, every file is read whatever its extension,
 * so a stray file fails loudly instead of being ignored); symlinks and sub-directories are rejected,
 * as is a store without certificates. A missing `truststore/x509` or type directory contributes no stores.
 *
 * Stores are loaded eagerly (notation loads only the stores a policy names), so a broken store
 * fails the load even if no policy uses it: fail closed, and the error names the file to fix.
 * Compose with the built-ins as `TrustStoreSet.builtIn().with(...loaded.list())` (directory wins).
 */
export async function loadTrustStoreDirectory(configDir: string): Promise<TrustStoreSet> {
  const x509Dir = path.join(configDir, 'truststore', 'x509');
  const stores: TrustStore[] = [];
  for (const type of TRUST_STORE_TYPES) {
    const typeDir = path.join(x509Dir, type);
    const typeInfo = await lstatOrUndefined(typeDir);
    if (typeInfo === undefined) continue;
    if (!typeInfo.isDirectory() || typeInfo.isSymbolicLink()) {
      invalid(`${goQuote(typeDir)} is not a regular directory (symlinks are not supported)`);
    }
    const names = (await readdir(typeDir)).sort();
    for (const name of names) stores.push(await loadNamedStore(type, name, path.join(typeDir, name)));
  }
  return new TrustStoreSet(stores);
}

/** One `<type>/<name>` directory, as notation-go's `GetCertificates` reads it. */
async function loadNamedStore(type: TrustStoreType, name: string, storeDir: string): Promise<TrustStore> {
  if (!/^[a-zA-Z0-9_.-]+$/.test(name)) {
    invalid(`named store name needs to follow [a-zA-Z0-9_.-]+ format (directory ${goQuote(storeDir)})`);
  }
  const info = await lstat(storeDir);
  if (!info.isDirectory() || info.isSymbolicLink()) {
    invalid(`${goQuote(storeDir)} is not a regular directory (symlinks are not supported)`);
  }
  const anchors: TrustStore['anchors'] = [];
  for (const entry of (await readdir(storeDir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const file = path.join(storeDir, entry.name);
    if (entry.isDirectory() || entry.isSymbolicLink() || !entry.isFile()) {
      invalid(`${goQuote(file)} is not a regular file (directories or symlinks are not supported)`);
    }
    anchors.push(...trustStoreFromPem(type, name, await readFile(file), file).anchors);
  }
  if (anchors.length === 0)
    invalid(`no x509 certificates were found in trust store ${goQuote(name)} of type ${goQuote(type)}`);
  return { type, name, anchors };
}

async function lstatOrUndefined(p: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(p);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
