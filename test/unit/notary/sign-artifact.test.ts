import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DependencyError, PermissionError } from '../../../shared/errors';
import {
  REUSE_MIN_REMAINING_VALIDITY_MS,
  reuseMargin,
  signArtifact,
} from '../../../shared/notary/sign-artifact';
import type { SignArtifactDeps } from '../../../shared/notary/sign-artifact';
import { buildSignatureManifest, parseSignatureManifest } from '../../../shared/notary/signature-manifest';
import type { PayloadSigner } from '../../../shared/notary/types';
import { DistributionRegistry } from '../../../shared/oci/distribution-registry';
import { parseReference } from '../../../shared/oci/reference';
import type { Reference } from '../../../shared/oci/reference';
import { MediaType } from '../../../shared/oci/types';
import { descriptorFor } from '../../../shared/oci/digest';
import { MAX_JWS_ENVELOPE_BYTES } from '../../../shared/notary/jws';
import { FakeRegistry } from '../../helpers/fake-registry';
import { signLikeAwsSigner } from '../../helpers/test-signing-authority';
import {
  PROFILE_ARN,
  pushTestImage,
  pushTestIndex,
  TEST_NOW,
  TestAwsSigner,
  testTrustStores,
} from '../../integration/sign-image/support';

const OTHER_PROFILE_VERSION =
  'arn:aws:signer:us-west-2:111122223333:/signing-profiles/other_profile/Zz99Yy88Xx';

describe.each([
  { mode: 'tag schema (no Referrers API)', referrersApi: false },
  { mode: 'Referrers API', referrersApi: true },
])('signArtifact on a registry with the $mode', ({ referrersApi }) => {
  let fake: FakeRegistry;
  let registry: DistributionRegistry;
  let ref: Reference;
  let signer: TestAwsSigner;
  let deps: SignArtifactDeps;

  beforeEach(async () => {
    fake = await FakeRegistry.start({ referrersApi });
    registry = new DistributionRegistry({ plainHttp: true });
    ref = parseReference(`${fake.host}/team/app:v1`);
    signer = new TestAwsSigner();
    deps = { registry, signer, trustStores: testTrustStores() };
  });
  afterEach(async () => {
    await fake.close();
  });

  it('pushes nothing when the signal aborts while the signer is signing', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const slowSigner: PayloadSigner = {
      // The deadline passes while SignPayload is in flight; the answer still arrives.
      sign: async (payload, options) => {
        seen.push(options?.signal);
        controller.abort(new Error('deadline while signing'));
        return signer.sign(payload);
      },
    };
    fake.resetRequests();
    await expect(
      signArtifact({ ...deps, signer: slowSigner }, ref, {
        now: TEST_NOW,
        force: true,
        subject: image,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen).toEqual([controller.signal]);
    expect(fake.registryRequests()).toHaveLength(0);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toEqual([]);
  });

  it('resolves the tag and signs the digest, pushing envelope, config and a manifest whose subject is that digest', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    const result = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });

    expect(result).toMatchObject({
      reference: `${fake.host}/team/app@${image.digest}`,
      digest: image.digest,
      reused: false,
      signingJobId: '00000000-0000-4000-8000-000000000001',
      signingJobArn:
        'arn:aws:signer:us-west-2:111122223333:/signing-jobs/00000000-0000-4000-8000-000000000001',
      signingProfileVersionArn:
        'arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign_test/Ab12Cd34Ef',
      signedAt: '2026-01-15T09:59:00Z',
    });
    expect(JSON.parse(new TextDecoder().decode(signer.payloads[0]))).toEqual({
      targetArtifact: { mediaType: image.mediaType, digest: image.digest, size: image.size },
    });
    const referrers = await registry.listReferrers(ref, image, MediaType.NotarySignature);
    expect(referrers.map((r) => r.digest)).toEqual([result.signatureDigest]);
    const stored = fake.manifest('team/app', result.signatureDigest);
    const { manifest } = parseSignatureManifest(stored!.bytes);
    expect(manifest.subject?.digest).toBe(image.digest);
    expect(manifest.artifactType).toBe(MediaType.NotarySignature);
    expect(manifest.annotations).toMatchObject({
      'org.opencontainers.image.created': '2026-01-15T09:59:00Z',
      'com.amazonaws.signer.signingJob': result.signingJobArn,
    });
  });

  it('reuses a verifying signature of the same profile instead of signing again', async () => {
    await pushTestImage(registry, ref, 'v1');
    const first = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const second = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });

    expect(signer.calls).toBe(1);
    expect(second).toMatchObject({
      reused: true,
      signatureDigest: first.signatureDigest,
      signingJobId: first.signingJobId,
    });
  });

  // issue 9 item 3: the reuse check looks at the newest referrer first; a hostile one is bounded.
  it('never fetches a newer referrer whose envelope is over the JWS envelope bound, and reuses the good one', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    const first = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const huge = new Uint8Array(MAX_JWS_ENVELOPE_BYTES + 1).fill(0x20);
    const hugeDesc = descriptorFor(huge, MediaType.JwsEnvelope);
    await registry.pushBlob(ref, hugeDesc, huge);
    const built = buildSignatureManifest({ subject: image, envelope: hugeDesc, annotations: {} });
    await registry.pushBlob(ref, built.config.descriptor, built.config.bytes);
    await registry.pushManifest(ref, built.descriptor, built.bytes);
    fake.resetRequests();
    const second = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    expect(second).toMatchObject({ reused: true, signatureDigest: first.signatureDigest });
    expect(fake.registryRequests().filter((r) => r.path.endsWith(`/blobs/${hugeDesc.digest}`))).toEqual([]);
  });

  it('signs again when forced, leaving two signatures', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const forced = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN, force: true });

    expect(forced.reused).toBe(false);
    expect(signer.calls).toBe(2);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
  });

  it.each([
    {
      why: 'it was made with another signing profile',
      existing: () => new TestAwsSigner(OTHER_PROFILE_VERSION),
      trustStores: testTrustStores,
    },
    {
      why: 'its chain does not lead to a trusted root (the built-in AWS roots do not hold the test root)',
      existing: () => new TestAwsSigner(),
      trustStores: undefined,
    },
  ])('does not reuse an existing signature when $why', async ({ existing, trustStores }) => {
    const image = await pushTestImage(registry, ref, 'v1');
    await signArtifact({ registry, signer: existing() }, ref, { now: TEST_NOW });
    const result = await signArtifact(
      { registry, signer, ...(trustStores ? { trustStores: trustStores() } : {}) },
      ref,
      { now: TEST_NOW, profileArn: PROFILE_ARN },
    );

    expect(result.reused).toBe(false);
    expect(signer.calls).toBe(1);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
  });

  it('does not reuse an existing signature that AWS Signer reports revoked, and signs again', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const queries: unknown[] = [];
    const revocation = {
      getRevocationStatus: async (query: unknown) => {
        queries.push(query);
        return { revokedEntities: [PROFILE_ARN] };
      },
    };
    const result = await signArtifact({ ...deps, revocation }, ref, {
      now: TEST_NOW,
      profileArn: PROFILE_ARN,
    });

    expect(queries).toHaveLength(1);
    expect(result.reused).toBe(false);
    expect(signer.calls).toBe(2);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
  });

  // Until the sign-stage review this case signed again; during an AWS Signer outage every re-run
  // then added a signature. Now nothing is signed and the job fails as retryable.
  it('fails with DependencyError REVOCATION_STATUS_UNAVAILABLE naming GetRevocationStatus, signing nothing, when the revocation status cannot be obtained', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const revocation = {
      getRevocationStatus: async (): Promise<{ revokedEntities: string[] }> => {
        throw new DependencyError('SIGNER_UNAVAILABLE', 'Rate exceeded after 5 attempts');
      },
    };
    const error = await signArtifact({ ...deps, revocation }, ref, {
      now: TEST_NOW,
      profileArn: PROFILE_ARN,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({
      code: 'REVOCATION_STATUS_UNAVAILABLE',
      message: expect.stringMatching(
        /GetRevocationStatus failed .*Rate exceeded after 5 attempts.*nothing was signed/,
      ),
    });
    expect(signer.calls).toBe(1);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(1);
  });

  it('passes on the checker’s PermissionError when GetRevocationStatus is denied, signing nothing', async () => {
    await pushTestImage(registry, ref, 'v1');
    await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const denied = new PermissionError(
      'SIGNER_ACCESS_DENIED',
      'not authorized to perform signer:GetRevocationStatus',
    );
    const revocation = { getRevocationStatus: async () => Promise.reject(denied) };
    await expect(
      signArtifact({ ...deps, revocation }, ref, { now: TEST_NOW, profileArn: PROFILE_ARN }),
    ).rejects.toBe(denied);
    expect(signer.calls).toBe(1);
  });

  it.each([
    { existing: 'oci-1.1' as const, requested: 'legacy' as const },
    { existing: 'legacy' as const, requested: 'oci-1.1' as const },
  ])(
    'does not reuse a $existing signature when $requested is requested, and pushes the requested shape',
    async ({ existing, requested }) => {
      const image = await pushTestImage(registry, ref, 'v1');
      await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN, shape: existing });
      const result = await signArtifact(deps, ref, {
        now: TEST_NOW,
        profileArn: PROFILE_ARN,
        shape: requested,
      });

      expect(result.reused).toBe(false);
      expect(signer.calls).toBe(2);
      const { manifest } = parseSignatureManifest(fake.manifest('team/app', result.signatureDigest)!.bytes);
      expect(manifest.artifactType).toBe(requested === 'oci-1.1' ? MediaType.NotarySignature : undefined);
      expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
    },
  );

  it('reuses a legacy signature when legacy is requested again', async () => {
    await pushTestImage(registry, ref, 'v1');
    const first = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN, shape: 'legacy' });
    const again = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN, shape: 'legacy' });
    expect(again).toMatchObject({ reused: true, signatureDigest: first.signatureDigest });
    expect(signer.calls).toBe(1);
  });

  const DAY = 24 * 60 * 60 * 1000;
  it.each([
    { validityDays: 365, daysLater: 300, reused: true, why: '65 days left of 365' },
    { validityDays: 365, daysLater: 340, reused: false, why: '25 days left, under the 30-day margin' },
    { validityDays: 10, daysLater: 4, reused: true, why: '6 days left of 10 (margin: half the validity)' },
    { validityDays: 10, daysLater: 6, reused: false, why: '4 days left of 10, under half the validity' },
  ])('with $why, reuse is $reused', async ({ validityDays, daysLater, reused }) => {
    expect(REUSE_MIN_REMAINING_VALIDITY_MS).toBe(30 * DAY);
    const short = new TestAwsSigner(undefined, { validityMs: validityDays * DAY });
    await pushTestImage(registry, ref, 'v1');
    await signArtifact({ ...deps, signer: short }, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const result = await signArtifact({ ...deps, signer: short }, ref, {
      now: new Date(TEST_NOW.getTime() + daysLater * DAY),
      profileArn: PROFILE_ARN,
    });
    expect(result.reused).toBe(reused);
    expect(short.calls).toBe(reused ? 1 : 2);
  });

  it('signs the given subject without resolving the reference again', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    fake.resetRequests();
    const result = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN, subject: image });
    expect(result.digest).toBe(image.digest);
    expect(fake.registryRequests().filter((r) => r.path === '/v2/team/app/manifests/v1')).toEqual([]);
  });

  it('reuses an existing signature that AWS Signer reports not revoked', async () => {
    await pushTestImage(registry, ref, 'v1');
    await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const revocation = { getRevocationStatus: async () => ({ revokedEntities: [] }) };
    const result = await signArtifact({ ...deps, revocation }, ref, {
      now: TEST_NOW,
      profileArn: PROFILE_ARN,
    });

    expect(result.reused).toBe(true);
    expect(signer.calls).toBe(1);
  });

  it('does not reuse an expired signature', async () => {
    await pushTestImage(registry, ref, 'v1');
    await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
    const later = new Date('2040-01-01T00:00:00Z');
    // The test chain is not valid in 2040 either, but the expiry is what the verifier reports first.
    const result = await signArtifact(deps, ref, { now: later, profileArn: PROFILE_ARN });
    expect(result.reused).toBe(false);
  });

  it('pushes the legacy notation 1.x shape when asked', async () => {
    await pushTestImage(registry, ref, 'v1');
    const result = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN, shape: 'legacy' });
    const { manifest } = parseSignatureManifest(fake.manifest('team/app', result.signatureDigest)!.bytes);
    expect(manifest.artifactType).toBeUndefined();
    expect(manifest.config.mediaType).toBe(MediaType.NotarySignature);
  });

  it('signs the index digest and, when asked, every platform manifest', async () => {
    const { index, platforms } = await pushTestIndex(registry, ref, 'multi');
    const multi = parseReference(`${fake.host}/team/app:multi`);
    const result = await signArtifact(deps, multi, {
      now: TEST_NOW,
      profileArn: PROFILE_ARN,
      signPlatformManifests: true,
    });

    expect(result.digest).toBe(index.digest);
    expect(result.platforms?.map((p) => [p.digest, `${p.platform.os}/${p.platform.architecture}`])).toEqual([
      [platforms[0]!.digest, 'linux/amd64'],
      [platforms[1]!.digest, 'linux/arm64'],
    ]);
    expect(signer.calls).toBe(3);
    for (const subject of [index, ...platforms]) {
      expect(await registry.listReferrers(multi, subject, MediaType.NotarySignature)).toHaveLength(1);
    }
  });

  it('signs only the index digest by default', async () => {
    await pushTestIndex(registry, ref, 'multi');
    const result = await signArtifact(deps, parseReference(`${fake.host}/team/app:multi`), {
      now: TEST_NOW,
      profileArn: PROFILE_ARN,
    });
    expect(result.platforms).toBeUndefined();
    expect(signer.calls).toBe(1);
  });

  it('pushes nothing when the signer returns an envelope for another artifact', async () => {
    const image = await pushTestImage(registry, ref, 'v1');
    const wrong: PayloadSigner = {
      sign: async () => {
        const other = signLikeAwsSigner(
          new TextEncoder().encode(
            JSON.stringify({ targetArtifact: { ...image, digest: `sha256:${'0'.repeat(64)}` } }),
          ),
        );
        return { envelope: other.envelope, envelopeMediaType: 'application/jose+json', annotations: {} };
      },
    };
    fake.resetRequests();
    await expect(
      signArtifact({ ...deps, signer: wrong }, ref, { now: TEST_NOW, force: true }),
    ).rejects.toMatchObject({
      name: 'VerificationError',
      code: 'SIGNED_ENVELOPE_INVALID',
    });
    expect(fake.registryRequests().filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  });

  it('fails with the registry’s PermissionError when the push is denied', async () => {
    await pushTestImage(registry, ref, 'v1');
    fake.intercept((r) =>
      r.method === 'POST'
        ? { status: 403, body: '{"errors":[{"code":"DENIED","message":"no"}]}' }
        : undefined,
    );
    const error = await signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermissionError);
    expect(error).toMatchObject({ code: 'REGISTRY_DENIED', message: expect.stringContaining('denied POST') });
  });

  it('fails with IMAGE_NOT_FOUND naming the reference when the tag does not exist', async () => {
    await expect(signArtifact(deps, ref, { now: TEST_NOW, profileArn: PROFILE_ARN })).rejects.toMatchObject({
      name: 'InputError',
      code: 'IMAGE_NOT_FOUND',
      message: expect.stringContaining('team/app:v1'),
    });
  });
});

describe('reuseMargin', () => {
  const DAY = 24 * 60 * 60 * 1000;
  const t0 = new Date('2026-01-01T00:00:00Z');
  it.each([
    { validityDays: 365, marginDays: 30 },
    { validityDays: 60, marginDays: 30 },
    { validityDays: 30, marginDays: 15 },
    { validityDays: 1, marginDays: 0.5 },
  ])('is $marginDays days for a signature valid $validityDays days', ({ validityDays, marginDays }) => {
    expect(reuseMargin(t0, new Date(t0.getTime() + validityDays * DAY))).toBe(marginDays * DAY);
  });
});

describe('signArtifact request economy', () => {
  it.each([
    { mode: 'tag schema', referrersApi: false },
    { mode: 'Referrers API', referrersApi: true },
  ])(
    'signing one image by tag over the $mode takes a fixed number of registry requests',
    async ({ referrersApi, mode }) => {
      const fake = await FakeRegistry.start({ referrersApi });
      try {
        const registry = new DistributionRegistry({ plainHttp: true });
        const ref = parseReference(`${fake.host}/app:v1`);
        await pushTestImage(registry, ref, 'v1');
        const deps = { registry, signer: new TestAwsSigner(), trustStores: testTrustStores() };

        const fresh = new DistributionRegistry({ plainHttp: true });
        fake.resetRequests();
        await signArtifact({ ...deps, registry: fresh }, ref, { now: TEST_NOW, profileArn: PROFILE_ARN });
        const signing = fake
          .registryRequests()
          .map((r) => `${r.method} ${r.path.replace(/sha256[:-][0-9a-f]{64}/g, '<digest>')}`);

        fake.resetRequests();
        await signArtifact({ ...deps, registry: new DistributionRegistry({ plainHttp: true }) }, ref, {
          now: TEST_NOW,
          profileArn: PROFILE_ARN,
        });
        const rerun = fake
          .registryRequests()
          .map((r) => `${r.method} ${r.path.replace(/sha256[:-][0-9a-f]{64}/g, '<digest>')}`);

        console.log(`[${mode}] sign one image: ${signing.length} requests\n  ${signing.join('\n  ')}`);
        console.log(`[${mode}] idempotent re-run: ${rerun.length} requests\n  ${rerun.join('\n  ')}`);
        expect({ signing: signing.length, rerun: rerun.length }).toEqual(
          referrersApi ? { signing: 7, rerun: 4 } : { signing: 10, rerun: 5 },
        );
      } finally {
        await fake.close();
      }
    },
  );
});
