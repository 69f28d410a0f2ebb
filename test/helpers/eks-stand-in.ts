/**
 * A local stand-in for the one Amazon EKS operation stagesign calls, `DescribeCluster`
 * (`GET /clusters/<name>`, REST-JSON), on 127.0.0.1 over HTTP. The real `EKSClient` talks to it
 * through `endpoint` or `AWS_ENDPOINT_URL_EKS`. It answers like EKS:
 *
 * - `{"cluster": {name, arn, createdAt (epoch seconds), version, endpoint, roleArn,
 *   resourcesVpcConfig, kubernetesNetworkConfig, identity, status, certificateAuthority: {data},
 *   platformVersion, tags, accessConfig: {authenticationMode}}}`; `endpoint` and
 *   `certificateAuthority` are absent while the cluster is not ACTIVE (CREATING, UPDATING…), as the
 *   API reference says.
 * - errors with `x-amzn-errortype` and a JSON `message`: `ResourceNotFoundException` (404,
 *   `No cluster found for name: <name>.`), `AccessDeniedException` (403), `ServerException`
 *   (500), `ServiceUnavailableException` (503), via `failNext` or `denyAccess`.
 *
 * Requests are recorded with the SigV4 scope (region, service), never the Authorization header.
 * Chosen over moto's EKS mock: moto needs a Python process per test file, and its DescribeCluster
 * returns a made-up endpoint and CA that cannot point at the in-process fake API server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type EksClusterStatus = 'CREATING' | 'ACTIVE' | 'DELETING' | 'FAILED' | 'UPDATING' | 'PENDING';

export interface EksClusterSpec {
  name: string;
  /** Kubernetes API server URL (e.g. the fake's `endpoint`). */
  endpoint: string;
  /** base64(PEM) of the cluster CA (e.g. the fake's `caData`). */
  caData: string;
  status?: EksClusterStatus;
  version?: string;
  accountId?: string;
  authenticationMode?: 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP';
}

export interface EksRecordedRequest {
  method: string;
  path: string;
  /** Cluster name from the path, URL-decoded. */
  clusterName: string | undefined;
  signingRegion: string | undefined;
  signingService: string | undefined;
  status: number;
}

export type EksErrorCode =
  | 'ResourceNotFoundException'
  | 'AccessDeniedException'
  | 'ClientException'
  | 'ServerException'
  | 'ServiceUnavailableException'
  | 'InvalidParameterException';

const ERROR_STATUS: Record<EksErrorCode, number> = {
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  ClientException: 400,
  InvalidParameterException: 400,
  ServerException: 500,
  ServiceUnavailableException: 503,
};

export interface EksStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly region: string;
  readonly requests: EksRecordedRequest[];
  /** Adds or replaces a cluster. */
  putCluster(cluster: EksClusterSpec): void;
  /** Changes a cluster (e.g. `{ status: 'CREATING' }`). */
  updateCluster(name: string, change: Partial<EksClusterSpec>): void;
  removeCluster(name: string): void;
  /** The next `times` requests (default 1) fail with `code`. */
  failNext(code: EksErrorCode, message?: string, times?: number): void;
  /** Every request fails with AccessDeniedException (IAM denies eks:DescribeCluster) until undone. */
  denyAccess(denied: boolean): void;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy(new Error('request body over 64 KiB'));
    });
    req.on('end', resolve);
    req.on('error', reject);
  });
}

export async function startEksStandIn(
  options: { region?: string; clusters?: EksClusterSpec[] } = {},
): Promise<EksStandIn> {
  const region = options.region ?? 'us-east-1';
  const clusters = new Map<string, EksClusterSpec>((options.clusters ?? []).map((c) => [c.name, c]));
  const requests: EksRecordedRequest[] = [];
  const failures: { code: EksErrorCode; message: string | undefined; left: number }[] = [];
  let denied = false;
  let counter = 0;

  const reply = (
    res: ServerResponse,
    rec: EksRecordedRequest,
    status: number,
    body: unknown,
    errorType?: string,
  ): void => {
    rec.status = status;
    counter += 1;
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-requestid': `eks-stand-in-${counter}`,
      ...(errorType
        ? { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazonaws.eks/` }
        : {}),
    });
    res.end(JSON.stringify(body));
  };

  const describe = (c: EksClusterSpec): object => {
    const account = c.accountId ?? '111122223333';
    const status = c.status ?? 'ACTIVE';
    const active = status === 'ACTIVE' || status === 'UPDATING';
    const oidc = `https://oidc.eks.${region}.amazonaws.com/id/${Buffer.from(c.name).toString('hex').toUpperCase().padEnd(32, '0').slice(0, 32)}`;
    return {
      cluster: {
        name: c.name,
        arn: `arn:aws:eks:${region}:${account}:cluster/${c.name}`,
        createdAt: 1764000000.123,
        version: c.version ?? '1.32',
        ...(active ? { endpoint: c.endpoint } : {}),
        roleArn: `arn:aws:iam::${account}:role/eks-cluster-role`,
        resourcesVpcConfig: {
          subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
          securityGroupIds: [],
          clusterSecurityGroupId: 'sg-0a1b2c3d4e5f60003',
          vpcId: 'vpc-0a1b2c3d4e5f60004',
          endpointPublicAccess: true,
          endpointPrivateAccess: true,
          publicAccessCidrs: ['0.0.0.0/0'],
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
        logging: {
          clusterLogging: [
            { types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false },
          ],
        },
        ...(active ? { identity: { oidc: { issuer: oidc } } } : {}),
        status,
        ...(active ? { certificateAuthority: { data: c.caData } } : {}),
        platformVersion: 'eks.10',
        tags: {},
        accessConfig: { authenticationMode: c.authenticationMode ?? 'API_AND_CONFIG_MAP' },
      },
    };
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://eks-stand-in');
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      req.headers.authorization ?? '',
    );
    const m = /^\/clusters\/([^/]+)$/.exec(url.pathname);
    const rec: EksRecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      clusterName: m ? decodeURIComponent(m[1]!) : undefined,
      signingRegion: scope?.[1],
      signingService: scope?.[2],
      status: 0,
    };
    requests.push(rec);
    drain(req).then(
      () => {
        if (!scope)
          return reply(
            res,
            rec,
            403,
            { message: 'Missing Authentication Token' },
            'MissingAuthenticationTokenException',
          );
        if (denied) {
          return reply(
            res,
            rec,
            403,
            {
              message: `User: arn:aws:sts::111122223333:assumed-role/stagesign-deploy/stagesign is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:${region}:111122223333:cluster/${rec.clusterName ?? ''}`,
            },
            'AccessDeniedException',
          );
        }
        const failure = failures.find((f) => f.left > 0);
        if (failure) {
          failure.left -= 1;
          return reply(
            res,
            rec,
            ERROR_STATUS[failure.code],
            { message: failure.message ?? `${failure.code} (injected)` },
            failure.code,
          );
        }
        if (req.method !== 'GET' || !rec.clusterName) {
          return reply(
            res,
            rec,
            404,
            { message: `The stand-in serves only DescribeCluster, not ${req.method} ${url.pathname}` },
            'UnknownOperationException',
          );
        }
        const cluster = clusters.get(rec.clusterName);
        if (!cluster) {
          return reply(
            res,
            rec,
            404,
            { clusterName: rec.clusterName, message: `No cluster found for name: ${rec.clusterName}.` },
            'ResourceNotFoundException',
          );
        }
        return reply(res, rec, 200, describe(cluster));
      },
      () => {
        rec.status = 413;
        res.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    requests,
    putCluster: (c) => void clusters.set(c.name, c),
    updateCluster(name, change) {
      const c = clusters.get(name);
      if (!c) throw new Error(`eks-stand-in: no cluster ${name}`);
      clusters.set(name, { ...c, ...change });
    },
    removeCluster: (name) => void clusters.delete(name),
    failNext(code, message, times = 1) {
      failures.push({ code, message, left: times });
    },
    denyAccess(value) {
      denied = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
