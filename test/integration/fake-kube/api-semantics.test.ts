/**
 * The fake's fidelity to API-server semantics that the stages depend on, driven over HTTPS with
 * client-node: authentication rules, RBAC and injected errors, apply/dry-run/conflicts,
 * generation, validation causes, selectors, deletion, body limits and pods/log parameters.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'node:https';
import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { checkEksToken, makeEksTestToken, startFakeKube, type FakeKube } from '../../helpers/fake-kube/index';
import { apiFailure as failure, applyTo, kubeConfigFor, webDeployment } from './support';

let fake: FakeKube;
let kc: KubeConfig;
let clock: Date;

const kubeConfig = (token?: string): KubeConfig => kubeConfigFor(fake, token);
const configMap = (
  data: Record<string, string>,
  namespace = 'shop',
): KubernetesObject & Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'settings', namespace },
  data,
});
/** `web` with a label, so that dropping labels can be seen. */
function deployment(image: string, replicas = 1): KubernetesObject & Record<string, unknown> {
  const d = webDeployment(image, replicas);
  (d.metadata as Record<string, unknown>).labels = { tier: 'front' };
  return d;
}
const PINNED = `111122223333.dkr.ecr.us-east-1.amazonaws.com/web@sha256:${'a'.repeat(64)}`;

beforeEach(async () => {
  clock = new Date('2026-12-07T22:00:00Z');
  fake = await startFakeKube({ namespaces: ['shop'], now: () => clock, controllers: { mode: 'manual' } });
  kc = kubeConfigFor(fake);
});
afterEach(async () => {
  await fake.close();
});

describe('EKS token rules (aws-iam-authenticator token.go)', () => {
  const now = new Date('2026-12-07T22:00:00Z');
  it('accepts a well-formed token and names the credential', () => {
    const check = checkEksToken(
      makeEksTestToken({ region: 'us-east-1', signedAt: now, accessKeyId: 'ASIAX' }),
      'us-east-1',
      now,
    );
    expect(check).toEqual({
      ok: true,
      claims: {
        accessKeyId: 'ASIAX',
        region: 'us-east-1',
        signedAt: now,
        expiresAt: new Date('2026-12-07T22:15:00Z'),
      },
    });
  });
  it.each([
    ['no prefix', 'abc', 'token is missing expected "k8s-aws-v1." prefix'],
    ['padding', `${makeEksTestToken({ signedAt: now })}==`, 'not unpadded base64url'],
    [
      'other region host',
      makeEksTestToken({ signedAt: now, region: 'eu-west-1' }),
      'unexpected hostname "sts.eu-west-1.amazonaws.com"',
    ],
    [
      'x-k8s-aws-id not signed',
      makeEksTestToken({ signedAt: now, overrides: { 'X-Amz-SignedHeaders': 'host' } }),
      'client did not sign the x-k8s-aws-id header',
    ],
    [
      'extra parameter',
      makeEksTestToken({ signedAt: now, overrides: { 'X-Amz-User-Agent': 'x' } }),
      'non-whitelisted query parameter "X-Amz-User-Agent"',
    ],
    [
      'expires above 900',
      makeEksTestToken({ signedAt: now, overrides: { 'X-Amz-Expires': '901' } }),
      'invalid X-Amz-Expires',
    ],
    [
      'wrong action',
      makeEksTestToken({ signedAt: now, overrides: { Action: 'AssumeRole' } }),
      'unexpected action',
    ],
    [
      'missing signature',
      makeEksTestToken({ signedAt: now, overrides: { 'X-Amz-Signature': undefined } }),
      'missing query parameter "x-amz-signature"',
    ],
    [
      'expired',
      makeEksTestToken({ signedAt: new Date(now.getTime() - 15 * 60_000 - 1000) }),
      'X-Amz-Date parameter is expired (15 minute expiration)',
    ],
    [
      'http scheme',
      `k8s-aws-v1.${Buffer.from('http://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity').toString('base64url')}`,
      'unexpected scheme "http"',
    ],
  ])('refuses %s', (_name, token, reason) => {
    const check = checkEksToken(token, 'us-east-1', now);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toContain(reason);
  });
  it('accepts the global STS host in the aws partition only', () => {
    const global = makeEksTestToken({ signedAt: now, host: 'sts.amazonaws.com' });
    expect(checkEksToken(global, 'us-east-1', now).ok).toBe(true);
    expect(
      checkEksToken(
        makeEksTestToken({ signedAt: now, host: 'sts.amazonaws.com', region: 'cn-north-1' }),
        'cn-north-1',
        now,
      ).ok,
    ).toBe(false);
  });
  it('the server refuses an expired token with 401', async () => {
    const token = fake.token({ signedAt: new Date(clock.getTime() - 16 * 60_000) });
    const e = await failure(kubeConfig(token).makeApiClient(CoreV1Api).readNamespace({ name: 'shop' }));
    expect(e.code).toBe(401);
  });
});

describe('RBAC and injected errors', () => {
  it('denies with the authorizer wording, per verb, resource and namespace', async () => {
    const user = 'arn:aws:sts::111122223333:assumed-role/AKIDEXAMPLE/stagesign';
    fake.rbac.push(
      { verb: 'patch', resource: 'deployments', namespace: 'shop' },
      { resource: 'pods', subresource: 'log' },
    );
    const e = await failure(applyTo(kc, deployment(PINNED)));
    expect(e.code).toBe(403);
    expect(e.body).toMatchObject({
      reason: 'Forbidden',
      message: `deployments.apps "web" is forbidden: User "${user}" cannot patch resource "deployments" in API group "apps" in the namespace "shop"`,
      details: { name: 'web', group: 'apps', kind: 'deployments' },
    });
    await fake.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'shop' },
      spec: { containers: [{ name: 'c', image: PINNED }] },
    });
    const logs = await failure(
      kubeConfig().makeApiClient(CoreV1Api).readNamespacedPodLog({ name: 'p', namespace: 'shop' }),
    );
    expect(logs.body.message).toBe(
      `pods "p" is forbidden: User "${user}" cannot get resource "pods/log" in API group "" in the namespace "shop"`,
    );
  });

  it('injects 409, 422 with field causes, 429 with Retry-After, 500 and 503, as often as asked', async () => {
    const apply = (): Promise<unknown> => applyTo(kc, deployment(PINNED));
    fake.inject({ verb: 'patch', resource: 'deployments', status: 429, retryAfterSeconds: 7 });
    const throttled = await failure(apply());
    expect(throttled.code).toBe(429);
    expect(throttled.headers['retry-after']).toBe('7');
    expect(throttled.body).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 7 } });
    fake.inject({
      verb: 'patch',
      status: 422,
      causes: [
        {
          field: 'spec.template.spec.containers[0].image',
          message: 'Required value',
          reason: 'FieldValueRequired',
        },
      ],
    });
    const invalid = await failure(apply());
    expect(invalid.body).toMatchObject({
      reason: 'Invalid',
      message: 'Deployment.apps "web" is invalid: spec.template.spec.containers[0].image: Required value',
      details: {
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value',
            field: 'spec.template.spec.containers[0].image',
          },
        ],
      },
    });
    const h500 = fake.inject({ resource: 'deployments', status: 500, times: 2 });
    expect((await failure(apply())).body.message).toBe(
      'Internal error occurred: etcdserver: request timed out',
    );
    expect((await failure(apply())).code).toBe(500);
    expect(h500.hits).toBe(2);
    fake.inject({ path: /\/deployments\/web$/, status: 503 });
    expect((await failure(apply())).body).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    fake.inject({ verb: 'patch', status: 409 });
    expect((await failure(apply())).body.message).toBe(
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    await apply();
    expect(fake.requests.matching({ verb: 'patch' }).map((r) => r.status)).toEqual([
      429, 422, 500, 500, 503, 409, 201,
    ]);
  });
});

describe('server-side apply, dry-run and generation', () => {
  it('a dry-run changes nothing and a real apply records managed fields', async () => {
    const dry = await applyTo(kc, deployment(PINNED), { dryRun: 'All' });
    expect(dry.metadata?.uid).toBeDefined();
    expect(fake.read('apps/v1', 'Deployment', 'shop', 'web')).toBeUndefined();
    const applied = await applyTo(kc, deployment(PINNED));
    expect(applied.metadata).toMatchObject({
      generation: 1,
      creationTimestamp: new Date('2026-12-07T22:00:00Z'),
    });
    expect(applied.metadata?.managedFields?.[0]?.fieldsV1).toMatchObject({
      'f:metadata': { 'f:labels': { 'f:tier': {} } },
      'f:spec': {
        'f:template': {
          'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
    const rv = applied.metadata?.resourceVersion;
    const dryChange = await applyTo(kc, deployment(PINNED, 3), { dryRun: 'All' });
    expect((dryChange as unknown as { spec: { replicas: number } }).spec.replicas).toBe(3);
    expect(fake.read('apps/v1', 'Deployment', 'shop', 'web')!.metadata).toMatchObject({
      resourceVersion: rv,
      generation: 1,
    });
    expect(fake.requests.dryRuns()).toHaveLength(2);
    expect(fake.requests.writes()).toHaveLength(1);
  });

  it('bumps generation on spec changes only', async () => {
    await applyTo(kc, deployment(PINNED));
    const labelled = deployment(PINNED);
    (labelled.metadata as { labels: Record<string, string> }).labels.extra = 'yes';
    expect((await applyTo(kc, labelled)).metadata?.generation).toBe(1);
    expect((await applyTo(kc, deployment(PINNED, 2))).metadata?.generation).toBe(2);
    // Fields an applier stops setting are removed.
    const d = fake.read('apps/v1', 'Deployment', 'shop', 'web')!;
    expect((d.metadata as { labels: Record<string, string> }).labels).toEqual({ tier: 'front' });
  });

  it('conflicts with another manager unless forced, with the server text and causes', async () => {
    await applyTo(kc, configMap({ a: '1' }), { manager: 'kubectl' });
    const e = await failure(applyTo(kc, configMap({ a: '2' }), { force: false }));
    expect(e.code).toBe(409);
    expect(e.body).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "kubectl" using v1: .data.a',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "kubectl" using v1', field: '.data.a' },
        ],
      },
    });
    const forced = await applyTo(kc, configMap({ a: '2' }));
    expect(forced.metadata?.managedFields?.map((m) => m.manager)).toEqual(['stagesign']);
  });

  it('requires fieldManager for apply, and a namespace that exists', async () => {
    const noManager = await failure(
      KubernetesObjectApi.makeApiClient(kc).patch(
        configMap({}),
        undefined,
        undefined,
        undefined,
        undefined,
        'application/apply-patch+yaml',
      ),
    );
    expect(noManager.body.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const missingNs = await failure(applyTo(kc, configMap({}, 'absent')));
    expect(missingNs).toMatchObject({
      code: 404,
      body: { message: 'namespaces "absent" not found', details: { name: 'absent', kind: 'namespaces' } },
    });
  });

  it('validates like the server: 422 with causes', async () => {
    const bad = deployment(PINNED);
    (bad.spec as { template: { metadata: { labels: object } } }).template.metadata.labels = { app: 'other' };
    const e = await failure(applyTo(kc, bad));
    expect(e.body).toMatchObject({
      reason: 'Invalid',
      message:
        'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
      details: { causes: [{ field: 'spec.template.metadata.labels' }] },
    });
  });

  it('creates with generateName and refuses request bodies over 3 MiB', async () => {
    const core = kubeConfig().makeApiClient(CoreV1Api);
    const cm = await core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { generateName: 'cfg-' }, data: {} },
    });
    expect(cm.metadata?.name).toMatch(/^cfg-[a-z0-9]{5}$/);
    const huge = await failure(
      core.createNamespacedConfigMap({
        namespace: 'shop',
        body: { metadata: { name: 'big' }, data: { x: 'x'.repeat(3 * 1024 * 1024) } },
      }),
    );
    expect(huge.code).toBe(413);
  });
});

describe('reads, selectors and deletion', () => {
  it('filters by label and field selectors and refuses unsupported field labels', async () => {
    await applyTo(kc, deployment(PINNED, 2));
    await fake.step(2);
    const core = kubeConfig().makeApiClient(CoreV1Api);
    const rs = (await kubeConfig().makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: 'shop' }))
      .items[0]!;
    const events = await core.listNamespacedEvent({
      namespace: 'shop',
      fieldSelector: `involvedObject.uid=${rs.metadata!.uid},reason=SuccessfulCreate`,
    });
    expect(events.items.map((e) => e.message).sort()).toEqual(
      (
        await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app in (web),pod-template-hash' })
      ).items
        .map((p) => `Created pod: ${p.metadata!.name}`)
        .sort(),
    );
    expect(
      (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app!=web' })).items,
    ).toHaveLength(0);
    const bad = await failure(core.listNamespacedEvent({ namespace: 'shop', fieldSelector: 'message=x' }));
    expect(bad).toMatchObject({ code: 400, body: { message: 'field label not supported: message' } });
  });

  it('deletes with background propagation (owned ReplicaSets and Pods go too) or orphans them', async () => {
    await applyTo(kc, deployment(PINNED, 2));
    await fake.step(2);
    expect(fake.list('v1', 'Pod', 'shop')).toHaveLength(2);
    const api = KubernetesObjectApi.makeApiClient(kc);
    const status = await api.delete(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } },
      undefined,
      undefined,
      undefined,
      undefined,
      'Orphan',
    );
    expect(status).toMatchObject({
      status: 'Success',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
    });
    expect(fake.list('apps/v1', 'ReplicaSet', 'shop')).toHaveLength(1);
    await applyTo(kc, deployment(PINNED, 2));
    await api.delete(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } },
      undefined,
      undefined,
      undefined,
      undefined,
      'Background',
    );
    await api.delete({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: String((fake.list('apps/v1', 'ReplicaSet', 'shop')[0]!.metadata as { name: string }).name),
        namespace: 'shop',
      },
    });
    expect(fake.list('v1', 'Pod', 'shop')).toHaveLength(0);
  });

  it('serves pods/log with since, tail, timestamps, limitBytes and previous like the kubelet', async () => {
    await fake.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'shop' },
      spec: {
        containers: [
          { name: 'a', image: PINNED },
          { name: 'b', image: PINNED },
        ],
      },
    });
    const at = (s: number): Date => new Date(clock.getTime() - s * 1000);
    fake.logs.append('shop', 'p', 'a', 'old', at(600));
    fake.logs.append('shop', 'p', 'a', 'line 1\nline 2', at(60));
    fake.logs.append('shop', 'p', 'a', 'line 3', at(1));
    const core = kubeConfig().makeApiClient(CoreV1Api);
    const read = (q: Record<string, unknown>): Promise<string> =>
      core.readNamespacedPodLog({ name: 'p', namespace: 'shop', container: 'a', ...q });
    expect(await read({})).toBe('old\nline 1\nline 2\nline 3\n');
    expect(await read({ sinceSeconds: 120 })).toBe('line 1\nline 2\nline 3\n');
    expect(await read({ sinceSeconds: 120, tailLines: 1, timestamps: true })).toBe(
      '2026-12-07T21:59:59.000000000Z line 3\n',
    );
    expect(await read({ limitBytes: 6 })).toBe('old\nli');
    const noContainer = await failure(core.readNamespacedPodLog({ name: 'p', namespace: 'shop' }));
    expect(noContainer.code).toBe(400);
    const noPrevious = await failure(read({ previous: true }));
    expect(noPrevious.code).toBe(400);
    fake.logs.restart('shop', 'p', 'a');
    expect(await read({ previous: true })).toBe('old\nline 1\nline 2\nline 3\n');
    expect(await read({})).toBe('');
    const raw = await new Promise<{ type: string | undefined; body: string }>((resolve, reject) => {
      const req = request(
        `${fake.endpoint}/api/v1/namespaces/shop/pods/p/log?container=a&previous=true&sinceTime=${encodeURIComponent(at(30).toISOString())}`,
        { ca: fake.caPem, headers: { authorization: `Bearer ${fake.token()}` } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ type: res.headers['content-type'], body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(raw).toEqual({ type: 'text/plain', body: 'line 3\n' });
  });
});
