import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiException } from '@kubernetes/client-node';
import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { startFakeKube, type FakeKube } from '../../helpers/fake-kube/index';
import { apiFailure, applyTo, kubeConfigFor, webDeployment } from './support';

let fake: FakeKube;
let kc: KubeConfig;

const config = (token?: string): KubeConfig => kubeConfigFor(fake, token);
const deployment = (image: string): KubernetesObject & Record<string, unknown> => webDeployment(image, 2);

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const IMAGE_A = `111122223333.dkr.ecr.us-east-1.amazonaws.com/web@${DIGEST_A}`;
const IMAGE_B = `111122223333.dkr.ecr.us-east-1.amazonaws.com/web@${DIGEST_B}`;

beforeEach(async () => {
  fake = await startFakeKube({ namespaces: ['shop'] });
  kc = config();
});
afterEach(async () => {
  await fake.close();
});

describe('fake-kube with @kubernetes/client-node 1.4', () => {
  it('server-side applies a Deployment and rolls it out over polls', async () => {
    const applied = await applyTo(kc, deployment(IMAGE_A));
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
    const again = await applyTo(kc, deployment(IMAGE_A));
    expect(again.metadata?.generation).toBe(1);
  });

  it('reads, lists and creates through KubernetesObjectApi, and updates status through the subresource', async () => {
    const objects = KubernetesObjectApi.makeApiClient(config());
    await objects.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { ports: [{ port: 80 }] },
    } as KubernetesObject);
    const svc = await objects.read({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
    });
    expect((svc as unknown as { spec: { clusterIP: string } }).spec.clusterIP).toMatch(/^10\.100\./);
    const list = await objects.list('v1', 'Service', 'shop');
    expect(list.items.map((o) => o.metadata?.name)).toEqual(['web']);
    // Discovery is fetched once per group version per client.
    expect(fake.requests.count({ path: '/api/v1' })).toBe(1);
    const apps = config().makeApiClient(AppsV1Api);
    await applyTo(kc, deployment(IMAGE_A));
    // The main endpoint ignores status; /status changes only status.
    const replaced = await apps.replaceNamespacedDeploymentStatus({
      name: 'web',
      namespace: 'shop',
      body: {
        ...(await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })),
        status: { observedGeneration: 7 },
      },
    });
    expect(replaced.status?.observedGeneration).toBe(7);
    expect(replaced.metadata?.generation).toBe(1);
  });

  it('rolls back with the JSON patch kubectl rollout undo sends', async () => {
    const apps = config().makeApiClient(AppsV1Api);
    await applyTo(kc, deployment(IMAGE_A));
    await fake.step(4);
    await applyTo(kc, deployment(IMAGE_B));
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
    const e = await apiFailure(applyTo(kc, webDeployment(IMAGE_A, 2, 'new-ns'), { dryRun: 'All' }));
    expect(e).toMatchObject({
      code: 404,
      body: { reason: 'NotFound', message: 'namespaces "new-ns" not found' },
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
