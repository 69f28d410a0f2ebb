import { beforeEach, describe, expect, it } from 'vitest';
import { DependencyError, InputError, PermissionError } from '../../../shared/errors';
import { descriptorFor } from '../../../shared/oci/digest';
import { parseReference } from '../../../shared/oci/reference';
import { MediaType } from '../../../shared/oci/types';
import type { Descriptor } from '../../../shared/oci/types';
import {
  RegistrySignatureSource,
  SIGNATURE_RETRIEVAL_FAILED,
} from '../../../shared/notary/registry-signature-source';
import {
  AWS_FIXTURE,
  awsEnvelope,
  MemoryRegistry,
  pushImage,
  pushSignature,
} from '../functions/verify-image/signed-images';

const REPO = parseReference('111122223333.dkr.ecr.us-west-2.amazonaws.com/app:v1');

describe('RegistrySignatureSource', () => {
  let registry: MemoryRegistry;
  let image: Descriptor;

  beforeEach(async () => {
    registry = new MemoryRegistry();
    image = await pushImage(registry, REPO, { tag: 'v1' });
  });

  /** A referrer of `image` that is not a Notary signature. */
  async function pushOther(manifest: Record<string, unknown>): Promise<Descriptor> {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageManifest,
        layers: [],
        subject: image,
        ...manifest,
      }),
    );
    const desc = descriptorFor(bytes, MediaType.ImageManifest);
    await registry.pushManifest(REPO, desc, bytes);
    return desc;
  }

  it('lists both signature manifest shapes in registry order and fetches their envelopes', async () => {
    const first = awsEnvelope(image);
    const a = await pushSignature(registry, REPO, image, first, { shape: 'legacy' });
    const b = await pushSignature(
      registry,
      REPO,
      image,
      awsEnvelope(image, { jobArn: `${AWS_FIXTURE.jobArn}1` }),
    );
    const source = new RegistrySignatureSource(registry, REPO, image);
    const listed = await source.list();
    expect(listed.map((d) => d.digest)).toEqual([a.digest, b.digest]);
    expect(await source.fetchEnvelope(listed[0]!)).toEqual({
      mediaType: MediaType.JwsEnvelope,
      envelope: first,
    });
    expect(source.subjectReference).toBe(`111122223333.dkr.ecr.us-west-2.amazonaws.com/app@${image.digest}`);
  });

  it.each([
    {
      what: 'an artifact of another type',
      manifest: {
        artifactType: 'application/spdx+json',
        config: { mediaType: MediaType.Empty, digest: image0(), size: 2 },
      },
    },
    {
      what: 'a Notary artifact type with a non-empty config',
      manifest: {
        artifactType: MediaType.NotarySignature,
        config: { mediaType: MediaType.ImageConfig, digest: image0(), size: 2 },
      },
    },
  ])('skips $what without failing', async ({ manifest }) => {
    await pushOther(manifest);
    const sig = await pushSignature(registry, REPO, image, awsEnvelope(image));
    expect((await new RegistrySignatureSource(registry, REPO, image).list()).map((d) => d.digest)).toEqual([
      sig.digest,
    ]);
  });

  it('fetches each manifest once and no envelope while listing', async () => {
    await pushSignature(registry, REPO, image, awsEnvelope(image));
    const source = new RegistrySignatureSource(registry, REPO, image);
    registry.calls.fetchManifest = 0;
    registry.calls.fetchBlob = 0;
    const [desc] = await source.list();
    expect(registry.calls).toMatchObject({ fetchManifest: 1, fetchBlob: 0 });
    await source.fetchEnvelope(desc!);
    expect(registry.calls).toMatchObject({ fetchManifest: 1, fetchBlob: 1 });
  });

  it('stops listing after maxSignatures + 1 signatures', async () => {
    for (let i = 0; i < 4; i++)
      await pushSignature(registry, REPO, image, awsEnvelope(image, { jobArn: `${AWS_FIXTURE.jobArn}${i}` }));
    registry.calls.fetchManifest = 0;
    const listed = await new RegistrySignatureSource(registry, REPO, image, { maxSignatures: 2 }).list();
    expect(listed).toHaveLength(3);
    expect(registry.calls.fetchManifest).toBe(3);
  });

  it("wraps a manifest that cannot be fetched in notation's retrieval message", async () => {
    const sig = await pushSignature(registry, REPO, image, awsEnvelope(image));
    registry.failures.set(sig.digest, new Error('manifest unknown'));
    const error = await new RegistrySignatureSource(registry, REPO, image).list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({
      code: SIGNATURE_RETRIEVAL_FAILED,
      message: `unable to retrieve digital signature with digest "${sig.digest}" associated with "111122223333.dkr.ecr.us-west-2.amazonaws.com/app@${image.digest}" from the Repository, error : manifest unknown`,
    });
  });

  it.each([
    { kind: 'permission', error: new PermissionError('REGISTRY_DENIED', 'denied'), type: PermissionError },
    {
      kind: 'dependency',
      error: new DependencyError('REGISTRY_UNAVAILABLE', '503 after retries'),
      type: DependencyError,
    },
  ])('keeps a $kind error of the registry its kind', async ({ error, type }) => {
    const envelope = awsEnvelope(image);
    await pushSignature(registry, REPO, image, envelope);
    const source = new RegistrySignatureSource(registry, REPO, image);
    const [desc] = await source.list();
    registry.failures.set(descriptorFor(envelope, MediaType.JwsEnvelope).digest, error);
    const thrown = await source.fetchEnvelope(desc!).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(type);
    expect((thrown as Error).message).toContain('unable to retrieve digital signature');
  });
});

/** Any well-formed digest for config descriptors that are never fetched. */
function image0(): string {
  return `sha256:${'0'.repeat(64)}`;
}
