/**
 * The stand-ins each stage's sample events need to keep the promise of their names
 * (events/README.md), in this test process: what `sam local invoke -e events/…` would find in a
 * real account. Each world starts its stand-ins and returns the environment it adds on top of
 * events/env.json (stand-in trust material, never the sample values themselves).
 *
 * sign-image and verify-image share one world: a registry answering for the events' ECR host
 * (123456789012.dkr.ecr.us-east-1.amazonaws.com, reached by routing `fetch`) that holds
 * `app@sha256:2d3f…` (tagged v1), `worker:v1` and `unsigned@sha256:9b1e…`, with an AWS-shaped
 * signature of `app` by the test signing authority; ECR GetAuthorizationToken, Signer SignPayload
 * and GetRevocationStatus answered at the SDK. The test authority is not an AWS Signer root, so
 * verify-image trusts it through TRUST_POLICY/TRUST_STORES, the one difference from env.json.
 *
 * deploy-manifest's world is test/helpers/deploy-manifest-scenarios.ts, as its handler test uses
 * it: the S3 GetObject stand-in serving the input artifacts the events name and the EKS
 * DescribeCluster stand-in (reached through AWS_ENDPOINT_URL_S3/_EKS, which come from the shell
 * outside tests), and per event a fresh fake cluster `prod` with kyverno-notation-aws installed
 * (`beforeEvent`), set up as the event needs (pod-rejected-rollback finds a running Deployment).
 *
 * check-admission's world is a cluster: the fake HTTPS API server with kyverno-notation-aws
 * emulated (policy check-images on namespace prod, two replicas), the EKS DescribeCluster
 * stand-in (AWS_ENDPOINT_URL_EKS) pointing at it, and the Deployments its events name, with the
 * events' uids: prod/web running the signed `app@sha256:41b0…`, prod/api at revision 2 with the
 * unsigned `app@sha256:1b34…` over a signed revision 1, and unpoliced/web running a signed image
 * no policy checked.
 *
 * A stage whose events need other stand-ins adds its world here.
 */
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { GetRevocationStatusCommand, SignPayloadCommand, SignerClient } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { DistributionRegistry } from '../../shared/oci/distribution-registry';
import { parseReference } from '../../shared/oci/reference';
import { MediaType } from '../../shared/oci/types';
import type { Descriptor } from '../../shared/oci/types';
import {
  AWS_FIXTURE,
  awsEnvelope,
  fixturePolicy,
  fixtureRootPem,
  pushSignature,
} from '../unit/functions/verify-image/signed-images';
import { CLUSTER, REGION, startArtifactStandIn, startDeployScenario } from './deploy-manifest-scenarios';
import type { DeployScenario } from './deploy-manifest-scenarios';
import { startEksStandIn } from './eks-stand-in';
import { FakeRegistry } from './fake-registry';
import { answerManifestHeads } from './manifest-heads';
import { signLikeAwsSigner } from './test-signing-authority';
import { ADMIN, startFakeKube } from './fake-kube/index';
import type { FakeKube } from './fake-kube/index';
import { typeOf } from './fake-kube/discovery';
import {
  EXTENSION_NAMESPACE,
  installKyvernoNotationAws,
  verdictFromDigests,
} from './fake-kube/kyverno-notation-aws';
import { OTHER, SIGNED, UNSIGNED as UNSIGNED_APP, pinned } from '../fixtures/kyverno-logs/names';

export interface EventWorld {
  /** Variables added on top of events/env.json for this stage's function. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Sets the world up for one event (its file name without `.json`) before it runs, for stages
   * whose events need different states of the stand-ins (a cluster per event). Optional.
   */
  beforeEvent?(event: string): Promise<void>;
  close(): Promise<void>;
}

export const EVENTS_ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const TOKEN = Buffer.from('AWS:events-world-password').toString('base64');
const APP: Descriptor = {
  mediaType: MediaType.ImageManifest,
  digest: 'sha256:2d3f6b5c0e7a4b1f9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b',
  size: 1024,
};
const WORKER: Descriptor = { ...APP, digest: `sha256:${'4'.repeat(64)}`, size: 900 };
const UNSIGNED: Descriptor = {
  mediaType: MediaType.ImageManifest,
  digest: 'sha256:9b1e7a8c2d4f6e0a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a',
  size: 2048,
};

async function registryWorld(stage: 'sign-image' | 'verify-image'): Promise<EventWorld> {
  const fake = await FakeRegistry.start({ referrersApi: true, auth: { scheme: 'token', token: TOKEN } });
  // The events name images by digests whose content we cannot make: answer their HEADs directly
  // (the stages need the descriptor only).
  answerManifestHeads(fake, [
    ['app', APP.digest, APP],
    ['app', 'v1', APP],
    ['worker', 'v1', WORKER],
    ['unsigned', UNSIGNED.digest, UNSIGNED],
  ]);
  // The repositories exist (a push to a repository the registry does not know is NAME_UNKNOWN).
  for (const repository of ['worker', 'unsigned'])
    fake.seedBlob(repository, new TextEncoder().encode(repository));
  const realFetch = globalThis.fetch;
  vi.stubGlobal('fetch', ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return realFetch(url.replace(`https://${EVENTS_ECR_HOST}`, fake.url), init);
  }) as typeof fetch);

  const ecr = mockClient(ECRClient);
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: TOKEN,
        expiresAt: new Date(Date.now() + 3_600_000),
        proxyEndpoint: `https://${EVENTS_ECR_HOST}`,
      },
    ],
  });
  const signer = mockClient(SignerClient);
  signer.on(GetRevocationStatusCommand).resolves({ revokedEntities: [] });
  signer.on(SignPayloadCommand).callsFake((input: { payload: Uint8Array; profileName?: string }) => {
    const signed = signLikeAwsSigner(input.payload, {
      profileVersionArn: 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/app_signing/Ab12Cd34Ef',
      jobArn: 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0b9e2a1c-5d4f-4e3a-9b8c-7d6e5f4a3b2c',
    });
    return { jobId: signed.jobId, metadata: signed.annotations, signature: signed.envelope };
  });
  await pushSignature(
    new DistributionRegistry(),
    parseReference(`${EVENTS_ECR_HOST}/app:v1`),
    APP,
    awsEnvelope(APP),
  );

  return {
    env:
      stage === 'verify-image'
        ? {
            TRUST_POLICY: JSON.stringify(fixturePolicy()),
            TRUST_STORES: JSON.stringify({ [AWS_FIXTURE.trustStore]: fixtureRootPem() }),
          }
        : {},
    async close() {
      vi.unstubAllGlobals();
      ecr.restore();
      signer.restore();
      await fake.close();
    },
  };
}

async function deployWorld(): Promise<EventWorld> {
  const artifacts = await startArtifactStandIn();
  const eks = await startEksStandIn({ region: REGION });
  let scenario: DeployScenario | undefined;
  return {
    env: { AWS_ENDPOINT_URL_S3: artifacts.endpoint, AWS_ENDPOINT_URL_EKS: eks.endpoint },
    async beforeEvent(event) {
      await scenario?.close();
      scenario = undefined;
      scenario = await startDeployScenario(event);
      eks.putCluster({ name: CLUSTER, endpoint: scenario.kube.endpoint, caData: scenario.kube.caData });
    },
    async close() {
      await scenario?.close();
      await eks.close();
      await artifacts.close();
    },
  };
}

/** A Deployment as deploy-manifest applies it, with the uid the events' `DEPLOYED` names. */
async function deployWithUid(
  fake: FakeKube,
  namespace: string,
  name: string,
  uid: string,
  digest: string,
): Promise<void> {
  const type = typeOf('deployments', 'apps');
  await fake.seed({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: pinned(digest) }] },
      },
    },
  });
  const created = fake.store.get(type, namespace, name)!;
  (created.metadata as { uid: string }).uid = uid;
  fake.store.put(type, created);
  await fake.step(10);
}

async function clusterWorld(): Promise<EventWorld> {
  const fake = await startFakeKube({
    namespaces: ['prod', 'unpoliced', EXTENSION_NAMESPACE],
    controllers: { mode: 'manual' },
  });
  await installKyvernoNotationAws(fake, {
    shape: 'A',
    verdict: verdictFromDigests([SIGNED, OTHER]),
    namespaces: ['prod'],
    replicas: 2,
  });
  await deployWithUid(fake, 'prod', 'web', '6b1f2c3d-0000-4000-8000-00000000a001', SIGNED);
  await deployWithUid(fake, 'prod', 'api', '6b1f2c3d-0000-4000-8000-00000000a002', SIGNED);
  const api = fake.read('apps/v1', 'Deployment', 'prod', 'api')!;
  const spec = structuredClone(api.spec) as { template: { spec: { containers: Array<{ image: string }> } } };
  spec.template.spec.containers[0]!.image = pinned(UNSIGNED_APP);
  await fake.api.update(
    typeOf('deployments', 'apps'),
    'prod',
    'api',
    { ...api, spec },
    {
      user: ADMIN,
      fieldManager: 'stagesign',
    },
  );
  await fake.step(10);
  await deployWithUid(fake, 'unpoliced', 'web', '6b1f2c3d-0000-4000-8000-00000000a003', OTHER);
  const eks = await startEksStandIn({
    clusters: [{ name: 'prod', endpoint: fake.endpoint, caData: fake.caData }],
  });
  return {
    env: { AWS_ENDPOINT_URL_EKS: eks.endpoint },
    async close() {
      await eks.close();
      await fake.close();
    },
  };
}

/** The world of each stage that has sample events. */
export const EVENT_WORLDS: Readonly<Record<string, () => Promise<EventWorld>>> = {
  'sign-image': () => registryWorld('sign-image'),
  'verify-image': () => registryWorld('verify-image'),
  'deploy-manifest': deployWorld,
  'check-admission': clusterWorld,
};
