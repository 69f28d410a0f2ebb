/**
 * x509-extensions.ts reads what @peculiar/x509's X509Certificate used to give the chain rules
 * (basic constraints, key usage, EKU, OCSP/CRL locations, validity): the same answers for every
 * certificate the repository holds (fixtures, the conformance vectors, the AWS Signer roots) and
 * for generated ones with each extension, and a malformed extension still fails the certificate.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { AWS_SIGNER_ROOT_PEM, AWS_US_GOV_SIGNER_ROOT_PEM } from '../../../shared/notary/aws-signer-roots';
import { parseCertificate } from '../../../shared/notary/certificate';
import { certificateExtensions } from '../../../shared/notary/x509-extensions';
import { px509 } from '../../../shared/notary/x509-lib';
import { testKey } from './certificate-builder';

px509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof px509.cryptoProvider.set>[0]);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

function pemBlocks(text: string): Uint8Array[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map(
    (m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')),
  );
}

/** What the chain rules read, through @peculiar/x509 (the reference). */
function viaLibrary(der: Uint8Array) {
  const cert = new px509.X509Certificate(der);
  const bc = cert.getExtension(px509.BasicConstraintsExtension);
  const ku = cert.getExtension(px509.KeyUsagesExtension);
  const eku = cert.getExtension(px509.ExtendedKeyUsageExtension);
  const aia = cert.getExtension(px509.AuthorityInfoAccessExtension);
  const crl = cert.getExtension(px509.CRLDistributionPointsExtension);
  return {
    basicConstraints: bc
      ? {
          critical: bc.critical,
          ca: bc.ca,
          ...(bc.pathLength !== undefined ? { pathLength: bc.pathLength } : {}),
        }
      : null,
    keyUsage: ku ? { critical: ku.critical, usages: ku.usages as number } : null,
    extendedKeyUsage: eku ? eku.usages.map(String) : null,
    ocspResponders: aia ? aia.ocsp.length : 0,
    crlDistributionPoints: crl ? crl.distributionPoints.length : 0,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
  };
}

function viaExtensions(der: Uint8Array) {
  const parsed = parseCertificate(der);
  return {
    ...parsed.extensions,
    notBefore: parsed.notBefore.toISOString(),
    notAfter: parsed.notAfter.toISOString(),
  };
}

const certificates = [
  ...[path.join(ROOT, 'test/fixtures/notary'), path.join(ROOT, '../shared/vectors')].flatMap((dir) =>
    files(dir)
      .filter((f) => /\.(pem|crt|cer)$/.test(f))
      .flatMap((f) =>
        pemBlocks(readFileSync(f, 'utf8')).map((der, i) => ({ name: `${path.relative(ROOT, f)}#${i}`, der })),
      ),
  ),
  ...pemBlocks(AWS_SIGNER_ROOT_PEM).map((der) => ({ name: 'AWS Signer root', der })),
  ...pemBlocks(AWS_US_GOV_SIGNER_ROOT_PEM).map((der) => ({ name: 'AWS Signer GovCloud root', der })),
].filter(({ der }) => {
  // Only certificates both sides can read (some vectors are deliberately broken).
  try {
    return new px509.X509Certificate(der).extensions.length >= 0;
  } catch {
    return false;
  }
});

async function generated(extensions: px509.Extension[]): Promise<Uint8Array> {
  const key = await testKey('ec');
  const cert = await px509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=x509-extensions test',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    keys: { privateKey: key.privateKey, publicKey: key.publicKey },
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return new Uint8Array(cert.rawData);
}

describe('certificateExtensions', () => {
  it('reads the same extensions and validity as @peculiar/x509 for every certificate in the repository', () => {
    expect(certificates.length).toBeGreaterThanOrEqual(40);
    const views = certificates.map(({ name, der }) => ({
      name,
      ours: viaExtensions(der),
      ref: viaLibrary(der),
    }));
    for (const { name, ours, ref } of views) expect({ name, ...ours }).toEqual({ name, ...ref });
    // The comparison covers each field with real values, not only absent extensions.
    expect(views.some((v) => v.ours.basicConstraints?.ca === true)).toBe(true);
    expect(views.some((v) => v.ours.basicConstraints?.ca === false)).toBe(true);
    expect(views.some((v) => v.ours.keyUsage?.critical === false)).toBe(true);
    expect(views.some((v) => (v.ours.extendedKeyUsage ?? []).length > 0)).toBe(true);
  });

  it('reads path length, OCSP responders and CRL distribution points like @peculiar/x509', async () => {
    const der = await generated([
      new px509.BasicConstraintsExtension(true, 2, true),
      new px509.KeyUsagesExtension(px509.KeyUsageFlags.keyCertSign | px509.KeyUsageFlags.cRLSign, true),
      new px509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.8']),
      new px509.AuthorityInfoAccessExtension({
        ocsp: ['http://ocsp.example/a', 'http://ocsp.example/b'],
        caIssuers: ['http://ca.example/ca.crt'],
      }),
      new px509.CRLDistributionPointsExtension(['http://crl.example/a.crl']),
    ]);
    expect(viaExtensions(der)).toEqual(viaLibrary(der));
    expect(viaExtensions(der)).toMatchObject({
      basicConstraints: { critical: true, ca: true, pathLength: 2 },
      keyUsage: { critical: true, usages: 32 | 64 },
      extendedKeyUsage: ['1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.8'],
      ocspResponders: 2,
      crlDistributionPoints: 1,
    });
  });

  it.each([
    ['basic constraints (a known type)', '2.5.29.19'],
    ['an unknown type', '1.2.3.4.5'],
  ])(
    "refuses a certificate with two extensions of %s, as Go's x509.ParseCertificate does",
    async (_what, oid) => {
      const twice =
        oid === '2.5.29.19'
          ? [
              new px509.BasicConstraintsExtension(false, undefined, true),
              new px509.BasicConstraintsExtension(true, 0, true),
            ]
          : [
              new px509.Extension(oid, false, new Uint8Array([0x05, 0x00])),
              new px509.Extension(oid, false, new Uint8Array([0x05, 0x00])),
            ];
      const der = await generated(twice);
      expect(() => certificateExtensions(AsnConvert.parse(der, Certificate))).toThrow(
        'x509: certificate contains duplicate extensions',
      );
    },
  );

  it('fails a certificate whose extension of a known type is malformed, even one the rules do not read', async () => {
    const der = await generated([
      new px509.BasicConstraintsExtension(false, undefined, true),
      // subjectKeyIdentifier whose value is not an OCTET STRING
      new px509.Extension('2.5.29.14', false, new Uint8Array([0x02, 0x01, 0x05])),
    ]);
    expect(() => certificateExtensions(AsnConvert.parse(der, Certificate))).toThrow();
    expect(() => new px509.X509Certificate(der).getExtension(px509.BasicConstraintsExtension)).toThrow();
  });

  it('ignores extensions of types it does not decode', async () => {
    const der = await generated([new px509.Extension('1.2.3.4.5', true, new Uint8Array([0xff]))]);
    expect(certificateExtensions(AsnConvert.parse(der, Certificate))).toEqual({
      basicConstraints: null,
      keyUsage: null,
      extendedKeyUsage: null,
      ocspResponders: 0,
      crlDistributionPoints: 0,
    });
  });
});
