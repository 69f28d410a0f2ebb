import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { startFakeKube, type FakeKube } from '../../helpers/fake-kube/index';

let fake: FakeKube;

function config(token = fake.token()): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'eks', server: fake.endpoint, caData: fake.caData, skipTLSVerify: false }],
    users: [{ name: 'lambda', token }],
    contexts: [{ name: 'ctx', cluster: 'eks', user: 'lambda', namespace: 'default' }],
    currentContext: 'ctx',
  });
  return kc;
}

const deployment = (image: string, replicas = 2): KubernetesObject & Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
  },
});

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const IMAGE_A = `111122223333.dkr.ecr.us-east-1.amazonaws.com/web@${DIGEST_A}`;
const IMAGE_B = `111122223333.dkr.ecr.us-east-1.amazonaws.com/web@${DIGEST_B}`;

function status(e: unknown): { code: number; body: Record<string, unknown> } {
  expect(e).toBeInstanceOf(ApiException);
  const ex = e as ApiException<string>;
  return { code: ex.code, body: JSON.parse(ex.body) as Record<string, unknown> };
}

beforeEach(async () => {
  fake = await startFakeKube({ namespaces: ['shop'] });
});
afterEach(async () => {
  await fake.close();
});

describe('fake-kube with @kubernetes/client-node 1.4', () => {
  it('server-side applies a Deployment and rolls it out over polls', async () => {
    const objects = KubernetesObjectApi.makeApiClient(config());
    const applied = await objects.patch(
      deployment(IMAGE_A),
      undefined,
      undefined,
      'stagesign',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(applied.metadata?.generation).toBe(1);
    expect(applied.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(applied.metadata?.managedFields?.[0]).toMatchObject({ manager: 'stagesign', operation: 'Apply' });
    const apps = config().makeApiClient(AppsV1Api);
    let d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    for (let i = 0; i < 10 && d.status?.availableReplicas !== 2; i++) {
      d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    }
    expect(d.status).toMatchObject({
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe(
      'NewReplicaSetAvailable',
    );
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    const core = config().makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(p.status?.containerStatuses?.[0]?.imageID).toBe(IMAGE_A);
      expect(p.metadata?.labels?.['pod-template-hash']).toMatch(/^[a-z0-9]{10}$/);
    }
    // The same apply again changes nothing: no new generation.
    const again = await objects.patch(
      deployment(IMAGE_A),
      undefined,
      undefined,
      'stagesign',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(again.metadata?.generation).toBe(1);
  });

  it('rolls back with the JSON patch kubectl rollout undo sends', async () => {
    const objects = KubernetesObjectApi.makeApiClient(config());
    const apps = config().makeApiClient(AppsV1Api);
    await objects.patch(
      deployment(IMAGE_A),
      undefined,
      undefined,
      'stagesign',
      true,
      PatchStrategy.ServerSideApply,
    );
    await fake.step(4);
    await objects.patch(
      deployment(IMAGE_B),
      undefined,
      undefined,
      'stagesign',
      true,
      PatchStrategy.ServerSideApply,
    );
    await fake.step(4);
    const rsList = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=web' });
    expect(
      rsList.items.map((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort(),
    ).toEqual(['1', '2']);
    const old = rsList.items.find(
      (rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1',
    )!;
    expect(old.spec?.replicas).toBe(0);
    const template = structuredClone(old.spec!.template!);
    delete template.metadata!.labels!['pod-template-hash'];
    const current = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    const rolled = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'shop',
        body: [
          { op: 'replace', path: '/spec/template', value: template },
          { op: 'replace', path: '/metadata/annotations', value: current.metadata!.annotations },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(rolled.metadata?.generation).toBe(3);
    await fake.step(4);
    const after = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(after.spec?.template?.spec?.containers[0]?.image).toBe(IMAGE_A);
    const rs = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=web' });
    expect(rs.items).toHaveLength(2);
  });

  it('refuses a dry-run create in a namespace that does not exist, like the real server', async () => {
    const objects = KubernetesObjectApi.makeApiClient(config());
    const d = deployment(IMAGE_A);
    (d.metadata as Record<string, unknown>).namespace = 'new-ns';
    const e = await objects
      .patch(d, undefined, 'All', 'stagesign', true, PatchStrategy.ServerSideApply)
      .catch((x: unknown) => x);
    expect(status(e)).toEqual({
      code: 404,
      body: expect.objectContaining({ reason: 'NotFound', message: 'namespaces "new-ns" not found' }),
    });
    expect(fake.requests.writes()).toHaveLength(0);
    expect(fake.requests.dryRuns()).toHaveLength(1);
  });

  it('answers 401 to a token that is not an EKS token for the cluster', async () => {
    const core = config('not-an-eks-token').makeApiClient(CoreV1Api);
    const e = await core.listNamespacedPod({ namespace: 'shop' }).catch((x: unknown) => x);
    // The generated client drops the body of a 401; the server sent the Status all the same.
    expect((e as ApiException<unknown>).code).toBe(401);
    expect(fake.requests.all.map((r) => [r.status, r.user])).toEqual([[401, undefined]]);
  });
});
