import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../../shared/notary/certificate';
import { validateCodeSigningCertChain } from '../../../shared/notary/cert-chain';

function chain(name: string) {
  const text = readFileSync(
    fileURLToPath(new URL(`../../fixtures/notary/chains/${name}.pem`, import.meta.url)),
    'utf8',
  );
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return pems.map((p) => parseCertificate(new Uint8Array(new X509Certificate(p).raw)));
}

describe('validateCodeSigningCertChain', () => {
  it('accepts a valid leaf → intermediate → root chain', () => {
    expect(() => validateCodeSigningCertChain(chain('valid'))).not.toThrow();
  });

  it.each([
    [
      'self-signed-intermediate',
      /intermediate certificate with subject "CN=Chain Test Intermediate,O=Stagesign Test,C=US" is self-signed/,
    ],
    ['leaf-key-usage-not-critical', /key usage extension must be marked critical/],
    ['leaf-key-usage-missing', /key usage extension must be present/],
    ['leaf-server-auth-eku', /extended key usage must not contain ServerAuth eku/],
    ['intermediate-ca-false', /parent certificate cannot sign this kind of certificate/],
    ['leaf-rsa-1024', /rsa key size 1024 bits is not supported/],
  ])('rejects %s', (name, message) => {
    expect(() => validateCodeSigningCertChain(chain(name))).toThrow(message);
  });

  it('rejects a chain that does not end in a self-signed root', () => {
    expect(() => validateCodeSigningCertChain(chain('valid').slice(0, 2))).toThrow(
      /root certificate with subject .* (is not self-signed|invalid or not self-signed)/,
    );
  });

  it('rejects a chain whose order is broken', () => {
    const [leaf, int, root] = chain('valid');
    expect(() => validateCodeSigningCertChain([leaf!, root!, int!])).toThrow();
  });

  it('treats a single certificate as a self-signed leaf and rejects a CA', () => {
    const [, , root] = chain('valid');
    expect(() => validateCodeSigningCertChain([root!])).toThrow(/invalid self-signed certificate/);
  });

  it('still rejects a certificate with a broken signature after its issuer link verified once', () => {
    const [leaf, int, root] = chain('valid');
    expect(() => validateCodeSigningCertChain([leaf!, int!, root!])).not.toThrow();
    const der = new Uint8Array(leaf!.der);
    der[der.length - 1] = der[der.length - 1]! ^ 0x01; // last byte of the signature value
    const tampered = parseCertificate(der);
    expect(() => validateCodeSigningCertChain([tampered, int!, root!])).toThrow(/verification/);
  });

  it('keeps a parsed certificate intact when the caller later changes the bytes it passed in', () => {
    const [leaf] = chain('valid');
    const bytes = new Uint8Array(leaf!.der);
    const parsed = parseCertificate(bytes);
    bytes.fill(0);
    expect(Buffer.from(parsed.der).equals(Buffer.from(leaf!.der))).toBe(true);
    expect(parseCertificate(new Uint8Array(leaf!.der)).subject).toBe(leaf!.subject);
  });
});
