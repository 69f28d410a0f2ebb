/**
 * Test-only builders for certificates and envelopes with conditions the committed fixtures do not
 * cover (unusual subjects, SHA-1 signatures, path lengths, broken links): certificates are made
 * with @peculiar/x509, envelopes are signed like notation-core-go but without the re-parse that
 * `createJwsEnvelope` does, so a chain that breaks a rule can still be put in an envelope.
 */
import {
  createPrivateKey,
  generateKeyPairSync,
  sign as cryptoSign,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { encodeProtectedHeader, type CreateJwsEnvelopeInput } from '../../../shared/notary/jws';
import { algorithmForKey, parseCertificate } from '../../../shared/notary/certificate';
import { px509 } from '../../../shared/notary/x509-lib';

px509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof px509.cryptoProvider.set>[0]);

/** A key pair usable both by webcrypto (certificates) and node:crypto (envelopes). */
export interface TestKey {
  node: KeyObject;
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
  kind: 'ec' | 'rsa';
}

/** A fresh P-256 key, or an RSA-2048 key whose certificates are signed with `hash`. */
export async function testKey(kind: 'ec' | 'rsa' = 'ec', hash = 'SHA-256'): Promise<TestKey> {
  const pair =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const alg = kind === 'ec' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSASSA-PKCS1-v1_5', hash };
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    alg,
    true,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    pair.publicKey.export({ type: 'spki', format: 'der' }),
    alg,
    true,
    ['verify'],
  );
  return {
    node: createPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    privateKey,
    publicKey,
    kind,
  };
}

/** A subject as text (`CN=a, O=b`) or as @peculiar/x509 JSON (one object per RDN, OID or name → values). */
export type TestName = string | px509.JsonName;

export interface TestCertificate {
  subject: TestName;
  key: TestKey;
  issuer?: { subject: TestName; key: TestKey };
  ca: boolean;
  pathLength?: number;
  /** Hash of the issuer's signature; `SHA-1` gives a `sha1WithRSAEncryption` certificate (RSA issuers). */
  hash?: 'SHA-1' | 'SHA-256';
  notBefore?: string;
  notAfter?: string;
}

let serial = 0x1000;

/** DER of a certificate for `spec` (CA: keyCertSign; leaf: digitalSignature + codeSigning EKU, critical key usage). */
export async function testCertificate(spec: TestCertificate): Promise<Uint8Array> {
  const issuerKey = spec.issuer?.key ?? spec.key;
  const KU = px509.KeyUsageFlags;
  const extensions: px509.Extension[] = [
    new px509.BasicConstraintsExtension(spec.ca, spec.pathLength, true),
    new px509.KeyUsagesExtension(spec.ca ? KU.keyCertSign | KU.cRLSign : KU.digitalSignature, true),
  ];
  if (!spec.ca) extensions.push(new px509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.3'], false));
  const hash = spec.hash ?? 'SHA-256';
  const signingAlgorithm =
    issuerKey.kind === 'ec' ? { name: 'ECDSA', hash } : { name: 'RSASSA-PKCS1-v1_5', hash };
  const name = (n: TestName) => (typeof n === 'string' ? n : new px509.Name(n));
  const cert = await px509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16),
    subject: name(spec.subject),
    issuer: name(spec.issuer?.subject ?? spec.subject),
    notBefore: new Date(spec.notBefore ?? '2024-01-01T00:00:00Z'),
    notAfter: new Date(spec.notAfter ?? '2124-01-01T00:00:00Z'),
    publicKey: spec.key.publicKey,
    signingKey: issuerKey.privateKey,
    signingAlgorithm,
    extensions,
  });
  return new Uint8Array(cert.rawData);
}

/** A root → leaf chain (DER, leaf first) whose leaf has `leafSubject`. */
export async function testChain(
  leafSubject: TestName,
  rootSubject: TestName = 'C=US, ST=WA, O=Stagesign Test, CN=Builder Root',
): Promise<{ chain: Uint8Array[]; leafKey: TestKey; rootDer: Uint8Array }> {
  const rootKey = await testKey();
  const leafKey = await testKey();
  const rootDer = await testCertificate({ subject: rootSubject, key: rootKey, ca: true });
  const leaf = await testCertificate({
    subject: leafSubject,
    key: leafKey,
    issuer: { subject: rootSubject, key: rootKey },
    ca: false,
  });
  return { chain: [leaf, rootDer], leafKey, rootDer };
}

/**
 * A flattened JWS envelope signed by `privateKey` over `certificateChain`, built like
 * `createJwsEnvelope` but without re-parsing it, so chains that break a rule can be enveloped.
 */
export function testEnvelope(
  input: Omit<CreateJwsEnvelopeInput, 'privateKey'> & {
    privateKey: KeyObject;
    timestampSignature?: Uint8Array;
  },
): Uint8Array {
  const alg = algorithmForKey(parseCertificate(input.certificateChain[0]!));
  const protectedB64 = Buffer.from(encodeProtectedHeader({ ...input, alg })).toString('base64url');
  const payloadB64 = Buffer.from(input.payload).toString('base64url');
  const data = Buffer.from(`${protectedB64}.${payloadB64}`);
  const hash = `sha${alg.slice(2)}`;
  const signature = alg.startsWith('ES')
    ? cryptoSign(hash, data, { key: input.privateKey, dsaEncoding: 'ieee-p1363' })
    : cryptoSign(hash, data, { key: input.privateKey, padding: 6, saltLength: Number(alg.slice(2)) / 8 });
  const header: Record<string, unknown> = {
    x5c: input.certificateChain.map((der) => Buffer.from(der).toString('base64')),
  };
  if (input.timestampSignature)
    header['io.cncf.notary.timestampSignature'] = Buffer.from(input.timestampSignature).toString('base64');
  return new Uint8Array(
    Buffer.from(
      JSON.stringify({
        payload: payloadB64,
        protected: protectedB64,
        header,
        signature: signature.toString('base64url'),
      }),
    ),
  );
}
