/**
 * What the deploy-manifest sample events (events/deploy-manifest/*.json) run against, shared by
 * the handler test, the sample-events test's world (test/helpers/event-worlds.ts) and
 * `scripts/local-deploy-run.ts`:
 *
 * - the input artifacts the events name (by S3 object key), served by a tiny path-style S3
 *   GetObject stand-in (the real S3Client of the artifact store, via AWS_ENDPOINT_URL_S3);
 * - the EKS DescribeCluster stand-in of test/helpers/eks-stand-in.ts (the real EKSClient, via
 *   AWS_ENDPOINT_URL_EKS), started by the callers;
 * - per event, a fake cluster (test/helpers/fake-kube) with kyverno-notation-aws installed
 *   (Shape A, Pod-only mutate policy) that accepts only {@link SIGNED}.
 *
 * No test-framework imports: the local run script uses it too.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeZip } from '../../shared/pipeline/zip';
import { startFakeKube } from './fake-kube';
import type { FakeKube } from './fake-kube';
import { installKyvernoNotationAws, verdictFromDigests } from './fake-kube/kyverno-notation-aws';

export const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
/** The digest the sample events' VERIFIED_IMAGES name, and that the cluster's policy accepts. */
export const SIGNED = 'sha256:2d3f6b5c0e7a4b1f9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b';
/** A verified-elsewhere digest that is not signed for the cluster (refused by admission). */
export const UNSIGNED = 'sha256:9b1e7a8c2d4f6e0a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a';
/** The image the cluster ran before the job (signed at its time). */
export const PREVIOUS = `sha256:${'7e'.repeat(32)}`;
export const CLUSTER = 'prod';
export const REGION = 'us-east-1';
export const NAMESPACE = 'web';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: image   # the CodeBuild placeholder: matched by the imagedefinitions name
          ports: [{ containerPort: 8080 }]
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

/** Input artifacts by the S3 object key the events name. */
export const DEPLOY_ARTIFACTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'stagesign/SourceOutput/app.zip': {
    'k8s/deployment.yaml': DEPLOYMENT,
    'k8s/service.yaml': SERVICE,
    'README.md': '# app\n',
  },
  'stagesign/SourceOutput/unverified.zip': {
    'deployment.yaml': DEPLOYMENT.replace(
      'image: image   # the CodeBuild placeholder: matched by the imagedefinitions name',
      'image: docker.io/library/redis:7',
    ),
  },
};

/** How the cluster is set up for an event. */
export interface DeployScenario {
  readonly kube: FakeKube;
  close(): Promise<void>;
}

/**
 * Starts the fake cluster for `event`: namespace {@link NAMESPACE}, kyverno-notation-aws
 * accepting only {@link SIGNED}; for `pod-rejected-rollback`, a running Deployment at revision 1
 * ({@link PREVIOUS}) and a policy that lets the new Pods through the dry run but rejects the real
 * ones (the verdict changed between preflight and apply, e.g. a revoked signature).
 */
export async function startDeployScenario(event: string): Promise<DeployScenario> {
  // Controllers run on their own (as in a cluster), so a rollout completes between the stage's polls.
  const kube = await startFakeKube({
    clusterName: CLUSTER,
    region: REGION,
    namespaces: [NAMESPACE],
    controllers: { mode: 'interval', intervalMs: 50 },
  });
  const signed = new Set([SIGNED, PREVIOUS]);
  if (event === 'pod-rejected-rollback') {
    signed.delete(SIGNED);
    await kube.seed({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NAMESPACE, labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: `${ECR}/app@${PREVIOUS}` }] },
        },
      },
    });
    await kube.step(6);
  }
  await installKyvernoNotationAws(kube, {
    shape: 'A',
    namespaces: [NAMESPACE],
    verdict: verdictFromDigests(signed),
  });
  return { kube, close: () => kube.close() };
}

/** A path-style S3 GetObject stand-in serving {@link DEPLOY_ARTIFACTS} as zips. */
export async function startArtifactStandIn(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '').split('?')[0]!.split('/').slice(2).join('/'));
    const files = DEPLOY_ARTIFACTS[key];
    if (req.method !== 'GET' || !files) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
      );
      return;
    }
    const zip = writeZip(new Map(Object.entries(files).map(([k, v]) => [k, new TextEncoder().encode(v)])));
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(zip.byteLength) });
    res.end(Buffer.from(zip));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
