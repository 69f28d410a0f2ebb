import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECRClient } from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { descriptorFor } from '../../../shared/oci/digest';
import {
  DistributionRegistry,
  type DistributionRegistryOptions,
} from '../../../shared/oci/distribution-registry';
import { listPlatformManifests } from '../../../shared/oci/registry';
import { parseReference, withDigest, type Reference } from '../../../shared/oci/reference';
import { EMPTY_DESCRIPTOR, MediaType } from '../../../shared/oci/types';
import { FakeRegistry, type FakeRegistryOptions } from '../../helpers/fake-registry';
import { buildSignature, pushImage, pushSignature, registryBehaviour } from './registry-behaviour';

const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function fake(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const registry = await FakeRegistry.start(options);
  started.push(registry);
  return registry;
}

const noSleep = { sleep: async () => undefined, random: () => 0.5 };

function client(options: DistributionRegistryOptions = {}): DistributionRegistry {
  return new DistributionRegistry({ plainHttp: true, ...options, retry: { ...noSleep, ...options.retry } });
}

function repo(server: FakeRegistry, name = 'app'): Reference {
  return parseReference(`${server.host}/${name}`);
}

function count(server: FakeRegistry, before: number): number {
  return server.registryRequests().length - before;
}

describe('DistributionRegistry over a fake registry with the Referrers API', () => {
  describe('behaves like every Registry', () => {
    registryBehaviour(async () => {
      const server = await fake({ referrersApi: true });
      return { registry: client(), ref: repo(server) };
    });
  });

  describe('request budget (warm credentials)', () => {
    it('resolves a digest, lists signatures, fetches one signature manifest and its envelope in 4 requests', async () => {
      const server = await fake();
      const setup = client();
      const ref = repo(server);
      const image = await pushImage(setup, ref, 'budget');
      const sig = buildSignature(image, 'sig');
      await pushSignature(setup, ref, sig);

      const registry = client();
      const before = server.registryRequests().length;
      const resolved = await registry.resolve(withDigest(ref, image.digest));
      const [referrer] = await registry.listReferrers(ref, resolved, MediaType.NotarySignature);
      const manifest = JSON.parse(new TextDecoder().decode(await registry.fetchManifest(ref, referrer!))) as {
        layers: [{ digest: string; size: number; mediaType: string }];
      };
      await registry.fetchBlob(ref, manifest.layers[0]);
      expect(count(server, before)).toBe(4);
    });

    it('pushes a signature in 5 requests when the blobs are new and 3 when they exist', async () => {
      const server = await fake();
      const registry = client();
      const ref = repo(server);
      const image = await pushImage(registry, ref, 'push-budget');
      const sig = buildSignature(image, 'sig');

      let before = server.registryRequests().length;
      await pushSignature(registry, ref, sig);
      expect(count(server, before)).toBe(5);

      before = server.registryRequests().length;
      await pushSignature(registry, ref, sig);
      expect(count(server, before)).toBe(3);
    });

    it('costs one more request to list and two more to push with the tag schema, and remembers the mode', async () => {
      const server = await fake({ referrersApi: false });
      const registry = client();
      const ref = repo(server);
      const image = await pushImage(registry, ref, 'tag-schema-budget');
      const sig = buildSignature(image, 'sig');

      let before = server.registryRequests().length;
      await pushSignature(registry, ref, sig);
      expect(count(server, before)).toBe(5 + 2);

      const reader = client();
      before = server.registryRequests().length;
      const resolved = await reader.resolve(withDigest(ref, image.digest));
      const [referrer] = await reader.listReferrers(ref, resolved, MediaType.NotarySignature);
      await reader.fetchManifest(ref, referrer!);
      await reader.fetchBlob(ref, sig.envelopeDesc);
      expect(count(server, before)).toBe(4 + 1);

      before = server.registryRequests().length;
      await reader.listReferrers(ref, resolved, MediaType.NotarySignature);
      expect(count(server, before)).toBe(1);
      expect(server.registryRequests().at(-1)?.path).toBe(
        `/v2/app/manifests/sha256-${image.digest.slice(7)}`,
      );
    });

    it('with Bearer auth, costs no extra request once the token is warm', async () => {
      const server = await fake({ auth: { scheme: 'bearer', username: 'ci', password: 's3cret' } });
      const registry = client({ basicCredentials: () => ({ username: 'ci', password: 's3cret' }) });
      const ref = repo(server);
      const image = await pushImage(registry, ref, 'bearer-budget');
      const sig = buildSignature(image, 'sig');
      await pushSignature(registry, ref, sig);
      await registry.listReferrers(ref, image, MediaType.NotarySignature);

      const before = server.requests.length;
      const resolved = await registry.resolve(withDigest(ref, image.digest));
      const [referrer] = await registry.listReferrers(ref, resolved, MediaType.NotarySignature);
      await registry.fetchManifest(ref, referrer!);
      await registry.fetchBlob(ref, sig.envelopeDesc);
      expect(server.requests.length - before).toBe(4);
    });
  });

  describe('the Referrers API', () => {
    it('follows Link pages and filters client-side when the registry did not apply the filter', async () => {
      const server = await fake({ referrersPageSize: 2, applyArtifactTypeFilter: false });
      const registry = client();
      const ref = repo(server);
      const image = await pushImage(registry, ref, 'paging');
      const sigs = ['a', 'b', 'c', 'd', 'e'].map((label) => buildSignature(image, label));
      for (const sig of sigs) await pushSignature(registry, ref, sig);
      const sbom = new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ImageManifest,
          artifactType: 'application/spdx+json',
          config: EMPTY_DESCRIPTOR,
          layers: [EMPTY_DESCRIPTOR],
          subject: image,
        }),
      );
      await registry.pushManifest(ref, descriptorFor(sbom, MediaType.ImageManifest), sbom);

      const before = server.registryRequests().length;
      const found = await registry.listReferrers(ref, image, MediaType.NotarySignature);
      expect(found.map((d) => d.digest).sort()).toEqual(sigs.map((s) => s.desc.digest).sort());
      expect(count(server, before)).toBe(3);
      expect(
        server
          .registryRequests()
          .slice(-3)
          .every((r) => r.query.get('artifactType') === MediaType.NotarySignature),
      ).toBe(true);
    });

    it('trusts the registry filter when it answers OCI-Filters-Applied', async () => {
      const server = await fake();
      const registry = client();
      const ref = repo(server);
      const image = await pushImage(registry, ref, 'filtered');
      // The registry claims it filtered, so what it lists is taken as is.
      server.intercept((r) =>
        r.path.includes('/referrers/')
          ? {
              status: 200,
              headers: { 'content-type': MediaType.ImageIndex, 'oci-filters-applied': 'artifactType' },
              body: JSON.stringify({
                schemaVersion: 2,
                mediaType: MediaType.ImageIndex,
                manifests: [{ mediaType: MediaType.ImageManifest, digest: image.digest, size: 1 }],
              }),
            }
          : undefined,
      );
      expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(1);
    });

    it('does not maintain the tag schema when the registry answers OCI-Subject', async () => {
      const server = await fake();
      const registry = client();
      const ref = repo(server);
      const image = await pushImage(registry, ref, 'subject');
      await pushSignature(registry, ref, buildSignature(image, 'sig'));
      expect(server.manifest('app', `sha256-${image.digest.slice(7)}`)).toBeUndefined();
      expect(server.registryRequests().some((r) => r.path.endsWith(`sha256-${image.digest.slice(7)}`))).toBe(
        false,
      );
    });

    it('treats NAME_UNKNOWN from the Referrers API as a missing repository, not as "unsupported"', async () => {
      const server = await fake();
      const registry = client();
      await expect(
        registry.listReferrers(repo(server, 'nope'), {
          mediaType: MediaType.ImageManifest,
          digest: `sha256:${'1'.repeat(64)}`,
          size: 2,
        }),
      ).rejects.toMatchObject({
        code: 'IMAGE_NOT_FOUND',
      });
    });
  });

  describe('multi-architecture images', () => {
    it('resolves an index by tag and lists its platform manifests', async () => {
      const server = await fake();
      const registry = client();
      const ref = repo(server);
      const amd = await pushImage(registry, ref, 'amd64');
      const arm = await pushImage(registry, ref, 'arm64');
      const index = new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ImageIndex,
          manifests: [
            { ...amd, platform: { architecture: 'amd64', os: 'linux' } },
            { ...arm, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
          ],
        }),
      );
      const indexDesc = descriptorFor(index, MediaType.ImageIndex);
      await registry.pushManifest(ref, indexDesc, index, { tag: 'multi' });
      const resolved = await registry.resolve({ ...ref, tag: 'multi' });
      expect(resolved).toEqual(indexDesc);
      const platforms = await listPlatformManifests(registry, ref, resolved);
      expect(platforms.map((d) => [d.digest, d.platform?.architecture])).toEqual([
        [amd.digest, 'amd64'],
        [arm.digest, 'arm64'],
      ]);
    });
  });
});

describe('DistributionRegistry authentication', () => {
  it('runs the Bearer token flow once per scope and asks pull,push for pushes', async () => {
    const server = await fake({ auth: { scheme: 'bearer' } });
    const registry = client();
    const ref = repo(server);
    await pushImage(registry, ref, 'anonymous-bearer');
    const scopes = server.requests.filter((r) => r.path === '/token').map((r) => r.query.get('scope'));
    expect(scopes).toEqual(['repository:app:pull,push']);
  });

  it('sends Basic credentials after a Basic challenge and never puts them in errors', async () => {
    const server = await fake({ auth: { scheme: 'basic', username: 'u', password: 'topsecret' } });
    const good = client({ basicCredentials: () => ({ username: 'u', password: 'topsecret' }) });
    await pushImage(good, repo(server), 'basic');
    const bad = client({ basicCredentials: () => ({ username: 'u', password: 'wrongsecret' }) });
    const error = await bad.resolve({ ...repo(server), tag: 'x' }).then(
      () => new Error('expected a rejection'),
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'REGISTRY_DENIED', kind: 'permission' });
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toMatch(/wrongsecret|Basic /);
  });

  it('authenticates to ECR with GetAuthorizationToken in the region of the host, cached until expiry', async () => {
    const ecrCalls: IncomingHttpHeaders[] = [];
    const token = Buffer.from('AWS:ecr-password').toString('base64');
    const ecrEndpoint = await httpServer((req, res) => {
      ecrCalls.push(req.headers);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(
        JSON.stringify({
          authorizationData: [
            {
              authorizationToken: token,
              expiresAt: Date.now() / 1000 + 43200,
              proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-3.amazonaws.com',
            },
          ],
        }),
      );
    });
    const server = await fake({ auth: { scheme: 'token', token } });
    const ecrHost = '123456789012.dkr.ecr.eu-west-3.amazonaws.com';
    const regions: string[] = [];
    const registry = new DistributionRegistry({
      plainHttp: true,
      retry: noSleep,
      ecr: {
        clientForRegion: (region) => {
          regions.push(region);
          return new ECRClient({
            region,
            endpoint: ecrEndpoint.url,
            credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
          });
        },
      },
      // The ECR host name stands for the fake registry on loopback.
      fetch: (input, init) =>
        fetch(String(input instanceof Request ? input.url : input).replace(ecrHost, server.host), init),
    });
    const ref = parseReference(`${ecrHost}/team/app`);
    await pushImage(registry, ref, 'ecr');
    await registry.resolve({ ...ref, tag: 'missing' }).catch(() => undefined);

    expect(regions).toEqual(['eu-west-3']);
    expect(ecrCalls).toHaveLength(1);
    expect(ecrCalls[0]!['x-amz-target']).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
    expect(String(ecrCalls[0]!.authorization)).toContain('/eu-west-3/ecr/aws4_request');
    expect(server.registryRequests().every((r) => r.headers.authorization === `Basic ${token}`)).toBe(true);
  });

  it('names the ECR actions a denied push needs', async () => {
    const ecrEndpoint = await httpServer((_req, res) => {
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(
        JSON.stringify({
          authorizationData: [{ authorizationToken: 'dG9rZW4=', expiresAt: Date.now() / 1000 + 3600 }],
        }),
      );
    });
    const server = await fake();
    server.intercept((r) =>
      r.method !== 'GET' && r.method !== 'HEAD'
        ? {
            status: 403,
            headers: { 'content-type': 'application/json' },
            body: '{"errors":[{"code":"DENIED","message":"not authorized"}]}',
          }
        : undefined,
    );
    const ecrHost = '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com';
    const registry = new DistributionRegistry({
      plainHttp: true,
      retry: noSleep,
      ecr: {
        clientForRegion: (region) =>
          new ECRClient({
            region,
            endpoint: ecrEndpoint.url,
            credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
          }),
      },
      fetch: (input, init) => fetch(String(input).replace(ecrHost, server.host), init),
    });
    const bytes = new TextEncoder().encode('blob');
    const error = await registry
      .pushBlob(parseReference(`${ecrHost}/app`), descriptorFor(bytes, 'application/octet-stream'), bytes)
      .then(
        () => new Error('expected a rejection'),
        (e: unknown) => e as Error,
      );
    expect(error).toMatchObject({ code: 'REGISTRY_DENIED', kind: 'permission' });
    expect(error.message).toContain('ecr:InitiateLayerUpload');
    expect(error.message).toContain('arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/app');
    expect(error.message).not.toContain('dG9rZW4=');
  });

  it('maps a denied GetAuthorizationToken to ECR_AUTH_DENIED', async () => {
    const ecrEndpoint = await httpServer((_req, res) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not allowed' }));
    });
    const registry = new DistributionRegistry({
      retry: noSleep,
      ecr: {
        clientForRegion: (region) =>
          new ECRClient({
            region,
            endpoint: ecrEndpoint.url,
            credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
            maxAttempts: 1,
          }),
      },
    });
    await expect(
      registry.resolve(parseReference(`123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1`)),
    ).rejects.toMatchObject({
      code: 'ECR_AUTH_DENIED',
      message: expect.stringContaining('ecr:GetAuthorizationToken'),
    });
  });
});

describe('DistributionRegistry transport', () => {
  it('follows a 307 blob redirect to another host without the Authorization header', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const content = new TextEncoder().encode('envelope bytes');
    const s3 = await httpServer((req, res) => {
      seen.push(req.headers);
      res.end(Buffer.from(content));
    });
    const server = await fake({
      auth: { scheme: 'basic', username: 'u', password: 'p' },
      blobRedirect: () => `${s3.url}/bucket/object?X-Amz-Signature=abc`,
    });
    const registry = client({ basicCredentials: () => ({ username: 'u', password: 'p' }) });
    const ref = repo(server);
    const digest = server.seedBlob('app', content);
    expect(
      await registry.fetchBlob(ref, { mediaType: MediaType.JwsEnvelope, digest, size: content.byteLength }),
    ).toEqual(content);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it('retries a 429 honouring Retry-After, then succeeds', async () => {
    const server = await fake();
    const ref = repo(server);
    const digest = server.seedManifest(
      'app',
      new TextEncoder().encode('{"schemaVersion":2,"config":{}}'),
      MediaType.ImageManifest,
      'v1',
    );
    let throttled = 0;
    server.intercept(() => (throttled++ < 2 ? { status: 429, headers: { 'retry-after': '3' } } : undefined));
    const sleeps: number[] = [];
    const registry = client({ retry: { sleep: async (ms) => void sleeps.push(ms) } });
    expect((await registry.resolve({ ...ref, tag: 'v1' })).digest).toBe(digest);
    expect(sleeps).toEqual([3000, 3000]);
  });

  it('retries 5xx with growing backoff, then succeeds', async () => {
    const server = await fake();
    const ref = repo(server);
    server.seedManifest(
      'app',
      new TextEncoder().encode('{"schemaVersion":2,"config":{}}'),
      MediaType.ImageManifest,
      'v1',
    );
    let failures = 0;
    server.intercept(() => (failures++ < 2 ? { status: 503 } : undefined));
    const sleeps: number[] = [];
    const registry = client({
      retry: { baseDelayMs: 100, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    });
    await registry.resolve({ ...ref, tag: 'v1' });
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]!).toBeGreaterThan(sleeps[0]!);
    expect(server.registryRequests()).toHaveLength(3);
  });

  it('gives up after maxAttempts with a DependencyError', async () => {
    const server = await fake();
    server.intercept(() => ({ status: 502 }));
    const registry = client({ retry: { maxAttempts: 3 } });
    await expect(registry.resolve({ ...repo(server), tag: 'v1' })).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      kind: 'dependency',
    });
    expect(server.registryRequests()).toHaveLength(3);
  });

  it('gives up when Retry-After would exceed the total time budget', async () => {
    const server = await fake();
    server.intercept(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    const registry = client({ retry: { maxTotalMs: 10_000 } });
    await expect(registry.resolve({ ...repo(server), tag: 'v1' })).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
    });
    expect(server.registryRequests()).toHaveLength(1);
  });

  it('surfaces the registry error code of other 4xx at once', async () => {
    const server = await fake();
    server.intercept((r) =>
      r.method === 'PUT'
        ? {
            status: 400,
            headers: { 'content-type': 'application/json' },
            body: '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}',
          }
        : undefined,
    );
    const registry = client();
    const bytes = new TextEncoder().encode('{"schemaVersion":2,"config":{}}');
    await expect(
      registry.pushManifest(repo(server), descriptorFor(bytes, MediaType.ImageManifest), bytes),
    ).rejects.toMatchObject({
      code: 'REGISTRY_REQUEST_REJECTED',
      kind: 'input',
      message: expect.stringContaining('MANIFEST_INVALID: manifest invalid'),
    });
    expect(server.registryRequests()).toHaveLength(1);
  });

  it('reports a missing manifest as IMAGE_NOT_FOUND with the reference', async () => {
    const server = await fake();
    server.seedBlob('app', new Uint8Array([1]));
    await expect(client().resolve({ ...repo(server), tag: 'v9' })).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      message: expect.stringContaining(`${server.host}/app:v9`),
    });
  });

  it.each([
    [
      'content that does not hash to the digest',
      (b: Uint8Array) => new Uint8Array(b.map((x) => x ^ 1)),
      'DIGEST_MISMATCH',
    ],
    ['more bytes than the descriptor says', (b: Uint8Array) => new Uint8Array([...b, 32]), 'SIZE_MISMATCH'],
  ])('rejects a blob answered with %s', async (_, tamper, code) => {
    const server = await fake();
    const content = new TextEncoder().encode('the real envelope');
    const digest = server.seedBlob('app', content);
    server.intercept((r) =>
      r.path.includes('/blobs/') ? { status: 200, body: tamper(content) } : undefined,
    );
    await expect(
      client().fetchBlob(repo(server), {
        mediaType: MediaType.JwsEnvelope,
        digest,
        size: content.byteLength,
      }),
    ).rejects.toMatchObject({ code, kind: 'input' });
  });

  it('refuses a manifest over 4 MiB before fetching it', async () => {
    const server = await fake();
    await expect(
      client().fetchManifest(repo(server), {
        mediaType: MediaType.ImageManifest,
        digest: `sha256:${'2'.repeat(64)}`,
        size: 4 * 1024 * 1024 + 1,
      }),
    ).rejects.toMatchObject({
      code: 'CONTENT_TOO_LARGE',
    });
    expect(server.registryRequests()).toHaveLength(0);
  });

  it('rejects a response that announces more than the limit', async () => {
    const server = await fake();
    server.intercept(() => ({
      status: 200,
      headers: { 'content-type': MediaType.ImageManifest, 'content-length': String(5 * 1024 * 1024) },
      body: new Uint8Array(5 * 1024 * 1024),
    }));
    await expect(
      client().resolve(withDigest(repo(server), `sha256:${'3'.repeat(64)}`)),
    ).rejects.toMatchObject({ code: 'CONTENT_TOO_LARGE' });
  });

  it('uses HTTPS unless plain HTTP is allowed for the host', async () => {
    const calls: string[] = [];
    const registry = new DistributionRegistry({
      plainHttp: (host) => host.startsWith('127.0.0.1'),
      retry: { ...noSleep, maxAttempts: 1 },
      fetch: async (input) => {
        calls.push(String(input));
        throw new TypeError('fetch failed');
      },
    });
    await registry.resolve(parseReference('registry.example.com/app:v1')).catch(() => undefined);
    await registry.resolve(parseReference('127.0.0.1:5000/app:v1')).catch(() => undefined);
    expect(calls).toEqual([
      'https://registry.example.com/v2/app/manifests/v1',
      'http://127.0.0.1:5000/v2/app/manifests/v1',
    ]);
  });

  it('warns but does not fail when the outdated referrers index cannot be deleted', async () => {
    const server = await fake({ referrersApi: false });
    server.intercept((r) =>
      r.method === 'DELETE'
        ? {
            status: 405,
            headers: { 'content-type': 'application/json' },
            body: '{"errors":[{"code":"UNSUPPORTED","message":"delete disabled"}]}',
          }
        : undefined,
    );
    const warn = vi.fn();
    const registry = client({ logger: { warn, debug: () => undefined } });
    const ref = repo(server);
    const image = await pushImage(registry, ref, 'no-delete');
    await pushSignature(registry, ref, buildSignature(image, 'one'));
    await pushSignature(registry, ref, buildSignature(image, 'two'));
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
    expect(warn).toHaveBeenCalledWith(
      'Removal of outdated referrers index from remote registry failed. Garbage collection may be required.',
      expect.objectContaining({ code: 'REGISTRY_REQUEST_REJECTED' }),
    );
  });
});

/**
 * A fetch that serves `https://<host>` from a loopback fake registry (and `https://<alias>` from
 * other loopback servers), recording every URL and Authorization header it is asked for.
 * Any other URL is recorded and fails, as an unreachable host would.
 */
function mappedFetch(routes: Record<string, string>): {
  fetch: typeof fetch;
  calls: { url: string; authorization: string | undefined }[];
} {
  const calls: { url: string; authorization: string | undefined }[] = [];
  const mapped: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const headers = new Headers(init?.headers);
    calls.push({ url, authorization: headers.get('authorization') ?? undefined });
    const origin = new URL(url).origin;
    const target = routes[origin];
    if (target === undefined) throw new TypeError('fetch failed');
    return fetch(target + url.slice(origin.length), init);
  };
  return { fetch: mapped, calls };
}

const REMOTE_HOST = 'registry.example.com';

describe('DistributionRegistry keeps credentials on the registry origin', () => {
  it.each([
    ['another host', 'http://evil.example/v2/app/referrers/x?last=1'],
    ['the same host over plain HTTP (a downgrade)', `http://${REMOTE_HOST}/v2/app/referrers/x?last=1`],
    ['the same host on another port', `https://${REMOTE_HOST}:8443/v2/app/referrers/x?last=1`],
  ])('refuses a referrers Link to %s instead of sending credentials there', async (_, link) => {
    const server = await fake({ auth: { scheme: 'basic', username: 'u', password: 'p4ss' } });
    const subject = { mediaType: MediaType.ImageManifest, digest: `sha256:${'4'.repeat(64)}`, size: 2 };
    server.intercept((r) =>
      r.path.includes('/referrers/') && r.headers.authorization !== undefined
        ? {
            status: 200,
            headers: { 'content-type': MediaType.ImageIndex, link: `<${link}>; rel="next"` },
            body: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] }),
          }
        : undefined,
    );
    const { fetch: mapped, calls } = mappedFetch({ [`https://${REMOTE_HOST}`]: server.url });
    const registry = new DistributionRegistry({
      retry: noSleep,
      fetch: mapped,
      basicCredentials: () => ({ username: 'u', password: 'p4ss' }),
    });
    await expect(
      registry.listReferrers(parseReference(`${REMOTE_HOST}/app`), subject, MediaType.NotarySignature),
    ).rejects.toMatchObject({
      code: 'REGISTRY_CROSS_ORIGIN_LINK',
      kind: 'input',
      message: expect.stringContaining(`registry ${REMOTE_HOST} pointed the next page`),
    });
    expect(calls.map((c) => new URL(c.url).origin)).toEqual([
      `https://${REMOTE_HOST}`,
      `https://${REMOTE_HOST}`,
    ]);
  });

  it('sends no Authorization to an upload Location on another origin', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const elsewhere = await httpServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.statusCode = 201;
        res.end();
      });
    });
    const server = await fake({ auth: { scheme: 'basic', username: 'u', password: 'p4ss' } });
    server.intercept((r) =>
      r.method === 'POST' && r.headers.authorization !== undefined
        ? { status: 202, headers: { location: `${elsewhere.url}/upload/1?_state=x` } }
        : undefined,
    );
    const registry = client({ basicCredentials: () => ({ username: 'u', password: 'p4ss' }) });
    const bytes = new TextEncoder().encode('an envelope');
    await registry.pushBlob(repo(server), descriptorFor(bytes, MediaType.JwsEnvelope), bytes);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it('refuses a plain-HTTP token realm named by an HTTPS registry, before sending credentials', async () => {
    const server = await fake({ auth: { scheme: 'bearer', username: 'ci', password: 's3cret' } });
    const { fetch: mapped, calls } = mappedFetch({ [`https://${REMOTE_HOST}`]: server.url });
    const registry = new DistributionRegistry({
      retry: noSleep,
      fetch: mapped,
      basicCredentials: () => ({ username: 'ci', password: 's3cret' }),
    });
    await expect(registry.resolve(parseReference(`${REMOTE_HOST}/app:v1`))).rejects.toMatchObject({
      code: 'REGISTRY_INSECURE_TOKEN_REALM',
      kind: 'input',
      message: expect.stringContaining(`registry ${REMOTE_HOST} named a http token realm`),
    });
    expect(server.requests.filter((r) => r.path === '/token')).toHaveLength(0);
    expect(calls.every((c) => c.authorization === undefined)).toBe(true);
  });

  it('accepts an HTTPS token realm on another host, as Docker does (auth.docker.io for Docker Hub)', async () => {
    const server = await fake({
      auth: { scheme: 'bearer', username: 'ci', password: 's3cret' },
      tokenRealm: 'https://auth.example/token',
    });
    const { fetch: mapped, calls } = mappedFetch({
      [`https://${REMOTE_HOST}`]: server.url,
      'https://auth.example': server.url,
    });
    const registry = new DistributionRegistry({
      retry: noSleep,
      fetch: mapped,
      basicCredentials: () => ({ username: 'ci', password: 's3cret' }),
    });
    await pushImage(registry, parseReference(`${REMOTE_HOST}/app`), 'realm-elsewhere');
    expect(calls.filter((c) => c.url.startsWith('https://auth.example/token'))).toHaveLength(1);
  });
});

describe('DistributionRegistry time limits', () => {
  it('times out a request that never answers, retries it within the attempt bound, then fails', async () => {
    let received = 0;
    const silent = await httpServer(() => {
      received++;
    });
    const registry = client({ requestTimeoutMs: 50, retry: { maxAttempts: 2 } });
    await expect(
      registry.resolve(parseReference(`${silent.url.slice('http://'.length)}/app:v1`)),
    ).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      kind: 'dependency',
      message: expect.stringContaining('after 2 attempt(s): timed out'),
    });
    expect(received).toBe(2);
  });

  it('ends a body that stops flowing with REGISTRY_UNAVAILABLE', async () => {
    const stalled = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' });
      res.write('only the start');
    });
    const registry = client({ requestTimeoutMs: 100 });
    await expect(
      registry.fetchBlob(parseReference(`${stalled.url.slice('http://'.length)}/app`), {
        mediaType: MediaType.JwsEnvelope,
        digest: `sha256:${'5'.repeat(64)}`,
        size: 100,
      }),
    ).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      message: expect.stringContaining('stopped sending'),
    });
  });

  it('does not retry a request the caller aborted', async () => {
    const controller = new AbortController();
    let received = 0;
    const silent = await httpServer(() => {
      received++;
      controller.abort();
    });
    const registry = client({ signal: controller.signal, retry: { maxAttempts: 4 } });
    await expect(
      registry.resolve(parseReference(`${silent.url.slice('http://'.length)}/app:v1`)),
    ).rejects.toMatchObject({
      code: 'ABORTED',
      kind: 'dependency',
      message: expect.stringContaining('the caller aborted it'),
    });
    expect(received).toBe(1);
  });
});

describe('DistributionRegistry per-call signal', () => {
  it('ends a hung request when the call signal aborts, reports ABORTED and sends nothing more', async () => {
    const controller = new AbortController();
    let received = 0;
    let closedByClient!: () => void;
    const closed = new Promise<void>((resolve) => (closedByClient = resolve));
    const silent = await httpServer((req) => {
      received++;
      req.socket.once('close', () => closedByClient());
      controller.abort(new Error('deadline while resolving'));
    });
    // A long per-request timeout: only the call signal can end this request.
    const registry = client({ requestTimeoutMs: 60_000, retry: { maxAttempts: 4 } });
    await expect(
      registry.resolve(parseReference(`${silent.url.slice('http://'.length)}/app:v1`), {
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
      kind: 'dependency',
      message: expect.stringContaining('deadline while resolving'),
    });
    await closed;
    expect(received).toBe(1);
  });

  it('stops during the retry backoff when the call signal aborts, without another request', async () => {
    const server = await fake();
    const controller = new AbortController();
    server.intercept(() => ({ status: 503 }));
    const registry = client({
      retry: {
        maxAttempts: 4,
        // The backoff never ends by itself: only the abort can end it.
        sleep: () => {
          controller.abort();
          return new Promise<void>(() => undefined);
        },
      },
    });
    await expect(
      registry.fetchManifest(
        repo(server),
        { mediaType: MediaType.ImageManifest, digest: `sha256:${'a'.repeat(64)}`, size: 2 },
        {
          signal: controller.signal,
        },
      ),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(server.registryRequests()).toHaveLength(1);
  });

  it('ends a hung ecr:GetAuthorizationToken when the call signal aborts, with ABORTED, not ECR_AUTH_FAILED', async () => {
    const controller = new AbortController();
    let received = 0;
    const ecrEndpoint = await httpServer((req) => {
      received++;
      req.resume();
      controller.abort(new Error('deadline while resolving'));
    });
    const registry = new DistributionRegistry({
      retry: noSleep,
      ecr: {
        clientForRegion: (region) =>
          new ECRClient({
            region,
            endpoint: ecrEndpoint.url,
            credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
            maxAttempts: 3,
          }),
      },
    });
    await expect(
      registry.resolve(parseReference('123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1'), {
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
      message: expect.stringContaining('ecr:GetAuthorizationToken'),
    });
    expect(received).toBe(1);
  });

  it('does not start a call whose signal is already aborted', async () => {
    const server = await fake();
    const controller = new AbortController();
    controller.abort();
    await expect(
      client().pushBlob(repo(server), EMPTY_DESCRIPTOR, new TextEncoder().encode('{}'), {
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('DistributionRegistry checks registry-supplied descriptors', () => {
  it('refuses a referrers answer whose entry digest is not a digest, and fetches nothing it names', async () => {
    const server = await fake();
    const registry = client();
    const ref = repo(server);
    const image = await pushImage(registry, ref, 'bad-referrer');
    server.intercept((r) =>
      r.path.includes('/referrers/')
        ? {
            status: 200,
            headers: { 'content-type': MediaType.ImageIndex, 'oci-filters-applied': 'artifactType' },
            body: JSON.stringify({
              schemaVersion: 2,
              mediaType: MediaType.ImageIndex,
              manifests: [
                {
                  mediaType: MediaType.ImageManifest,
                  digest: 'sha256:../../../v2/other/manifests/latest',
                  size: 10,
                  artifactType: MediaType.NotarySignature,
                },
              ],
            }),
          }
        : undefined,
    );
    await expect(registry.listReferrers(ref, image, MediaType.NotarySignature)).rejects.toMatchObject({
      code: 'INVALID_MANIFEST',
      message: expect.stringContaining('entry 0 of "manifests" is not a valid descriptor'),
    });
  });

  it('refuses to fetch a manifest or blob by a malformed digest without sending a request', async () => {
    const server = await fake();
    const registry = client();
    const bad = { mediaType: MediaType.ImageManifest, digest: 'sha256:../../x', size: 10 };
    await expect(registry.fetchManifest(repo(server), bad)).rejects.toMatchObject({
      code: 'INVALID_REFERENCE',
    });
    await expect(registry.fetchBlob(repo(server), bad)).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
    expect(server.registryRequests()).toHaveLength(0);
  });
});

describe('DistributionRegistry referrers mode', () => {
  it('keeps using the Referrers API once it is known, even after a push answered without OCI-Subject', async () => {
    const server = await fake();
    const registry = client();
    const ref = repo(server);
    const image = await pushImage(registry, ref, 'sticky-api');
    const first = buildSignature(image, 'first');
    await pushSignature(registry, ref, first);
    const second = buildSignature(image, 'second');
    // The registry stores the second signature but (a proxy, say) drops OCI-Subject from the answer.
    server.seedManifest('app', second.manifest, MediaType.ImageManifest);
    server.intercept((r) =>
      r.method === 'PUT' && r.path.endsWith(`/manifests/${second.desc.digest}`)
        ? { status: 201, headers: { 'docker-content-digest': second.desc.digest } }
        : undefined,
    );
    await pushSignature(registry, ref, second);
    const tagPath = `/v2/app/manifests/sha256-${image.digest.slice(7)}`;
    expect(server.registryRequests().some((r) => r.path === tagPath)).toBe(false);

    const found = await registry.listReferrers(ref, image, MediaType.NotarySignature);
    expect(found.map((d) => d.digest).sort()).toEqual([first.desc.digest, second.desc.digest].sort());
    expect(server.registryRequests().at(-1)?.path).toBe(`/v2/app/referrers/${image.digest}`);
  });

  it('trusts the older index annotation form of "filters applied"', async () => {
    const server = await fake();
    const registry = client();
    const ref = repo(server);
    const image = await pushImage(registry, ref, 'annotation-filter');
    server.intercept((r) =>
      r.path.includes('/referrers/')
        ? {
            status: 200,
            headers: { 'content-type': MediaType.ImageIndex },
            body: JSON.stringify({
              schemaVersion: 2,
              mediaType: MediaType.ImageIndex,
              annotations: { 'org.opencontainers.referrers.filtersApplied': 'artifactType' },
              manifests: [{ mediaType: MediaType.ImageManifest, digest: image.digest, size: image.size }],
            }),
          }
        : undefined,
    );
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(1);
  });
});

async function httpServer(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  started.push(handle);
  return handle;
}
