/**
 * The controllers' failure modes, as the deploy and admission stages observe them through the
 * API: Pods stuck in ErrImagePull/ImagePullBackOff, CrashLoopBackOff, CreateContainerConfigError,
 * a Deployment past its progress deadline, and what a poll-driven rollout looks like step by step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { startFakeKube, type ControllerOptions, type FakeKube } from '../../helpers/fake-kube/index';
import { kubeConfigFor } from './support';

let fake: FakeKube | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const DIGEST = `sha256:${'e'.repeat(64)}`;

async function start(
  controllers: ControllerOptions & { mode?: 'poll' | 'manual' },
): Promise<{ fake: FakeKube; kc: KubeConfig }> {
  fake = await startFakeKube({ namespaces: ['shop'], controllers });
  const kc = kubeConfigFor(fake);
  await fake.seed({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'registry.example.com/team/web:2.0' }] },
      },
    },
  });
  return { fake, kc };
}

async function waitingReason(
  kc: KubeConfig,
): Promise<{ reason?: string; message?: string; restarts?: number }> {
  const pods = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' });
  const status = pods.items[0]?.status?.containerStatuses?.[0];
  return {
    reason: status?.state?.waiting?.reason,
    message: status?.state?.waiting?.message,
    restarts: status?.restartCount,
  };
}

describe('fake-kube controllers', () => {
  it('progresses a Deployment one step per poll, with kubectl-visible status', async () => {
    const { kc } = await start({ imageDigests: { 'registry.example.com/team/web:2.0': DIGEST } });
    const apps = kc.makeApiClient(AppsV1Api);
    const seen: V1Deployment['status'][] = [];
    for (let i = 0; i < 3; i++)
      seen.push((await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })).status);
    expect(
      seen.map((s) => [s?.observedGeneration, s?.updatedReplicas ?? 0, s?.availableReplicas ?? 0]),
    ).toEqual([
      [1, 1, 0],
      [1, 1, 0],
      [1, 1, 1],
    ]);
    expect(seen[0]?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetCreated');
    expect(seen[2]?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    const pod = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'shop' })).items[0]!;
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({
      image: 'registry.example.com/team/web:2.0',
      imageID: `registry.example.com/team/web@${DIGEST}`,
      ready: true,
      state: { running: expect.any(Object) },
    });
  });

  it('a tag without a digest is ErrImagePull, then ImagePullBackOff', async () => {
    const { fake: f, kc } = await start({ mode: 'manual' });
    // Step 1 creates the ReplicaSet and its Pod, step 2 schedules it, step 3 pulls.
    await f.step(2);
    expect(await waitingReason(kc)).toMatchObject({ reason: 'ContainerCreating' });
    await f.step();
    expect(await waitingReason(kc)).toMatchObject({
      reason: 'ErrImagePull',
      message:
        'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/team/web:2.0": failed to resolve reference "registry.example.com/team/web:2.0": registry.example.com/team/web:2.0: not found',
    });
    await f.step();
    expect(await waitingReason(kc)).toMatchObject({
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "registry.example.com/team/web:2.0"',
    });
  });

  it.each([
    [
      'CrashLoopBackOff',
      /^back-off 20s restarting failed container=web pod=web-[a-z0-9]+-[a-z0-9]{5}_shop\(/,
    ],
    ['CreateContainerConfigError', /^configmap "app-config" not found$/],
    ['ImagePullBackOff', /^Back-off pulling image/],
  ] as const)('podOutcome can force %s', async (state, message) => {
    const { fake: f, kc } = await start({
      mode: 'manual',
      imageDigests: { 'registry.example.com/team/web:2.0': DIGEST },
      podOutcome: () => state,
    });
    await f.step(4);
    const w = await waitingReason(kc);
    expect(w.reason).toBe(state);
    expect(w.message).toMatch(message);
    if (state === 'CrashLoopBackOff') expect(w.restarts).toBe(2);
    const d = f.read('apps/v1', 'Deployment', 'shop', 'web')!.status as {
      availableReplicas?: number;
      unavailableReplicas?: number;
    };
    expect(d).toMatchObject({ unavailableReplicas: 1 });
    expect(d.availableReplicas).toBeUndefined();
  });

  it('reports ProgressDeadlineExceeded after the configured number of steps', async () => {
    const { fake: f, kc } = await start({ mode: 'manual', progressDeadlineSteps: 3 });
    await f.step(3);
    const apps = kc.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(before.status?.conditions?.find((c) => c.type === 'Progressing')?.status).toBe('True');
    await f.step();
    const after = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'shop' })).items[0]!;
    expect(after.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${rs.metadata!.name}" has timed out progressing.`,
    });
  });
});
