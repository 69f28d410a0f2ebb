import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetRevocationStatusCommand } from '@aws-sdk/client-signer';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-signer';
import type { SerializeHandler } from '@smithy/types';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSignerStandIn } from '../../helpers/signer-stand-in';
import type { SignerStandIn } from '../../helpers/signer-stand-in';
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

describe('createSignerClient with an endpoint_url in the shared config file', () => {
  // Only the SDK reads ~/.aws/config; the client must follow its endpoint choice for the host
  // prefix too, or GetRevocationStatus goes to http://data-127.0.0.1:… and never arrives.
  const ENV_KEYS = [
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_ENDPOINT_URL',
    'AWS_ENDPOINT_URL_SIGNER',
    'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  ];
  let standIn: SignerStandIn;
  let dir: string;
  let saved: Record<string, string | undefined>;

  beforeAll(async () => {
    standIn = await startSignerStandIn();
    dir = mkdtempSync(path.join(tmpdir(), 'stagesign-aws-config-'));
  });
  afterAll(async () => {
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
    for (const k of ENV_KEYS) delete process.env[k];
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-credentials'),
    });
    standIn.requests.length = 0;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const command = () =>
    new GetRevocationStatusCommand({
      signatureTimestamp: new Date('2022-07-06T19:10:28Z'),
      platformId: 'Notation-OCI-SHA384-ECDSA',
      profileVersionArn: 'arn:aws:signer:us-west-2:000000000000:/signing-profiles/Profile/OF8IVUsPJq',
      jobArn: 'arn:aws:signer:us-west-2:000000000000:/signing-jobs/97af3947-e7b2-4533-8d9d-6741156f0b79',
      certificateHashes: ['a'.repeat(192)],
    });
  const useConfig = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    process.env.AWS_CONFIG_FILE = file;
  };

  it.each([
    { where: 'the profile', config: (url: string) => `[default]\nendpoint_url = ${url}\n` },
    {
      where: "the profile's services section",
      config: (url: string) =>
        `[default]\nservices = local\n\n[services local]\nsigner =\n  endpoint_url = ${url}\n`,
    },
  ])('sends GetRevocationStatus to an endpoint_url set in $where as given', async ({ where, config }) => {
    useConfig(`config-${where.replace(/\W+/g, '-')}`, config(standIn.endpoint));
    const client = createSignerClient('us-west-2');
    expect(client.config.disableHostPrefix).toBe(false); // the environment names no endpoint

    const output = await client.send(command());

    expect(output.revokedEntities).toEqual([]);
    expect(standIn.revocationRequests()).toHaveLength(1);
    expect(standIn.requests[0]!.host).toBe(new URL(standIn.endpoint).host);
    expect(client.config.disableHostPrefix).toBe(true);
  });

  it('keeps the data- prefix when the profile says ignore_configured_endpoint_urls', async () => {
    useConfig(
      'config-ignored',
      `[default]\nendpoint_url = ${standIn.endpoint}\nignore_configured_endpoint_urls = true\n`,
    );
    const client = createSignerClient('us-west-2');
    // Stop after serialization: the request would go to the real AWS endpoint.
    let hostname: string | undefined;
    client.middlewareStack.addRelativeTo(
      (): SerializeHandler<ServiceInputTypes, ServiceOutputTypes> => (args) => {
        hostname = (args.request as { hostname?: string }).hostname;
        return Promise.reject(new Error('stopped before sending'));
      },
      { name: 'captureHostname', relation: 'after', toMiddleware: 'serializerMiddleware' },
    );

    await expect(client.send(command())).rejects.toThrow('stopped before sending');
    expect(hostname).toBe('data-signer.us-west-2.amazonaws.com');
    expect(client.config.disableHostPrefix).toBe(false);
    expect(standIn.requests).toHaveLength(0);
  });
});
