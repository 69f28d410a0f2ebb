/** What the fake-kube fidelity tests share: a client-node config for the fake, apply, failures. */
import { expect } from 'vitest';
import {
  ApiException,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { FakeKube } from '../../helpers/fake-kube/index';

/** A KubeConfig built like shared/kube builds it: endpoint + EKS CA data + bearer token, no file. */
export function kubeConfigFor(fake: FakeKube, token = fake.token()): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'eks', server: fake.endpoint, caData: fake.caData, skipTLSVerify: false }],
    users: [{ name: 'lambda', token }],
    contexts: [{ name: 'ctx', cluster: 'eks', user: 'lambda' }],
    currentContext: 'ctx',
  });
  return kc;
}

/** Server-side apply as the stages do it (`fieldManager=stagesign`, `force=true` unless told). */
export function applyTo(
  kc: KubeConfig,
  obj: KubernetesObject,
  options: { dryRun?: 'All'; manager?: string; force?: boolean } = {},
): Promise<KubernetesObject> {
  return KubernetesObjectApi.makeApiClient(kc).patch(
    obj,
    undefined,
    options.dryRun,
    options.manager ?? 'stagesign',
    options.force ?? true,
    PatchStrategy.ServerSideApply,
  );
}

/** The HTTP code, parsed Status body and headers of a request that must fail. */
export async function apiFailure(
  p: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  const e = await p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ApiException);
  const ex = e as ApiException<unknown>;
  const body =
    typeof ex.body === 'string'
      ? (JSON.parse(ex.body) as Record<string, unknown>)
      : ((ex.body ?? {}) as Record<string, unknown>);
  return { code: ex.code, body, headers: ex.headers };
}

/** A one-container Deployment `web` labelled `app=web`. */
export function webDeployment(
  image: string,
  replicas = 1,
  namespace = 'shop',
): KubernetesObject & Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}
