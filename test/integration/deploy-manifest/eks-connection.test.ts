/**
 * EksConnection with the real EKSClient (REST-JSON serialization, error parsing) against the
 * DescribeCluster stand-in, and its tokens accepted by the fake API server.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EksConnection } from '../../../shared/kube/eks-connection';
import { EksClusterConnector } from '../../../shared/kube/kube-cluster';
import { startEksStandIn } from '../../helpers/eks-stand-in';
import type { EksStandIn } from '../../helpers/eks-stand-in';
import { startFakeKube } from '../../helpers/fake-kube';
import type { FakeKube } from '../../helpers/fake-kube';

const CREDENTIALS = { accessKeyId: 'AKIDEKSTEST000000000', secretAccessKey: 'secret' };

describe('EksConnection against the DescribeCluster stand-in', () => {
  let eks: EksStandIn;
  let kube: FakeKube;
  beforeEach(async () => {
    kube = await startFakeKube({ clusterName: 'prod', region: 'eu-west-1' });
    eks = await startEksStandIn({
      region: 'eu-west-1',
      clusters: [{ name: 'prod', endpoint: kube.endpoint, caData: kube.caData }],
    });
  });
  afterEach(async () => {
    await eks.close();
    await kube.close();
  });

  const connection = () =>
    new EksConnection({
      defaultRegion: 'us-east-1',
      credentials: () => Promise.resolve(CREDENTIALS),
      clientFor: (region) =>
        new EKSClient({ region, endpoint: eks.endpoint, credentials: CREDENTIALS, maxAttempts: 1 }),
    });

  it('takes the region of a cluster ARN, and reaches the fake API server with a token it accepts', async () => {
    const connector = new EksClusterConnector(connection());
    const cluster = await connector.connect('arn:aws:eks:eu-west-1:123456789012:cluster/prod');
    expect(await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' })).toMatchObject({
      metadata: { name: 'default' },
    });
    await connector.connect('arn:aws:eks:eu-west-1:123456789012:cluster/prod');
    expect(eks.requests.map((r) => [r.method, r.path, r.signingRegion, r.signingService])).toEqual([
      ['GET', '/clusters/prod', 'eu-west-1', 'eks'],
    ]);
    expect(kube.requests.all.every((r) => r.user !== undefined)).toBe(true);
  });

  it('refuses a cluster that is not ACTIVE, and maps not found and access denied', async () => {
    eks.updateCluster('prod', { status: 'CREATING' });
    await expect(
      connection().describe('arn:aws:eks:eu-west-1:123456789012:cluster/prod'),
    ).rejects.toMatchObject({
      code: 'CLUSTER_NOT_ACTIVE',
    });
    await expect(
      connection().describe('arn:aws:eks:eu-west-1:123456789012:cluster/other'),
    ).rejects.toMatchObject({
      code: 'CLUSTER_NOT_FOUND',
      kind: 'configuration',
    });
    eks.denyAccess(true);
    await expect(
      connection().describe('arn:aws:eks:eu-west-1:123456789012:cluster/prod'),
    ).rejects.toMatchObject({
      code: 'CLUSTER_ACCESS_DENIED',
      kind: 'permission',
    });
  });
});
