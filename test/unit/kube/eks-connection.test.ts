import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EksConnection,
  TOKEN_REUSE_MS,
  parseClusterName,
  signEksToken,
  stsHost,
} from '../../../shared/kube/eks-connection';
import { checkEksToken } from '../../helpers/fake-kube';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' };
const NOW = new Date('2026-12-07T10:00:00Z');

function decode(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

describe('signEksToken', () => {
  it('presigns GetCallerIdentity on the regional STS host with exactly the parameters the authenticator accepts', async () => {
    const token = await signEksToken({
      cluster: 'prod',
      region: 'us-west-2',
      credentials: CREDENTIALS,
      now: NOW,
    });
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toContain('=');
    expect(token.length).toBeLessThanOrEqual(4096);
    const url = decode(token);
    expect(url.host).toBe('sts.us-west-2.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect([...url.searchParams.keys()].map((k) => k.toLowerCase()).sort()).toEqual([
      'action',
      'version',
      'x-amz-algorithm',
      'x-amz-credential',
      'x-amz-date',
      'x-amz-expires',
      'x-amz-security-token',
      'x-amz-signature',
      'x-amz-signedheaders',
    ]);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261207T100000Z');
  });

  it("is accepted by the fake API server's copy of the authenticator checks, and expires after 15 minutes", async () => {
    const token = await signEksToken({
      cluster: 'prod',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      now: NOW,
    });
    expect(checkEksToken(token, 'us-east-1', new Date(NOW.getTime() + 14 * 60_000))).toMatchObject({
      ok: true,
    });
    expect(checkEksToken(token, 'us-east-1', new Date(NOW.getTime() + 16 * 60_000))).toEqual({
      ok: false,
      reason: 'X-Amz-Date parameter is expired (15 minute expiration)',
    });
  });

  it('is deterministic for fixed credentials and time, and signs the cluster name', async () => {
    const a = await signEksToken({
      cluster: 'prod',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      now: NOW,
    });
    const b = await signEksToken({
      cluster: 'prod',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      now: NOW,
    });
    const c = await signEksToken({
      cluster: 'staging',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      now: NOW,
    });
    expect(a).toBe(b);
    expect(decode(a).searchParams.get('X-Amz-Signature')).not.toBe(
      decode(c).searchParams.get('X-Amz-Signature'),
    );
  });

  it('uses the .cn suffix in China regions', () => {
    expect(stsHost('cn-north-1')).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});

describe('parseClusterName', () => {
  it('takes the region of a cluster ARN over the default', () => {
    expect(parseClusterName('arn:aws:eks:eu-west-1:123456789012:cluster/prod', 'us-east-1')).toEqual({
      name: 'prod',
      region: 'eu-west-1',
    });
  });
  it('uses the default region for a name', () => {
    expect(parseClusterName('prod', 'us-east-1')).toEqual({ name: 'prod', region: 'us-east-1' });
  });
  it('refuses a name that is neither, naming the field', () => {
    expect(() => parseClusterName('prod cluster', 'us-east-1')).toThrow(/UserParameters\.clusterName/);
  });
});

describe('EksConnection', () => {
  const eks = mockClient(EKSClient);
  beforeEach(() => eks.reset());
  const ACTIVE = {
    cluster: {
      name: 'prod',
      status: 'ACTIVE',
      endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
      certificateAuthority: { data: 'Q0E=' },
    },
  } as const;

  it('describes a cluster once per container', async () => {
    eks.on(DescribeClusterCommand).resolves(ACTIVE);
    const connection = new EksConnection({
      defaultRegion: 'us-east-1',
      credentials: () => Promise.resolve(CREDENTIALS),
    });
    const first = await connection.describe('prod');
    await connection.describe('prod');
    expect(first).toEqual({
      name: 'prod',
      region: 'us-east-1',
      endpoint: ACTIVE.cluster.endpoint,
      caData: 'Q0E=',
    });
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
  });

  it('refuses a cluster that is not ACTIVE', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { ...ACTIVE.cluster, status: 'CREATING' } });
    const connection = new EksConnection({ defaultRegion: 'us-east-1' });
    await expect(connection.describe('prod')).rejects.toMatchObject({
      code: 'CLUSTER_NOT_ACTIVE',
      kind: 'dependency',
    });
  });

  it('maps ResourceNotFound to ConfigurationError and AccessDenied to PermissionError', async () => {
    const connection = new EksConnection({ defaultRegion: 'us-east-1' });
    eks
      .on(DescribeClusterCommand)
      .rejects(
        Object.assign(new Error('No cluster found for name: prod.'), { name: 'ResourceNotFoundException' }),
      );
    await expect(connection.describe('prod')).rejects.toMatchObject({
      code: 'CLUSTER_NOT_FOUND',
      kind: 'configuration',
    });
    eks.reset();
    eks
      .on(DescribeClusterCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(connection.describe('prod')).rejects.toMatchObject({
      code: 'CLUSTER_ACCESS_DENIED',
      kind: 'permission',
    });
  });

  it('re-signs the token once it is TOKEN_REUSE_MS old', async () => {
    let now = NOW;
    const connection = new EksConnection({
      credentials: () => Promise.resolve(CREDENTIALS),
      clock: () => now,
    });
    const cluster = { name: 'prod', region: 'us-east-1', endpoint: 'https://x', caData: 'Q0E=' };
    const a = await connection.token(cluster);
    now = new Date(NOW.getTime() + TOKEN_REUSE_MS - 1);
    expect(await connection.token(cluster)).toBe(a);
    now = new Date(NOW.getTime() + TOKEN_REUSE_MS);
    expect(await connection.token(cluster)).not.toBe(a);
  });
});
