import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLoopbackRegistryHost, lambdaRegistry } from '../../../shared/oci/lambda-registry';
import { parseReference } from '../../../shared/oci/reference';
import { MediaType } from '../../../shared/oci/types';
import { FakeRegistry } from '../../helpers/fake-registry';
import { buildSignature, pushImage, pushSignature } from './registry-behaviour';

const started: FakeRegistry[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

describe('isLoopbackRegistryHost', () => {
  it.each(['127.0.0.1:5000', '127.0.0.1', '127.1.2.3:80', 'localhost:5000', 'LOCALHOST', '[::1]:5000'])(
    'takes %s for loopback',
    (host) => {
      expect(isLoopbackRegistryHost(host)).toBe(true);
    },
  );

  it.each([
    '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    'registry.example.com:5000',
    'localhost.evil.example',
    '127.0.0.1.evil.example',
    '10.0.0.1:5000',
    '[::2]:5000',
  ])('does not take %s for loopback', (host) => {
    expect(isLoopbackRegistryHost(host)).toBe(false);
  });
});

describe('lambdaRegistry', () => {
  it('speaks plain HTTP only to loopback hosts and HTTPS to every other registry', async () => {
    const urls: string[] = [];
    const registry = lambdaRegistry(
      { warn: vi.fn(), debug: vi.fn() },
      {
        retry: { maxAttempts: 1 },
        fetch: async (input) => {
          urls.push(String(input));
          throw new TypeError('fetch failed');
        },
      },
    );
    await registry.resolve(parseReference('127.0.0.1:5000/app:v1')).catch(() => undefined);
    await registry.resolve(parseReference('registry.example.com/app:v1')).catch(() => undefined);
    expect(urls).toEqual([
      'http://127.0.0.1:5000/v2/app/manifests/v1',
      'https://registry.example.com/v2/app/manifests/v1',
    ]);
  });

  it('sends the warning about an outdated referrers index it could not delete to the stage logger', async () => {
    const server = await FakeRegistry.start({ referrersApi: false });
    started.push(server);
    server.intercept((r) => (r.method === 'DELETE' ? { status: 405 } : undefined));
    const warn = vi.fn();
    const registry = lambdaRegistry({ warn, debug: vi.fn() }, { retry: { sleep: async () => undefined } });
    const ref = parseReference(`${server.host}/app`);
    const image = await pushImage(registry, ref, 'lambda-logger');
    await pushSignature(registry, ref, buildSignature(image, 'one'));
    await pushSignature(registry, ref, buildSignature(image, 'two'));
    expect(await registry.listReferrers(ref, image, MediaType.NotarySignature)).toHaveLength(2);
    expect(warn).toHaveBeenCalledWith(
      'Removal of outdated referrers index from remote registry failed. Garbage collection may be required.',
      expect.objectContaining({ registry: server.host, repository: 'app' }),
    );
  });
});
