/**
 * The deploy-manifest stage against the in-process HTTPS fake Kubernetes API server, through the
 * real ClientNodeCluster adapter (TLS against the fake's test CA, EKS-shaped bearer tokens), run
 * by the action runtime with a recording reporter. Request counts are asserted; timings never.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifests } from '../../../shared/kube/manifests';
import type { KubeCluster } from '../../../shared/kube/cluster';
import { ClientNodeCluster } from '../../../shared/kube/kube-cluster';
import { createLogger } from '../../../shared/log';
import { RecordingReporter, runPipelineAction } from '../../../shared/pipeline';
import type { ArtifactStore, JobReport } from '../../../shared/pipeline';
import { readDeployed } from '../../../shared/pipeline/handoff';
import { deployManifestAction } from '../../../functions/deploy-manifest/deploy-manifest';
import type { DeployManifestDeps } from '../../../functions/deploy-manifest/deploy-manifest';
import { parseDeployManifestEnvironment } from '../../../functions/deploy-manifest/params';
import { fakeContext, jobEvent } from '../../helpers/codepipeline-events';
import { deny, startFakeKube, webhookUnavailable } from '../../helpers/fake-kube';
import { installKyvernoNotationAws, verdictFromDigests } from '../../helpers/fake-kube/kyverno-notation-aws';
import type { AdmissionRequest, FakeKube } from '../../helpers/fake-kube';

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const SIGNED = `sha256:${'a1'.repeat(32)}`;
const UNSIGNED = `sha256:${'b2'.repeat(32)}`;
const OLD = `sha256:${'c3'.repeat(32)}`;
const VERIFIED = [{ image: `${ECR}/app:v2`, imageUri: `${ECR}/app@${SIGNED}`, digest: SIGNED, name: 'web' }];
const ARTIFACT = {
  name: 'SourceOutput',
  location: { type: 'S3', s3Location: { bucketName: 'b', objectKey: 'k' } },
};

const SHAPE_A = (digest: string) =>
  'mutation policy check-images error: failed to apply policy check-images rules [call-aws-signer-extension: failed to evaluate list response.results: ' +
  'failed to fetch data for APICall: HTTP 406 Not Acceptable: failed to verify container web: failed to verify image ' +
  `{{{${ECR} app app v2  ${ECR}/app:v2 ${ECR}/app:v2}} /spec/containers/0/image}: ` +
  `no signature is associated with "${ECR}/app@${digest}", make sure the artifact was signed successfully ]`;

const SHAPE_B = (name: string, digest: string) =>
  `\n\nresource Deployment/prod/${name} was blocked due to the following policies \n\nvalidate-images:\n  autogen-call-aws-signer-extension: ` +
  `'failed to fetch data for APICall: HTTP 406 Not Acceptable: failed to verify container web: no signature is associated with "${ECR}/app@${digest}", make sure the artifact was signed successfully'`;

function deployment(name = 'web', image = `${ECR}/app:v2`, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: web
          image: ${image}
`;
}
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

function artifactStore(files: Record<string, string>): ArtifactStore {
  return {
    read: () =>
      Promise.resolve(new Map(Object.entries(files).map(([k, v]) => [k, new TextEncoder().encode(v)]))),
    write: () => Promise.reject(new Error('deploy-manifest writes no artifacts')),
  };
}

/** Pods whose image is not the signed digest are denied, as kyverno-notation-aws's check-images policy does (Shape A). */
function checkImagesPolicy(kube: FakeKube): void {
  kube.addAdmissionHook({
    name: 'mutate.kyverno.svc-fail',
    phase: 'mutating',
    review: (request: AdmissionRequest) => {
      if (request.kind.kind !== 'Pod' || request.namespace !== 'prod') return { allowed: true };
      const containers = (request.object.spec as { containers?: Array<{ image: string }> }).containers ?? [];
      const bad = containers.find((c) => !c.image.endsWith(`@${SIGNED}`));
      return bad
        ? deny('mutate.kyverno.svc-fail', SHAPE_A(bad.image.split('@')[1] ?? UNSIGNED))
        : { allowed: true };
    },
  });
}

describe('the deploy-manifest stage against a fake cluster', () => {
  let kube: FakeKube;
  let cluster: ClientNodeCluster;
  let connects: number;

  beforeEach(async () => {
    kube = await startFakeKube({ namespaces: ['prod'] });
    cluster = new ClientNodeCluster({
      endpoint: kube.endpoint,
      caData: kube.caData,
      token: () => Promise.resolve(kube.token()),
      sleep: () => Promise.resolve(),
    });
    connects = 0;
  });
  afterEach(async () => {
    cluster.close();
    await kube.close();
  });

  /** A fresh fake cluster with these controller options (and a cluster adapter for it). */
  async function restartKube(controllers: NonNullable<Parameters<typeof startFakeKube>[0]>['controllers']) {
    cluster.close();
    await kube.close();
    kube = await startFakeKube({ namespaces: ['prod'], ...(controllers ? { controllers } : {}) });
    cluster = new ClientNodeCluster({
      endpoint: kube.endpoint,
      caData: kube.caData,
      token: () => Promise.resolve(kube.token()),
    });
  }

  async function run(
    userParameters: Record<string, unknown>,
    files: Record<string, string>,
    options: {
      remainingMs?: number;
      continuationToken?: string;
      cluster?: KubeCluster;
      clock?: () => Date;
      marginMs?: number;
      concurrency?: number;
    } = {},
  ): Promise<JobReport> {
    const deps: DeployManifestDeps = {
      cluster: {
        connect: () => {
          connects++;
          return Promise.resolve(options.cluster ?? cluster);
        },
      },
      environment: parseDeployManifestEnvironment({ AWS_REGION: 'us-east-1' }),
      sleep: () => Promise.resolve(),
      continuationMarginMs: options.marginMs ?? 1000,
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    };
    const reporter = new RecordingReporter();
    const event = jobEvent(
      JSON.stringify({ clusterName: 'prod', namespace: 'prod', verifiedImages: VERIFIED, ...userParameters }),
      {
        inputArtifacts: [ARTIFACT],
        ...(options.continuationToken ? { continuationToken: options.continuationToken } : {}),
      },
    );
    const result = await runPipelineAction(
      event,
      fakeContext(options.remainingMs ?? 60_000),
      deployManifestAction(deps),
      {
        reporter,
        artifacts: artifactStore(files),
        ...(options.clock ? { clock: options.clock } : {}),
        logger: createLogger('deploy-manifest'),
      },
    );
    expect(result.delivered).toBe(true);
    expect(reporter.reports).toHaveLength(1);
    return reporter.reports[0]!;
  }

  const failure = (report: JobReport) => {
    if (report.kind !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(report)}`);
    return { ...report.failureDetails, code: report.code };
  };
  const success = (report: JobReport) => {
    if (report.kind !== 'success') throw new Error(`expected a success, got ${JSON.stringify(report)}`);
    return report;
  };
  const deployedImage = () => {
    const d = kube.read('apps/v1', 'Deployment', 'prod', 'web') as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    return d.spec.template.spec.containers[0]!.image;
  };

  describe('happy path: one Deployment and one Service', () => {
    it('deploys the verified digest, follows the rollout and reports DEPLOYED, CLUSTER and NAMESPACE', async () => {
      checkImagesPolicy(kube);
      const report = success(
        await run({ manifests: 'k8s/' }, { 'k8s/app.yaml': `${deployment()}---\n${SERVICE}` }),
      );
      expect(deployedImage()).toBe(`${ECR}/app@${SIGNED}`);
      expect(report.executionDetails?.summary).toBe(
        [
          `deployment "web" successfully rolled out`,
          `  web: ${ECR}/app@${SIGNED}`,
          '1 other object applied',
        ].join('\n'),
      );
      const deployed = readDeployed(report.outputVariables?.DEPLOYED);
      expect(deployed).toEqual([
        {
          kind: 'Deployment',
          namespace: 'prod',
          name: 'web',
          uid: expect.any(String) as unknown as string,
          generation: 1,
          revision: '1',
          appliedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown as string,
          images: [{ container: 'web', image: `${ECR}/app@${SIGNED}` }],
        },
      ]);
      expect(report.outputVariables).toMatchObject({ CLUSTER: 'prod', NAMESPACE: 'prod' });
    });

    it('sends a bounded, known set of requests', async () => {
      success(
        await run(
          { manifests: 'k8s/' },
          { 'k8s/app.yaml': `${deployment()}---\n${SERVICE}` },
          { concurrency: 1 },
        ),
      );
      // The whole conversation: discovery (once per API group version), a GET of each object (its state before the job),
      // the dry runs, the two applies, then polls until the rollout is done (16 requests). One
      // request at a time, so the order is fixed.
      expect(
        kube.requests.all.map((r) => `${r.method} ${r.path}${r.dryRun ? ' (dry run)' : ''} ${r.status}`),
      ).toEqual([
        'GET /api/v1 200',
        'GET /api/v1/namespaces/prod/services/web 404',
        'GET /apis/apps/v1 200',
        'GET /apis/apps/v1/namespaces/prod/deployments/web 404',
        'PATCH /api/v1/namespaces/prod/services/web (dry run) 201',
        'PATCH /apis/apps/v1/namespaces/prod/deployments/web (dry run) 201',
        'POST /api/v1/namespaces/prod/pods (dry run) 201',
        'PATCH /api/v1/namespaces/prod/services/web 201',
        'PATCH /apis/apps/v1/namespaces/prod/deployments/web 201',
        'GET /apis/apps/v1/namespaces/prod/deployments/web 200',
        'GET /apis/apps/v1/namespaces/prod/replicasets 200',
        'GET /api/v1/namespaces/prod/pods 200',
        'GET /apis/apps/v1/namespaces/prod/deployments/web 200',
        'GET /apis/apps/v1/namespaces/prod/replicasets 200',
        'GET /api/v1/namespaces/prod/pods 200',
        'GET /apis/apps/v1/namespaces/prod/deployments/web 200',
      ]);
      const writes = kube.requests.writes().map((r) => `${r.verb} ${r.resource} ${r.name ?? ''}`.trim());
      // The Service is applied before the Deployment (Helm's order); nothing else is written.
      expect(writes).toEqual(['patch services web', 'patch deployments web']);
      expect(kube.requests.writes().every((r) => r.contentType === 'application/apply-patch+yaml')).toBe(
        true,
      );
      expect(
        kube.requests.writes().every((r) => r.query.fieldManager === 'stagesign' && r.query.force === 'true'),
      ).toBe(true);
      const dryRuns = kube.requests.dryRuns().map((r) => `${r.verb} ${r.resource}`);
      expect(dryRuns).toEqual(['patch services', 'patch deployments', 'create pods']);
      expect(connects).toBe(1);
    });
  });

  describe('preflight', () => {
    it("refuses an unsigned image at the Pod dry-run with Kyverno's text and sends no write", async () => {
      checkImagesPolicy(kube);
      // The manifest pins a digest that was verified elsewhere but is not signed for this cluster's policy.
      const unsigned = [
        { image: `${ECR}/app:v2`, imageUri: `${ECR}/app@${UNSIGNED}`, digest: UNSIGNED, name: 'web' },
      ];
      const f = failure(await run({ verifiedImages: unsigned }, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('JobFailed');
      expect(f.code).toBe('ADMISSION_SIGNATURE_REJECTED');
      expect(f.message).toMatch(
        /^admission webhook "mutate\.kyverno\.svc-fail" denied the request: mutation policy check-images/,
      );
      expect(f.message).toMatch(/Preflight \(dry run\): nothing was changed\.$/);
      expect(kube.requests.writes()).toEqual([]);
      expect(kube.read('apps/v1', 'Deployment', 'prod', 'web')).toBeUndefined();
    });

    it('refuses a Deployment the autogenerated validate rule denies (Shape B) and sends no write', async () => {
      kube.addAdmissionHook({
        name: 'validate.kyverno.svc-fail',
        phase: 'validating',
        review: (r) =>
          r.kind.kind === 'Deployment'
            ? deny('validate.kyverno.svc-fail', SHAPE_B(r.name, UNSIGNED))
            : { allowed: true },
      });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('JobFailed');
      expect(f.code).toBe('ADMISSION_SIGNATURE_REJECTED');
      expect(f.message).toContain('resource Deployment/prod/web was blocked');
      expect(kube.requests.writes()).toEqual([]);
    });

    it('reports an unreachable webhook as SystemUnavailable after retries, without writing', async () => {
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        review: () => webhookUnavailable('mutate.kyverno.svc-fail'),
      });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('SystemUnavailable');
      expect(f.code).toBe('ADMISSION_WEBHOOK_UNAVAILABLE');
      expect(f.message).toContain('failed calling webhook "mutate.kyverno.svc-fail"');
      expect(kube.requests.count({ dryRun: true, resource: 'deployments' })).toBe(3);
      expect(kube.requests.writes()).toEqual([]);
    });

    it('dry-runs objects of a namespace the manifest creates after creating it, and deletes it again on a denial', async () => {
      checkImagesPolicy(kube); // judges namespace prod only
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        review: (r) =>
          r.kind.kind === 'Pod' && r.namespace === 'shop'
            ? deny('mutate.kyverno.svc-fail', SHAPE_A(UNSIGNED))
            : { allowed: true },
      });
      const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n';
      const f = failure(await run({ namespace: 'shop' }, { 'deployment.yaml': `${deployment()}---\n${ns}` }));
      expect(f.code).toBe('ADMISSION_SIGNATURE_REJECTED');
      expect(f.message).toContain(
        'Preflight (dry run) in the new namespaces: Rolled back: deleted Namespace shop.',
      );
      expect(kube.requests.writes().map((r) => `${r.verb} ${r.resource}`)).toEqual([
        'patch namespaces',
        'delete namespaces',
      ]);
    });

    it('deploys into a namespace the manifest creates', async () => {
      const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n';
      const report = success(
        await run({ namespace: 'shop' }, { 'deployment.yaml': `${deployment()}---\n${ns}` }),
      );
      expect(report.executionDetails?.summary).toContain('deployment "web" successfully rolled out');
      expect(kube.requests.count({ dryRun: true, resource: 'deployments', namespace: 'shop' })).toBe(1);
    });
  });

  describe('after apply', () => {
    it('rolls a Pod-level rejection back to the revision the Deployment had before', async () => {
      await kube.seed(yamlDeployment(`${ECR}/app@${OLD}`));
      await kube.step(6);
      checkImagesPolicy(kube);
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        // The old, signed-at-its-time image stays admitted; only the new digest is refused.
        review: (r) =>
          r.kind.kind === 'Pod' && JSON.stringify(r.object).includes(SIGNED)
            ? deny('mutate.kyverno.svc-fail', SHAPE_A(SIGNED))
            : { allowed: true },
      });
      const f = failure(await run({ preflight: false }, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('JobFailed');
      expect(f.code).toBe('ADMISSION_SIGNATURE_REJECTED');
      expect(f.message).toMatch(/^admission webhook "mutate\.kyverno\.svc-fail" denied the request:/);
      expect(f.message).toMatch(/Rolled back: Deployment prod\/web to revision 1\.$/);
      expect(deployedImage()).toBe(`${ECR}/app@${OLD}`);
      expect(
        kube.requests.count({
          verb: 'patch',
          resource: 'deployments',
          contentType: 'application/json-patch+json',
        }),
      ).toBe(1);
    });

    it('deletes a Deployment it created when its Pods are rejected', async () => {
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        review: (r) =>
          r.kind.kind === 'Pod' && !r.dryRun
            ? deny('mutate.kyverno.svc-fail', SHAPE_A(SIGNED))
            : { allowed: true },
      });
      const f = failure(await run({}, { 'deployment.yaml': `${deployment()}---\n${SERVICE}` }));
      expect(f.message).toMatch(/Rolled back: deleted Deployment prod\/web; deleted Service prod\/web\.$/);
      expect(kube.read('apps/v1', 'Deployment', 'prod', 'web')).toBeUndefined();
      expect(kube.read('v1', 'Service', 'prod', 'web')).toBeUndefined();
    });

    it('deletes every object it applied with onFailure delete, also ones that existed before', async () => {
      await kube.seed(yamlDeployment(`${ECR}/app@${OLD}`));
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        review: (r) =>
          r.kind.kind === 'Pod' && !r.dryRun && JSON.stringify(r.object).includes(SIGNED)
            ? deny('mutate.kyverno.svc-fail', SHAPE_A(SIGNED))
            : { allowed: true },
      });
      const f = failure(
        await run({ onFailure: 'delete' }, { 'deployment.yaml': `${deployment()}---\n${SERVICE}` }),
      );
      expect(f.message).toMatch(/Rolled back: deleted Deployment prod\/web; deleted Service prod\/web\.$/);
      expect(kube.read('apps/v1', 'Deployment', 'prod', 'web')).toBeUndefined();
    });

    it('leaves everything in place with onFailure none, and says so', async () => {
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        review: (r) =>
          r.kind.kind === 'Pod' && !r.dryRun
            ? deny('mutate.kyverno.svc-fail', SHAPE_A(SIGNED))
            : { allowed: true },
      });
      const f = failure(await run({ onFailure: 'none' }, { 'deployment.yaml': deployment() }));
      expect(f.message).toContain('Not restored: Deployment prod/web (onFailure is none).');
      expect(kube.read('apps/v1', 'Deployment', 'prod', 'web')).toBeDefined();
    });

    it('fails a rollout whose Pods are stuck in ImagePullBackOff and rolls it back', async () => {
      await restartKube({ podOutcome: () => 'ImagePullBackOff' });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('JobFailed');
      expect(f.code).toBe('ROLLOUT_FAILED');
      expect(f.message).toMatch(
        /^Deployment prod\/web: pod "web-[a-z0-9]+-[a-z0-9]+" container "web" is in ImagePullBackOff/,
      );
      expect(f.message).toContain('Rolled back: deleted Deployment prod/web.');
    });

    it("fails on ProgressDeadlineExceeded with kubectl's words", async () => {
      await restartKube({ progressDeadlineSteps: 2 });
      // The new Pods cannot be created (the webhook is unreachable): not a verdict, so the stage
      // keeps waiting until the controller gives up.
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        review: (r) =>
          r.kind.kind === 'Pod' && !r.dryRun
            ? webhookUnavailable('mutate.kyverno.svc-fail')
            : { allowed: true },
      });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.code).toBe('ROLLOUT_FAILED');
      expect(f.message).toMatch(
        /^Deployment prod\/web: deployment "web" exceeded its progress deadline; last FailedCreate: Error creating: Internal error occurred: failed calling webhook "mutate\.kyverno\.svc-fail"/,
      );
      expect(f.message).toContain('Rolled back: deleted Deployment prod/web.');
    });
  });

  describe('permissions and invalid objects', () => {
    it('maps 401 to PermissionError naming the access entry', async () => {
      kube.inject({ status: 401, times: Infinity });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('PermissionError');
      expect(f.code).toBe('KUBE_UNAUTHORIZED');
      expect(f.message).toContain('access entry');
    });

    it('maps 403 to PermissionError naming verb, resource and namespace', async () => {
      kube.inject({ status: 403, verb: 'patch', resource: 'deployments', times: Infinity });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('PermissionError');
      expect(f.message).toMatch(/^Kubernetes RBAC forbids patch on deployments\.apps in namespace "prod"/);
      expect(kube.requests.writes()).toEqual([]);
    });

    it('maps 422 to ConfigurationError with the field paths', async () => {
      kube.inject({
        status: 422,
        resource: 'deployments',
        causes: [{ field: 'spec.replicas', message: 'Invalid value: -1', reason: 'FieldValueInvalid' }],
      });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('ConfigurationError');
      expect(f.code).toBe('KUBE_INVALID_OBJECT');
      expect(f.message).toContain('spec.replicas: Invalid value: -1');
    });

    it('retries 429 and 5xx, then succeeds', async () => {
      kube.inject({
        status: 429,
        verb: 'patch',
        resource: 'deployments',
        dryRun: false,
        retryAfterSeconds: 1,
      });
      kube.inject({ status: 503, verb: 'get', resource: 'deployments' });
      success(await run({}, { 'deployment.yaml': deployment() }));
      expect(kube.requests.count({ verb: 'patch', resource: 'deployments', dryRun: false })).toBe(2);
    });

    it('maps 409 to a JobFailed naming the request', async () => {
      kube.inject({ status: 409, verb: 'patch', resource: 'deployments', dryRun: false });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('JobFailed');
      expect(f.code).toBe('KUBE_REQUEST_REJECTED');
      expect(f.message).toMatch(
        /^The API server refused apply deployments\.apps "web" in namespace "prod" \(409/,
      );
    });

    it('reports a misconfigured kyverno-notation-aws (Token is not authorized) as ConfigurationError, not a rejection', async () => {
      await installKyvernoNotationAws(kube, {
        shape: 'A',
        namespaces: ['prod'],
        verdict: verdictFromDigests([SIGNED]),
        tokenAuthorized: false,
      });
      const f = failure(await run({}, { 'deployment.yaml': deployment() }));
      expect(f.type).toBe('ConfigurationError');
      expect(f.code).toBe('ADMISSION_EXTENSION_MISCONFIGURED');
      expect(f.message).toContain('Token is not authorized');
      expect(kube.requests.writes()).toEqual([]);
    });

    it('refuses an unverified image before touching the cluster', async () => {
      const f = failure(await run({}, { 'deployment.yaml': deployment('web', 'redis:7') }));
      expect(f.type).toBe('ConfigurationError');
      expect(f.code).toBe('IMAGE_NOT_VERIFIED');
      expect(connects).toBe(0);
      expect(kube.requests.all).toEqual([]);
    });
  });

  describe('the shipped RBAC manifest', () => {
    it('allows every request the stage sends (apply, dry runs, polls, rollback), and nothing else is needed', async () => {
      const rbac = parseManifests(
        new Map([
          [
            'r.yaml',
            readFileSync(new URL('../../../shared/kube/rbac/stagesign-deployer.yaml', import.meta.url)),
          ],
        ]),
        ['r.yaml'],
        'default',
      );
      const rules = rbac
        .filter((o) => o.object.kind === 'ClusterRole')
        .flatMap(
          (o) =>
            (
              o.object as unknown as {
                rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
              }
            ).rules,
        );
      const allowed = (group: string, resource: string, verb: string) =>
        rules.some(
          (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
        );
      // happy path, then a rollback to an earlier revision, then a deletion of created objects
      success(await run({}, { 'deployment.yaml': `${deployment()}---\n${SERVICE}` }));
      kube.addAdmissionHook({
        name: 'mutate.kyverno.svc-fail',
        phase: 'mutating',
        review: (r) =>
          r.kind.kind === 'Pod' && !r.dryRun && JSON.stringify(r.object).includes(UNSIGNED)
            ? deny('mutate.kyverno.svc-fail', SHAPE_A(SIGNED))
            : { allowed: true },
      });
      const v3 = [
        { image: `${ECR}/app:v3`, imageUri: `${ECR}/app@${UNSIGNED}`, digest: UNSIGNED, name: 'web' },
      ];
      const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n';
      failure(
        await run(
          { verifiedImages: v3 },
          {
            'deployment.yaml': `${deployment('web', `${ECR}/app:v3`)}---\n${SERVICE}---\n${ns}---\n${deployment('api', `${ECR}/app:v3`).replace('name: api', 'name: api\n  namespace: shop')}`,
          },
        ),
      );
      const used = new Set(
        kube.requests.all
          .filter((r) => r.resource !== undefined)
          .map((r) => `${r.group ?? ''}|${r.resource}${r.subresource ? `/${r.subresource}` : ''}|${r.verb}`),
      );
      expect([...used].filter((u) => !allowed(...(u.split('|') as [string, string, string])))).toEqual(
        // Namespaces are cluster-scoped: the separate stagesign-deployer-namespaces ClusterRole.
        [],
      );
      expect(used).toContain('apps|deployments|patch');
      expect(used).toContain('|pods|create');
      expect(used).toContain('apps|replicasets|list');
      expect(used).toContain('|namespaces|delete');
    });
  });

  describe('waiting across invocations', () => {
    it('continues when the invocation runs out of time and finishes on the next one', async () => {
      await restartKube({ mode: 'manual' });
      const first = await run({}, { 'deployment.yaml': deployment() }, { remainingMs: 8_000 });
      if (first.kind !== 'continuation')
        throw new Error(`expected a continuation, got ${JSON.stringify(first)}`);
      expect(first.continuationToken.length).toBeLessThanOrEqual(2048);
      const writes = kube.requests.writes().length;
      await kube.step(8);
      const second = success(
        await run({}, { 'deployment.yaml': deployment() }, { continuationToken: first.continuationToken }),
      );
      expect(second.executionDetails?.summary).toContain('deployment "web" successfully rolled out');
      expect(kube.requests.writes().length).toBe(writes); // nothing applied again
      expect(readDeployed(second.outputVariables?.DEPLOYED)[0]!.revision).toBe('1');
    });

    /** The adapter, except that applying (not dry-running) a `kind` hangs until the deadline aborts it. */
    const hangingOn = (kind: string): KubeCluster =>
      new Proxy(cluster, {
        get(target, prop) {
          if (prop === 'apply') {
            return (object: { kind: string }, opts: { dryRun: boolean; signal?: AbortSignal }) =>
              object.kind === kind && !opts.dryRun
                ? new Promise((_resolve, reject) =>
                    opts.signal?.addEventListener('abort', () => reject(new Error('aborted')), {
                      once: true,
                    }),
                  )
                : target.apply(object as never, opts);
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });

    const APP_FILES = { 'k8s/app.yaml': `${deployment()}---\n${SERVICE}` };

    /** A first invocation whose deadline comes while the Deployment is applied (the Service already is); its continuation token. */
    async function cutOffInTheApply(): Promise<string> {
      // 7.5 s left and the 5 s margin: the Service is applied, the Deployment's apply is cut off.
      const first = await run({ manifests: 'k8s/' }, APP_FILES, {
        remainingMs: 7_500,
        cluster: hangingOn('Deployment'),
      });
      if (first.kind !== 'continuation')
        throw new Error(`expected a continuation, got ${JSON.stringify(first)}`);
      return first.continuationToken;
    }

    it('continues after a deadline in the middle of the apply, then applies everything and rolls out', async () => {
      const continuationToken = await cutOffInTheApply();
      expect(kube.read('v1', 'Service', 'prod', 'web')).toBeDefined();
      expect(kube.read('apps/v1', 'Deployment', 'prod', 'web')).toBeUndefined();
      expect(kube.requests.count({ verb: 'delete' })).toBe(0); // no half-hearted undo on the aborted signal
      const second = success(await run({ manifests: 'k8s/' }, APP_FILES, { continuationToken }));
      expect(second.executionDetails?.summary).toContain('deployment "web" successfully rolled out');
      expect(deployedImage()).toBe(`${ECR}/app@${SIGNED}`);
      expect(readDeployed(second.outputVariables?.DEPLOYED)[0]).toMatchObject({ name: 'web', revision: '1' });
    });

    it('after a deadline in the middle of the apply, a failure on the next invocation undoes the first one too', async () => {
      const continuationToken = await cutOffInTheApply();
      kube.inject({ verb: 'patch', resource: 'deployments', dryRun: false, status: 500, times: 10 });
      const f = failure(await run({ manifests: 'k8s/' }, APP_FILES, { continuationToken }));
      // The Service did not exist before the job (read in the first invocation): it is deleted.
      expect(f.message).toContain('deleted Service prod/web');
      expect(kube.read('v1', 'Service', 'prod', 'web')).toBeUndefined();
    });

    it('with wait false, records no revision while the controller has not observed the applied generation', async () => {
      await restartKube({ mode: 'manual' });
      await kube.seed({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'prod' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: `${ECR}/app@sha256:${'7e'.repeat(32)}` }] },
          },
        },
      });
      await kube.step(4); // revision 1, observed
      const report = success(await run({ wait: false }, { 'deployment.yaml': deployment() }));
      // The annotation still says 1 (the revision before this deploy): DEPLOYED must not claim it.
      const [web] = readDeployed(report.outputVariables?.DEPLOYED);
      expect(web).toMatchObject({ generation: 2, revision: null });
    });

    it('keeps the continuation token within 2048 characters for 50 workloads and their Services', async () => {
      await restartKube({ mode: 'manual' });
      const docs = Array.from({ length: 50 }, (_, i) =>
        [deployment(`web-${i}`, 'image'), SERVICE.replace('name: web', `name: web-${i}`)].join('---\n'),
      ).join('---\n');
      const first = await run({}, { 'deployment.yaml': docs }, { remainingMs: 120_000, marginMs: 114_000 });
      if (first.kind !== 'continuation')
        throw new Error(`expected a continuation, got ${JSON.stringify(first)}`);
      expect(first.continuationToken.length).toBeLessThanOrEqual(2048);
      expect(kube.requests.writes()).toHaveLength(100);
    });

    it('times out after timeoutSeconds from the first invocation and rolls back', async () => {
      await restartKube({ mode: 'manual' });
      let now = new Date('2026-12-07T10:00:00Z');
      const clock = () => now;
      const first = await run(
        { timeoutSeconds: 60 },
        { 'deployment.yaml': deployment() },
        { remainingMs: 8_000, clock },
      );
      if (first.kind !== 'continuation')
        throw new Error(`expected a continuation, got ${JSON.stringify(first)}`);
      now = new Date('2026-12-07T10:01:00Z'); // the budget counts from the first invocation
      const f = failure(
        await run(
          { timeoutSeconds: 60 },
          { 'deployment.yaml': deployment() },
          { continuationToken: first.continuationToken, clock },
        ),
      );
      expect(f.code).toBe('ROLLOUT_TIMED_OUT');
      expect(f.message).toMatch(/^Deployment prod\/web: Waiting for deployment/);
      expect(f.message).toContain('Rolled back: deleted Deployment prod/web.');
    });
  });
});

function yamlDeployment(image: string): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'prod' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}
