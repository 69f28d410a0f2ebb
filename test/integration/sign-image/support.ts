/**
 * Test support for the sign-image tests: pushing small test images (single-platform manifests
 * and a two-platform index) through the `Registry` interface, a `PayloadSigner` that answers like
 * AWS Signer from the test signing authority, and the trust stores holding the test root.
 */
import { trustStoreFromPem, TrustStoreSet } from '../../../shared/notary/trust-store';
import type { PayloadSigner, SignedEnvelope } from '../../../shared/notary/types';
import { descriptorFor } from '../../../shared/oci/digest';
import type { Reference } from '../../../shared/oci/reference';
import type { Registry } from '../../../shared/oci/registry';
import { MediaType } from '../../../shared/oci/types';
import type { Descriptor } from '../../../shared/oci/types';
import {
  AWS_FIXTURE,
  loadTestSigningAuthority,
  signLikeAwsSigner,
} from '../../helpers/test-signing-authority';

/** Inside the test authority's validity and before the fixture signatures expire. */
export const TEST_NOW = new Date('2026-01-15T10:00:00Z');

export const PROFILE_ARN = AWS_FIXTURE.profileArn;

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** Pushes a one-layer image (distinct per `seed`) and tags it; returns the manifest descriptor. */
export async function pushTestImage(
  registry: Registry,
  ref: Reference,
  tag: string,
  seed = tag,
): Promise<Descriptor> {
  const layer = new TextEncoder().encode(`layer of ${seed}`);
  const layerDesc = descriptorFor(layer, 'application/vnd.oci.image.layer.v1.tar');
  const config = encode({ architecture: 'amd64', os: 'linux', seed });
  const configDesc = descriptorFor(config, MediaType.ImageConfig);
  const manifest = encode({
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config: configDesc,
    layers: [layerDesc],
  });
  const desc = descriptorFor(manifest, MediaType.ImageManifest);
  await registry.pushBlob(ref, layerDesc, layer);
  await registry.pushBlob(ref, configDesc, config);
  await registry.pushManifest(ref, desc, manifest, { tag });
  return desc;
}

/** Pushes a two-platform image index (linux/amd64, linux/arm64) under `tag`. */
export async function pushTestIndex(
  registry: Registry,
  ref: Reference,
  tag: string,
): Promise<{ index: Descriptor; platforms: Descriptor[] }> {
  const platforms: Descriptor[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const desc = await pushTestImage(registry, ref, `${tag}-${architecture}`, `${tag}/${architecture}`);
    platforms.push({ ...desc, platform: { architecture, os: 'linux' } });
  }
  const index = encode({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: platforms });
  const desc = descriptorFor(index, MediaType.ImageIndex);
  await registry.pushManifest(ref, desc, index, { tag });
  return { index: desc, platforms };
}

/** The test signing authority's root as a signing-authority trust store (what the AWS root is in production). */
export function testTrustStores(): TrustStoreSet {
  const { rootPem } = loadTestSigningAuthority();
  return new TrustStoreSet([trustStoreFromPem('signingAuthority', 'test-signer-ts', rootPem)]);
}

/**
 * A PayloadSigner answering like AWS Signer with the test authority; counts its calls. Each call
 * gets a fresh job ARN. `profileVersionArn` defaults to a version of {@link PROFILE_ARN}; the
 * signing time is one minute before {@link TEST_NOW}; `validityMs` (signing time to expiry)
 * defaults to the test authority's long validity.
 */
export class TestAwsSigner implements PayloadSigner {
  calls = 0;
  readonly payloads: Uint8Array[] = [];
  constructor(
    private readonly profileVersionArn: string = AWS_FIXTURE.profileVersionArn,
    private readonly options: { validityMs?: number } = {},
  ) {}

  async sign(payload: Uint8Array): Promise<SignedEnvelope> {
    this.calls += 1;
    this.payloads.push(payload);
    const jobId = `00000000-0000-4000-8000-${String(this.calls).padStart(12, '0')}`;
    const region = this.profileVersionArn.split(':')[3];
    const account = this.profileVersionArn.split(':')[4];
    const jobArn = `arn:aws:signer:${region}:${account}:/signing-jobs/${jobId}`;
    const signingTime = new Date(TEST_NOW.getTime() - 60_000);
    const signed = signLikeAwsSigner(payload, {
      profileVersionArn: this.profileVersionArn,
      jobArn,
      signingTime,
      ...(this.options.validityMs !== undefined
        ? { expiry: new Date(signingTime.getTime() + this.options.validityMs) }
        : {}),
    });
    return {
      envelope: signed.envelope,
      envelopeMediaType: 'application/jose+json',
      annotations: signed.annotations,
      jobId: signed.jobId,
    };
  }
}
