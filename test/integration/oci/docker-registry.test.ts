import { describe, expect, it, vi } from 'vitest';
import { DistributionRegistry } from '../../../shared/oci/distribution-registry';
import { parseReference, type Reference } from '../../../shared/oci/reference';
import { parseIndex } from '../../../shared/oci/referrers-index';
import { MediaType } from '../../../shared/oci/types';
import { describeWithDockerRegistry } from '../../helpers/docker-registry';
import { buildSignature, pushImage, pushSignature, registryBehaviour } from './registry-behaviour';

// distribution 2.8 has no Referrers API and answers no OCI-Subject: every signature goes
// through the referrers tag schema, maintained by the client.
describeWithDockerRegistry(
  'DistributionRegistry against the real docker-registry (distribution 2.8)',
  (server) => {
    let counter = 0;
    const fresh = (): Reference =>
      parseReference(`${server().host}/stagesign/test-${Date.now().toString(36)}-${++counter}`);

    describe('behaves like every Registry', () => {
      registryBehaviour(async () => ({
        registry: new DistributionRegistry({ plainHttp: true }),
        ref: fresh(),
      }));
    });

    it('stores signatures in the sha256-<hex> tag index, appends the second, and deletes the outdated index', async () => {
      const warn = vi.fn();
      const registry = new DistributionRegistry({
        plainHttp: true,
        logger: { warn, debug: () => undefined },
      });
      const ref = fresh();
      const image = await pushImage(registry, ref, 'tag-schema');
      const first = buildSignature(image, 'first');
      await pushSignature(registry, ref, first);
      const tagRef = { ...ref, tag: `sha256-${image.digest.slice(7)}` };
      const firstIndexDesc = await registry.resolve(tagRef);
      const firstIndex = parseIndex(await registry.fetchManifest(ref, firstIndexDesc), 'index');
      expect(firstIndex.manifests.map((d) => d.digest)).toEqual([first.desc.digest]);
      expect(firstIndex.manifests[0]).toMatchObject({
        artifactType: MediaType.NotarySignature,
        annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["first"]' },
      });

      const second = buildSignature(image, 'second');
      await pushSignature(registry, ref, second);
      const secondIndexDesc = await registry.resolve(tagRef);
      const secondIndex = parseIndex(await registry.fetchManifest(ref, secondIndexDesc), 'index');
      expect(secondIndex.manifests.map((d) => d.digest)).toEqual([first.desc.digest, second.desc.digest]);
      expect(secondIndexDesc.digest).not.toBe(firstIndexDesc.digest);
      await expect(registry.fetchManifest(ref, firstIndexDesc)).rejects.toMatchObject({
        code: 'CONTENT_NOT_FOUND',
      });
      expect(warn).not.toHaveBeenCalled();

      const found = await registry.listReferrers(ref, image, MediaType.NotarySignature);
      expect(found.map((d) => d.digest)).toEqual([first.desc.digest, second.desc.digest]);
      expect(await registry.fetchManifest(ref, found[1]!)).toEqual(second.manifest);
      expect(await registry.fetchBlob(ref, second.envelopeDesc)).toEqual(second.envelope);
    });

    it('keeps to the request budget on a real registry: 5+2 to push a new signature, 4+1 to find and fetch it', async () => {
      const requests: string[] = [];
      const counting: typeof fetch = (input, init) => {
        requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      };
      const ref = fresh();
      const image = await pushImage(new DistributionRegistry({ plainHttp: true }), ref, 'budget');
      const sig = buildSignature(image, 'budget');

      await pushSignature(new DistributionRegistry({ plainHttp: true, fetch: counting }), ref, sig);
      expect(requests).toHaveLength(5 + 2);

      requests.length = 0;
      const reader = new DistributionRegistry({ plainHttp: true, fetch: counting });
      const resolved = await reader.resolve({ ...ref, digest: image.digest });
      const [referrer] = await reader.listReferrers(ref, resolved, MediaType.NotarySignature);
      await reader.fetchManifest(ref, referrer!);
      await reader.fetchBlob(ref, sig.envelopeDesc);
      expect(requests).toHaveLength(4 + 1);
    });

    it('reports a missing tag as IMAGE_NOT_FOUND quoting the reference', async () => {
      const registry = new DistributionRegistry({ plainHttp: true });
      const ref = fresh();
      await pushImage(registry, ref, 'present');
      await expect(registry.resolve({ ...ref, tag: 'absent' })).rejects.toMatchObject({
        code: 'IMAGE_NOT_FOUND',
        message: expect.stringContaining(`${ref.repository}:absent`),
      });
    });
  },
);
