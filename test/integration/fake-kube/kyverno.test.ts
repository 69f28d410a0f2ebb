import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import {
  EXTENSION_CONTAINER,
  EXTENSION_NAMESPACE,
  installKyvernoNotationAws,
  startFakeKube,
  verdictFromDigests,
  type FakeKube,
} from '../../helpers/fake-kube/index';
import { apiFailure, applyTo, kubeConfigFor, webDeployment } from './support';

const REPO = '111122223333.dkr.ecr.us-east-1.amazonaws.com/web';
const SIGNED = `sha256:${'1'.repeat(64)}`;
const UNSIGNED = `sha256:${'2'.repeat(64)}`;
const TAGS = { [`${REPO}:v1`]: SIGNED, [`${REPO}:v1-unsigned`]: UNSIGNED };

let fake: FakeKube;
let kc: KubeConfig;

const deployment = (image: string): KubernetesObject & Record<string, unknown> => webDeployment(image, 2);
const apply = (obj: KubernetesObject): Promise<KubernetesObject> => applyTo(kc, obj);

async function failure(p: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  const { code, body } = await apiFailure(p);
  return { code, status: body };
}

async function extensionLog(pod: string, previous = false): Promise<string> {
  return kc.makeApiClient(CoreV1Api).readNamespacedPodLog({
    name: pod,
    namespace: EXTENSION_NAMESPACE,
    container: EXTENSION_CONTAINER,
    previous,
  });
}

beforeEach(async () => {
  fake = await startFakeKube({ namespaces: ['shop'], controllers: { mode: 'manual' } });
  kc = kubeConfigFor(fake);
});
afterEach(async () => {
  await fake.close();
});

describe('kyverno-notation-aws Shape A (Pod-only mutate policy check-images)', () => {
  it('admits a signed image, pins the Pods to its digest and logs the verification', async () => {
    const kna = await installKyvernoNotationAws(fake, {
      shape: 'A',
      verdict: verdictFromDigests([SIGNED], TAGS),
    });
    await apply(deployment(`${REPO}:v1`));
    await fake.step(3);
    const pods = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.spec?.containers[0]?.image).toBe(`${REPO}@${SIGNED}`);
      expect(pod.status?.containerStatuses?.[0]?.imageID).toBe(`${REPO}@${SIGNED}`);
    }
    const log = await extensionLog(kna.pods[0]!);
    const lines = log.split('\n');
    // The first Pod misses the cache (an ERROR line for a signed image), the second hits it.
    expect(
      lines.filter((l) =>
        l.includes(
          '\tERROR\tcache/client.go:130\tEntry not found key=aws-signer-trust-policy;' + `${REPO}:v1`,
        ),
      ),
    ).toHaveLength(1);
    expect(
      lines.filter((l) => l.endsWith(`successfully verified image ${REPO}:v1 digest ${SIGNED}`)),
    ).toHaveLength(1);
    expect(
      lines.filter((l) =>
        l.includes(
          `Entry for the image found in cache, skipping image=${REPO}:v1; trustpolicy=aws-signer-trust-policy`,
        ),
      ),
    ).toHaveLength(1);
    expect(lines.at(-2)).toBe('}');
    expect(log).toContain(
      `Sending response {\n  "verified": true,\n  "message": "",\n  "results": [\n    {\n      "op": "replace",\n      "path": "/spec/containers/0/image",\n      "value": "${REPO}@${SIGNED}"\n    }\n  ]\n}\n`,
    );
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tINFO\tkyverno-notation-aws\/main.go:46\tconfiguring notation\t/,
    );
    expect(kna.calls).toBe(2);
  });

  it('admits the Deployment but denies its Pods: FailedCreate event and ReplicaFailure condition', async () => {
    await installKyvernoNotationAws(fake, { shape: 'A', verdict: verdictFromDigests([SIGNED], TAGS) });
    const applied = await apply(deployment(`${REPO}:v1-unsigned`));
    expect(applied.metadata?.generation).toBe(1);
    await fake.step(3);
    const expected =
      'admission webhook "mutate.kyverno.svc-fail" denied the request: mutation policy check-images error: failed to apply policy check-images rules [call-aws-signer-extension: failed to evaluate list response.results: failed to fetch data for APICall: HTTP 406 Not Acceptable: failed to verify container web: failed to verify image ' +
      `{{{111122223333.dkr.ecr.us-east-1.amazonaws.com web web v1-unsigned  ${REPO}:v1-unsigned ${REPO}:v1-unsigned}} /spec/containers/0/image}: ` +
      `no signature is associated with "${REPO}@${UNSIGNED}", make sure the artifact was signed successfully\n]`;
    const apps = kc.makeApiClient(AppsV1Api);
    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=web' }))
      .items[0]!;
    expect(rs.status?.conditions).toEqual([
      expect.objectContaining({
        type: 'ReplicaFailure',
        status: 'True',
        reason: 'FailedCreate',
        message: expected,
      }),
    ]);
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(d.status?.conditions?.find((c) => c.type === 'ReplicaFailure')).toMatchObject({
      reason: 'FailedCreate',
      message: expected,
    });
    expect(d.status?.updatedReplicas ?? 0).toBe(0);
    const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
      namespace: 'shop',
      fieldSelector: `involvedObject.kind=ReplicaSet,involvedObject.uid=${rs.metadata!.uid},reason=FailedCreate`,
    });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({
      type: 'Warning',
      message: `Error creating: ${expected}`,
      count: 3,
    });

    // A Pod dry-run (the deploy stage's preflight) gets the same text synchronously.
    const { code, status } = await failure(
      kc.makeApiClient(CoreV1Api).createNamespacedPod({
        namespace: 'shop',
        dryRun: 'All',
        body: {
          metadata: { generateName: 'web-' },
          spec: { containers: [{ name: 'web', image: `${REPO}:v1-unsigned` }] },
        },
      }),
    );
    expect(code).toBe(400);
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: expected,
      code: 400,
    });
    expect(fake.requests.dryRuns()).toHaveLength(1);
  });

  it('reports Token is not authorized and an unreachable webhook with the real texts', async () => {
    const kna = await installKyvernoNotationAws(fake, {
      shape: 'A',
      verdict: verdictFromDigests([SIGNED], TAGS),
      tokenAuthorized: false,
    });
    const pod = {
      metadata: { generateName: 'web-' },
      spec: { containers: [{ name: 'web', image: `${REPO}:v1` }] },
    };
    const core = kc.makeApiClient(CoreV1Api);
    const denied = await failure(core.createNamespacedPod({ namespace: 'shop', dryRun: 'All', body: pod }));
    expect(denied.status.message).toContain(
      'failed to fetch data for APICall: HTTP 406 Not Acceptable: Token is not authorized\n]',
    );
    expect(await extensionLog(kna.pods[0]!)).toMatch(
      /\tINFO\tverifier\/client.go:176\tToken is not authorized &TokenReview\{/,
    );

    kna.set({ unavailable: true });
    const down = await failure(core.createNamespacedPod({ namespace: 'shop', dryRun: 'All', body: pod }));
    expect(down.code).toBe(500);
    expect(down.status).toMatchObject({
      reason: 'InternalError',
      message:
        'Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/mutate/fail?timeout=10s": context deadline exceeded',
    });
  });

  it('with failurePolicy Ignore admits an unsigned image unmutated', async () => {
    await installKyvernoNotationAws(fake, {
      shape: 'A',
      verdict: verdictFromDigests([SIGNED], TAGS),
      failurePolicy: 'Ignore',
    });
    const pod = await kc.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: 'shop',
      dryRun: 'All',
      body: {
        metadata: { generateName: 'web-' },
        spec: { containers: [{ name: 'web', image: `${REPO}:v1-unsigned` }] },
      },
    });
    expect(pod.spec?.containers[0]?.image).toBe(`${REPO}:v1-unsigned`);
    expect(pod.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
  });

  it("spreads calls over replicas and keeps a restarted replica's log as previous", async () => {
    const kna = await installKyvernoNotationAws(fake, {
      shape: 'A',
      verdict: verdictFromDigests([SIGNED], TAGS),
      replicas: 2,
    });
    const core = kc.makeApiClient(CoreV1Api);
    const body = {
      metadata: { generateName: 'web-' },
      spec: { containers: [{ name: 'web', image: `${REPO}:v1` }] },
    };
    await core.createNamespacedPod({ namespace: 'shop', dryRun: 'All', body });
    await core.createNamespacedPod({ namespace: 'shop', dryRun: 'All', body });
    const [first, second] = kna.pods;
    // Each replica has its own cache: both log a miss and a success.
    for (const pod of [first!, second!])
      expect(await extensionLog(pod)).toContain(`successfully verified image ${REPO}:v1 digest ${SIGNED}`);
    await kna.restart(1);
    expect(await extensionLog(second!)).not.toContain('successfully verified');
    expect(await extensionLog(second!, true)).toContain(
      `successfully verified image ${REPO}:v1 digest ${SIGNED}`,
    );
    const pods = await core.listNamespacedPod({
      namespace: EXTENSION_NAMESPACE,
      labelSelector: 'app=kyverno-notation-aws',
    });
    const restarts = Object.fromEntries(
      pods.items.map((p) => [p.metadata!.name, p.status?.containerStatuses?.[0]?.restartCount]),
    );
    expect(restarts).toEqual({ [first!]: 0, [second!]: 1 });
    await kna.replace(0);
    expect(kna.pods[0]).not.toBe(first);
    const gone = await failure(extensionLog(first!));
    expect(gone.code).toBe(404);
  });
});

describe('kyverno-notation-aws Shape B (validate policy, autogenerated for Deployments)', () => {
  it('denies the Deployment at apply with HTTP 400 and stores nothing', async () => {
    await installKyvernoNotationAws(fake, { shape: 'B', verdict: verdictFromDigests([SIGNED], TAGS) });
    const { code, status } = await failure(apply(deployment(`${REPO}:v1-unsigned`)));
    expect(code).toBe(400);
    const message = String(status.message);
    expect(
      message.startsWith(
        'admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Deployment/shop/web was blocked due to the following policies \n\nvalidate-images:\n  autogen-call-aws-signer-extension: \'failed to check deny conditions:',
      ),
    ).toBe(true);
    expect(message.replace(/\n\s+/g, ' ')).toContain(
      `no signature is associated with "${REPO}@${UNSIGNED}", make sure the artifact was signed successfully`,
    );
    expect(status.reason).toBeUndefined();
    expect(fake.read('apps/v1', 'Deployment', 'shop', 'web')).toBeUndefined();
    // A signed image passes; Shape B does not rewrite images.
    const ok = await apply(deployment(`${REPO}:v1`));
    expect(
      (ok as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template
        .spec.containers[0]!.image,
    ).toBe(`${REPO}:v1`);
  });
});
