import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, PermissionError } from '../../../shared/errors';
import { OciLayoutRegistry, parseLayoutReference } from '../../../shared/oci/oci-layout-registry';
import { parseReference } from '../../../shared/oci/reference';
import type { Reference } from '../../../shared/oci/reference';
import type { Descriptor } from '../../../shared/oci/types';
import { verifyImageReference } from '../../../shared/notary/verify-image-reference';
import type { VerifyImageReferenceOptions } from '../../../shared/notary/verify-image-reference';
import {
  AWS_FIXTURE,
  awsEnvelope,
  fixturePolicy,
  fixtureTrustStores,
  MemoryRegistry,
  NOW,
  pushImage,
  pushSignature,
  RecordingRevocationChecker,
  tamper,
} from '../functions/verify-image/signed-images';

const REPO: Reference = parseReference('111122223333.dkr.ecr.us-west-2.amazonaws.com/app:latest');
const NAME = '111122223333.dkr.ecr.us-west-2.amazonaws.com/app';
const TAG_WARNING =
  'Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1) because resolved digest may not point to the same signed artifact, as tags are mutable.';

describe('verifyImageReference', () => {
  let registry: MemoryRegistry;
  let revocation: RecordingRevocationChecker;
  let image: Descriptor;

  beforeEach(async () => {
    registry = new MemoryRegistry();
    revocation = new RecordingRevocationChecker();
    image = await pushImage(registry, REPO, { tag: 'v1' });
  });

  const verify = (overrides: Partial<VerifyImageReferenceOptions> = {}) =>
    verifyImageReference({
      registry,
      reference: `${NAME}@${image.digest}`,
      policyDocument: fixturePolicy(),
      trustStores: fixtureTrustStores(),
      revocationChecker: revocation,
      now: NOW,
      ...overrides,
    });

  describe('when the image carries a valid AWS-shaped signature', () => {
    it('verifies it and reports the signature, profile version and signing time', async () => {
      const sig = await pushSignature(registry, REPO, image, awsEnvelope(image));
      const result = await verify();
      expect(result).toMatchObject({
        outcome: 'verified',
        message: `Successfully verified signature for ${NAME}@${image.digest}`,
        digestReference: `${NAME}@${image.digest}`,
        signatureDigest: sig.digest,
        signingProfileVersionArn: AWS_FIXTURE.profileVersionArn,
        signingJobArn: AWS_FIXTURE.jobArn,
        signingTime: new Date(AWS_FIXTURE.signingTime),
        policyName: 'fixture',
        warnings: [],
        failures: [],
      });
      expect(result.tagWarning).toBeUndefined();
      expect(revocation.queries).toHaveLength(1);
      expect(revocation.queries[0]).toMatchObject({
        region: 'us-west-2',
        profileVersionArn: AWS_FIXTURE.profileVersionArn,
      });
    });

    it('accepts the notation 1.x legacy manifest shape too', async () => {
      await pushSignature(registry, REPO, image, awsEnvelope(image), { shape: 'legacy' });
      expect((await verify()).outcome).toBe('verified');
    });
  });

  describe('when the image has no signature', () => {
    it("fails with notation's exact message (no space before the comma)", async () => {
      const result = await verify();
      expect(result.outcome).toBe('failed');
      expect(result.code).toBe('NO_SIGNATURE');
      expect(result.message).toBe(
        `signature verification failed: no signature is associated with "${NAME}@${image.digest}", make sure the artifact was signed successfully`,
      );
    });

    it('ignores referrers that are not Notary signatures', async () => {
      // An SBOM-like referrer and a manifest announced as a signature whose config is not empty.
      const other = new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          artifactType: 'application/vnd.cncf.notary.signature',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: image.digest, size: 2 },
          layers: [],
          subject: image,
        }),
      );
      const { descriptorFor } = await import('../../../shared/oci/digest');
      const desc = descriptorFor(other, 'application/vnd.oci.image.manifest.v1+json');
      await registry.pushManifest(REPO, desc, other);
      const result = await verify();
      expect(result.code).toBe('NO_SIGNATURE');
    });
  });

  describe('when the only signature is bad', () => {
    it.each([
      {
        condition: 'the envelope was tampered with',
        envelope: (d: Descriptor) => tamper(awsEnvelope(d)),
        policy: fixturePolicy(),
        reason: /^Signature sha256:[0-9a-f]{64} failed verification with error: signature is invalid/,
        detail: /^integrity validation failed\. Failure reason: signature is invalid/,
      },
      {
        condition: 'it was made by another signing profile',
        envelope: (d: Descriptor) => awsEnvelope(d),
        policy: fixturePolicy({
          identities: ['arn:aws:signer:us-west-2:111122223333:/signing-profiles/someone_else'],
        }),
        reason:
          /trusted identify verification by plugin "com\.amazonaws\.signer\.notation\.plugin" failed with reason "Signature publisher doesn't match any trusted identities\."/,
        detail: /^authenticity validation failed\. Failure reason: trusted identify verification/,
      },
      {
        condition: 'its chain ends at an untrusted root',
        envelope: (d: Descriptor) => awsEnvelope(d),
        policy: fixturePolicy({ trustStores: ['signingAuthority:aws-signer-ts'] }),
        reason: /the signature's certificate chain does not contain any trusted certificate/,
        detail: /^authenticity validation failed/,
      },
      {
        condition: 'it expired (strict)',
        envelope: (d: Descriptor) => awsEnvelope(d, { expiry: new Date('2025-12-01T00:00:00Z') }),
        policy: fixturePolicy({ level: 'strict' }),
        reason: /digital signature has expired on "Mon, 01 Dec 2025 00:00:00 \+0000"/,
        detail: /^expiry validation failed\. Failure reason: digital signature has expired/,
      },
    ])(
      'fails with the per-signature reason when $condition',
      async ({ envelope, policy, reason, detail }) => {
        const sig = await pushSignature(registry, REPO, image, envelope(image));
        const result = await verify({ policyDocument: policy });
        expect(result.outcome).toBe('failed');
        expect(result.code).toBe('ALL_SIGNATURES_FAILED');
        expect(result.message).toBe(
          `signature verification failed for all the signatures associated with ${NAME}@${image.digest}`,
        );
        expect(result.failures).toHaveLength(1);
        expect(result.failures[0]!.signatureDigest).toBe(sig.digest);
        expect(result.failures[0]!.lines[0]).toMatch(reason);
        expect(result.failures[0]!.lines[0]).toContain(sig.digest);
        expect(result.failures[0]!.lines.slice(1).some((l) => detail.test(l))).toBe(true);
      },
    );
  });

  describe('expiry and revocation follow the level', () => {
    it('passes an expired signature at permissive with a logged-failure warning', async () => {
      await pushSignature(
        registry,
        REPO,
        image,
        awsEnvelope(image, { expiry: new Date('2025-12-01T00:00:00Z') }),
      );
      const result = await verify({ policyDocument: fixturePolicy({ level: 'permissive' }) });
      expect(result.outcome).toBe('verified');
      expect(result.warnings).toEqual([
        'Warning: expiry was set to "log" and failed with error: digital signature has expired on "Mon, 01 Dec 2025 00:00:00 +0000"',
      ]);
    });

    it('fails a revoked signature at strict', async () => {
      revocation = new RecordingRevocationChecker([AWS_FIXTURE.profileVersionArn]);
      await pushSignature(registry, REPO, image, awsEnvelope(image));
      const result = await verify({ revocationChecker: revocation });
      expect(result.code).toBe('ALL_SIGNATURES_FAILED');
      expect(result.failures[0]!.lines[0]).toContain(
        `revocation check by verification plugin "com.amazonaws.signer.notation.plugin" failed with reason "Resource(s) ${AWS_FIXTURE.profileVersionArn} have been revoked."`,
      );
    });

    it('does not ask for revocation when the policy skips it', async () => {
      await pushSignature(registry, REPO, image, awsEnvelope(image));
      const result = await verify({ policyDocument: fixturePolicy({ revocation: 'skip' }) });
      expect(result.outcome).toBe('verified');
      expect(revocation.queries).toHaveLength(0);
    });
  });

  describe('with several signatures', () => {
    it('stops at the first that passes and reports the ones rejected before it', async () => {
      const bad = await pushSignature(registry, REPO, image, tamper(awsEnvelope(image)));
      const good = await pushSignature(
        registry,
        REPO,
        image,
        awsEnvelope(image, { jobArn: `${AWS_FIXTURE.jobArn}0` }),
      );
      await pushSignature(registry, REPO, image, awsEnvelope(image, { jobArn: `${AWS_FIXTURE.jobArn}1` }));
      registry.calls.fetchBlob = 0;
      const result = await verify();
      expect(result.outcome).toBe('verified');
      expect(result.signatureDigest).toBe(good.digest);
      expect(result.failures.map((f) => f.signatureDigest)).toEqual([bad.digest]);
      // Envelopes of the first two only: the third is never downloaded.
      expect(registry.calls.fetchBlob).toBe(2);
    });

    it("stops with notation's limit message after maxSignatures failures", async () => {
      await pushSignature(registry, REPO, image, tamper(awsEnvelope(image)));
      await pushSignature(
        registry,
        REPO,
        image,
        tamper(awsEnvelope(image, { jobArn: `${AWS_FIXTURE.jobArn}0` })),
      );
      const result = await verify({ maxSignatures: 1 });
      expect(result.code).toBe('MAX_SIGNATURES_EXCEEDED');
      expect(result.message).toBe(
        'signature verification failed: signature evaluation stopped. The configured limit of 1 signatures to verify per artifact exceeded',
      );
    });
  });

  describe('when given a tag', () => {
    it("verifies the digest the tag resolves to and carries notation's tag warning", async () => {
      await pushSignature(registry, REPO, image, awsEnvelope(image));
      const result = await verify({ reference: `${NAME}:v1` });
      expect(result.outcome).toBe('verified');
      expect(result.reference).toBe(`${NAME}:v1`);
      expect(result.digestReference).toBe(`${NAME}@${image.digest}`);
      expect(result.message).toBe(`Successfully verified signature for ${NAME}@${image.digest}`);
      expect(result.tagWarning).toBe(TAG_WARNING);
    });
  });

  describe('policy selection', () => {
    it('skips without listing signatures when the statement level is skip', async () => {
      const result = await verify({ policyDocument: fixturePolicy({ level: 'skip' }) });
      expect(result.outcome).toBe('skipped');
      expect(result.message).toBe(
        `Trust policy is configured to skip signature verification for ${NAME}@${image.digest}`,
      );
      expect(registry.calls.listReferrers ?? 0).toBe(0);
    });

    it('throws a ConfigurationError when no statement covers the repository', async () => {
      const error = await verify({ policyDocument: fixturePolicy({ scopes: ['example.com/other'] }) }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('NO_APPLICABLE_POLICY');
    });
  });

  describe('when a signature cannot be fetched', () => {
    it("fails with notation's retrieval message for a missing envelope", async () => {
      const envelope = awsEnvelope(image);
      const sig = await pushSignature(registry, REPO, image, envelope);
      const { descriptorFor } = await import('../../../shared/oci/digest');
      registry.failures.set(
        descriptorFor(envelope, 'application/jose+json').digest,
        new Error('blob unknown'),
      );
      const result = await verify();
      expect(result.code).toBe('SIGNATURE_RETRIEVAL_FAILED');
      expect(result.message).toBe(
        `signature verification failed: unable to retrieve digital signature with digest "${sig.digest}" associated with "${NAME}@${image.digest}" from the Repository, error : blob unknown`,
      );
    });

    it('keeps a permission error a permission error', async () => {
      const sig = await pushSignature(registry, REPO, image, awsEnvelope(image));
      registry.failures.set(sig.digest, new PermissionError('REGISTRY_DENIED', 'denied: ecr:BatchGetImage'));
      await expect(verify()).rejects.toBeInstanceOf(PermissionError);
    });
  });
});

describe('verifyImageReference on an OCI image layout', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('verifies <path>:<tag> and <path>@<digest>, printing the path, under a "*" policy', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stagesign-verify-layout-'));
    const layout = path.join(dir, 'app');
    const registry = new OciLayoutRegistry();
    const ref = parseLayoutReference(`${layout}:v1`);
    const image = await pushImage(registry, ref, { tag: 'v1' });
    await pushSignature(registry, ref, image, awsEnvelope(image));
    const common = {
      registry,
      policyDocument: fixturePolicy(),
      trustStores: fixtureTrustStores(),
      revocationChecker: new RecordingRevocationChecker(),
      now: NOW,
    };
    const byTag = await verifyImageReference({ ...common, reference: ref });
    expect(byTag.outcome).toBe('verified');
    expect(byTag.message).toBe(`Successfully verified signature for ${layout}@${image.digest}`);
    expect(byTag.tagWarning).toContain('tag(:v1)');
    const byDigest = await verifyImageReference({
      ...common,
      reference: parseLayoutReference(`${layout}@${image.digest}`),
    });
    expect(byDigest.outcome).toBe('verified');

    const unsigned = await pushImage(registry, ref, { seed: 'unsigned', tag: 'v2' });
    const none = await verifyImageReference({ ...common, reference: parseLayoutReference(`${layout}:v2`) });
    expect(none.message).toBe(
      `signature verification failed: no signature is associated with "${layout}@${unsigned.digest}", make sure the artifact was signed successfully`,
    );
  });

  it('selects a statement scoped to the layout scope given', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stagesign-verify-layout-'));
    const ref = parseLayoutReference(`${path.join(dir, 'app')}:v1`);
    const registry = new OciLayoutRegistry();
    const image = await pushImage(registry, ref, { tag: 'v1' });
    await pushSignature(registry, ref, image, awsEnvelope(image));
    const result = await verifyImageReference({
      registry,
      reference: ref,
      policyDocument: fixturePolicy({ scopes: ['local/my-app'] }),
      trustStores: fixtureTrustStores(),
      revocationChecker: new RecordingRevocationChecker(),
      now: NOW,
      layoutScope: 'local/my-app',
    });
    expect(result.outcome).toBe('verified');
  });
});
