/**
 * `ParameterReader` over SSM `GetParameter` (WithDecryption, so SecureString policies and trust
 * stores work), cached per container for a short time: a warm Lambda does not call SSM on every
 * job, and an updated parameter is picked up within `ttlMs`.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SSMClientConfig } from '@aws-sdk/client-ssm';
import { ConfigurationError, DependencyError, PermissionError } from '../errors';
import { describeAwsError } from './aws-error';
import { boundedRequestHandler } from './request-handler';

/**
 * Longest wait for the TCP/TLS connection to SSM. A regional endpoint connects in milliseconds;
 * without a limit a blackholed connection waits until the Lambda timeout.
 */
export const SSM_CONNECTION_TIMEOUT_MS = 3_000;
/**
 * Longest wait for a GetParameter answer once connected: a small read, so 10 s is generous, and
 * the SDK's retries (3 attempts) still end well before the stage's deadline.
 */
export const SSM_REQUEST_TIMEOUT_MS = 10_000;

/** The SSM client a handler builds once per container: bounded connection and request time. */
export function createSsmClient(config: SSMClientConfig = {}): SSMClient {
  return new SSMClient({
    requestHandler: boundedRequestHandler(SSM_CONNECTION_TIMEOUT_MS, SSM_REQUEST_TIMEOUT_MS),
    ...config,
  });
}

/** Default cache lifetime of a parameter value. */
export const DEFAULT_PARAMETER_TTL_MS = 5 * 60 * 1000;

export interface SsmParameterReaderOptions {
  /** How long a value is reused; default 5 minutes. */
  ttlMs?: number;
  /** Injected clock (tests). */
  now?: () => number;
}

/**
 * Reads SSM parameters (decrypted). Structurally a verify-image `ParameterReader`
 * (functions/verify-image/trust-policy-source.ts); shared/ does not import a stage.
 */
export class SsmParameterReader {
  readonly #client: Pick<SSMClient, 'send'>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { value: string; at: number }>();

  constructor(client: Pick<SSMClient, 'send'>, options: SsmParameterReaderOptions = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? DEFAULT_PARAMETER_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The parameter's (decrypted) value. Throws ConfigurationError when it does not exist,
   * PermissionError on AccessDenied (naming the IAM action), DependencyError otherwise.
   */
  async read(name: string): Promise<string> {
    const cached = this.#cache.get(name);
    if (cached !== undefined && this.#now() - cached.at < this.#ttlMs) return cached.value;
    let value: string | undefined;
    try {
      const output = await this.#client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      value = output.Parameter?.Value;
    } catch (error) {
      throw mapError(error, name);
    }
    if (value === undefined || value.trim() === '') {
      throw new ConfigurationError(
        'SSM_PARAMETER_EMPTY',
        `SSM parameter ${name} has no value. Put the JSON document in it.`,
      );
    }
    this.#cache.set(name, { value, at: this.#now() });
    return value;
  }
}

function mapError(error: unknown, name: string): Error {
  const { code: errorName, kind } = describeAwsError(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (kind === 'not-found') {
    return new ConfigurationError(
      'SSM_PARAMETER_NOT_FOUND',
      `SSM parameter ${name} does not exist in this account and region. Create it or fix the parameter name.`,
      { cause: error },
    );
  }
  if (kind === 'access-denied') {
    return new PermissionError(
      'SSM_ACCESS_DENIED',
      `SSM denied ssm:GetParameter on ${name}: allow ssm:GetParameter on this parameter (and kms:Decrypt for a SecureString with a customer key) in the function's role. ${detail}`,
      { cause: error },
    );
  }
  return new DependencyError(
    'SSM_UNAVAILABLE',
    `SSM GetParameter ${name} failed: ${errorName || 'error'}: ${detail}`,
    { cause: error },
  );
}
