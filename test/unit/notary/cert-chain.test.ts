import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  algorithmForKey,
  parseCertificate,
  type ParsedCertificate,
} from '../../../shared/notary/certificate';
import { validateCodeSigningCertChain } from '../../../shared/notary/cert-chain';
import { testCertificate, testKey } from './certificate-builder';

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
      'intermediate certificate with subject "CN=Chain Test Intermediate,O=Stagesign Test,C=US" is self-signed. Certificate chain must not contain self-signed intermediate certificate',
    ],
    [
      'leaf-key-usage-not-critical',
      'certificate with subject "CN=Chain Test Leaf,O=Stagesign Test,C=US": key usage extension must be marked critical',
    ],
    [
      'leaf-key-usage-missing',
      'certificate with subject "CN=Chain Test Leaf,O=Stagesign Test,C=US": key usage extension must be present',
    ],
    [
      'leaf-server-auth-eku',
      'certificate with subject "CN=Chain Test Leaf,O=Stagesign Test,C=US": extended key usage must not contain ServerAuth eku',
    ],
    [
      'intermediate-ca-false',
      'invalid certificates or certificate with subject "CN=Chain Test Leaf,O=Stagesign Test,C=US" is not issued by "CN=Chain Test Intermediate,O=Stagesign Test,C=US". Error: x509: invalid signature: parent certificate cannot sign this kind of certificate',
    ],
    [
      'leaf-rsa-1024',
      'certificate with subject "CN=Chain Test Leaf,O=Stagesign Test,C=US": rsa key size 1024 bits is not supported',
    ],
  ])("rejects %s with notation-core-go's exact text", (name, message) => {
    expect(() => validateCodeSigningCertChain(chain(name))).toThrow(
      new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
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

  it('rejects a CA whose path length is shorter than the chain below it', async () => {
    const rootKey = await testKey();
    const int1Key = await testKey();
    const int2Key = await testKey();
    const leafKey = await testKey();
    const root = 'C=US, O=Stagesign Test, CN=PathLen Root';
    const int1 = 'C=US, O=Stagesign Test, CN=PathLen Int 1';
    const int2 = 'C=US, O=Stagesign Test, CN=PathLen Int 2';
    const ders = [
      await testCertificate({
        subject: 'C=US, O=Stagesign Test, CN=PathLen Leaf',
        key: leafKey,
        issuer: { subject: int2, key: int2Key },
        ca: false,
      }),
      await testCertificate({
        subject: int2,
        key: int2Key,
        issuer: { subject: int1, key: int1Key },
        ca: true,
      }),
      await testCertificate({
        subject: int1,
        key: int1Key,
        issuer: { subject: root, key: rootKey },
        ca: true,
        pathLength: 0,
      }),
      await testCertificate({ subject: root, key: rootKey, ca: true }),
    ];
    expect(() => validateCodeSigningCertChain(ders.map(parseCertificate))).toThrow(
      'certificate with subject "CN=PathLen Int 1,O=Stagesign Test,C=US": expected path length of 1 but certificate has path length 0 instead',
    );
  });

  it('refuses a SHA-1 signed link as Go CheckSignatureFrom does, but accepts a lone SHA-1 self-signed leaf', async () => {
    const rootKey = await testKey('rsa', 'SHA-1');
    const leafKey = await testKey();
    const root = 'C=US, O=Stagesign Test, CN=SHA1 Root';
    const leaf = await testCertificate({
      subject: 'C=US, O=Stagesign Test, CN=SHA1 Leaf',
      key: leafKey,
      issuer: { subject: root, key: rootKey },
      ca: false,
      hash: 'SHA-1',
    });
    const rootDer = await testCertificate({ subject: root, key: rootKey, ca: true, hash: 'SHA-1' });
    expect(() => validateCodeSigningCertChain([parseCertificate(leaf), parseCertificate(rootDer)])).toThrow(
      'invalid certificates or certificate with subject "CN=SHA1 Leaf,O=Stagesign Test,C=US" is not issued by "CN=SHA1 Root,O=Stagesign Test,C=US". Error: x509: cannot verify signature: insecure algorithm SHA1-RSA',
    );
    const selfSigned = await testCertificate({
      subject: 'C=US, O=Stagesign Test, CN=SHA1 Self',
      key: rootKey,
      ca: false,
      hash: 'SHA-1',
    });
    expect(() => validateCodeSigningCertChain([parseCertificate(selfSigned)])).not.toThrow();
  });

  it('names issuer and subject like Go when a lone certificate is self-signed but not self-issued', async () => {
    const key = await testKey();
    const der = await testCertificate({
      subject: 'C=US, O=Stagesign Test, CN=Lone',
      key,
      issuer: { subject: 'C=US, O=Elsewhere, CN=Other Name', key },
      ca: false,
    });
    expect(() => validateCodeSigningCertChain([parseCertificate(der)])).toThrow(
      'invalid self-signed certificate. subject: "CN=Lone,O=Stagesign Test,C=US". Error: issuer(CN=Other Name,O=Elsewhere,C=US) and subject(CN=Lone,O=Stagesign Test,C=US) are not the same',
    );
  });

  it('names an unsupported EC key by its size, as notation-core-go does', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp224r1' });
    const cert = { node: { publicKey } } as unknown as ParsedCertificate;
    expect(() => algorithmForKey(cert)).toThrow(/^ecdsa key size 224 bits is not supported$/);
  });
});
