/**
 * `SignerClient`s per region, built once and cached (a Lambda reuses them across invocations).
 *
 * Endpoints: the SDK itself honours `AWS_ENDPOINT_URL_SIGNER` / `AWS_ENDPOINT_URL` when no explicit
 * endpoint is passed, so none is passed here unless the caller gives one. Whenever an endpoint is
 * configured, the client is built with `disableHostPrefix: true`: `GetRevocationStatus` is modelled
 * with the host prefix `data-`, which the SDK would otherwise prepend to the custom endpoint
 * (`http://data-127.0.0.1:…`, aws/aws-sdk-js-v3#7146). Against the default AWS endpoint the prefix
 * stays (`data-signer.<region>.amazonaws.com`).
 *
 * Retries: clients are built with `maxAttempts: 1`; `callSigner` owns the retry policy so that the
 * number of attempts and the final error kind are ours to decide and to test.
 */
import { SignerClient } from '@aws-sdk/client-signer';

export type SignerClientFactory = (region: string) => SignerClient;

export interface SignerClientOptions {
  /** An explicit endpoint (wins over the environment variables). */
  endpoint?: string;
  /** Defaults to `process.env`; injectable for tests. */
  env?: Record<string, string | undefined>;
}

/** Whether the SDK will use a configured (non-default) Signer endpoint, per the SDK's own rules. */
export function signerEndpointConfigured(env: Record<string, string | undefined> = process.env): boolean {
  if (isTrue(env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'])) return false;
  return nonEmpty(env['AWS_ENDPOINT_URL_SIGNER']) || nonEmpty(env['AWS_ENDPOINT_URL']);
}

/** A new `SignerClient` for `region` with stagesign's settings (see the module comment). */
export function createSignerClient(region: string, options: SignerClientOptions = {}): SignerClient {
  const env = options.env ?? process.env;
  const customEndpoint = options.endpoint !== undefined || signerEndpointConfigured(env);
  return new SignerClient({
    region,
    maxAttempts: 1,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(customEndpoint ? { disableHostPrefix: true } : {}),
  });
}

/**
 * A factory that builds one client per region on first use and returns the same one afterwards.
 * The environment is read when a region's client is first built.
 */
export function cachedSignerClientFactory(options: SignerClientOptions = {}): SignerClientFactory {
  const clients = new Map<string, SignerClient>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = createSignerClient(region, options);
      clients.set(region, client);
    }
    return client;
  };
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && value.trim().toLowerCase() === 'true';
}
