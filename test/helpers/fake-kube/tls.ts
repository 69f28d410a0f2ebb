/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1/localhost, made at
 * start-up with @peculiar/x509 on Node's WebCrypto. The CA is handed to clients the way EKS hands
 * it out: `caData` is the base64 of the PEM (DescribeCluster's `certificateAuthority.data`).
 */
import { webcrypto } from 'node:crypto';
import { px509 } from '../../../shared/notary/x509-lib';

px509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof px509.cryptoProvider.set>[0]);

export interface TestTls {
  /** PEM of the CA certificate. */
  caPem: string;
  /** base64(PEM), as EKS `certificateAuthority.data` and kubeconfig `certificate-authority-data`. */
  caData: string;
  /** Server certificate chain (leaf, then CA) and key, PEM, for `https.createServer`. */
  certPem: string;
  keyPem: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

export async function createTestTls(now = new Date()): Promise<TestTls> {
  const notBefore = new Date(now.getTime() - 60 * 60_000);
  const notAfter = new Date(now.getTime() + 24 * 60 * 60_000);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const ca = await px509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=kubernetes',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new px509.BasicConstraintsExtension(true, undefined, true),
      new px509.KeyUsagesExtension(px509.KeyUsageFlags.keyCertSign | px509.KeyUsageFlags.cRLSign, true),
      await px509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const leaf = await px509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=kube-apiserver',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new px509.BasicConstraintsExtension(false, undefined, true),
      new px509.KeyUsagesExtension(px509.KeyUsageFlags.digitalSignature, true),
      new px509.ExtendedKeyUsageExtension([px509.ExtendedKeyUsage.serverAuth]),
      new px509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
        { type: 'dns', value: 'kubernetes.default.svc' },
      ]),
      await px509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const caPem = ca.toString('pem') + '\n';
  return {
    caPem,
    caData: Buffer.from(caPem).toString('base64'),
    certPem: leaf.toString('pem') + '\n' + caPem,
    keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey)),
  };
}
