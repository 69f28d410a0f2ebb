import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeClusterCommand,
  EKSClient,
  ResourceNotFoundException,
  AccessDeniedException,
} from '@aws-sdk/client-eks';
import { startEksStandIn, type EksStandIn } from '../../helpers/eks-stand-in';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
let eks: EksStandIn;

beforeEach(async () => {
  eks = await startEksStandIn({
    region: 'eu-west-1',
    clusters: [
      {
        name: 'prod',
        endpoint: 'https://127.0.0.1:6443',
        caData: Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'),
      },
    ],
  });
});
afterEach(async () => {
  await eks.close();
  delete process.env.AWS_ENDPOINT_URL_EKS;
});

describe('EKS DescribeCluster stand-in with the real EKSClient', () => {
  it('describes an ACTIVE cluster with endpoint, CA and ARN', async () => {
    const client = new EKSClient({ region: 'eu-west-1', endpoint: eks.endpoint, credentials });
    const { cluster } = await client.send(new DescribeClusterCommand({ name: 'prod' }));
    expect(cluster).toMatchObject({
      name: 'prod',
      arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod',
      status: 'ACTIVE',
      endpoint: 'https://127.0.0.1:6443',
      certificateAuthority: { data: Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64') },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    });
    expect(cluster?.createdAt).toBeInstanceOf(Date);
    expect(eks.requests).toEqual([
      {
        method: 'GET',
        path: '/clusters/prod',
        clusterName: 'prod',
        signingRegion: 'eu-west-1',
        signingService: 'eks',
        status: 200,
      },
    ]);
  });

  it('honours AWS_ENDPOINT_URL_EKS and hides endpoint and CA while CREATING', async () => {
    process.env.AWS_ENDPOINT_URL_EKS = eks.endpoint;
    eks.updateCluster('prod', { status: 'CREATING' });
    const client = new EKSClient({ region: 'eu-west-1', credentials });
    const { cluster } = await client.send(new DescribeClusterCommand({ name: 'prod' }));
    expect(cluster?.status).toBe('CREATING');
    expect(cluster?.endpoint).toBeUndefined();
    expect(cluster?.certificateAuthority).toBeUndefined();
  });

  it('answers ResourceNotFoundException and AccessDeniedException with the real shapes', async () => {
    const client = new EKSClient({
      region: 'eu-west-1',
      endpoint: eks.endpoint,
      credentials,
      maxAttempts: 1,
    });
    const missing = await client
      .send(new DescribeClusterCommand({ name: 'staging' }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as ResourceNotFoundException).message).toBe('No cluster found for name: staging.');
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    eks.denyAccess(true);
    const denied = await client.send(new DescribeClusterCommand({ name: 'prod' })).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect((denied as AccessDeniedException).message).toContain(
      'is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:eu-west-1:111122223333:cluster/prod',
    );
    eks.denyAccess(false);
    eks.failNext('ServiceUnavailableException', 'try later', 1);
    const retried = await new EKSClient({
      region: 'eu-west-1',
      endpoint: eks.endpoint,
      credentials,
      maxAttempts: 2,
    }).send(new DescribeClusterCommand({ name: 'prod' }));
    expect(retried.cluster?.status).toBe('ACTIVE');
    expect(eks.requests.map((r) => r.status)).toEqual([404, 403, 503, 200]);
  });
});
