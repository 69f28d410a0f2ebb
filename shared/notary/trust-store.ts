/**
 * Named trust stores (`<type>:<name>`) of X.509 trust anchors, parsed from PEM or DER, plus the
 * built-in AWS Signer stores that are pinned by root fingerprint. Pure: no file system; the directory
 * adapter is `trust-store-directory.ts`.
 * Spec: `specs/trust-store-trust-policy.md` §"Trust Store"; notation-go `verifier/truststore/truststore.go`
 * (messages are notation-go's).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { ConfigurationError } from '../errors';
import {
  AWS_SIGNER_ROOT_PEM,
  AWS_SIGNER_ROOT_SHA256,
  AWS_SIGNER_TRUST_STORE_NAME,
  AWS_US_GOV_SIGNER_ROOT_PEM,
  AWS_US_GOV_SIGNER_ROOT_SHA256,
  AWS_US_GOV_SIGNER_TRUST_STORE_NAME,
} from './aws-signer-roots';
import { goIssuerString } from './go-format';
import { goQuote, x509SubjectString } from './x509-identity';

/** The three store types notation knows: `ca` (notary.x509), `signingAuthority`, `tsa` (timestamping roots). */
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';

/** Every store type, for validation and directory walking. */
export const TRUST_STORE_TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];

/** One trusted certificate. */
export interface TrustAnchor {
  /** The certificate's DER bytes; chains are trusted by byte equality with these. */
  der: Uint8Array;
  /** Lower-case hex SHA-256 of `der`. */
  sha256: string;
  /** The subject as notation prints it (Go `pkix.Name.String()`), for messages. */
  subject: string;
}

/**
 * A named store. `pinnedSha256` additionally trusts any chain containing a certificate with one of
 * these SHA-256 fingerprints (how the built-in AWS Signer stores are defined).
 */
export interface TrustStore {
  type: TrustStoreType;
  name: string;
  anchors: TrustAnchor[];
  pinnedSha256?: string[];
}

/** Error code for every trust-store loading failure. */
export const TRUST_STORE_INVALID = 'TRUST_STORE_INVALID';

const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

function invalid(message: string, cause?: unknown): never {
  throw new ConfigurationError(TRUST_STORE_INVALID, message, cause === undefined ? undefined : { cause });
}

/**
 * A set of stores addressed by `"type:name"`, as the trust policy's `trustStores` names them.
 *
 * Built-ins and a user's directory: `TrustStoreSet.builtIn().with(...directory.list())` lets a store
 * in the user's notation directory **replace** a built-in store of the same name, as `notation`
 * itself would only ever read the directory. Replacing (not merging) keeps a deliberately different
 * store (say, a test root under `aws-signer-ts`) meaning exactly what its files say.
 */
export class TrustStoreSet {
  readonly #stores = new Map<string, TrustStore>();

  constructor(stores: TrustStore[]) {
    for (const store of stores) this.#stores.set(trustStoreRef(store), store);
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

  /**
   * The built-in stores `signingAuthority:aws-signer-ts` and `signingAuthority:aws-us-gov-signer-ts`:
   * the embedded AWS Signer roots, pinned by their SHA-256 fingerprints.
   */
  static builtIn(): TrustStoreSet {
    builtInStores ??= [
      pinnedStore(AWS_SIGNER_TRUST_STORE_NAME, AWS_SIGNER_ROOT_PEM, AWS_SIGNER_ROOT_SHA256),
      pinnedStore(
        AWS_US_GOV_SIGNER_TRUST_STORE_NAME,
        AWS_US_GOV_SIGNER_ROOT_PEM,
        AWS_US_GOV_SIGNER_ROOT_SHA256,
      ),
    ];
    return new TrustStoreSet(builtInStores);
  }
}

let builtInStores: TrustStore[] | undefined;

function pinnedStore(name: string, pem: string, sha256: string): TrustStore {
  const store = trustStoreFromPem('signingAuthority', name, pem, `built-in ${name}`);
  // Fail at start-up, not at verification, if the embedded bytes ever drift from the pin.
  if (store.anchors.length !== 1 || store.anchors[0]!.sha256 !== sha256) {
    throw new Error(
      `built-in trust store ${name}: embedded root does not match its pinned SHA-256 ${sha256}`,
    );
  }
  return { ...store, pinnedSha256: [sha256] };
}

/** `"type:name"` of a store. */
export function trustStoreRef(store: Pick<TrustStore, 'type' | 'name'>): string {
  return `${store.type}:${store.name}`;
}

/**
 * Parses one file's worth of certificates (PEM text with one or more CERTIFICATE blocks, or DER
 * bytes, one or several concatenated) into a named store, with notation's rules: a known type, a
 * name matching `[a-zA-Z0-9_.-]+`, at least one certificate, each a CA or self-signed; `tsa` stores
 * hold root CAs only. Throws ConfigurationError `TRUST_STORE_INVALID` naming the store and `fileName`.
 */
export function trustStoreFromPem(
  type: TrustStoreType,
  name: string,
  pemOrDerText: string | Uint8Array,
  fileName = `${type}:${name}`,
): TrustStore {
  if (!TRUST_STORE_TYPES.includes(type))
    invalid(`unsupported store type: ${String(type)} (trust store ${goQuote(name)})`);
  if (!STORE_NAME.test(name)) {
    invalid(
      `named store name needs to follow [a-zA-Z0-9_.-]+ format (trust store ${goQuote(`${type}:${name}`)})`,
    );
  }
  const certs = readCertificates(pemOrDerText, fileName);
  if (certs.length === 0) {
    invalid(
      `could not parse a certificate from ${goQuote(fileName)}, every file in a trust store must have a PEM or DER certificate in it`,
    );
  }
  for (const cert of certs) {
    const subject = x509SubjectString(cert);
    if (type === 'tsa') {
      const problem = rootCaProblem(cert);
      if (problem !== undefined) {
        invalid(
          `trusted certificate ${fileName} in trust store ${name} of type ${type} is invalid: certificate with subject ${goQuote(subject)} is not a root CA certificate: ${problem}`,
        );
      }
    } else if (!cert.ca && !isSelfSigned(cert)) {
      invalid(
        `certificate with subject ${goQuote(subject)} from file ${goQuote(fileName)} is not a CA certificate or self-signed signing certificate`,
      );
    }
  }
  return { type, name, anchors: certs.map(toAnchor) };
}

/**
 * True when a certificate of `chainDer` is byte-equal to an anchor of `store`, or has a SHA-256
 * fingerprint in `store.pinnedSha256` (notation-go: "any certificate in the chain is trusted").
 */
export function isTrustedChain(store: TrustStore, chainDer: Uint8Array[]): boolean {
  const pins = new Set((store.pinnedSha256 ?? []).map((p) => p.toLowerCase()));
  return chainDer.some((der) => {
    const sha256 = sha256Hex(der);
    if (pins.has(sha256)) return true;
    return store.anchors.some((anchor) => anchor.sha256 === sha256 && Buffer.from(anchor.der).equals(der));
  });
}

/** Lower-case hex SHA-256 of DER bytes (the fingerprint `notation inspect` prints). */
export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function toAnchor(cert: X509Certificate): TrustAnchor {
  const der = new Uint8Array(cert.raw);
  return { der, sha256: sha256Hex(der), subject: x509SubjectString(cert) };
}

// Go's `cert.CheckSignature(cert.SignatureAlgorithm, RawTBSCertificate, Signature)`: signed by its own key.
function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

// notation-go `isRootCACertificate`: CheckSignatureFrom(itself) (a CA that signed itself) and issuer == subject.
function rootCaProblem(cert: X509Certificate): string | undefined {
  if (!cert.ca || !isSelfSigned(cert)) {
    return cert.ca
      ? 'x509: the certificate is not signed by its own key'
      : 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  }
  if (cert.issuer !== cert.subject) {
    return `issuer (${goIssuerString(cert)}) and subject (${x509SubjectString(cert)}) are not the same`;
  }
  return undefined;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** notation-core-go `ReadCertificateFile`: PEM if the text has PEM blocks, else DER. */
function readCertificates(input: string | Uint8Array, fileName: string): X509Certificate[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  const text = bytes.toString('latin1');
  const malformed = (cause: unknown): never =>
    invalid(`error while reading certificates from ${goQuote(fileName)}: x509: malformed certificate`, cause);

  if (text.includes('-----BEGIN ')) {
    const certs: X509Certificate[] = [];
    for (const match of text.matchAll(PEM_BLOCK)) {
      const [, label, body] = match as unknown as [string, string, string];
      // notation-core-go `parseCertificates` skips PEM blocks of other types (keys, CRLs, …).
      if (label !== 'CERTIFICATE') continue;
      const base64 = body.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0)
        malformed('invalid base64 in PEM block');
      try {
        certs.push(new X509Certificate(Buffer.from(base64, 'base64')));
      } catch (error) {
        malformed(error);
      }
    }
    return certs;
  }
  if (bytes.length === 0) return [];
  const certs: X509Certificate[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(rest);
    } catch (error) {
      return malformed(error);
    }
    certs.push(cert);
    // Concatenated DER certificates: continue after the first one.
    rest = rest.subarray(cert.raw.length);
  }
  return certs;
}
