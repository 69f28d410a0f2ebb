import { abortedError } from '../../../shared/abort';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { DependencyError } from '../../../shared/errors';
import type { Descriptor } from '../../../shared/oci/types';
import * as msg from '../../../shared/notary/messages';
import { TrustStoreSet, trustStoreFromPem } from '../../../shared/notary/trust-store';
import type { TrustPolicyDocument, TrustPolicyStatement } from '../../../shared/notary/trust-policy';
import type { RevocationChecker, RevocationQuery } from '../../../shared/notary/types';
import { verifyArtifact, verifySignature, type SignatureSource } from '../../../shared/notary/verifier';
import { AWS_FIXTURE } from '../../helpers/test-signing-authority';

const fixture = (rel: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/notary/${rel}`, import.meta.url)));
const envelope = (name: string) => new Uint8Array(fixture(`envelopes/${name}.jws.json`));
const NOW = new Date('2026-01-15T00:00:00Z');
const JWS = 'application/jose+json';

const stores = new TrustStoreSet([
  trustStoreFromPem('signingAuthority', 'test-signer-ts', fixture('aws-chain/root.pem').toString()),
  ...['x509_ps256', 'x509_ps384', 'x509_es256', 'x509_es256_ocsp'].map((n) =>
    trustStoreFromPem('ca', n, fixture(`truststore/x509/ca/${n}/root.pem`).toString()),
  ),
]);

function awsPolicy(
  level: TrustPolicyStatement['signatureVerification']['level'] = 'strict',
  extra: Partial<TrustPolicyStatement> = {},
  override?: TrustPolicyStatement['signatureVerification']['override'],
): TrustPolicyStatement {
  return {
    name: 'aws',
    registryScopes: ['*'],
    signatureVerification: { level, ...(override ? { override } : {}) },
    trustStores: [AWS_FIXTURE.trustStore],
    trustedIdentities: [AWS_FIXTURE.profileArn],
    ...extra,
  };
}

function notRevoked(): RevocationChecker & { queries: RevocationQuery[] } {
  const queries: RevocationQuery[] = [];
  return { queries, getRevocationStatus: async (q) => (queries.push(q), { revokedEntities: [] }) };
}

const target: Descriptor = AWS_FIXTURE.target;

async function aws(name: string, policy = awsPolicy(), checker: RevocationChecker = notRevoked()) {
  return verifySignature({
    envelope: envelope(name),
    envelopeMediaType: JWS,
    target,
    policy,
    trustStores: stores,
    revocationChecker: checker,
    now: NOW,
  });
}

describe('verifySignature', () => {
  describe('with AWS-shaped envelopes', () => {
    it('passes a valid envelope, asking GetRevocationStatus in the ARN region with the composite hashes', async () => {
      const checker = notRevoked();
      const verdict = await aws('aws_valid', awsPolicy(), checker);
      expect(verdict).toMatchObject({
        passed: true,
        warnings: [],
        signingScheme: 'notary.x509.signingAuthority',
        aws: { signingProfileVersionArn: AWS_FIXTURE.profileVersionArn, signingJobArn: AWS_FIXTURE.jobArn },
      });
      expect(verdict.steps.map((s) => [s.step, s.passed])).toEqual([
        ['integrity', true],
        ['verificationPlugin', true],
        ['trustStore', true],
        ['expiry', true],
        ['authenticTimestamp', true],
        // notation calls the plugin (identity + revocation) after the authentic timestamp.
        ['verificationPlugin', true],
        ['trustedIdentity', true],
        ['revocation', true],
        ['targetArtifact', true],
        ['userMetadata', true],
      ]);
      expect(checker.queries).toHaveLength(1);
      expect(checker.queries[0]).toMatchObject({
        region: 'us-west-2',
        jobArn: AWS_FIXTURE.jobArn,
        profileVersionArn: AWS_FIXTURE.profileVersionArn,
        platformId: 'Notation-OCI-SHA384-ECDSA',
        signatureTimestamp: new Date(AWS_FIXTURE.signingTime),
      });
      expect(checker.queries[0]!.certificateHashes).toHaveLength(4);
      expect(verdict.certificateThumbprints).toHaveLength(4);
    });

    it.each([
      ['aws_tampered', 'SIGNATURE_INVALID', 'signature is invalid. Error: crypto/ecdsa: verification error'],
      [
        'aws_padded_base64url',
        'SIGNATURE_INVALID',
        expect.stringMatching(/^signature is invalid\. Error: illegal base64 data at input byte \d+$/),
      ],
      [
        'aws_unknown_critical_attribute',
        'UNPROCESSED_ATTRIBUTE',
        msg.unprocessedAttributeMessage('com.example.unknown', msg.AWS_SIGNER_PLUGIN),
      ],
      ['aws_untrusted_root', 'UNTRUSTED_CHAIN', msg.CHAIN_NOT_TRUSTED],
      [
        'aws_wrong_identity',
        'IDENTITY_MISMATCH',
        msg.pluginTrustedIdentityFailedMessage(msg.AWS_SIGNER_PLUGIN, msg.AWS_IDENTITY_MISMATCH),
      ],
      [
        'aws_expired',
        'SIGNATURE_EXPIRED',
        'digital signature has expired on "Mon, 02 Jun 2025 12:00:00 +0000"',
      ],
      [
        'aws_signing_time_outside_validity',
        'CERTIFICATE_NOT_VALID',
        'certificate "CN=AWS Signer,OU=AWS Cryptography,O=AWS,L=Seattle,ST=WA,C=US" was not valid when the digital signature was produced at "Wed, 01 May 2024 00:00:00 +0000"',
      ],
    ])('rejects %s at strict with %s', async (name, code, error) => {
      expect(await aws(name)).toMatchObject({ passed: false, code, error });
    });

    it.each([
      ['aws_expired', 'permissive', 'expiry'],
      ['aws_signing_time_outside_validity', 'permissive', 'authenticTimestamp'],
      ['aws_wrong_identity', 'audit', 'authenticity'],
      ['aws_untrusted_root', 'audit', 'authenticity'],
    ] as const)('accepts %s at %s with a "%s" warning', async (name, level, type) => {
      const verdict = await aws(name, awsPolicy(level));
      expect(verdict.passed).toBe(true);
      expect(verdict.warnings).toHaveLength(1);
      expect(verdict.warnings[0]).toMatch(
        new RegExp(`^Warning: ${type} was set to "log" and failed with error: `),
      );
    });

    it('fails a revoked signature with the plugin reason at strict and only warns at permissive', async () => {
      const checker: RevocationChecker = {
        getRevocationStatus: async () => ({
          revokedEntities: ['arn:aws:signer:us-west-2:111122223333:/signing-jobs/x', 'ab12'],
        }),
      };
      const reason =
        'Resource(s) arn:aws:signer:us-west-2:111122223333:/signing-jobs/x have been revoked. Certificate(s) have been revoked.';
      expect(await aws('aws_revoked', awsPolicy('strict'), checker)).toMatchObject({
        passed: false,
        code: 'REVOKED',
        error: msg.pluginRevocationFailedMessage(msg.AWS_SIGNER_PLUGIN, reason),
      });
      expect((await aws('aws_revoked', awsPolicy('permissive'), checker)).warnings).toEqual([
        msg.loggedFailureWarning(
          'revocation',
          msg.pluginRevocationFailedMessage(msg.AWS_SIGNER_PLUGIN, reason),
        ),
      ]);
    });

    it('turns a GetRevocationStatus failure into a revocation failure that follows the level', async () => {
      const checker: RevocationChecker = {
        getRevocationStatus: async () => {
          throw new Error('ThrottlingException: Rate exceeded');
        },
      };
      const error = msg.pluginRevocationFailedMessage(
        msg.AWS_SIGNER_PLUGIN,
        'GetRevocationStatus call failed with error: ThrottlingException: Rate exceeded',
      );
      expect(await aws('aws_valid', awsPolicy('strict'), checker)).toMatchObject({
        passed: false,
        code: 'REVOCATION_CHECK_FAILED',
        error,
      });
      expect(await aws('aws_valid', awsPolicy('strict', {}, { revocation: 'log' }), checker)).toMatchObject({
        passed: true,
        warnings: [msg.loggedFailureWarning('revocation', error)],
      });
    });

    it('passes the signal to the checker and throws an aborted check instead of judging it, even at level log', async () => {
      const controller = new AbortController();
      controller.abort(new Error('deadline while verifying'));
      const seen: (AbortSignal | undefined)[] = [];
      const checker: RevocationChecker = {
        getRevocationStatus: async (_query, options) => {
          seen.push(options?.signal);
          throw abortedError('AWS Signer signer:GetRevocationStatus', options?.signal);
        },
      };
      await expect(
        verifySignature({
          envelope: envelope('aws_valid'),
          envelopeMediaType: JWS,
          target,
          policy: awsPolicy('strict', {}, { revocation: 'log' }),
          trustStores: stores,
          revocationChecker: checker,
          now: NOW,
          signal: controller.signal,
        }),
      ).rejects.toMatchObject({ code: 'ABORTED', kind: 'dependency' });
      expect(seen).toEqual([controller.signal]);
    });

    it('does not call GetRevocationStatus when revocation is skipped', async () => {
      const checker = { getRevocationStatus: vi.fn() };
      const verdict = await aws('aws_valid', awsPolicy('strict', {}, { revocation: 'skip' }), checker);
      expect(verdict.passed).toBe(true);
      expect(checker.getRevocationStatus).not.toHaveBeenCalled();
      expect(verdict.steps.find((s) => s.step === 'revocation')).toMatchObject({ action: 'skip' });
    });

    it('rejects a wildcard identity with the plugin error at every level', async () => {
      for (const level of ['strict', 'audit'] as const) {
        expect(await aws('aws_valid', awsPolicy(level, { trustedIdentities: ['*'] }))).toMatchObject({
          passed: false,
          code: 'PLUGIN_ERROR',
          error:
            'failed to verify with plugin com.amazonaws.signer.notation.plugin: The AWSSigner plugin does not support wildcard identity in the trust policy.',
        });
      }
    });

    it.each([
      [[AWS_FIXTURE.profileArn], true],
      [[AWS_FIXTURE.profileVersionArn], true],
      [[AWS_FIXTURE.profileArn.replace('stagesign_test', 'StageSign_TEST')], true],
      [
        [
          AWS_FIXTURE.profileVersionArn
            .toUpperCase()
            .replace('ARN:AWS:SIGNER', 'arn:aws:signer')
            .replace('/SIGNING-PROFILES/', '/signing-profiles/'),
        ],
        true,
      ],
      [['x509.subject:CN=AWS Signer,OU=AWS Cryptography,O=AWS,L=Seattle,ST=WA,C=US'], false],
      [['arn:aws:signer:us-west-2:111122223333:/signing-profiles/other_profile'], false],
      [['arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign_test/OtherVersion'], false],
    ])('with trusted identities %j passes: %s', async (identities, passes) => {
      expect((await aws('aws_valid', awsPolicy('strict', { trustedIdentities: identities }))).passed).toBe(
        passes,
      );
    });

    it("fails when the trust store of the signing scheme's type holds no certificate", async () => {
      expect(await aws('aws_valid', awsPolicy('strict', { trustStores: ['ca:x509_es256'] }))).toMatchObject({
        passed: false,
        code: 'NO_TRUSTED_CERTIFICATES',
        error: msg.NO_TRUSTED_CERTIFICATES,
      });
    });

    it('fails on a target descriptor mismatch at every level', async () => {
      const verdict = await verifySignature({
        envelope: envelope('aws_valid'),
        envelopeMediaType: JWS,
        target: { ...target, size: 1 },
        policy: awsPolicy('audit'),
        trustStores: stores,
        revocationChecker: notRevoked(),
        now: NOW,
      });
      expect(verdict).toMatchObject({
        passed: false,
        code: 'TARGET_MISMATCH',
        error: 'content descriptor mismatch',
      });
    });
  });

  describe('with notary.x509 envelopes', () => {
    const x509Policy = (
      store: string,
      override?: TrustPolicyStatement['signatureVerification']['override'],
    ): TrustPolicyStatement => ({
      name: 'x509',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict', ...(override ? { override } : {}) },
      trustStores: [`ca:${store}`],
      trustedIdentities: ['x509.subject:O=Stagesign Test,ST=WA,C=US'],
    });
    it.each(['x509_ps256', 'x509_ps384', 'x509_es256'])(
      'passes %s at strict (no OCSP/CRL locations: not revocable)',
      async (name) => {
        const verdict = await verifySignature({
          envelope: envelope(name),
          envelopeMediaType: JWS,
          target,
          policy: x509Policy(name),
          trustStores: stores,
          now: NOW,
        });
        expect(verdict).toMatchObject({ passed: true, warnings: [], signingScheme: 'notary.x509' });
      },
    );
    it('fails a leaf with an OCSP location under enforced revocation, saying the status is unknown', async () => {
      const verdict = await verifySignature({
        envelope: envelope('x509_es256_ocsp_leaf'),
        envelopeMediaType: JWS,
        target,
        policy: x509Policy('x509_es256_ocsp'),
        trustStores: stores,
        now: NOW,
      });
      expect(verdict).toMatchObject({ passed: false, code: 'REVOCATION_UNKNOWN' });
      expect(verdict.error).toContain('revocation status is unknown');
    });
    it('only warns about the unknown revocation status when revocation is logged', async () => {
      const verdict = await verifySignature({
        envelope: envelope('x509_es256_ocsp_leaf'),
        envelopeMediaType: JWS,
        target,
        policy: x509Policy('x509_es256_ocsp', { revocation: 'log' }),
        trustStores: stores,
        now: NOW,
      });
      expect(verdict.passed).toBe(true);
      expect(verdict.warnings[0]).toMatch(
        /^Warning: revocation was set to "log" and failed with error: .*revocation status is unknown/,
      );
    });
    it('requires every certificate to be valid now', async () => {
      const verdict = await verifySignature({
        envelope: envelope('x509_es256'),
        envelopeMediaType: JWS,
        target,
        policy: x509Policy('x509_es256'),
        trustStores: stores,
        now: new Date('2130-01-01T00:00:00Z'),
      });
      expect(verdict).toMatchObject({ passed: false, code: 'CERTIFICATE_NOT_VALID' });
    });
  });
});

describe('verifyArtifact', () => {
  const doc = (level: TrustPolicyStatement['signatureVerification']['level']): TrustPolicyDocument => ({
    version: '1.0',
    trustPolicies: [
      level === 'skip' ? { ...awsPolicy('skip'), trustStores: [], trustedIdentities: [] } : awsPolicy(level),
    ],
  });
  const ref = AWS_FIXTURE.artifactReference;
  function source(names: string[]): SignatureSource & { fetched: string[] } {
    const fetched: string[] = [];
    return {
      fetched,
      list: async () =>
        names.map((n, i) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${String(i).repeat(64)}`,
          size: 1,
          annotations: { name: n },
        })),
      fetchEnvelope: async (d) => (
        fetched.push(d.annotations!.name!),
        { mediaType: JWS, envelope: envelope(d.annotations!.name!) }
      ),
    };
  }
  const run = (
    signatures: SignatureSource,
    level: TrustPolicyStatement['signatureVerification']['level'] = 'strict',
    maxSignatures?: number,
  ) =>
    verifyArtifact({
      artifactReference: ref,
      target,
      signatures,
      policyDocument: doc(level),
      trustStores: stores,
      revocationChecker: notRevoked(),
      now: NOW,
      ...(maxSignatures ? { maxSignatures } : {}),
    });

  it('skips without listing signatures at the skip level', async () => {
    const signatures = { list: vi.fn(), fetchEnvelope: vi.fn() };
    expect(await run(signatures, 'skip')).toMatchObject({
      outcome: 'skipped',
      message: `Trust policy is configured to skip signature verification for ${ref}`,
    });
    expect(signatures.list).not.toHaveBeenCalled();
  });

  it("fails with notation's no-signature message", async () => {
    expect(await run(source([]))).toMatchObject({
      outcome: 'failed',
      code: 'NO_SIGNATURE',
      message: `no signature is associated with "${ref}", make sure the artifact was signed successfully`,
    });
  });

  it('stops at the first signature that passes', async () => {
    const signatures = source(['aws_tampered', 'aws_valid', 'aws_expired']);
    const verdict = await run(signatures);
    expect(verdict).toMatchObject({
      outcome: 'verified',
      message: `Successfully verified signature for ${ref}`,
      signatureDigest: `sha256:${'1'.repeat(64)}`,
    });
    expect(verdict.failures.map((f) => f.code)).toEqual(['SIGNATURE_INVALID']);
    expect(signatures.fetched).toEqual(['aws_tampered', 'aws_valid']);
  });

  it('fails when every signature fails, with one reason per signature', async () => {
    const verdict = await run(source(['aws_tampered', 'aws_expired']));
    expect(verdict).toMatchObject({
      outcome: 'failed',
      code: 'ALL_SIGNATURES_FAILED',
      message: `signature verification failed for all the signatures associated with ${ref}`,
    });
    expect(verdict.failures.map((f) => f.reason)).toEqual([
      `Signature sha256:${'0'.repeat(64)} failed verification with error: signature is invalid. Error: crypto/ecdsa: verification error`,
      `Signature sha256:${'1'.repeat(64)} failed verification with error: digital signature has expired on "Mon, 02 Jun 2025 12:00:00 +0000"`,
    ]);
  });

  it("stops after maxSignatures failures with notation's limit message", async () => {
    const signatures = source(['aws_tampered', 'aws_tampered', 'aws_valid']);
    expect(await run(signatures, 'strict', 2)).toMatchObject({
      outcome: 'failed',
      code: 'MAX_SIGNATURES_EXCEEDED',
      message:
        'signature evaluation stopped. The configured limit of 2 signatures to verify per artifact exceeded',
    });
    expect(signatures.fetched).toHaveLength(2);
  });

  it('propagates dependency errors from the signature source', async () => {
    const signatures: SignatureSource = {
      list: async () => [{ mediaType: 'x', digest: 'sha256:a', size: 1 }],
      fetchEnvelope: async () => {
        throw new DependencyError('REGISTRY_UNAVAILABLE', '503');
      },
    };
    await expect(run(signatures)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
  });
});
