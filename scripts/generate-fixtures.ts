/**
 * Regenerates the Notary fixtures in test/fixtures/notary and the invalid trust policies in
 * test/fixtures/trust-policy (`npm run fixtures`). Keys are generated
 * once and committed (keys/*.pem), validity dates and serial numbers are fixed, so reruns change
 * only ECDSA/RSA-PSS signature bytes. Certificates are built with @peculiar/x509 (no hand-written
 * ASN.1); envelopes with the project's own `createJwsEnvelope`.
 *
 * Conditions (one file each, listed in test/fixtures/notary/README.md).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { px509 } from '../shared/notary/x509-lib';
import { createJwsEnvelope } from '../shared/notary/jws';
import { buildTestPayload, AWS_FIXTURE, awsExtendedAttributes } from '../test/helpers/test-signing-authority';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/notary');
px509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof px509.cryptoProvider.set>[0]);

type KeySpec = { kind: 'ec'; curve: 'P-256' | 'P-384' } | { kind: 'rsa'; bits: number };

/** Loads keys/<name>.key.pem, generating and writing it the first time. */
function key(name: string, spec: KeySpec): KeyObject {
  const file = path.join(OUT, 'keys', `${name}.key.pem`);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const pair =
      spec.kind === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: spec.curve })
        : generateKeyPairSync('rsa', { modulusLength: spec.bits });
    writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  return createPrivateKey(readFileSync(file));
}

async function cryptoKeys(k: KeyObject): Promise<{
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
  alg: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
}> {
  const details = k.asymmetricKeyDetails ?? {};
  const alg: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams =
    k.asymmetricKeyType === 'ec'
      ? { name: 'ECDSA', namedCurve: details.namedCurve === 'prime256v1' ? 'P-256' : 'P-384' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    k.export({ type: 'pkcs8', format: 'der' }),
    alg,
    true,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(k).export({ type: 'spki', format: 'der' }),
    alg,
    true,
    ['verify'],
  );
  return { privateKey: privateKey as webcrypto.CryptoKey, publicKey: publicKey as webcrypto.CryptoKey, alg };
}

interface CertSpec {
  serial: string;
  subject: string;
  key: KeyObject;
  issuer?: { subject: string; key: KeyObject };
  notBefore: string;
  notAfter: string;
  ca: boolean | 'omit';
  pathLength?: number;
  keyUsage?: { flags: number; critical: boolean } | 'omit';
  eku?: string[];
  ocsp?: string;
}

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const KU = px509.KeyUsageFlags;

async function cert(spec: CertSpec): Promise<Uint8Array> {
  const own = await cryptoKeys(spec.key);
  const issuerKey = spec.issuer ? await cryptoKeys(spec.issuer.key) : own;
  const extensions: px509.Extension[] = [];
  if (spec.ca !== 'omit')
    extensions.push(new px509.BasicConstraintsExtension(spec.ca, spec.pathLength, true));
  const ku =
    spec.keyUsage ??
    (spec.ca === true
      ? { flags: KU.keyCertSign | KU.cRLSign | KU.digitalSignature, critical: true }
      : { flags: KU.digitalSignature, critical: true });
  if (ku !== 'omit') extensions.push(new px509.KeyUsagesExtension(ku.flags, ku.critical));
  if (spec.eku) extensions.push(new px509.ExtendedKeyUsageExtension(spec.eku, false));
  if (spec.ocsp) extensions.push(new px509.AuthorityInfoAccessExtension({ ocsp: [spec.ocsp] }, false));
  extensions.push(await px509.SubjectKeyIdentifierExtension.create(own.publicKey));
  const signingAlgorithm =
    issuerKey.alg.name === 'ECDSA'
      ? {
          name: 'ECDSA',
          hash: (issuerKey.alg as webcrypto.EcKeyImportParams).namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384',
        }
      : issuerKey.alg;
  const c = await px509.X509CertificateGenerator.create({
    serialNumber: spec.serial,
    subject: spec.subject,
    issuer: spec.issuer?.subject ?? spec.subject,
    notBefore: new Date(spec.notBefore),
    notAfter: new Date(spec.notAfter),
    publicKey: own.publicKey,
    signingKey: issuerKey.privateKey,
    signingAlgorithm,
    extensions,
  });
  return new Uint8Array(c.rawData);
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

function write(rel: string, content: string | Uint8Array): void {
  const file = path.join(OUT, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** Re-signs an envelope after editing its protected header: for conditions createJwsEnvelope refuses to produce. */
function resign(
  envelope: Uint8Array,
  edit: (header: Record<string, unknown>) => void,
  privateKey: KeyObject,
): Uint8Array {
  const env = JSON.parse(Buffer.from(envelope).toString('utf8')) as Record<string, string>;
  const header = JSON.parse(Buffer.from(env.protected as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  edit(header);
  const sorted = Object.fromEntries(
    Object.keys(header)
      .sort()
      .map((k) => [k, header[k]]),
  );
  env.protected = Buffer.from(JSON.stringify(sorted)).toString('base64url');
  const sig = cryptoSign('sha384', Buffer.from(`${env.protected}.${env.payload}`), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  env.signature = sig.toString('base64url');
  return Buffer.from(JSON.stringify(env));
}

const json = (bytes: Uint8Array): string =>
  `${JSON.stringify(JSON.parse(Buffer.from(bytes).toString('utf8')), null, 2)}\n`;

async function main(): Promise<void> {
  // AWS-shaped 4-level P-384 chain: root → intermediate → regional CA → leaf ("AWS Signer").
  const rootKey = key('aws-root', { kind: 'ec', curve: 'P-384' });
  const intKey = key('aws-intermediate', { kind: 'ec', curve: 'P-384' });
  const regKey = key('aws-regional', { kind: 'ec', curve: 'P-384' });
  const leafKey = key('aws-leaf', { kind: 'ec', curve: 'P-384' });
  const rootSubject =
    'C=US, O=Stagesign Test, OU=Cryptography, ST=WA, CN=Stagesign Test Signer Code Signing Root CA G1';
  const intSubject =
    'C=US, O=Stagesign Test, OU=Cryptography, ST=WA, CN=Stagesign Test Signer Code Signing Int CA G1';
  const regSubject =
    'C=US, O=Stagesign Test, OU=Cryptography, ST=WA, CN=Stagesign Test Signer us-west-2 Code Signing CA G1';
  const leafSubject = 'C=US, ST=WA, L=Seattle, O=AWS, OU=AWS Cryptography, CN=AWS Signer';
  const root = await cert({
    serial: '01a1',
    subject: rootSubject,
    key: rootKey,
    notBefore: '2022-01-01T00:00:00Z',
    notAfter: '2122-01-01T00:00:00Z',
    ca: true,
  });
  const int = await cert({
    serial: '02a2',
    subject: intSubject,
    key: intKey,
    issuer: { subject: rootSubject, key: rootKey },
    notBefore: '2022-01-01T00:00:00Z',
    notAfter: '2040-01-01T00:00:00Z',
    ca: true,
    pathLength: 1,
  });
  const reg = await cert({
    serial: '03a3',
    subject: regSubject,
    key: regKey,
    issuer: { subject: intSubject, key: intKey },
    notBefore: '2024-01-01T00:00:00Z',
    notAfter: '2036-01-01T00:00:00Z',
    ca: true,
    pathLength: 0,
  });
  const leaf = await cert({
    serial: '04a4',
    subject: leafSubject,
    key: leafKey,
    issuer: { subject: regSubject, key: regKey },
    notBefore: '2024-06-01T00:00:00Z',
    notAfter: '2035-06-01T00:00:00Z',
    ca: false,
    eku: [CODE_SIGNING],
  });
  const chain = [leaf, reg, int, root];
  write('aws-chain/root.pem', pem(root));
  write('aws-chain/intermediate.pem', pem(int));
  write('aws-chain/regional.pem', pem(reg));
  write('aws-chain/leaf.pem', pem(leaf));
  write('truststore/x509/signingAuthority/test-signer-ts/root.pem', pem(root));

  // A second, unrelated chain of the same shape for "untrusted root".
  const otherRootKey = key('other-root', { kind: 'ec', curve: 'P-384' });
  const otherRootSubject = 'C=US, ST=WA, O=Elsewhere, CN=Untrusted Test Root CA';
  const otherRoot = await cert({
    serial: '05a5',
    subject: otherRootSubject,
    key: otherRootKey,
    notBefore: '2022-01-01T00:00:00Z',
    notAfter: '2122-01-01T00:00:00Z',
    ca: true,
  });
  const otherLeaf = await cert({
    serial: '06a6',
    subject: leafSubject,
    key: leafKey,
    issuer: { subject: otherRootSubject, key: otherRootKey },
    notBefore: '2024-06-01T00:00:00Z',
    notAfter: '2035-06-01T00:00:00Z',
    ca: false,
  });

  const signingTime = new Date(AWS_FIXTURE.signingTime);
  const expiry = new Date(AWS_FIXTURE.expiry);
  const payload = buildTestPayload(AWS_FIXTURE.target);
  const aws = (
    overrides: Partial<{
      profileVersionArn: string;
      jobArn: string;
      expiry: Date;
      chain: Uint8Array[];
      extra: Array<{ key: string; value: unknown; critical: boolean }>;
    }> = {},
  ) =>
    createJwsEnvelope({
      payload,
      signingScheme: 'notary.x509.signingAuthority',
      signingTime,
      expiry: overrides.expiry ?? expiry,
      extendedAttributes: [
        ...awsExtendedAttributes(
          overrides.profileVersionArn ?? AWS_FIXTURE.profileVersionArn,
          overrides.jobArn ?? AWS_FIXTURE.jobArn,
        ),
        ...(overrides.extra ?? []),
      ],
      verificationPlugin: 'com.amazonaws.signer.notation.plugin',
      certificateChain: overrides.chain ?? chain,
      privateKey: leafKey,
    });

  const valid = aws();
  write('envelopes/aws_valid.jws.json', json(valid));
  write(
    'envelopes/aws_expired.jws.json',
    json(aws({ expiry: new Date(signingTime.getTime() + 24 * 3600 * 1000) })),
  );
  const tampered = JSON.parse(Buffer.from(valid).toString('utf8')) as Record<string, string>;
  const forged = buildTestPayload({ ...AWS_FIXTURE.target, digest: `sha256:${'0'.repeat(64)}` });
  tampered.payload = Buffer.from(forged).toString('base64url');
  write('envelopes/aws_tampered.jws.json', `${JSON.stringify(tampered, null, 2)}\n`);
  write(
    'envelopes/aws_wrong_identity.jws.json',
    json(
      aws({
        profileVersionArn: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/other_profile/Zz9YxW8vU7',
        jobArn: 'arn:aws:signer:us-west-2:111122223333:/signing-jobs/6a1c4bf6-5c4d-4f21-9d0a-1f1e4d7f9b10',
      }),
    ),
  );
  write(
    'envelopes/aws_signing_time_outside_validity.jws.json',
    json(
      resign(
        valid,
        (h) => {
          h['io.cncf.notary.authenticSigningTime'] = '2024-05-01T00:00:00Z';
        },
        leafKey,
      ),
    ),
  );
  write(
    'envelopes/aws_unknown_critical_attribute.jws.json',
    json(aws({ extra: [{ key: 'com.example.unknown', value: 'x', critical: true }] })),
  );
  write(
    'envelopes/aws_revoked.jws.json',
    json(
      aws({
        jobArn: 'arn:aws:signer:us-west-2:111122223333:/signing-jobs/0b5e2d44-revoked-job-000000000000',
      }),
    ),
  );
  write('envelopes/aws_untrusted_root.jws.json', json(aws({ chain: [otherLeaf, otherRoot] })));
  const padded = JSON.parse(Buffer.from(valid).toString('utf8')) as Record<string, string>;
  padded.payload = `${padded.payload}=`;
  write('envelopes/aws_padded_base64url.jws.json', `${JSON.stringify(padded, null, 2)}\n`);

  // notary.x509 envelopes: RSA-PSS (PS256, PS384) and ECDSA (ES256), root → leaf.
  const x509Target = AWS_FIXTURE.target;
  for (const [name, spec, alg] of [
    ['x509_ps256', { kind: 'rsa', bits: 2048 }, 'PS256'],
    ['x509_ps384', { kind: 'rsa', bits: 3072 }, 'PS384'],
    ['x509_es256', { kind: 'ec', curve: 'P-256' }, 'ES256'],
  ] as const) {
    const caKey = key(`${name}-root`, spec);
    const signKey = key(`${name}-leaf`, spec);
    const caSubject = `C=US, ST=WA, O=Stagesign Test, CN=Stagesign Test ${alg} Root`;
    const ca = await cert({
      serial: '10b1',
      subject: caSubject,
      key: caKey,
      notBefore: '2024-01-01T00:00:00Z',
      notAfter: '2124-01-01T00:00:00Z',
      ca: true,
    });
    const lf = await cert({
      serial: '11b2',
      subject: `C=US, ST=WA, L=Seattle, O=Stagesign Test, CN=stagesign-test-${alg.toLowerCase()}`,
      key: signKey,
      issuer: { subject: caSubject, key: caKey },
      notBefore: '2024-01-01T00:00:00Z',
      notAfter: '2124-01-01T00:00:00Z',
      ca: false,
      eku: [CODE_SIGNING],
    });
    write(`truststore/x509/ca/${name}/root.pem`, pem(ca));
    write(
      `envelopes/${name}.jws.json`,
      json(
        createJwsEnvelope({
          payload: buildTestPayload(x509Target),
          signingScheme: 'notary.x509',
          signingTime,
          certificateChain: [lf, ca],
          privateKey: signKey,
          signingAgent: 'stagesign-fixtures/1.0.0',
        }),
      ),
    );
  }
  // notary.x509 leaf naming an OCSP responder: revocation status is unknown to stagesign.
  {
    const caKey = key('x509_es256-root', { kind: 'ec', curve: 'P-256' });
    const signKey = key('x509_es256-leaf', { kind: 'ec', curve: 'P-256' });
    const caSubject = 'C=US, ST=WA, O=Stagesign Test, CN=Stagesign Test ES256 Root';
    const ca = await cert({
      serial: '10b1',
      subject: caSubject,
      key: caKey,
      notBefore: '2024-01-01T00:00:00Z',
      notAfter: '2124-01-01T00:00:00Z',
      ca: true,
    });
    const lf = await cert({
      serial: '12b3',
      subject: 'C=US, ST=WA, L=Seattle, O=Stagesign Test, CN=stagesign-test-ocsp',
      key: signKey,
      issuer: { subject: caSubject, key: caKey },
      notBefore: '2024-01-01T00:00:00Z',
      notAfter: '2124-01-01T00:00:00Z',
      ca: false,
      eku: [CODE_SIGNING],
      ocsp: 'http://ocsp.example.invalid',
    });
    write('truststore/x509/ca/x509_es256_ocsp/root.pem', pem(ca));
    write(
      'envelopes/x509_es256_ocsp_leaf.jws.json',
      json(
        createJwsEnvelope({
          payload: buildTestPayload(x509Target),
          signingScheme: 'notary.x509',
          signingTime,
          certificateChain: [lf, ca],
          privateKey: signKey,
        }),
      ),
    );
  }

  // Chain-rule fixtures: each chain breaks exactly one rule (leaf first).
  const ck = key('chain-ca', { kind: 'ec', curve: 'P-256' });
  const ik = key('chain-int', { kind: 'ec', curve: 'P-256' });
  const lk = key('chain-leaf', { kind: 'ec', curve: 'P-256' });
  const smallRsa = key('chain-leaf-rsa1024', { kind: 'rsa', bits: 1024 });
  const caS = 'C=US, O=Stagesign Test, CN=Chain Test Root';
  const intS = 'C=US, O=Stagesign Test, CN=Chain Test Intermediate';
  const base = { notBefore: '2024-01-01T00:00:00Z', notAfter: '2124-01-01T00:00:00Z' };
  const chainRoot = await cert({ serial: '20c1', subject: caS, key: ck, ca: true, ...base });
  const goodInt = await cert({
    serial: '21c2',
    subject: intS,
    key: ik,
    issuer: { subject: caS, key: ck },
    ca: true,
    ...base,
  });
  const leafUnder = (serial: string, extra: Partial<CertSpec>, k: KeyObject = lk) =>
    cert({
      serial,
      subject: 'C=US, O=Stagesign Test, CN=Chain Test Leaf',
      key: k,
      issuer: { subject: intS, key: ik },
      ca: false,
      eku: [CODE_SIGNING],
      ...base,
      ...extra,
    });
  const goodLeaf = await leafUnder('22c3', {});
  const chains: Record<string, Uint8Array[]> = {
    valid: [goodLeaf, goodInt, chainRoot],
    'self-signed-intermediate': [
      goodLeaf,
      await cert({ serial: '23c4', subject: intS, key: ik, ca: true, ...base }),
      chainRoot,
    ],
    'leaf-key-usage-not-critical': [
      await leafUnder('24c5', { keyUsage: { flags: KU.digitalSignature, critical: false } }),
      goodInt,
      chainRoot,
    ],
    'leaf-key-usage-missing': [await leafUnder('25c6', { keyUsage: 'omit' }), goodInt, chainRoot],
    'leaf-server-auth-eku': [
      await leafUnder('26c7', { eku: [CODE_SIGNING, '1.3.6.1.5.5.7.3.1'] }),
      goodInt,
      chainRoot,
    ],
    'intermediate-ca-false': [
      goodLeaf,
      await cert({
        serial: '27c8',
        subject: intS,
        key: ik,
        issuer: { subject: caS, key: ck },
        ca: false,
        keyUsage: { flags: KU.keyCertSign | KU.digitalSignature, critical: true },
        ...base,
      }),
      chainRoot,
    ],
    'leaf-rsa-1024': [await leafUnder('28c9', {}, smallRsa), goodInt, chainRoot],
  };
  for (const [name, certs] of Object.entries(chains)) write(`chains/${name}.pem`, certs.map(pem).join(''));
}

await main();
// The invalid trust policies (one per notation validation rule) have their own generator beside them.
await import('../test/fixtures/trust-policy/generate');
// The kyverno-notation-aws log fixtures (one per check-admission trap) too.
await import('../test/fixtures/kyverno-logs/generate');
