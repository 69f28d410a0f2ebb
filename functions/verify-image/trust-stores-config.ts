/**
 * Extra trust stores for the verify-image stage, as text (the `TRUST_STORES` environment variable
 * or the SSM parameter named by `TRUST_STORES_PARAMETER`):
 *
 * ```json
 * { "signingAuthority:my-ts": "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n",
 *   "ca:build-ca": ["-----BEGIN CERTIFICATE-----…", "-----BEGIN CERTIFICATE-----…"] }
 * ```
 *
 * Keys are the `type:name` the trust policy's `trustStores` lists (as notation's
 * `truststore/x509/<type>/<name>/` directories); values are PEM text (one or more certificates)
 * or an array of PEM texts. Each store obeys notation's rules (`trustStoreFromPem`). Stores are
 * placed next to the built-in AWS Signer roots, never in their place: a configured store named
 * like a built-in one (`signingAuthority:aws-signer-ts`, `signingAuthority:aws-us-gov-signer-ts`)
 * is refused. The default policy trusts those names, so letting the configuration replace them
 * would let whoever can write the variable or the SSM parameter decide which signatures pass.
 * (The `stagesign` CLI reads a notation directory and keeps notation's replace behaviour there.)
 */
import { ConfigurationError } from '../../shared/errors';
import {
  TRUST_STORE_TYPES,
  TrustStoreSet,
  trustStoreFromPem,
  trustStoreRef,
} from '../../shared/notary/trust-store';
import type { TrustStore, TrustStoreType } from '../../shared/notary/trust-store';

/** Error code of a configured store that would replace a built-in AWS Signer root. */
export const TRUST_STORE_RESERVED = 'TRUST_STORE_RESERVED';

/** The `type:name` of every built-in store, which configured stores may not use. */
export function builtInTrustStoreRefs(): string[] {
  return TrustStoreSet.builtIn()
    .list()
    .map((store) => trustStoreRef(store));
}

/**
 * Parses trust-store text (see the module comment); `source` names where it came from in every
 * error. Throws ConfigurationError `TRUST_STORE_INVALID` naming the store and the fix, or
 * `TRUST_STORE_RESERVED` for a store named like a built-in one.
 */
export function parseTrustStoresText(text: string, source: string): TrustStore[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(
      `${source} is not valid JSON (${(error as Error).message}); expected {"signingAuthority:<name>":"-----BEGIN CERTIFICATE-----…"}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${source} must be a JSON object mapping "<type>:<name>" to PEM certificates`);
  }
  const stores: TrustStore[] = [];
  for (const [key, pem] of Object.entries(value as Record<string, unknown>)) {
    const colon = key.indexOf(':');
    const type = key.slice(0, colon) as TrustStoreType;
    const name = key.slice(colon + 1);
    if (colon <= 0 || !TRUST_STORE_TYPES.includes(type)) {
      throw invalid(
        `${source} key ${JSON.stringify(key)} must be "<type>:<name>" with type one of ${TRUST_STORE_TYPES.join(', ')}`,
      );
    }
    if (builtInTrustStoreRefs().includes(key)) {
      throw new ConfigurationError(
        TRUST_STORE_RESERVED,
        `${source} key ${JSON.stringify(key)} is the name of a built-in AWS Signer root, which configured stores may not replace. Choose another name, e.g. "${type}:${name}-extra", and list it in the trust policy's "trustStores".`,
      );
    }
    const texts =
      typeof pem === 'string'
        ? [pem]
        : Array.isArray(pem) && pem.every((p) => typeof p === 'string')
          ? (pem as string[])
          : undefined;
    if (texts === undefined || texts.length === 0) {
      throw invalid(`${source}[${JSON.stringify(key)}] must be PEM text or an array of PEM texts`);
    }
    // Environment variables often carry "\n" escaped once more; accept both.
    const joined = texts.map((t) => t.replace(/\\n/g, '\n')).join('\n');
    try {
      stores.push(trustStoreFromPem(type, name, joined, `${source}[${JSON.stringify(key)}]`));
    } catch (error) {
      throw invalid(`${source}[${JSON.stringify(key)}]: ${(error as Error).message}`, error);
    }
  }
  return stores;
}

function invalid(message: string, cause?: unknown): ConfigurationError {
  return new ConfigurationError('TRUST_STORE_INVALID', message, cause === undefined ? undefined : { cause });
}
