/**
 * Named trust stores (`<type>:<name>`) of X.509 trust anchors, parsed from PEM or DER text, plus
 * the built-in AWS Signer stores that are pinned by root fingerprint. Pure: no file system; the
 * directory adapter is `trust-store-directory.ts`.
 * Spec: `specs/trust-store-trust-policy.md` §"Trust Store"; notation-go `verifier/truststore/truststore.go`.
 */
import { ConfigurationError } from '../errors';

/** The three store types notation knows. */
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';

/** One trusted certificate. */
export interface TrustAnchor {
  /** The certificate's DER bytes; chains are trusted by byte equality with these. */
  der: Uint8Array;
  /** Lower-case hex SHA-256 of `der`. */
  sha256: string;
  /** The subject in RFC 4514-like order as printed by node:crypto, for messages. */
  subject: string;
}

/** A named store. `pinnedSha256` additionally trusts any chain containing a certificate with one of these fingerprints. */
export interface TrustStore {
  type: TrustStoreType;
  name: string;
  anchors: TrustAnchor[];
  pinnedSha256?: string[];
}

/** A set of stores addressed by `"type:name"`, as the trust policy's `trustStores` names them. */
export class TrustStoreSet {
  readonly #stores = new Map<string, TrustStore>();

  constructor(stores: TrustStore[]) {
    for (const store of stores) this.#stores.set(`${store.type}:${store.name}`, store);
  }

  /** The store named `ref` (`"type:name"`), if present. */
  get(ref: string): TrustStore | undefined {
    return this.#stores.get(ref);
  }

  /** All stores, in insertion order. */
  list(): TrustStore[] {
    return [...this.#stores.values()];
  }

  /** A new set with `stores` added; a store with the same `type:name` replaces the existing one. */
  with(...stores: TrustStore[]): TrustStoreSet {
    return new TrustStoreSet([...this.#stores.values(), ...stores]);
  }

  /** The built-in stores `signingAuthority:aws-signer-ts` and `signingAuthority:aws-us-gov-signer-ts`. */
  static builtIn(): TrustStoreSet {
    return new TrustStoreSet([]);
  }
}

/** Parses one or more certificates (PEM text with several blocks, or DER bytes) into a named store. */
export function trustStoreFromPem(
  type: TrustStoreType,
  name: string,
  pemOrDerText: string | Uint8Array,
  fileName?: string,
): TrustStore {
  void pemOrDerText;
  void fileName;
  throw new ConfigurationError('TRUST_STORE_INVALID', `not implemented yet: ${type}:${name}`);
}

/** True when a certificate of the chain is byte-equal to an anchor of `store`, or has a pinned SHA-256. */
export function isTrustedChain(store: TrustStore, chainDer: Uint8Array[]): boolean {
  void store;
  void chainDer;
  return false;
}
