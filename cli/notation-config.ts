/**
 * notation's configuration layout, read as `notation` reads it: the directory from `--config-dir`,
 * else `$NOTATION_CONFIG`, else `$XDG_CONFIG_HOME/notation`, else `~/.config/notation` (notation-go
 * `dir/path.go` `loadUserPath` on Linux); in it `trustpolicy.oci.json`, falling back to `trustpolicy.json`, and
 * `truststore/x509/<ca|signingAuthority|tsa>/<name>/` (see `loadTrustStoreDirectory`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../shared/errors';
import { TRUST_POLICY_LINK, parseTrustPolicy } from '../shared/notary/trust-policy';
import type { TrustPolicyDocument } from '../shared/notary/trust-policy';
import { TrustStoreSet } from '../shared/notary/trust-store';
import { loadTrustStoreDirectory } from '../shared/notary/trust-store-directory';

/** Trust policy file names, in the order notation looks for them. */
export const TRUST_POLICY_FILES = ['trustpolicy.oci.json', 'trustpolicy.json'] as const;

/** Error code when neither trust policy file exists. */
export const TRUST_POLICY_MISSING = 'TRUST_POLICY_MISSING';

/** Where the notation configuration directory came from, in notation's lookup order. */
export type ConfigDirSource = '--config-dir' | 'NOTATION_CONFIG' | 'XDG_CONFIG_HOME' | 'home directory';

/** The notation configuration directory and why it was chosen. */
export interface ResolvedConfigDir {
  path: string;
  source: ConfigDirSource;
}

/**
 * The notation configuration directory: `--config-dir` (wins), else `NOTATION_CONFIG` (notation-go
 * `dir/path.go` reads it before the XDG default), else `$XDG_CONFIG_HOME/notation`, else
 * `~/.config/notation`.
 */
export function resolveNotationConfigDir(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  homedir: string,
): ResolvedConfigDir {
  if (flag !== undefined && flag !== '') return { path: path.resolve(flag), source: '--config-dir' };
  const fromEnv = env['NOTATION_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '')
    return { path: path.resolve(fromEnv), source: 'NOTATION_CONFIG' };
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '' && path.isAbsolute(xdg))
    return { path: path.join(xdg, 'notation'), source: 'XDG_CONFIG_HOME' };
  return { path: path.join(homedir, '.config', 'notation'), source: 'home directory' };
}

/** The notation configuration directory's path (see {@link resolveNotationConfigDir}). */
export function notationConfigDir(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  homedir: string,
): string {
  return resolveNotationConfigDir(flag, env, homedir).path;
}

/** A trust policy file's raw text and where it was found. */
export interface TrustPolicyFile {
  path: string;
  text: string;
}

/**
 * Reads `trustpolicy.oci.json`, else `trustpolicy.json`, from `configDir`. Throws
 * ConfigurationError `TRUST_POLICY_MISSING` with notation's message when neither exists.
 */
export async function readTrustPolicyFile(configDir: string): Promise<TrustPolicyFile> {
  for (const name of TRUST_POLICY_FILES) {
    const file = path.join(configDir, name);
    try {
      return { path: file, text: await readFile(file, 'utf8') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ConfigurationError(
          TRUST_POLICY_MISSING,
          `cannot read trust policy ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  throw new ConfigurationError(
    TRUST_POLICY_MISSING,
    `trust policy is not present. To create a trust policy, see: ${TRUST_POLICY_LINK} (looked for ${TRUST_POLICY_FILES.join(' and ')} in ${configDir})`,
  );
}

/** Reads and validates the trust policy of `configDir` (notation's rules and messages). */
export async function loadTrustPolicy(configDir: string): Promise<TrustPolicyDocument> {
  return (await loadTrustPolicyWithPath(configDir)).document;
}

/** Like {@link loadTrustPolicy}, also saying which file was read (for `-v`). */
export async function loadTrustPolicyWithPath(
  configDir: string,
): Promise<{ document: TrustPolicyDocument; path: string }> {
  const file = await readTrustPolicyFile(configDir);
  return { document: parseTrustPolicy(file.text), path: file.path };
}

/**
 * The built-in AWS Signer stores (`signingAuthority:aws-signer-ts`, `…:aws-us-gov-signer-ts`)
 * plus every store under `configDir/truststore/x509`; a directory store of the same name wins,
 * as in an AWS Signer installation where the installer wrote the same root there.
 */
export async function loadTrustStores(configDir: string): Promise<TrustStoreSet> {
  const loaded = await loadTrustStoreDirectory(configDir);
  return TrustStoreSet.builtIn().with(...loaded.list());
}
