/**
 * The EKS side of a cluster connection, without kubectl or aws-iam-authenticator
 * (eks-and-kyverno.md §1):
 *
 * - `DescribeCluster` (@aws-sdk/client-eks; the SDK honours `AWS_ENDPOINT_URL_EKS`) for the
 *   endpoint, the CA and the status, cached per container; a cluster that is not `ACTIVE` is a
 *   clear error. `clusterName` may be a cluster ARN, whose region then wins.
 * - The bearer token: `k8s-aws-v1.` + unpadded base64url of a presigned STS `GetCallerIdentity`
 *   URL on the region's STS host, with `x-k8s-aws-id: <cluster>` signed and `X-Amz-Expires=60`.
 *   Signing is local (no STS call, no IAM permission). The server accepts it for 15 minutes from
 *   `X-Amz-Date`; it is re-signed after {@link TOKEN_REUSE_MS}, so every request carries a token
 *   with minutes to spare. The token is a credential: never logged.
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { abortedError } from '../abort';
import { describeAwsError } from '../aws/aws-error';
import { boundedRequestHandler } from '../aws/request-handler';
import { ConfigurationError, DependencyError, PermissionError } from '../errors';
import type { StagesignError } from '../errors';
import { matchClusterRef } from './cluster';

/** Where to reach a cluster's API server. */
export interface EksClusterEndpoint {
  /** The cluster name (also the `x-k8s-aws-id` value). */
  readonly name: string;
  readonly region: string;
  /** `https://…` */
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA, as DescribeCluster returns it. */
  readonly caData: string;
}

/** A token is re-signed after 10 minutes (the server accepts it for 15). */
export const TOKEN_REUSE_MS = 10 * 60_000;
/** `X-Amz-Expires` of the presigned URL (ignored by the server; aws-cli and the authenticator send 60). */
export const TOKEN_PRESIGN_EXPIRES_S = 60;
export const EKS_CONNECTION_TIMEOUT_MS = 3_000;
export const EKS_REQUEST_TIMEOUT_MS = 10_000;

/** `prod` or `arn:aws:eks:us-west-2:123456789012:cluster/prod`. */
export function parseClusterName(
  clusterName: string,
  defaultRegion: string | undefined,
): { name: string; region: string } {
  const ref = matchClusterRef(clusterName);
  if (ref?.region !== undefined) return { region: ref.region, name: ref.name };
  if (ref === undefined) {
    throw new ConfigurationError(
      'CLUSTER_NAME_INVALID',
      `UserParameters.clusterName ${JSON.stringify(clusterName)} is neither an EKS cluster name (letters, digits, - and _) nor a cluster ARN (arn:aws:eks:<region>:<account>:cluster/<name>).`,
    );
  }
  if (!defaultRegion) {
    throw new ConfigurationError(
      'CLUSTER_REGION_MISSING',
      `No region for cluster ${JSON.stringify(clusterName)}: AWS_REGION is not set. Pass the cluster ARN as UserParameters.clusterName.`,
    );
  }
  return { name: clusterName, region: defaultRegion };
}

/** The regional STS host the token is presigned for (`sts.<region>.amazonaws.com[.cn]`). */
export function stsHost(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * Signs an EKS bearer token for `cluster` (eks-and-kyverno.md §1.2). Deterministic for fixed
 * credentials and `now`.
 */
export async function signEksToken(input: {
  readonly cluster: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly now: Date;
}): Promise<string> {
  const host = stsHost(input.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    sha256: Sha256,
    credentials: input.credentials,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signed = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: host,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host, 'x-k8s-aws-id': input.cluster },
    }),
    { expiresIn: TOKEN_PRESIGN_EXPIRES_S, signingDate: input.now },
  );
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v] as const]))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `k8s-aws-v1.${Buffer.from(`https://${host}/?${query}`, 'utf8').toString('base64url')}`;
}

export interface EksConnectionOptions {
  /** Region of a cluster given by name (default `AWS_REGION`). */
  readonly defaultRegion?: string;
  /** An `EKSClient` per region; default: bounded, one attempt per call plus the SDK's standard retries. */
  readonly clientFor?: (region: string) => EKSClient;
  /** Credentials that sign tokens; default: the EKS client's own provider. */
  readonly credentials?: AwsCredentialIdentityProvider;
  readonly clock?: () => Date;
}

/**
 * Describes clusters (cached per container) and signs their tokens (re-signed every
 * {@link TOKEN_REUSE_MS}).
 */
export class EksConnection {
  private readonly clients = new Map<string, EKSClient>();
  private readonly endpoints = new Map<string, EksClusterEndpoint>();
  private readonly tokens = new Map<string, { token: string; signedAt: number }>();
  private readonly clock: () => Date;

  constructor(private readonly options: EksConnectionOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
  }

  private client(region: string): EKSClient {
    let client = this.clients.get(region);
    if (!client) {
      client =
        this.options.clientFor?.(region) ??
        new EKSClient({
          region,
          maxAttempts: 3,
          requestHandler: boundedRequestHandler(EKS_CONNECTION_TIMEOUT_MS, EKS_REQUEST_TIMEOUT_MS),
        });
      this.clients.set(region, client);
    }
    return client;
  }

  /** Endpoint and CA of `clusterName` (a name or an ARN), from DescribeCluster, cached. */
  async describe(clusterName: string, options: { signal?: AbortSignal } = {}): Promise<EksClusterEndpoint> {
    const { name, region } = parseClusterName(clusterName, this.options.defaultRegion);
    const key = `${region}/${name}`;
    const cached = this.endpoints.get(key);
    if (cached) return cached;
    let cluster;
    try {
      const out = await this.client(region).send(new DescribeClusterCommand({ name }), {
        ...(options.signal ? { abortSignal: options.signal } : {}),
      });
      cluster = out.cluster;
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(`EKS DescribeCluster ${name}`, options.signal, error);
      throw eksFailure(error, name, region);
    }
    if (!cluster || cluster.status !== 'ACTIVE') {
      throw new DependencyError(
        'CLUSTER_NOT_ACTIVE',
        `EKS cluster ${JSON.stringify(name)} in ${region} is ${cluster?.status ?? 'not described'}, not ACTIVE; its endpoint and CA are not available yet. Retry when the cluster is ACTIVE.`,
      );
    }
    const endpoint = cluster.endpoint;
    const caData = cluster.certificateAuthority?.data;
    if (!endpoint?.startsWith('https://') || !caData) {
      throw new DependencyError(
        'CLUSTER_ENDPOINT_MISSING',
        `DescribeCluster returned no https endpoint or certificate authority for EKS cluster ${JSON.stringify(name)}.`,
      );
    }
    const described = { name, region, endpoint, caData };
    this.endpoints.set(key, described);
    return described;
  }

  /** A token for `cluster`, re-signed once it is {@link TOKEN_REUSE_MS} old. Never log it. */
  async token(cluster: EksClusterEndpoint): Promise<string> {
    const key = `${cluster.region}/${cluster.name}`;
    const now = this.clock();
    const cached = this.tokens.get(key);
    if (cached && now.getTime() - cached.signedAt < TOKEN_REUSE_MS && now.getTime() >= cached.signedAt)
      return cached.token;
    const credentials = this.options.credentials ?? this.client(cluster.region).config.credentials;
    const token = await signEksToken({ cluster: cluster.name, region: cluster.region, credentials, now });
    this.tokens.set(key, { token, signedAt: now.getTime() });
    return token;
  }
}

function eksFailure(error: unknown, name: string, region: string): StagesignError {
  const info = describeAwsError(error);
  const text = `${info.code}: ${info.message}`;
  switch (info.kind) {
    case 'not-found':
      return new ConfigurationError(
        'CLUSTER_NOT_FOUND',
        `EKS cluster ${JSON.stringify(name)} does not exist in ${region} (DescribeCluster: ${text}). Check UserParameters.clusterName or the ClusterName template parameter, or pass the cluster ARN.`,
        { cause: error },
      );
    case 'access-denied':
    case 'credentials':
      return new PermissionError(
        'CLUSTER_ACCESS_DENIED',
        `The function role may not call eks:DescribeCluster on ${JSON.stringify(name)} in ${region} (${text}). The template grants it on the ClusterName cluster only; deploy the stack with ClusterName set to this cluster.`,
        { cause: error },
      );
    default:
      if (info.code === 'InvalidParameterException') {
        return new ConfigurationError(
          'CLUSTER_NAME_INVALID',
          `DescribeCluster refused ${JSON.stringify(name)}: ${text}`,
          {
            cause: error,
          },
        );
      }
      return new DependencyError(
        'EKS_UNAVAILABLE',
        `EKS DescribeCluster for ${JSON.stringify(name)} in ${region} failed${info.requestId ? ` (request ${info.requestId})` : ''}: ${text}`,
        { cause: error },
      );
  }
}
