import { describe, expect, it } from 'vitest';
import {
  cachedSignerClientFactory,
  createSignerClient,
  signerEndpointConfigured,
} from '../../../shared/signer/clients';

describe('signerEndpointConfigured', () => {
  it.each([
    [{}, false],
    [{ AWS_ENDPOINT_URL_SIGNER: 'http://127.0.0.1:1' }, true],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }, true],
    [{ AWS_ENDPOINT_URL_SIGNER: '  ' }, false],
    [{ AWS_ENDPOINT_URL_SIGNER: 'http://127.0.0.1:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, false],
    [{ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' }, false],
  ])('for %j returns %s', (env, expected) => {
    expect(signerEndpointConfigured(env)).toBe(expected);
  });
});

describe('createSignerClient', () => {
  it('keeps the data- host prefix against the default AWS endpoint', () => {
    const client = createSignerClient('us-west-2', { env: {} });
    expect(client.config.disableHostPrefix).toBe(false);
  });

  it('disables the host prefix when AWS_ENDPOINT_URL_SIGNER is set', () => {
    const client = createSignerClient('us-west-2', {
      env: { AWS_ENDPOINT_URL_SIGNER: 'http://127.0.0.1:5055' },
    });
    expect(client.config.disableHostPrefix).toBe(true);
  });

  it('disables the host prefix for an explicit endpoint', () => {
    const client = createSignerClient('us-west-2', { endpoint: 'http://127.0.0.1:5055', env: {} });
    expect(client.config.disableHostPrefix).toBe(true);
  });

  it('leaves retries to callWithRetry (one SDK attempt)', async () => {
    const client = createSignerClient('eu-central-1', { env: {} });
    expect(await client.config.maxAttempts()).toBe(1);
    expect(await client.config.region()).toBe('eu-central-1');
  });
});

describe('cachedSignerClientFactory', () => {
  it('builds one client per region and reuses it', () => {
    const factory = cachedSignerClientFactory({ env: {} });
    const a = factory('us-east-1');
    expect(factory('us-east-1')).toBe(a);
    expect(factory('us-west-2')).not.toBe(a);
  });
});
