/**
 * notation's configuration layout, read as `notation` reads it: the directory from `--config-dir`,
 * else `$XDG_CONFIG_HOME/notation`, else `~/.config/notation` (notation-go `dir.UserConfigDir` on
 * Linux); in it `trustpolicy.oci.json`, falling back to `trustpolicy.json`, and
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

/** The notation configuration directory for `--config-dir` (wins), `XDG_CONFIG_HOME`, or the home directory. */
export function notationConfigDir(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  homedir: string,
): string {
  if (flag !== undefined && flag !== '') return path.resolve(flag);
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '' && path.isAbsolute(xdg)) return path.join(xdg, 'notation');
  return path.join(homedir, '.config', 'notation');
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
  return parseTrustPolicy((await readTrustPolicyFile(configDir)).text);
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
