/**
 * Cases where several things fail at once, or the input is unusual, and stagesign must still give
 * notation's verdict and its first error text (notation-go `verifier.processSignature`).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { matchAwsTrustedIdentity } from '../../../shared/notary/aws-signer-plugin';
import { AWS_SIGNER_ROOT_PEM } from '../../../shared/notary/aws-signer-roots';
import { parseCertificate } from '../../../shared/notary/certificate';
import { createJwsEnvelope, HeaderKey, type ExtendedAttribute } from '../../../shared/notary/jws';
import * as msg from '../../../shared/notary/messages';
import type { TrustPolicyStatement } from '../../../shared/notary/trust-policy';
import { TrustStoreSet, trustStoreFromPem } from '../../../shared/notary/trust-store';
import type { RevocationChecker } from '../../../shared/notary/types';
import { verifyArtifact, verifySignature } from '../../../shared/notary/verifier';
import {
  AWS_FIXTURE,
  awsExtendedAttributes,
  buildTestPayload,
  loadTestSigningAuthority,
} from '../../helpers/test-signing-authority';
import { testChain, testEnvelope, type TestName } from './certificate-builder';

const fixture = (rel: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/notary/${rel}`, import.meta.url)));
const envelope = (name: string) => new Uint8Array(fixture(`envelopes/${name}.jws.json`));
const NOW = new Date('2026-01-15T00:00:00Z');
const JWS = 'application/jose+json';
const target = AWS_FIXTURE.target;
const SIGNING_TIME = new Date(AWS_FIXTURE.signingTime);
const notRevoked: RevocationChecker = { getRevocationStatus: async () => ({ revokedEntities: [] }) };

const stores = new TrustStoreSet([
  trustStoreFromPem('signingAuthority', 'test-signer-ts', fixture('aws-chain/root.pem').toString()),
  trustStoreFromPem('ca', 'x509_es256', fixture('truststore/x509/ca/x509_es256/root.pem').toString()),
  trustStoreFromPem('ca', 'x509_ps256', fixture('truststore/x509/ca/x509_ps256/root.pem').toString()),
]);

type Level = TrustPolicyStatement['signatureVerification']['level'];

function policy(
  trustStores: string[],
  trustedIdentities: string[],
  level: Level = 'strict',
  extra: Partial<TrustPolicyStatement['signatureVerification']> = {},
): TrustPolicyStatement {
  return {
    name: 'parity',
    registryScopes: ['*'],
    signatureVerification: { level, ...extra },
    trustStores,
    trustedIdentities,
  };
}

const awsPolicy = (level: Level = 'strict', identities: string[] = [AWS_FIXTURE.profileArn]) =>
  policy([AWS_FIXTURE.trustStore], identities, level);
const x509Policy = (
  identities = ['x509.subject:C=US,ST=WA,O=Stagesign Test'],
  level: Level = 'strict',
  trustStores = ['ca:x509_es256'],
  extra: Partial<TrustPolicyStatement['signatureVerification']> = {},
) => policy(trustStores, identities, level, extra);

async function verify(bytes: Uint8Array, statement: TrustPolicyStatement, trustStores = stores, now = NOW) {
  return verifySignature({
    envelope: bytes,
    envelopeMediaType: JWS,
    target,
    policy: statement,
    trustStores,
    revocationChecker: notRevoked,
    now,
  });
}

/** An AWS-shaped envelope from the fixture signing authority, with changes. */
function awsEnvelope(
  options: { expiry?: Date; extra?: ExtendedAttribute[]; profileVersionArn?: string } = {},
) {
  const { chain, leafKey } = loadTestSigningAuthority();
  return createJwsEnvelope({
    payload: buildTestPayload(target),
    signingScheme: 'notary.x509.signingAuthority',
    signingTime: SIGNING_TIME,
    expiry: options.expiry ?? new Date(AWS_FIXTURE.expiry),
    extendedAttributes: [
      ...awsExtendedAttributes(
        options.profileVersionArn ?? AWS_FIXTURE.profileVersionArn,
        AWS_FIXTURE.jobArn,
      ),
      ...(options.extra ?? []),
    ],
    verificationPlugin: msg.AWS_SIGNER_PLUGIN,
    certificateChain: chain,
    privateKey: leafKey,
  });
}

/** A notary.x509 envelope from the ES256 fixture chain, with extra protected headers. */
function x509Envelope(extra: ExtendedAttribute[] = [], verificationPlugin?: string) {
  const parsed = JSON.parse(fixture('envelopes/x509_es256.jws.json').toString()) as {
    header: { x5c: string[] };
  };
  return createJwsEnvelope({
    payload: buildTestPayload(target),
    signingScheme: 'notary.x509',
    signingTime: SIGNING_TIME,
    extendedAttributes: extra,
    ...(verificationPlugin !== undefined ? { verificationPlugin } : {}),
    certificateChain: parsed.header.x5c.map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))),
    privateKey: createPrivateKey(fixture('keys/x509_es256-leaf.key.pem')),
  });
}

describe('x509.subject matching reads the leaf subject as Go prints it', () => {
  async function leafWith(subject: TestName) {
    const { chain, leafKey, rootDer } = await testChain(subject);
    const pem = new X509Certificate(rootDer).toString();
    const bytes = testEnvelope({
      payload: buildTestPayload(target),
      signingScheme: 'notary.x509',
      signingTime: SIGNING_TIME,
      certificateChain: chain,
      privateKey: leafKey.node,
    });
    const set = new TrustStoreSet([trustStoreFromPem('ca', 'builder', pem)]);
    return {
      subject: parseCertificate(chain[0]!).subject,
      run: (identity: string, level: Level = 'strict') =>
        verify(bytes, policy(['ca:builder'], [`x509.subject:${identity}`], level), set),
    };
  }

  it('prints the subject in Go order, with Go escaping, and matches an identity with an escaped comma', async () => {
    const leaf = await leafWith([{ CN: ['leaf'] }, { O: ['Acme, Inc.'] }, { C: ['US'] }, { ST: ['WA'] }]);
    expect(leaf.subject).toBe('CN=leaf,O=Acme\\, Inc.,ST=WA,C=US');
    expect(await leaf.run('C=US,ST=WA,O=Acme\\, Inc.')).toMatchObject({ passed: true });
    expect(await leaf.run('C=US,ST=WA,O=Acme')).toMatchObject({ passed: false, code: 'IDENTITY_MISMATCH' });
  });

  it('joins two OUs into one multi-valued RDN and fails with the subject parse error, as notation does', async () => {
    const leaf = await leafWith([
      { C: ['US'] },
      { ST: ['WA'] },
      { O: ['Acme'] },
      { OU: ['a'] },
      { OU: ['b'] },
    ]);
    expect(leaf.subject).toBe('OU=a+OU=b,O=Acme,ST=WA,C=US');
    const verdict = await leaf.run('C=US,ST=WA,O=Acme,OU=b');
    expect(verdict).toMatchObject({
      passed: false,
      code: 'IDENTITY_MISMATCH',
      error: msg.leafSubjectUnparsableMessage(
        'distinguished name (DN) "OU=a+OU=b,O=Acme,ST=WA,C=US" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported',
      ),
    });
    expect(verdict.error).toBe(
      'error while parsing the certificate subject from the digital signature. error : "distinguished name (DN) \\"OU=a+OU=b,O=Acme,ST=WA,C=US\\" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported"',
    );
  });

  it('prints attributes Go does not name as OID=#hex and fails them, as notation rejects "=#"', async () => {
    const leaf = await leafWith([
      { C: ['US'] },
      { ST: ['WA'] },
      { O: ['Acme'] },
      { '1.2.840.113549.1.9.1': ['a@b.c'] },
    ]);
    // Go re-marshals the value: "a@b.c" is not PrintableString ('@'), so UTF8String (0x0c).
    const hex = `0c05${Buffer.from('a@b.c').toString('hex')}`;
    expect(leaf.subject).toBe(`O=Acme,ST=WA,C=US,1.2.840.113549.1.9.1=#${hex}`);
    const verdict = await leaf.run('C=US,ST=WA,O=Acme');
    expect(verdict.passed).toBe(false);
    expect(verdict.error).toMatch(
      /^error while parsing the certificate subject from the digital signature\. error : "unsupported distinguished name \(DN\)/,
    );
  });

  it('escapes leading and trailing spaces and `;<>+"`, leaves an inner "#", and keeps only the last CN', async () => {
    const leaf = await leafWith([
      { C: ['US'] },
      { ST: ['WA'] },
      { O: ['a#b;<>+"'] },
      { L: [' padded '] },
      { CN: ['first'] },
      { CN: ['last'] },
    ]);
    expect(leaf.subject).toBe('CN=last,O=a#b\\;\\<\\>\\+\\",L=\\ padded\\ ,ST=WA,C=US');
  });
});

describe('trust stores', () => {
  it('fails authenticity when a store of the scheme type named by the policy does not exist', async () => {
    const verdict = await verify(
      envelope('x509_es256'),
      x509Policy(undefined, 'strict', ['ca:x509_es256', 'ca:nope']),
    );
    expect(verdict).toMatchObject({
      passed: false,
      code: 'TRUST_STORE_NOT_FOUND',
      error: 'the trust store "nope" of type "ca" does not exist',
    });
  });

  it('does not look up stores of other types', async () => {
    const verdict = await verify(
      envelope('x509_es256'),
      x509Policy(undefined, 'strict', ['ca:x509_es256', 'signingAuthority:absent']),
    );
    expect(verdict.passed).toBe(true);
  });
});

describe('a tsa trust store in the policy (RFC 3161 countersignatures are not verified)', () => {
  const tsa = ['ca:x509_es256', 'tsa:timestamping'];

  it("fails with notation's text when the envelope has no countersignature", async () => {
    expect(await verify(envelope('x509_es256'), x509Policy(undefined, 'strict', tsa))).toMatchObject({
      passed: false,
      code: 'TIMESTAMP_MISSING',
      error: 'no timestamp countersignature was found in the signature envelope',
    });
  });

  it('fails closed when the envelope has a countersignature stagesign cannot verify', async () => {
    const parsed = JSON.parse(fixture('envelopes/x509_es256.jws.json').toString()) as {
      header: { x5c: string[] };
    };
    const bytes = testEnvelope({
      payload: buildTestPayload(target),
      signingScheme: 'notary.x509',
      signingTime: SIGNING_TIME,
      certificateChain: parsed.header.x5c.map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))),
      privateKey: createPrivateKey(fixture('keys/x509_es256-leaf.key.pem')),
      timestampSignature: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]),
    });
    const verdict = await verify(bytes, x509Policy(undefined, 'strict', tsa));
    expect(verdict).toMatchObject({ passed: false, code: 'TIMESTAMP_UNSUPPORTED' });
    expect(verdict.error).toContain('timestamp countersignature verification is not supported by stagesign');
  });

  it('skips timestamp verification under afterCertExpiry while every certificate is valid, as notation does', async () => {
    const statement = x509Policy(undefined, 'strict', tsa, { verifyTimestamp: 'afterCertExpiry' });
    expect((await verify(envelope('x509_es256'), statement)).passed).toBe(true);
    expect(
      await verify(envelope('x509_es256'), statement, stores, new Date('2130-01-01T00:00:00Z')),
    ).toMatchObject({ passed: false, code: 'TIMESTAMP_MISSING' });
  });
});

describe('the AWS plugin runs after expiry and the authentic timestamp', () => {
  const expired = () =>
    awsEnvelope({
      expiry: new Date(SIGNING_TIME.getTime() + 24 * 3600 * 1000),
      extra: [{ key: 'com.example.unknown', value: 'x', critical: true }],
    });

  it('reports the expiry before an unprocessed attribute, and the attribute when expiry is only logged', async () => {
    expect(await verify(expired(), awsPolicy('strict'))).toMatchObject({
      passed: false,
      code: 'SIGNATURE_EXPIRED',
      error: 'digital signature has expired on "Mon, 02 Jun 2025 12:00:00 +0000"',
    });
    const permissive = await verify(expired(), awsPolicy('permissive'));
    expect(permissive).toMatchObject({
      passed: false,
      code: 'UNPROCESSED_ATTRIBUTE',
      error: msg.unprocessedAttributeMessage('com.example.unknown', msg.AWS_SIGNER_PLUGIN),
    });
  });

  it('reports the expiry before the wildcard identity error', async () => {
    expect(await verify(envelope('aws_expired'), awsPolicy('strict', ['*']))).toMatchObject({
      code: 'SIGNATURE_EXPIRED',
    });
    expect(await verify(envelope('aws_expired'), awsPolicy('permissive', ['*']))).toMatchObject({
      passed: false,
      code: 'PLUGIN_ERROR',
      error: msg.pluginErrorMessage(msg.AWS_SIGNER_PLUGIN, msg.AWS_WILDCARD_IDENTITY),
    });
  });

  it('reports the expiry before an identity mismatch', async () => {
    const bytes = awsEnvelope({
      expiry: new Date(SIGNING_TIME.getTime() + 24 * 3600 * 1000),
      profileVersionArn: 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/other_profile/Zz9YxW8vU7',
    });
    expect(await verify(bytes, awsPolicy('strict'))).toMatchObject({ code: 'SIGNATURE_EXPIRED' });
  });

  it('checks the wildcard identity before the signing scheme, as the plugin validates its request', async () => {
    const bytes = x509Envelope(
      awsExtendedAttributes(AWS_FIXTURE.profileVersionArn, AWS_FIXTURE.jobArn),
      msg.AWS_SIGNER_PLUGIN,
    );
    const statement = x509Policy(['*'], 'strict', ['ca:x509_es256']);
    expect(await verify(bytes, statement)).toMatchObject({
      error: msg.pluginErrorMessage(msg.AWS_SIGNER_PLUGIN, msg.AWS_WILDCARD_IDENTITY),
    });
    expect(await verify(bytes, x509Policy([AWS_FIXTURE.profileArn]))).toMatchObject({
      error: msg.pluginErrorMessage(msg.AWS_SIGNER_PLUGIN, "'notary.x509' signing scheme is not supported"),
    });
  });
});

describe('warnings at audit', () => {
  it('prints one authenticity warning, with the identity error, when trust store and identity both fail (AWS)', async () => {
    const verdict = await verify(
      envelope('aws_untrusted_root'),
      awsPolicy('audit', ['arn:aws:signer:us-west-2:111122223333:/signing-profiles/other_profile']),
    );
    expect(verdict.passed).toBe(true);
    expect(verdict.warnings).toEqual([
      msg.loggedFailureWarning(
        'authenticity',
        msg.pluginTrustedIdentityFailedMessage(msg.AWS_SIGNER_PLUGIN, msg.AWS_IDENTITY_MISMATCH),
      ),
    ]);
  });

  it('prints one authenticity warning, with the identity error, when trust store and identity both fail (x509)', async () => {
    const verdict = await verify(
      envelope('x509_es256'),
      x509Policy(['x509.subject:C=US,ST=WA,O=Someone Else'], 'audit', ['ca:x509_ps256']),
    );
    expect(verdict.passed).toBe(true);
    expect(verdict.warnings).toHaveLength(1);
    expect(verdict.warnings[0]).toMatch(
      /^Warning: authenticity was set to "log" and failed with error: signing certificate from the digital signature does not match/,
    );
  });
});

describe('plugin headers', () => {
  it('rejects a critical header that no verification plugin processes (deliberately stricter than notation, RFC 7515 crit)', async () => {
    const verdict = await verify(
      x509Envelope([{ key: 'com.example.policy', value: 'x', critical: true }]),
      x509Policy(),
    );
    expect(verdict).toMatchObject({
      passed: false,
      code: 'UNPROCESSED_ATTRIBUTE',
      error: msg.criticalAttributeWithoutPluginMessage('com.example.policy'),
    });
  });

  it('ignores a non-critical minimum version when no plugin is named', async () => {
    const verdict = await verify(
      x509Envelope([{ key: HeaderKey.VerificationPluginMinVersion, value: 'not-semver', critical: false }]),
      x509Policy(),
    );
    expect(verdict.passed).toBe(true);
  });

  it.each([
    [
      'a non-critical plugin name',
      [{ key: HeaderKey.VerificationPlugin, value: msg.AWS_SIGNER_PLUGIN, critical: false }],
      'io.cncf.notary.verificationPlugin is not a critical Extended attribute',
    ],
    [
      'an empty plugin name',
      [{ key: HeaderKey.VerificationPlugin, value: '  ', critical: true }],
      'io.cncf.notary.verificationPlugin from extended attribute is an empty string',
    ],
    [
      'a non-critical minimum version with a plugin',
      [
        { key: HeaderKey.VerificationPlugin, value: msg.AWS_SIGNER_PLUGIN, critical: true },
        { key: HeaderKey.VerificationPluginMinVersion, value: '1.0.0', critical: false },
      ],
      'error while getting plugin minimum version, error: io.cncf.notary.verificationPluginMinVersion is not a critical Extended attribute',
    ],
  ] as const)("rejects %s with notation's text", async (_what, extra, error) => {
    const verdict = await verify(x509Envelope([...extra]), x509Policy());
    expect(verdict).toMatchObject({ passed: false, code: 'PLUGIN_ERROR', error });
  });
});

describe('certificate validity texts (notary.x509 without timestamp verification)', () => {
  it('says "verification time is before" for a certificate not yet valid', async () => {
    const verdict = await verify(
      envelope('x509_es256'),
      x509Policy(),
      stores,
      new Date('2023-06-01T00:00:00Z'),
    );
    expect(verdict.error).toBe(
      'verification time is before certificate "CN=stagesign-test-es256,O=Stagesign Test,L=Seattle,ST=WA,C=US" validity period, it will be valid from "Mon, 01 Jan 2024 00:00:00 +0000"',
    );
  });
});

describe('chains pinned by the AWS root fingerprint', () => {
  it('fails integrity when the chain ends in the real AWS root but a link is broken', async () => {
    const { chain, leafKey } = loadTestSigningAuthority();
    const awsRoot = new Uint8Array(new X509Certificate(AWS_SIGNER_ROOT_PEM).raw);
    const bytes = testEnvelope({
      payload: buildTestPayload(target),
      signingScheme: 'notary.x509.signingAuthority',
      signingTime: SIGNING_TIME,
      extendedAttributes: awsExtendedAttributes(AWS_FIXTURE.profileVersionArn, AWS_FIXTURE.jobArn),
      verificationPlugin: msg.AWS_SIGNER_PLUGIN,
      certificateChain: [...chain.slice(0, 3), awsRoot],
      privateKey: leafKey,
    });
    const verdict = await verify(
      bytes,
      policy(['signingAuthority:aws-signer-ts'], [AWS_FIXTURE.profileArn]),
      TrustStoreSet.builtIn(),
    );
    expect(verdict).toMatchObject({ passed: false, code: 'SIGNATURE_INVALID' });
    expect(verdict.steps.at(-1)?.step).toBe('integrity');
    expect(verdict.error).toContain(
      'is not issued by "CN=AWS Signer Code Signing Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US"',
    );
  });
});

describe('AWS identity matching', () => {
  it('never matches a profile ARN when the signature profile-version ARN has no "/"', () => {
    expect(
      matchAwsTrustedIdentity('arn:aws:signer:us-west-2:111122223333:signing-profiles', [
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/x',
      ]),
    ).toMatchObject({ matched: false });
    expect(
      matchAwsTrustedIdentity('no-slash', ['arn:aws:signer:us-west-2:1:/signing-profiles/']),
    ).toMatchObject({ matched: false });
  });
});

describe('verifyArtifact signature limit', () => {
  const ref = AWS_FIXTURE.artifactReference;
  const run = (names: string[], maxSignatures: number) =>
    verifyArtifact({
      artifactReference: ref,
      target,
      signatures: {
        list: async () =>
          names.map((n, i) => ({
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${String(i).repeat(64)}`,
            size: 1,
            annotations: { name: n },
          })),
        fetchEnvelope: async (d) => ({ mediaType: JWS, envelope: envelope(d.annotations!.name!) }),
      },
      policyDocument: { version: '1.0', trustPolicies: [awsPolicy()] },
      trustStores: stores,
      revocationChecker: notRevoked,
      now: NOW,
      maxSignatures,
    });

  it('reports the limit when exactly max signatures were tried and all failed, as notation does', async () => {
    expect(await run(['aws_tampered', 'aws_tampered'], 2)).toMatchObject({
      code: 'MAX_SIGNATURES_EXCEEDED',
      message:
        'signature evaluation stopped. The configured limit of 2 signatures to verify per artifact exceeded',
    });
    expect(await run(['aws_tampered', 'aws_tampered'], 3)).toMatchObject({ code: 'ALL_SIGNATURES_FAILED' });
    expect(await run(['aws_tampered', 'aws_valid'], 2)).toMatchObject({ outcome: 'verified' });
  });
});
