/**
 * `PayloadSigner` that signs with a local private key and certificate chain, like
 * `notation sign --key`: JWS envelope, signing scheme `notary.x509`, `signingTime` = now (the
 * signer's own clock), optional expiry. For users without AWS Signer and for the embedded demo.
 *
 * Everything that can be wrong with the key material is checked when the signer is built, so a
 * misconfigured stage fails at cold start with a ConfigurationError that names the problem.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { throwIfAborted } from '../abort';
import type { CallOptions } from '../abort';
import { ConfigurationError, isStagesignError } from '../errors';
import { validateCodeSigningCertChain } from '../notary/cert-chain';
import { algorithmForKey, parseCertificate } from '../notary/certificate';
import type { ParsedCertificate } from '../notary/certificate';
import { createJwsEnvelope } from '../notary/jws';
import type { PayloadSigner, SignedEnvelope } from '../notary/types';

export interface LocalKeySignerOptions {
  /** Unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC) of the leaf certificate. */
  privateKeyPem: string;
  /** PEM certificates, leaf first, ending with the root (as notation's key configuration holds them). */
  certificateChainPem: string;
  /** The clock; defaults to the system clock. */
  now?: () => Date;
  /** Signature validity in seconds from the signing time (`notation sign --expiry`); none by default. */
  expirySeconds?: number;
  /** Unprotected `io.cncf.notary.signingAgent`; defaults to `stagesign`. */
  signingAgent?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Signs Notary payloads with a local key under the `notary.x509` signing scheme. */
export class LocalKeySigner implements PayloadSigner {
  /** DER certificates, leaf first. */
  readonly certificateChain: Uint8Array[];
  private readonly privateKey: KeyObject;
  private readonly now: () => Date;
  private readonly expirySeconds: number | undefined;
  private readonly signingAgent: string;

  /**
   * Throws ConfigurationError when the key cannot be read, the chain is empty or breaks notation's
   * code-signing chain rules, the key type is unsupported, or the key does not belong to the leaf.
   */
  constructor(options: LocalKeySignerOptions) {
    this.privateKey = readPrivateKey(options.privateKeyPem);
    const certificates = readCertificateChain(options.certificateChainPem);
    const leaf = certificates[0] as ParsedCertificate;
    try {
      algorithmForKey(leaf);
    } catch (error) {
      throw new ConfigurationError(
        'LOCAL_SIGNING_KEY_UNSUPPORTED',
        `the signing certificate's key is not supported: ${(error as Error).message}; use RSA 2048/3072/4096 or ECDSA P-256/P-384/P-521`,
        { cause: error },
      );
    }
    const keySpki = createPublicKey(this.privateKey).export({ type: 'spki', format: 'der' });
    const leafSpki = leaf.node.publicKey.export({ type: 'spki', format: 'der' });
    if (!keySpki.equals(leafSpki)) {
      throw new ConfigurationError(
        'LOCAL_SIGNING_KEY_MISMATCH',
        `the private key does not match the leaf certificate "${leaf.subject}": the first certificate in the chain must be the one issued for this key`,
      );
    }
    try {
      validateCodeSigningCertChain(certificates);
    } catch (error) {
      throw new ConfigurationError(
        'LOCAL_SIGNING_CHAIN_INVALID',
        `the signing certificate chain is not a valid code-signing chain: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (
      options.expirySeconds !== undefined &&
      !(Number.isInteger(options.expirySeconds) && options.expirySeconds > 0)
    ) {
      throw new ConfigurationError(
        'LOCAL_SIGNING_EXPIRY_INVALID',
        `expirySeconds must be a positive whole number of seconds, got ${String(options.expirySeconds)}`,
      );
    }
    this.certificateChain = certificates.map((c) => c.der);
    this.now = options.now ?? (() => new Date());
    this.expirySeconds = options.expirySeconds;
    this.signingAgent = options.signingAgent ?? 'stagesign';
  }

  /** Signs locally (no I/O); an already aborted `options.signal` rejects with `ABORTED`. */
  async sign(payload: Uint8Array, options?: CallOptions): Promise<SignedEnvelope> {
    throwIfAborted(options?.signal, 'signing with the local key');
    const signingTime = this.now();
    const expiry =
      this.expirySeconds === undefined
        ? undefined
        : new Date(signingTime.getTime() + this.expirySeconds * 1000);
    let envelope: Uint8Array;
    try {
      envelope = createJwsEnvelope({
        payload,
        signingScheme: 'notary.x509',
        signingTime,
        ...(expiry ? { expiry } : {}),
        certificateChain: this.certificateChain,
        privateKey: this.privateKey,
        signingAgent: this.signingAgent,
      });
    } catch (error) {
      // The payload is ours; what can fail here is the key material (e.g. a certificate not valid now).
      throw new ConfigurationError(
        'LOCAL_SIGNING_FAILED',
        `signing with the local key failed: ${isStagesignError(error) || error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return { envelope, envelopeMediaType: 'application/jose+json', annotations: {} };
  }
}

function readPrivateKey(pem: string): KeyObject {
  if (/ENCRYPTED/.test(pem)) {
    throw new ConfigurationError(
      'LOCAL_SIGNING_KEY_INVALID',
      'the private key PEM is encrypted: provide an unencrypted PKCS#8, PKCS#1 or SEC1 PEM key',
    );
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new ConfigurationError(
      'LOCAL_SIGNING_KEY_INVALID',
      `the private key is not a readable PEM private key (${(error as Error).message}): provide an unencrypted PKCS#8, PKCS#1 or SEC1 PEM key`,
      { cause: error },
    );
  }
}

function readCertificateChain(pem: string): ParsedCertificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new ConfigurationError(
      'LOCAL_SIGNING_CHAIN_INVALID',
      'the certificate chain contains no PEM certificate: provide the leaf certificate first, then its CAs up to the root',
    );
  }
  return blocks.map((block, i) => {
    try {
      return parseCertificate(new Uint8Array(new X509Certificate(block).raw));
    } catch (error) {
      throw new ConfigurationError(
        'LOCAL_SIGNING_CHAIN_INVALID',
        `certificate ${i + 1} of the certificate chain cannot be parsed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  });
}
