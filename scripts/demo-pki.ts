/**
 * The demo's local signing PKI: a root CA and a code-signing leaf, both ECDSA P-384 (the key type
 * AWS Signer uses), made with `@peculiar/x509` on WebCrypto. Written as PEM files and reused on
 * later runs while the leaf stays valid for at least a day.
 *
 * The leaf follows notation's certificate rules (notary-and-signer.md §3.5): CA:FALSE, keyUsage
 * critical digitalSignature, EKU codeSigning; the root: CA:TRUE, keyUsage critical keyCertSign.
 */
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { px509 } from '../shared/notary/x509-lib';

/** Subject of the demo's signing certificate; `x509.subject:` identities must name C, ST and O. */
export const DEMO_SIGNER_SUBJECT = 'CN=stagesign demo signer,O=stagesign demo,ST=WA,C=US';
const ROOT_SUBJECT = 'CN=stagesign demo root CA,O=stagesign demo,ST=WA,C=US';
/**
 * The DER order of a distinguished name is the written order here, so the names are written
 * country first (as CAs issue them); Go and notation then print them `CN=…,O=…,ST=…,C=…`.
 */
function encodedOrder(dn: string): string {
  return dn.split(',').reverse().join(', ');
}
const DAY_MS = 24 * 60 * 60 * 1000;

/** PEM texts of the demo PKI. */
export interface DemoPki {
  rootPem: string;
  leafPem: string;
  /** PKCS#8 PEM of the leaf's private key. */
  leafKeyPem: string;
  /** Leaf then root: what a local signer's `--cert` file holds. */
  chainPem: string;
}

const FILES = { root: 'root.pem', leaf: 'leaf.pem', key: 'leaf.key.pem', chain: 'chain.pem' } as const;

const EC_P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const SIGN_P384 = { name: 'ECDSA', hash: 'SHA-384' } as const;

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A fresh root CA and leaf, valid from an hour before `now` (clock skew) for ten years and one year. */
export async function createDemoPki(now: Date): Promise<DemoPki> {
  px509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof px509.cryptoProvider.set>[0]);
  const rootKeys = (await webcrypto.subtle.generateKey(EC_P384, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const leafKeys = (await webcrypto.subtle.generateKey(EC_P384, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const root = await px509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: encodedOrder(ROOT_SUBJECT),
    issuer: encodedOrder(ROOT_SUBJECT),
    notBefore,
    notAfter: new Date(now.getTime() + 3650 * DAY_MS),
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: SIGN_P384,
    extensions: [
      new px509.BasicConstraintsExtension(true, 1, true),
      new px509.KeyUsagesExtension(px509.KeyUsageFlags.keyCertSign | px509.KeyUsageFlags.cRLSign, true),
      await px509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const leaf = await px509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: encodedOrder(DEMO_SIGNER_SUBJECT),
    issuer: encodedOrder(ROOT_SUBJECT),
    notBefore,
    notAfter: new Date(now.getTime() + 365 * DAY_MS),
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: SIGN_P384,
    extensions: [
      new px509.BasicConstraintsExtension(false, undefined, true),
      new px509.KeyUsagesExtension(px509.KeyUsageFlags.digitalSignature, true),
      new px509.ExtendedKeyUsageExtension([px509.ExtendedKeyUsage.codeSigning], false),
      await px509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await px509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const rootPem = toPem(root.rawData, 'CERTIFICATE');
  const leafPem = toPem(leaf.rawData, 'CERTIFICATE');
  const leafKeyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey), 'PRIVATE KEY');
  return { rootPem, leafPem, leafKeyPem, chainPem: leafPem + rootPem };
}

/**
 * The PKI stored in `dir`, reused when all files are present, parse, belong together and the leaf
 * is valid for at least another day at `now`; otherwise a new one is created and written.
 */
export async function loadOrCreateDemoPki(dir: string, now: Date): Promise<DemoPki & { created: boolean }> {
  const existing = await readPki(dir);
  if (existing !== undefined && usable(existing, now)) return { ...existing, created: false };
  const pki = await createDemoPki(now);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, FILES.root), pki.rootPem);
  await writeFile(path.join(dir, FILES.leaf), pki.leafPem);
  await writeFile(path.join(dir, FILES.key), pki.leafKeyPem, { mode: 0o600 });
  await writeFile(path.join(dir, FILES.chain), pki.chainPem);
  return { ...pki, created: true };
}

async function readPki(dir: string): Promise<DemoPki | undefined> {
  try {
    const [rootPem, leafPem, leafKeyPem, chainPem] = await Promise.all(
      [FILES.root, FILES.leaf, FILES.key, FILES.chain].map((f) => readFile(path.join(dir, f), 'utf8')),
    );
    return { rootPem: rootPem!, leafPem: leafPem!, leafKeyPem: leafKeyPem!, chainPem: chainPem! };
  } catch {
    return undefined;
  }
}

function usable(pki: DemoPki, now: Date): boolean {
  try {
    const root = new X509Certificate(pki.rootPem);
    const leaf = new X509Certificate(pki.leafPem);
    const key = createPrivateKey(pki.leafKeyPem);
    return (
      leaf.checkIssued(root) &&
      leaf.verify(root.publicKey) &&
      leaf.checkPrivateKey(key) &&
      new Date(leaf.validFrom).getTime() <= now.getTime() &&
      new Date(leaf.validTo).getTime() > now.getTime() + DAY_MS &&
      new Date(root.validTo).getTime() > now.getTime() + DAY_MS
    );
  } catch {
    return false;
  }
}
