/**
 * ClientNodeCluster calls the deploy stage does not make but check-admission will: bounded Pod
 * logs, label-selected lists, and what a hostile answer does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientNodeCluster } from '../../../shared/kube/kube-cluster';
import { startFakeKube } from '../../helpers/fake-kube';
import type { FakeKube } from '../../helpers/fake-kube';

describe('ClientNodeCluster', () => {
  let kube: FakeKube;
  let cluster: ClientNodeCluster;
  beforeEach(async () => {
    kube = await startFakeKube({ namespaces: ['kyverno-notation-aws'] });
    cluster = new ClientNodeCluster({
      endpoint: kube.endpoint,
      caData: kube.caData,
      token: () => Promise.resolve(kube.token()),
      sleep: () => Promise.resolve(),
    });
    await kube.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ext-1', namespace: 'kyverno-notation-aws', labels: { app: 'kyverno-notation-aws' } },
      spec: {
        containers: [{ name: 'kyverno-notation-aws', image: 'ghcr.io/nirmata/kyverno-notation-aws:v1' }],
      },
    });
  });
  afterEach(async () => {
    cluster.close();
    await kube.close();
  });

  it('reads a Pod log with limitBytes, sinceSeconds and timestamps on the wire', async () => {
    kube.logs.append('kyverno-notation-aws', 'ext-1', 'kyverno-notation-aws', 'first line', new Date());
    kube.logs.append('kyverno-notation-aws', 'ext-1', 'kyverno-notation-aws', 'second line', new Date());
    const text = await cluster.readPodLog({
      namespace: 'kyverno-notation-aws',
      name: 'ext-1',
      container: 'kyverno-notation-aws',
      sinceSeconds: 300,
      limitBytes: 64 * 1024,
      timestamps: true,
    });
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\S+ first line\n\S+ second line\n?$/);
    const [request] = kube.requests.matching({ subresource: 'log' });
    expect(request?.query).toMatchObject({
      container: 'kyverno-notation-aws',
      sinceSeconds: '300',
      limitBytes: '65536',
      timestamps: 'true',
    });
  });

  it('lists by label selector and gives list items their kind', async () => {
    const pods = await cluster.list('v1', 'Pod', {
      namespace: 'kyverno-notation-aws',
      labelSelector: 'app=kyverno-notation-aws',
    });
    expect(pods.map((p) => [p.kind, p.metadata.name])).toEqual([['Pod', 'ext-1']]);
    expect(
      await cluster.list('v1', 'Pod', { namespace: 'kyverno-notation-aws', labelSelector: 'app=other' }),
    ).toEqual([]);
  });

  it('answers undefined for a missing object and false for deleting one', async () => {
    expect(
      await cluster.get({ apiVersion: 'v1', kind: 'Pod', name: 'nope', namespace: 'default' }),
    ).toBeUndefined();
    expect(await cluster.delete({ apiVersion: 'v1', kind: 'Pod', name: 'nope', namespace: 'default' })).toBe(
      false,
    );
  });

  it('ends an answer over its size bound with one clear failure', async () => {
    const small = new ClientNodeCluster({
      endpoint: kube.endpoint,
      caData: kube.caData,
      token: () => Promise.resolve(kube.token()),
      maxResponseBytes: 512,
      maxAttempts: 1,
    });
    try {
      await expect(small.list('v1', 'Pod', { namespace: 'kyverno-notation-aws' })).rejects.toMatchObject({
        code: 'KUBE_RESPONSE_TOO_LARGE',
        kind: 'dependency',
      });
    } finally {
      small.close();
    }
  });

  it('refuses a server whose certificate is not signed by the cluster CA', async () => {
    const other = await startFakeKube();
    const wrongCa = new ClientNodeCluster({
      endpoint: kube.endpoint,
      caData: other.caData,
      token: () => Promise.resolve(kube.token()),
      maxAttempts: 1,
    });
    try {
      await expect(
        wrongCa.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }),
      ).rejects.toMatchObject({
        code: 'KUBE_UNREACHABLE',
      });
      expect(kube.requests.all).toEqual([]);
    } finally {
      wrongCa.close();
      await other.close();
    }
  });
});
