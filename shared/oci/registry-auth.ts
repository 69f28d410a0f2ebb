import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { abortedError, anySignal } from '../abort';
import { ConfigurationError, DependencyError, InputError, PermissionError } from '../errors';
import type { AuthChallenge } from './auth-challenge';
import { OciErrorCode } from './error-codes';
import { parseEcrHost, type EcrHost } from './reference';
import { describeAwsError } from '../aws/aws-error';
import { boundedRequestHandler } from '../aws/request-handler';
import { describeNetworkError } from './network-errors';
import { drain, readLimited } from './bounded-read';

/** What a request needs on a repository, mapped to token scopes `repository:<name>:<actions>`. */
export type RegistryAccess = 'pull' | 'push' | 'delete';

/** Username and password for a registry (Basic, or for the Bearer token service). */
export interface BasicCredentials {
  username: string;
  password: string;
}

/**
 * Longest wait for the TCP/TLS connection to the ECR API. A healthy regional endpoint connects
 * in milliseconds; without a limit a blackholed connection waits until the Lambda timeout.
 */
export const ECR_CONNECTION_TIMEOUT_MS = 3_000;
/**
 * Longest wait for a GetAuthorizationToken answer once connected: it is a small, fast call, and
 * the SDK's own retries (3 attempts) must still fit well inside a stage's deadline.
 */
export const ECR_REQUEST_TIMEOUT_MS = 10_000;

/** The ECR API client stagesign builds for a region when none is injected: bounded connection and request time. */
export function createEcrClient(region: string, host: Pick<EcrHost, 'fips'>): ECRClient {
  return new ECRClient({
    region,
    useFipsEndpoint: host.fips,
    requestHandler: boundedRequestHandler(ECR_CONNECTION_TIMEOUT_MS, ECR_REQUEST_TIMEOUT_MS),
  });
}

/** How to get an ECR API client for a region (wire it once at cold start; tests point it at a local endpoint). */
export interface EcrClientFactory {
  clientForRegion(region: string, host: EcrHost): ECRClient;
}

export interface RegistryAuthOptions {
  ecr?: EcrClientFactory;
  basicCredentials?: (host: string) => BasicCredentials | undefined;
  fetch: typeof fetch;
  now: () => number;
  /**
   * True when the registry `host` is spoken to over plain HTTP (then a plain-HTTP token realm
   * is acceptable too). Default: never, so every realm must be HTTPS.
   */
  plainHttp?: (host: string) => boolean;
  /** Time limit of one token-service request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Aborts token-service requests (e.g. the Lambda deadline). */
  signal?: AbortSignal;
  /** Appended when the token service denies a request made without credentials (the CLI's login hint). */
  loginHint?: (host: string) => string;
}

interface CachedToken {
  value: string;
  actions: ReadonlySet<string>;
  expiresAtMs: number;
}

type HostScheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

const ACTIONS: Record<RegistryAccess, string[]> = {
  pull: ['pull'],
  push: ['pull', 'push'],
  delete: ['delete'],
};
// Refresh ECR tokens this long before they expire, so a token never dies mid-job.
const ECR_REFRESH_MARGIN_MS = 5 * 60 * 1000;
const DEFAULT_TOKEN_TIMEOUT_MS = 30_000;
/** Largest token-service answer read (inflated bytes); a real one is a few KiB. */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
// Docker token spec: expires_in defaults to 60 s.
const DEFAULT_BEARER_TTL_S = 60;

/**
 * Credentials for registry requests: ECR (`ecr:GetAuthorizationToken`, cached until
 * `expiresAt`, sent as `Basic <token>` exactly as returned), the Bearer token flow of
 * `WWW-Authenticate: Bearer realm,service,scope` (tokens cached per repository and actions)
 * and Basic. Tokens and passwords are only ever placed in Authorization headers: never in
 * errors or logs.
 */
export class RegistryAuth {
  private readonly schemes = new Map<string, HostScheme>();
  private readonly bearerTokens = new Map<string, CachedToken[]>();
  private readonly ecrTokens = new Map<string, { value: string; expiresAtMs: number }>();
  private readonly ecrClients = new Map<string, ECRClient>();

  constructor(private readonly options: RegistryAuthOptions) {}

  /**
   * The Authorization header to send proactively, or undefined (anonymous until challenged).
   * `signal` (the registry call's) cancels a token request; it then rejects with `ABORTED`.
   */
  async authorization(
    host: string,
    repository: string,
    access: RegistryAccess,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const ecr = parseEcrHost(host);
    // A stored credential for an ECR host (`docker login`, `aws ecr get-login-password | …`) wins;
    // without one, the AWS credential chain gets a token.
    const stored = ecr ? this.options.basicCredentials?.(host) : undefined;
    if (stored) return basicHeader(stored);
    if (ecr) return `Basic ${await this.ecrToken(ecr, anySignal(this.options.signal, signal))}`;
    const scheme = this.schemes.get(host);
    if (scheme === undefined) return undefined;
    if (scheme.kind === 'basic') {
      const creds = this.options.basicCredentials?.(host);
      return creds ? basicHeader(creds) : undefined;
    }
    return `Bearer ${await this.bearerToken(host, scheme, repository, access, anySignal(this.options.signal, signal))}`;
  }

  /**
   * Learns from a 401 challenge. Returns true when a retry with new credentials makes sense
   * (a fresh token or newly known scheme), false when there is nothing more to try.
   */
  onChallenge(
    host: string,
    repository: string,
    access: RegistryAccess,
    challenge: AuthChallenge | undefined,
    sentAuthorization: boolean,
  ): boolean {
    const ecr = parseEcrHost(host);
    if (ecr) {
      if (this.options.basicCredentials?.(host) !== undefined) return false;
      // The cached token may have been revoked or expired early: fetch a new one once.
      return this.ecrTokens.delete(ecr.region + ecr.partitionSuffix + String(ecr.fips));
    }
    if (challenge?.scheme === 'bearer') {
      const known = this.schemes.get(host);
      this.schemes.set(
        host,
        challenge.service !== undefined
          ? { kind: 'bearer', realm: challenge.realm, service: challenge.service }
          : { kind: 'bearer', realm: challenge.realm },
      );
      const key = `${host} ${repository}`;
      const had =
        this.bearerTokens.get(key)?.some((t) => ACTIONS[access].every((a) => t.actions.has(a))) ?? false;
      if (had)
        this.bearerTokens.set(
          key,
          (this.bearerTokens.get(key) ?? []).filter((t) => !ACTIONS[access].every((a) => t.actions.has(a))),
        );
      return known?.kind !== 'bearer' || had || !sentAuthorization;
    }
    if (challenge?.scheme === 'basic') {
      const known = this.schemes.get(host);
      this.schemes.set(host, { kind: 'basic' });
      return known?.kind !== 'basic' && this.options.basicCredentials?.(host) !== undefined;
    }
    return false;
  }

  /** True when credentials of any kind are configured or known for `host` (used in error hints). */
  hasCredentials(host: string): boolean {
    return parseEcrHost(host) !== undefined || this.options.basicCredentials?.(host) !== undefined;
  }

  private async bearerToken(
    host: string,
    scheme: Extract<HostScheme, { kind: 'bearer' }>,
    repository: string,
    access: RegistryAccess,
    caller: AbortSignal | undefined,
  ): Promise<string> {
    const key = `${host} ${repository}`;
    const now = this.options.now();
    const wanted = ACTIONS[access];
    const cached = (this.bearerTokens.get(key) ?? []).find(
      (t) => t.expiresAtMs > now && wanted.every((a) => t.actions.has(a)),
    );
    if (cached) return cached.value;
    const url = this.realmUrl(host, scheme.realm);
    if (scheme.service !== undefined) url.searchParams.set('service', scheme.service);
    const scope = `repository:${repository}:${wanted.join(',')}`;
    // A ping (`GET /v2/`) names no repository: ask for a token without scope, as oras does.
    if (repository !== '') url.searchParams.set('scope', scope);
    const creds = this.options.basicCredentials?.(host);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (creds) headers.authorization = basicHeader(creds);
    let response: Response;
    try {
      const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS);
      const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
      response = await this.options.fetch(url, { method: 'GET', headers, signal });
    } catch (cause) {
      if (caller?.aborted)
        throw abortedError(`token request to ${url.host} for registry ${host}`, caller, cause);
      throw new DependencyError(
        OciErrorCode.RegistryUnavailable,
        `token service ${url.host} for registry ${host} is unreachable: ${describeNetworkError(cause)}`,
        { cause },
      );
    }
    if (response.status === 401 || response.status === 403) {
      await drain(response);
      throw new PermissionError(
        OciErrorCode.RegistryDenied,
        `token service ${url.host} for registry ${host} denied scope "${scope}" (${response.status})` +
          (creds
            ? '; check the registry credentials and their rights on the repository'
            : `; no credentials are configured for this registry${this.options.loginHint?.(host) ?? ''}`),
      );
    }
    if (!response.ok) {
      await drain(response);
      throw new DependencyError(
        OciErrorCode.RegistryUnavailable,
        `token service ${url.host} for registry ${host} answered ${response.status} for scope "${scope}"`,
      );
    }
    // Bounded like every registry body: a realm may point anywhere, even at an endless or
    // gzip-bomb answer; the limit counts inflated bytes.
    const bytes = await readLimited(
      response,
      MAX_TOKEN_RESPONSE_BYTES,
      `token service ${url.host} for registry ${host}`,
      OciErrorCode.ContentTooLarge,
      caller,
    );
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
      body = typeof parsed === 'object' && parsed !== null ? (parsed as typeof body) : {};
    } catch (cause) {
      throw new DependencyError(
        OciErrorCode.RegistryUnavailable,
        `token service ${url.host} for registry ${host} answered a body that is not JSON`,
        { cause },
      );
    }
    const value =
      typeof body.token === 'string' && body.token !== ''
        ? body.token
        : typeof body.access_token === 'string'
          ? body.access_token
          : '';
    if (value === '')
      throw new DependencyError(
        OciErrorCode.RegistryUnavailable,
        `token service ${url.host} for registry ${host} answered without a token`,
      );
    const ttlS =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_BEARER_TTL_S;
    const token: CachedToken = {
      value,
      actions: new Set(wanted),
      expiresAtMs: now + Math.max(0, ttlS - 5) * 1000,
    };
    this.bearerTokens.set(key, [
      ...(this.bearerTokens.get(key) ?? []).filter((t) => t.expiresAtMs > now),
      token,
    ]);
    return value;
  }

  /**
   * The token realm as a URL, refused unless it is HTTPS or the registry itself is spoken to
   * over plain HTTP: credentials go to the realm, and a plain-HTTP realm named by an HTTPS
   * registry would send them in clear text (a downgrade). A realm on another host is allowed
   * over HTTPS, as Docker and oras do (Docker Hub's realm is auth.docker.io).
   */
  private realmUrl(host: string, realm: string): URL {
    let url: URL;
    try {
      url = new URL(realm);
    } catch (cause) {
      throw new InputError(
        OciErrorCode.InsecureTokenRealm,
        `registry ${host} named a token realm that is not an absolute URL; check the registry's auth configuration`,
        { cause },
      );
    }
    const plainAllowed = this.options.plainHttp?.(host) === true;
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainAllowed)) {
      throw new InputError(
        OciErrorCode.InsecureTokenRealm,
        `registry ${host} named a ${url.protocol.replace(':', '')} token realm on ${url.host}; credentials are only sent to an HTTPS realm (plain HTTP only when plain HTTP is allowed for ${host})`,
      );
    }
    return url;
  }

  private async ecrToken(host: EcrHost, signal: AbortSignal | undefined): Promise<string> {
    const key = host.region + host.partitionSuffix + String(host.fips);
    const now = this.options.now();
    const cached = this.ecrTokens.get(key);
    if (cached && cached.expiresAtMs - ECR_REFRESH_MARGIN_MS > now) return cached.value;
    let client = this.ecrClients.get(key);
    if (!client) {
      client = this.options.ecr
        ? this.options.ecr.clientForRegion(host.region, host)
        : createEcrClient(host.region, host);
      this.ecrClients.set(key, client);
    }
    let output;
    try {
      output = await client.send(new GetAuthorizationTokenCommand({}), signal ? { abortSignal: signal } : {});
    } catch (cause) {
      if (signal?.aborted) throw abortedError(`ecr:GetAuthorizationToken in ${host.region}`, signal, cause);
      const { code: name, kind } = describeAwsError(cause);
      if (kind === 'access-denied') {
        throw new PermissionError(
          OciErrorCode.EcrAuthDenied,
          `ecr:GetAuthorizationToken was denied in ${host.region}; allow the action ecr:GetAuthorizationToken on resource "*" for this role`,
          { cause },
        );
      }
      if (
        name === 'CredentialsProviderError' ||
        /could not load credentials/i.test(String((cause as Error)?.message))
      )
        throw new ConfigurationError(
          OciErrorCode.EcrCredentialsMissing,
          `no AWS credentials were found to call ecr:GetAuthorizationToken for ${host.region}; configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or log in to the registry with stagesign login, docker login or notation login`,
          { cause },
        );
      throw new DependencyError(
        OciErrorCode.EcrAuthFailed,
        `ecr:GetAuthorizationToken failed in ${host.region} (${name || 'unknown error'})`,
        { cause },
      );
    }
    const data = output.authorizationData?.[0];
    if (!data?.authorizationToken) {
      throw new DependencyError(
        OciErrorCode.EcrAuthFailed,
        `ecr:GetAuthorizationToken in ${host.region} answered without authorizationData`,
      );
    }
    // Without expiresAt, ECR's documented 12 h; we assume 1 h to stay on the safe side.
    const expiresAtMs = data.expiresAt ? data.expiresAt.getTime() : now + 60 * 60 * 1000;
    this.ecrTokens.set(key, { value: data.authorizationToken, expiresAtMs });
    return data.authorizationToken;
  }
}

function basicHeader(creds: BasicCredentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`;
}
