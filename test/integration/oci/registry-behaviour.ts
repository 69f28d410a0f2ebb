import { expect, it } from 'vitest';
import { descriptorFor } from '../../../shared/oci/digest';
import { marshalManifest } from '../../../shared/oci/go-json';
import { withDigest, type Reference } from '../../../shared/oci/reference';
import type { Registry } from '../../../shared/oci/registry';
import { EMPTY_DESCRIPTOR, MediaType, type Descriptor } from '../../../shared/oci/types';

/** Content for behaviour tests: a small image and Notary-style signature manifests. */
export async function pushImage(registry: Registry, ref: Reference, seed: string): Promise<Descriptor> {
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }),
  );
  const layer = new TextEncoder().encode(`layer for ${seed}`);
  const configDesc = descriptorFor(config, MediaType.ImageConfig);
  const layerDesc = descriptorFor(layer, 'application/vnd.oci.image.layer.v1.tar');
  await registry.pushBlob(ref, configDesc, config);
  await registry.pushBlob(ref, layerDesc, layer);
  const manifest = marshalManifest({
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config: configDesc,
    layers: [layerDesc],
  });
  const desc = descriptorFor(manifest, MediaType.ImageManifest);
  await registry.pushManifest(ref, desc, manifest);
  return desc;
}

export interface BuiltSignature {
  envelope: Uint8Array;
  envelopeDesc: Descriptor;
  manifest: Uint8Array;
  desc: Descriptor;
}

/** A signature manifest (OCI 1.1 form, empty config) for `subject`. */
export function buildSignature(subject: Descriptor, label: string): BuiltSignature {
  const envelope = new TextEncoder().encode(
    JSON.stringify({ payload: 'e30', protected: 'e30', header: {}, signature: label }),
  );
  const envelopeDesc = descriptorFor(envelope, MediaType.JwsEnvelope);
  const manifest = marshalManifest({
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    artifactType: MediaType.NotarySignature,
    config: { ...EMPTY_DESCRIPTOR },
    layers: [envelopeDesc],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      'io.cncf.notary.x509chain.thumbprint#S256': `["${label}"]`,
      'org.opencontainers.image.created': '2025-01-21T09:17:46Z',
    },
  });
  return { envelope, envelopeDesc, manifest, desc: descriptorFor(manifest, MediaType.ImageManifest) };
}

export async function pushSignature(registry: Registry, ref: Reference, sig: BuiltSignature): Promise<void> {
  await registry.pushBlob(ref, sig.envelopeDesc, sig.envelope);
  await registry.pushBlob(ref, EMPTY_DESCRIPTOR, new TextEncoder().encode('{}'));
  await registry.pushManifest(ref, sig.desc, sig.manifest);
}

/**
 * The behaviour every `Registry` must show, whatever holds the content. `target()` returns the
 * registry and a fresh repository reference for each test.
 */
export function registryBehaviour(target: () => Promise<{ registry: Registry; ref: Reference }>): void {
  it('round-trips an image: resolve by digest and by tag, fetch the manifest and blobs byte-identical', async () => {
    const { registry, ref } = await target();
    const image = await pushImage(registry, ref, 'round-trip');
    const manifestBytes = await registry.fetchManifest(ref, image);
    await registry.pushManifest(ref, image, manifestBytes, { tag: 'v1' });

    expect(await registry.resolve(withDigest(ref, image.digest))).toEqual(image);
    expect(await registry.resolve({ ...ref, tag: 'v1' })).toEqual(image);
    const manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as { layers: Descriptor[] };
    expect(new TextDecoder().decode(await registry.fetchBlob(ref, manifest.layers[0]!))).toBe(
      'layer for round-trip',
    );
  });

  it('finds a pushed signature as a referrer and fetches its manifest and envelope back byte-identical', async () => {
    const { registry, ref } = await target();
    const image = await pushImage(registry, ref, 'signed');
    const sig = buildSignature(image, 'first');
    await pushSignature(registry, ref, sig);

    const referrers = await registry.listReferrers(ref, image, MediaType.NotarySignature);
    expect(referrers).toEqual([
      {
        mediaType: MediaType.ImageManifest,
        digest: sig.desc.digest,
        size: sig.desc.size,
        annotations: {
          'io.cncf.notary.x509chain.thumbprint#S256': '["first"]',
          'org.opencontainers.image.created': '2025-01-21T09:17:46Z',
        },
        artifactType: MediaType.NotarySignature,
      },
    ]);
    expect(await registry.fetchManifest(ref, referrers[0]!)).toEqual(sig.manifest);
    expect(await registry.fetchBlob(ref, sig.envelopeDesc)).toEqual(sig.envelope);
  });

  it('lists a second signature beside the first, and filters out other artifact types', async () => {
    const { registry, ref } = await target();
    const image = await pushImage(registry, ref, 'twice');
    const first = buildSignature(image, 'first');
    const second = buildSignature(image, 'second');
    await pushSignature(registry, ref, first);
    await pushSignature(registry, ref, second);

    const digests = (await registry.listReferrers(ref, image, MediaType.NotarySignature))
      .map((d) => d.digest)
      .sort();
    expect(digests).toEqual([first.desc.digest, second.desc.digest].sort());
    expect(await registry.listReferrers(ref, image, 'application/vnd.example.sbom')).toEqual([]);
  });

  it('pushes the same signature twice without listing it twice', async () => {
    const { registry, ref } = await target();
    const image = await pushImage(registry, ref, 'idempotent');
    const sig = buildSignature(image, 'only');
    await pushSignature(registry, ref, sig);
    await pushSignature(registry, ref, sig);
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(1);
  });

  it('lists no referrers for an unsigned image', async () => {
    const { registry, ref } = await target();
    const image = await pushImage(registry, ref, 'unsigned');
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toEqual([]);
  });

  it('reports an unknown digest as IMAGE_NOT_FOUND', async () => {
    const { registry, ref } = await target();
    await pushImage(registry, ref, 'exists');
    await expect(registry.resolve(withDigest(ref, `sha256:${'0'.repeat(64)}`))).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      kind: 'input',
    });
  });

  it('rejects a descriptor whose digest does not match the stored content', async () => {
    const { registry, ref } = await target();
    const image = await pushImage(registry, ref, 'mismatch');
    const manifest = await registry.fetchManifest(ref, image);
    const lying = { ...image, size: manifest.byteLength + 1 };
    await expect(registry.fetchManifest(ref, lying)).rejects.toMatchObject({ kind: 'input' });
  });
}
