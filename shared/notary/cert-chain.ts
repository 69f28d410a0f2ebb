/**
 * notation's code-signing certificate chain rules (notation-core-go
 * `x509/codesigning_cert_validations.go`; spec `signature-specification.md` §"Certificate
 * Requirements"), checked at verification time (no time check here: the verifier's expiry and
 * authentic-timestamp steps own time). Messages follow notation-core-go.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { algorithmForKey, type ParsedCertificate } from './certificate';
import { goQuote } from './x509-identity';
import { KeyUsageFlags } from './x509-extensions';
import type { BasicConstraintsView, KeyUsageView } from './x509-extensions';

/** Thrown when a chain breaks a rule; `message` is notation-core-go's text. */
export class CertificateChainError extends Error {
  override readonly name = 'CertificateChainError';
}

const EXCLUDED_EKUS: ReadonlyArray<[string, string]> = [
  ['1.3.6.1.5.5.7.3.1', 'ServerAuth'],
  ['1.3.6.1.5.5.7.3.2', 'ClientAuth'],
  ['1.3.6.1.5.5.7.3.4', 'EmailProtection'],
  ['1.3.6.1.5.5.7.3.8', 'Timestamping'],
  ['1.3.6.1.5.5.7.3.9', 'OCSPSigning'],
];

const LEAF_FORBIDDEN_USAGES: ReadonlyArray<[KeyUsageFlags, string]> = [
  [KeyUsageFlags.keyEncipherment, 'KeyEncipherment'],
  [KeyUsageFlags.dataEncipherment, 'DataEncipherment'],
  [KeyUsageFlags.keyAgreement, 'KeyAgreement'],
  [KeyUsageFlags.keyCertSign, 'CertSign'],
  [KeyUsageFlags.cRLSign, 'CRLSign'],
  [KeyUsageFlags.encipherOnly, 'EncipherOnly'],
  [KeyUsageFlags.decipherOnly, 'DecipherOnly'],
];

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Certificate pairs (child SHA-256 + issuer SHA-256) whose signature has already verified. The
 * upper links of an AWS Signer chain (regional CA → intermediate → root) are the same in every
 * signature of a region, so a warm verifier checks one ECDSA P-384 link per envelope instead of
 * three. Only successes are kept: a digest names exact DER bytes, so the answer cannot change.
 * Bounded; cleared wholesale when full.
 */
const verifiedLinks = new Set<string>();
const MAX_VERIFIED_LINKS = 256;

/** Does `issuer`'s key verify `cert`'s signature? (no name or CA checks) */
function signatureVerifiesWith(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const link = `${cert.sha256}:${issuer.sha256}`;
  if (verifiedLinks.has(link)) return true;
  let ok: boolean;
  try {
    ok = cert.node.verify(issuer.node.publicKey);
  } catch {
    ok = false;
  }
  if (ok) {
    if (verifiedLinks.size >= MAX_VERIFIED_LINKS) verifiedLinks.clear();
    verifiedLinks.add(link);
  }
  return ok;
}

function basicConstraints(cert: ParsedCertificate): BasicConstraintsView | null {
  return cert.extensions.basicConstraints;
}

function keyUsage(cert: ParsedCertificate): KeyUsageView | null {
  return cert.extensions.keyUsage;
}

/** Signature algorithms Go's `checkSignature` refuses before hashing: OID → name and whether SHA-1 based. */
const REFUSED_SIGNATURE_ALGORITHMS: ReadonlyMap<string, { name: string; sha1: boolean }> = new Map([
  ['1.2.840.113549.1.1.4', { name: 'MD5-RSA', sha1: false }],
  ['1.2.840.113549.1.1.5', { name: 'SHA1-RSA', sha1: true }],
  ['1.3.14.3.2.29', { name: 'SHA1-RSA', sha1: true }],
  ['1.2.840.10040.4.3', { name: 'DSA-SHA1', sha1: true }],
  ['1.2.840.10045.4.1', { name: 'ECDSA-SHA1', sha1: true }],
]);
const MD2_WITH_RSA = '1.2.840.113549.1.1.2';

/**
 * Go's `checkSignature` algorithm gate: MD2 is unimplemented, MD5 always insecure, SHA-1 insecure
 * unless `allowSha1` (Go's `CheckSignature`, used for a lone self-signed certificate, allows it;
 * `CheckSignatureFrom`, used for every chain link, does not since Go 1.24 removed `x509sha1`).
 */
function signatureAlgorithmError(cert: ParsedCertificate, allowSha1: boolean): string | undefined {
  if (cert.signatureAlgorithm === MD2_WITH_RSA)
    return 'x509: cannot verify signature: algorithm unimplemented';
  const refused = REFUSED_SIGNATURE_ALGORITHMS.get(cert.signatureAlgorithm);
  if (!refused || (refused.sha1 && allowSha1)) return undefined;
  return `x509: cannot verify signature: insecure algorithm ${refused.name}`;
}

/** Go's error text when `issuer`'s key does not verify a signature. */
function verificationFailure(issuer: ParsedCertificate): string {
  return issuer.node.publicKey.asymmetricKeyType === 'ec'
    ? 'x509: ECDSA verification failure'
    : 'crypto/rsa: verification error';
}

/**
 * Go's `CheckSignatureFrom` + `RawIssuer == parent.RawSubject`: returns an error text when the
 * parent may not sign certificates or the signature does not verify, else whether names link.
 */
function issuedBy(cert: ParsedCertificate, parent: ParsedCertificate): { ok: boolean; error?: string } {
  const bc = basicConstraints(parent);
  const isV3 = parent.version === 3;
  if ((isV3 && !bc) || (bc && !bc.ca)) {
    return {
      ok: false,
      error: 'x509: invalid signature: parent certificate cannot sign this kind of certificate',
    };
  }
  const ku = keyUsage(parent);
  if (ku && ku.usages !== 0 && (ku.usages & KeyUsageFlags.keyCertSign) === 0) {
    return {
      ok: false,
      error: 'x509: invalid signature: parent certificate cannot sign this kind of certificate',
    };
  }
  const algorithmError = signatureAlgorithmError(cert, false);
  if (algorithmError !== undefined) return { ok: false, error: algorithmError };
  if (!signatureVerifiesWith(cert, parent)) return { ok: false, error: verificationFailure(parent) };
  return { ok: bytesEqual(cert.rawIssuer, parent.rawSubject) };
}

function isSelfSigned(cert: ParsedCertificate): { ok: boolean; error?: string } {
  return issuedBy(cert, cert);
}

function requireCriticalKeyUsage(cert: ParsedCertificate): KeyUsageView {
  const ku = keyUsage(cert);
  if (!ku)
    throw new CertificateChainError(
      `certificate with subject ${goQuote(cert.subject)}: key usage extension must be present`,
    );
  if (!ku.critical) {
    throw new CertificateChainError(
      `certificate with subject ${goQuote(cert.subject)}: key usage extension must be marked critical`,
    );
  }
  return ku;
}

function validateLeaf(cert: ParsedCertificate): void {
  const bc = basicConstraints(cert);
  if (bc?.ca) {
    throw new CertificateChainError(
      `certificate with subject ${goQuote(cert.subject)}: if the basic constraints extension is present, the ca field must be set to false`,
    );
  }
  const ku = requireCriticalKeyUsage(cert);
  if ((ku.usages & KeyUsageFlags.digitalSignature) === 0) {
    throw new CertificateChainError(
      `the certificate with subject ${goQuote(cert.subject)} is invalid. The key usage must have the bit positions for "Digital Signature" set`,
    );
  }
  const forbidden = LEAF_FORBIDDEN_USAGES.filter(([flag]) => (ku.usages & flag) !== 0).map(
    ([, name]) => name,
  );
  if (forbidden.length > 0) {
    throw new CertificateChainError(
      `the certificate with subject ${goQuote(cert.subject)} is invalid. The key usage must be "Digital Signature" only, but found ${forbidden.map((f) => `"${f}"`).join(', ')}`,
    );
  }
  for (const usage of cert.extensions.extendedKeyUsage ?? []) {
    const excluded = EXCLUDED_EKUS.find(([oid]) => oid === String(usage));
    if (excluded) {
      throw new CertificateChainError(
        `certificate with subject ${goQuote(cert.subject)}: extended key usage must not contain ${excluded[1]} eku`,
      );
    }
  }
  try {
    algorithmForKey(cert);
  } catch (error) {
    throw new CertificateChainError(
      `certificate with subject ${goQuote(cert.subject)}: ${(error as Error).message}`,
    );
  }
}

function validateCa(cert: ParsedCertificate, expectedPathLen: number): void {
  const bc = basicConstraints(cert);
  if (!bc?.ca) {
    throw new CertificateChainError(
      `certificate with subject ${goQuote(cert.subject)}: ca field in basic constraints must be present, critical, and set to true`,
    );
  }
  if (bc.pathLength !== undefined && expectedPathLen > bc.pathLength) {
    throw new CertificateChainError(
      `certificate with subject ${goQuote(cert.subject)}: expected path length of ${expectedPathLen} but certificate has path length ${bc.pathLength} instead`,
    );
  }
  const ku = requireCriticalKeyUsage(cert);
  if ((ku.usages & KeyUsageFlags.keyCertSign) === 0) {
    throw new CertificateChainError(
      `certificate with subject ${goQuote(cert.subject)}: key usage must have the bit positions for key cert sign set`,
    );
  }
}

/**
 * Validates an ordered chain (leaf first, root last) with notation's code-signing rules; throws
 * {@link CertificateChainError}. `verifySignature` of a single-certificate chain checks it is
 * self-signed and self-issued, and treats it as a leaf.
 */
export function validateCodeSigningCertChain(chain: ParsedCertificate[]): void {
  const [first] = chain;
  if (!first) throw new CertificateChainError('certificate chain must contain at least one certificate');
  if (chain.length === 1) {
    // Go's `CheckSignature` (not `CheckSignatureFrom`): no CA constraints, SHA-1 still allowed.
    const signatureError =
      signatureAlgorithmError(first, true) ??
      (signatureVerifiesWith(first, first) ? undefined : verificationFailure(first));
    if (signatureError !== undefined) {
      throw new CertificateChainError(
        `invalid self-signed certificate. subject: ${goQuote(first.subject)}. Error: ${signatureError}`,
      );
    }
    if (!bytesEqual(first.rawIssuer, first.rawSubject)) {
      throw new CertificateChainError(
        `invalid self-signed certificate. subject: ${goQuote(first.subject)}. Error: issuer(${first.issuer}) and subject(${first.subject}) are not the same`,
      );
    }
    try {
      validateLeaf(first);
    } catch (error) {
      throw new CertificateChainError(`invalid self-signed certificate. Error: ${(error as Error).message}`);
    }
    return;
  }
  chain.forEach((cert, i) => {
    if (i === chain.length - 1) {
      const self = isSelfSigned(cert);
      if (self.error !== undefined) {
        throw new CertificateChainError(
          `root certificate with subject ${goQuote(cert.subject)} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: ${self.error}`,
        );
      }
      if (!self.ok) {
        throw new CertificateChainError(
          `root certificate with subject ${goQuote(cert.subject)} is not self-signed. Certificate chain must end with a valid self-signed root certificate`,
        );
      }
    } else {
      const self = isSelfSigned(cert);
      if (self.error === undefined && self.ok) {
        throw new CertificateChainError(
          i === 0
            ? `leaf certificate with subject ${goQuote(cert.subject)} is self-signed. Certificate chain must not contain self-signed leaf certificate`
            : `intermediate certificate with subject ${goQuote(cert.subject)} is self-signed. Certificate chain must not contain self-signed intermediate certificate`,
        );
      }
      const parent = chain[i + 1] as ParsedCertificate;
      const issued = issuedBy(cert, parent);
      if (issued.error !== undefined) {
        throw new CertificateChainError(
          `invalid certificates or certificate with subject ${goQuote(cert.subject)} is not issued by ${goQuote(parent.subject)}. Error: ${issued.error}`,
        );
      }
      if (!issued.ok) {
        throw new CertificateChainError(
          `certificate with subject ${goQuote(cert.subject)} is not issued by ${goQuote(parent.subject)}`,
        );
      }
    }
    if (i === 0) validateLeaf(cert);
    else validateCa(cert, i - 1);
  });
}

/** Verifies raw signature bytes over `data` with a certificate's key as JWS `alg` prescribes. */
export function verifyJwsSignature(
  alg: string,
  cert: ParsedCertificate,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = cert.node.publicKey;
  const hash = `sha${alg.slice(2)}`;
  try {
    if (alg.startsWith('ES')) {
      return cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    // RSA-PSS with the salt length recovered from the signature (golang-jwt PSSSaltLengthAuto).
    return cryptoVerify(
      hash,
      data,
      { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -2 },
      signature,
    );
  } catch {
    return false;
  }
}
