/**
 * `SignerClient`s per region, built once and cached (a Lambda reuses them across invocations).
 *
 * Endpoints: the SDK itself honours a configured endpoint when no explicit one is passed
 * (`AWS_ENDPOINT_URL_SIGNER` / `AWS_ENDPOINT_URL`, and `endpoint_url` in the shared config file,
 * at the profile or in its `services` section, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` /
 * `ignore_configured_endpoint_urls` says otherwise), so none is passed here unless the caller
 * gives one. Whenever an endpoint is configured, the host prefix must be off: `GetRevocationStatus`
 * is modelled with the host prefix `data-`, which the SDK would otherwise prepend to the custom
 * endpoint (`http://data-127.0.0.1:…`, aws/aws-sdk-js-v3#7146). Against the default AWS endpoint
 * the prefix stays (`data-signer.<region>.amazonaws.com`).
 *
 * Two layers decide this: the environment variables are checked at construction
 * (`disableHostPrefix: true` from the start), and for the config file, which only the SDK reads,
 * a small middleware placed right after the SDK's endpoint resolution asks the client's own
 * (memoized) `serviceConfiguredEndpoint` provider whether a configured endpoint applies and, if
 * so, turns the prefix off. The serializer reads `disableHostPrefix` from the same config object
 * on every request, so the decision is the SDK's own and costs no extra file reads.
 *
 * Retries: clients are built with `maxAttempts: 1`; `callWithRetry` owns the retry policy so that
 * the number of attempts and the final error kind are ours to decide and to test.
 *
 * Time limits: every request has a connection timeout ({@link SIGNER_CONNECTION_TIMEOUT_MS}) and
 * a request timeout ({@link SIGNER_REQUEST_TIMEOUT_MS}); a timed-out attempt is a transient error
 * that `callWithRetry` retries. Without them a hung connection waits until the Lambda timeout.
 */
import { SignerClient } from '@aws-sdk/client-signer';
import type {
  ServiceInputTypes,
  ServiceOutputTypes,
  SignerClientResolvedConfig,
} from '@aws-sdk/client-signer';
import type { SerializeMiddleware } from '@smithy/types';
import { boundedRequestHandler } from '../aws/request-handler';

export type SignerClientFactory = (region: string) => SignerClient;

/**
 * Longest wait for the TCP/TLS connection to AWS Signer. A regional endpoint connects in
 * milliseconds; 3 s leaves room for a slow TLS handshake and still lets a retry happen in time.
 */
export const SIGNER_CONNECTION_TIMEOUT_MS = 3_000;
/**
 * Longest wait for one Signer answer once connected. SignPayload signs with a KMS-held key and
 * usually answers in well under a second; 15 s is generous for a slow answer yet short enough
 * that a hung request is retried (or the stage reports) long before the Lambda timeout.
 */
export const SIGNER_REQUEST_TIMEOUT_MS = 15_000;

export interface SignerClientOptions {
  /** An explicit endpoint (wins over the environment variables). */
  endpoint?: string;
  /** Defaults to `process.env`; injectable for tests. */
  env?: Record<string, string | undefined>;
  /** Default {@link SIGNER_CONNECTION_TIMEOUT_MS}; tests shorten it. */
  connectionTimeoutMs?: number;
  /** Default {@link SIGNER_REQUEST_TIMEOUT_MS}; tests shorten it. */
  requestTimeoutMs?: number;
}

/**
 * Whether the environment variables configure a (non-default) Signer endpoint, per the SDK's own
 * rules. The shared config file's `endpoint_url` is not read here (see the module comment).
 */
export function signerEndpointConfigured(env: Record<string, string | undefined> = process.env): boolean {
  if (isTrue(env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'])) return false;
  return nonEmpty(env['AWS_ENDPOINT_URL_SIGNER']) || nonEmpty(env['AWS_ENDPOINT_URL']);
}

/** A new `SignerClient` for `region` with stagesign's settings (see the module comment). */
export function createSignerClient(region: string, options: SignerClientOptions = {}): SignerClient {
  const env = options.env ?? process.env;
  const customEndpoint = options.endpoint !== undefined || signerEndpointConfigured(env);
  const client = new SignerClient({
    region,
    maxAttempts: 1,
    requestHandler: boundedRequestHandler(
      options.connectionTimeoutMs ?? SIGNER_CONNECTION_TIMEOUT_MS,
      options.requestTimeoutMs ?? SIGNER_REQUEST_TIMEOUT_MS,
    ),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(customEndpoint ? { disableHostPrefix: true } : {}),
  });
  // An endpoint from the shared config file is only known to the SDK; follow its verdict before
  // the first request is serialized.
  client.middlewareStack.addRelativeTo(noHostPrefixForConfiguredEndpoint(client.config), {
    name: 'stagesignNoHostPrefixForConfiguredEndpoint',
    relation: 'after',
    toMiddleware: ENDPOINT_MIDDLEWARE,
  });
  return client;
}

/**
 * Turns the host prefix off when the SDK uses an endpoint from its configuration, by the SDK's own
 * rule (`getEndpointFromInstructions`): an explicit endpoint, or, unless the client ignores
 * configured endpoints, whatever its memoized `serviceConfiguredEndpoint` provider finds (the
 * environment variables and the shared config file, honouring both ignore settings).
 */
function noHostPrefixForConfiguredEndpoint(
  config: SignerClientResolvedConfig,
): SerializeMiddleware<ServiceInputTypes, ServiceOutputTypes> {
  return (next) => async (args) => {
    if (!config.disableHostPrefix) {
      const configured =
        config.isCustomEndpoint === true ||
        (!config.ignoreConfiguredEndpointUrls && (await config.serviceConfiguredEndpoint?.()) !== undefined);
      if (configured) config.disableHostPrefix = true;
    }
    return next(args);
  };
}

/** The SDK's endpoint-resolution middleware (`@smithy/core/endpoints`' `endpointMiddlewareOptions`). */
const ENDPOINT_MIDDLEWARE = 'endpointV2Middleware';

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
