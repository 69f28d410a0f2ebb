/**
 * Generates small code-signing chains (root CA → leaf) at test time with @peculiar/x509, with the
 * extensions notation's chain rules require: CA basic constraints + critical keyCertSign usage on
 * the root, critical digitalSignature usage and the codeSigning EKU on the leaf.
 */
import { webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
// Through x509-lib, which loads the Reflect polyfill @peculiar/x509 needs before it.
import { px509 as x509 } from '../../../shared/notary/x509-lib';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type KeySpec =
  { kind: 'rsa'; bits: 2048 | 3072 | 4096 | 1024 } | { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' };

export interface TestChain {
  leafKeyPem: string;
  /** Leaf first, then the root. */
  chainPem: string;
  leafPem: string;
  rootPem: string;
}

const EC_HASH = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' } as const;

async function generate(
  spec: KeySpec,
): Promise<{ keys: CryptoKeyPair; signingAlgorithm: Algorithm | EcdsaParams }> {
  if (spec.kind === 'rsa') {
    const algorithm = {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: spec.bits,
    };
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    return { keys, signingAlgorithm: algorithm };
  }
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: spec.curve }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return { keys, signingAlgorithm: { name: 'ECDSA', hash: EC_HASH[spec.curve] } as EcdsaParams };
}

async function toPkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
}

export async function makeChain(
  options: { leafKey?: KeySpec; notBefore?: Date; notAfter?: Date; leafEku?: string[] } = {},
): Promise<TestChain> {
  const notBefore = options.notBefore ?? new Date('2024-01-01T00:00:00Z');
  const notAfter = options.notAfter ?? new Date('2034-01-01T00:00:00Z');
  const root = await generate({ kind: 'ec', curve: 'P-384' });
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Stagesign Test Root,O=Stagesign,C=US',
    notBefore,
    notAfter,
    keys: root.keys,
    signingAlgorithm: root.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(root.keys.publicKey),
    ],
  });
  const leaf = await generate(options.leafKey ?? { kind: 'rsa', bits: 3072 });
  const leafCert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=Stagesign Test Signer,O=Stagesign,C=US',
    issuer: rootCert.subject,
    notBefore,
    notAfter,
    publicKey: leaf.keys.publicKey,
    signingKey: root.keys.privateKey,
    signingAlgorithm: root.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(options.leafEku ?? [x509.ExtendedKeyUsage.codeSigning], false),
      await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey),
    ],
  });
  const leafPem = leafCert.toString('pem');
  const rootPem = rootCert.toString('pem');
  return {
    leafKeyPem: await toPkcs8Pem(leaf.keys.privateKey),
    chainPem: `${leafPem}\n${rootPem}\n`,
    leafPem,
    rootPem,
  };
}
