/**
 * issue 9 items 3 and 5 against a real (hostile) registry on 127.0.0.1: each attack ends in one
 * clear failure naming the bound, instead of an unbounded amount of work or memory. Request
 * counts are deterministic and asserted; timings and memory are measured with
 * bench/hostile-registry.ts, never here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../../../shared/oci/distribution-registry';
import { MAX_REFERRERS_EXAMINED, MAX_REFERRERS_BYTES } from '../../../shared/oci/distribution-registry';
import { parseReference } from '../../../shared/oci/reference';
import { MAX_JWS_ENVELOPE_BYTES, MAX_X5C_ENTRIES } from '../../../shared/notary/jws';
import { MAX_SIGNATURE_BYTES_PER_IMAGE } from '../../../shared/notary/registry-signature-source';
import { HostileRegistry, type HostileAttack } from '../../helpers/hostile-registry';
import { FakeRegistry } from '../../helpers/fake-registry';
import {
  awsEnvelope,
  pushImage,
  pushSignature,
  verifyWithFixtures,
} from '../../unit/functions/verify-image/signed-images';

const MiB = 1024 * 1024;
const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function hostile(attack: HostileAttack): Promise<HostileRegistry> {
  const registry = await HostileRegistry.start(attack);
  started.push(registry);
  return registry;
}

const client = () => new DistributionRegistry({ plainHttp: true, retry: { sleep: async () => {} } });

const verify = verifyWithFixtures;

describe('a hostile registry', () => {
  it('junk x5c: a signature with thousands of certificates fails on the envelope bound, unfetched', async () => {
    const server = await hostile({ kind: 'junk-x5c', certificates: 5_000 });
    const result = await verify(client(), server.image);
    expect(result.outcome).toBe('failed');
    expect(result.code).toBe('SIGNATURE_RETRIEVAL_FAILED');
    // The envelope (about 4 MB) is over the 1 MiB JWS envelope bound: not even fetched.
    expect(result.message).toContain(`exceeds the ${MAX_JWS_ENVELOPE_BYTES}-byte limit`);
    expect(server.requests.blobs).toBe(0);
  });

  it('junk x5c under the envelope bound: refused on the entry count, before decoding', async () => {
    const server = await hostile({ kind: 'junk-x5c', certificates: 200 });
    const result = await verify(client(), server.image);
    expect(result.code).toBe('ALL_SIGNATURES_FAILED');
    expect(result.failures[0]!.lines.join('\n')).toContain(
      `more than the limit of ${MAX_X5C_ENTRIES} (MAX_X5C_ENTRIES)`,
    );
  });

  it('endless referrers pages: fails closed on the descriptors-examined bound, page by page', async () => {
    const server = await hostile({
      kind: 'referrer-pages',
      pageBytes: 1 * MiB,
      artifactType: 'application/vnd.example.sbom',
    });
    await expect(verify(client(), server.image)).rejects.toMatchObject({
      code: 'REFERRERS_LIMIT_EXCEEDED',
      message: expect.stringContaining(`more than ${MAX_REFERRERS_EXAMINED}`),
    });
    // ~6 000 descriptors a page: the bound is passed on the second page; no third is fetched.
    expect(server.requests.referrers).toBe(2);
    expect(server.requests.manifests).toBe(1);
  });

  it('endless referrers pages of few, large descriptors: fails closed on the bytes bound', async () => {
    const server = await hostile({
      kind: 'referrer-pages',
      pageBytes: 3 * MiB,
      artifactType: `application/vnd.example.${'x'.repeat(8000)}`,
    });
    await expect(verify(client(), server.image)).rejects.toMatchObject({
      code: 'REFERRERS_LIMIT_EXCEEDED',
      message: expect.stringContaining(`more than ${MAX_REFERRERS_BYTES} bytes`),
    });
    expect(server.requests.referrers).toBe(6);
  });

  it('many huge signature manifests: fetched one at a time, and the per-image bytes bound ends it', async () => {
    const server = await hostile({ kind: 'many-signatures', signatures: 15, manifestBytes: 3 * MiB });
    await expect(verify(client(), server.image)).rejects.toMatchObject({
      code: 'SIGNATURE_LIMIT_EXCEEDED',
      message: expect.stringContaining(`more than ${MAX_SIGNATURE_BYTES_PER_IMAGE} bytes`),
    });
    // 10 manifests of 3 MiB (with their small envelopes) fit in 32 MiB; the 11th is not fetched.
    expect(server.requests.manifests).toBe(1 + 10);
    expect(server.requests.blobs).toBe(10);
  });
});

describe('signatures are verified one by one, stopping at the first pass as notation does', () => {
  it('fetches no signature manifest or envelope after the one that passes', async () => {
    const fake = await FakeRegistry.start({ referrersApi: true });
    started.push(fake);
    const registry = client();
    const ref = parseReference(`${fake.host}/app`);
    const image = await pushImage(registry, ref);
    await pushSignature(registry, ref, image, awsEnvelope(image));
    for (let i = 0; i < 5; i++) {
      await pushSignature(
        registry,
        ref,
        image,
        awsEnvelope(image, { signingTime: new Date(Date.UTC(2025, 6, i + 1)) }),
      );
    }
    fake.resetRequests();
    const result = await verify(registry, `${fake.host}/app@${image.digest}`);
    expect(result.outcome).toBe('verified');
    const gets = fake.registryRequests().filter((r) => r.method === 'GET');
    // resolve is a HEAD; then one referrers page, one signature manifest and its envelope.
    expect(gets.map((r) => r.path.split('/')[3])).toEqual(['referrers', 'manifests', 'blobs']);
  });
});
