/**
 * check-admission against the fake HTTPS API server (test/helpers/fake-kube) through the real
 * client-node adapter, with kyverno-notation-aws emulated (test/helpers/fake-kube/kyverno-notation-aws.ts):
 * both Kyverno rejection shapes, rollback, the extension down, 403 on pods/log, `Token is not
 * authorized`, a namespace no policy covers, and continuation across invocations.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkAdmissionAction } from '../../../functions/check-admission/check-admission';
import type { CheckAdmissionDeps } from '../../../functions/check-admission/check-admission';
import { ClientNodeCluster } from '../../../shared/kube/kube-cluster';
import { createLogger } from '../../../shared/log';
import { RecordingReporter, runPipelineAction } from '../../../shared/pipeline';
import type { JobReport } from '../../../shared/pipeline';
import { fakeContext, jobEvent } from '../../helpers/codepipeline-events';
import { startFakeKube } from '../../helpers/fake-kube/index';
import type { FakeKube, RecordedKubeRequest } from '../../helpers/fake-kube/index';
import {
  EXTENSION_NAMESPACE,
  installKyvernoNotationAws,
  verdictFromDigests,
} from '../../helpers/fake-kube/kyverno-notation-aws';
import type { KyvernoNotationAwsOptions } from '../../helpers/fake-kube/kyverno-notation-aws';
import { SIGNED, UNSIGNED, pinned as appImage } from '../../fixtures/kyverno-logs/names';

let fake: FakeKube;
let cluster: ClientNodeCluster;

beforeEach(async () => {
  fake = await startFakeKube({ namespaces: ['prod', 'unpoliced', EXTENSION_NAMESPACE] });
  cluster = new ClientNodeCluster({
    endpoint: fake.endpoint,
    caData: fake.caData,
    token: async () => fake.token(),
  });
});
afterEach(async () => {
  cluster.close();
  await fake.close();
});

/** kyverno-notation-aws (the fake's emulation): the check-images policy on namespace prod, two replicas. */
const emulate = (options: Partial<KyvernoNotationAwsOptions> = {}) =>
  installKyvernoNotationAws(fake, {
    shape: 'A',
    verdict: verdictFromDigests([SIGNED]),
    namespaces: ['prod'],
    replicas: 2,
    ...options,
  });

/**
 * What deploy-manifest does and writes as `DEPLOYED`: server-side apply, then one controller step
 * (none with `wait: false`: DEPLOYED is then read before the controller made the new revision).
 */
async function deploy(
  digest: string,
  namespace = 'prod',
  name = 'web',
  { wait = true }: { wait?: boolean } = {},
): Promise<Record<string, unknown>> {
  const appliedAt = new Date(Date.now() - 1000).toISOString();
  await cluster.apply(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: appImage(digest) }] },
        },
      },
    },
    { dryRun: false },
  );
  if (wait) await fake.step();
  const d = fake.read('apps/v1', 'Deployment', namespace, name) as {
    metadata: { uid: string; generation: number; annotations: Record<string, string> };
  };
  return {
    kind: 'Deployment',
    namespace,
    name,
    uid: d.metadata.uid,
    generation: d.metadata.generation,
    revision: d.metadata.annotations['deployment.kubernetes.io/revision'] ?? null,
    appliedAt,
    images: [{ container: 'app', image: appImage(digest) }],
  };
}

/** A clock one second further on each reading: the budget ends after `timeoutSeconds` polls. */
function steppingClock(): () => Date {
  let t = Date.now();
  return () => new Date((t += 1000));
}

async function check(
  userParameters: Record<string, unknown>,
  options: { remainingMs?: number; continuationToken?: string; clock?: () => Date } = {},
): Promise<JobReport> {
  const deps: CheckAdmissionDeps = {
    environment: {},
    cluster: { connect: async () => cluster },
    pollIntervalMs: 1,
    sleep: async () => undefined,
  };
  const reporter = new RecordingReporter();
  const event = jobEvent(
    JSON.stringify({ clusterName: 'prod', timeoutSeconds: 30, ...userParameters }),
    options.continuationToken ? { continuationToken: options.continuationToken } : {},
  );
  const result = await runPipelineAction(
    event,
    fakeContext(options.remainingMs ?? 60_000),
    checkAdmissionAction(deps),
    {
      reporter,
      clock: options.clock ?? steppingClock(),
      logger: createLogger('check-admission'),
    },
  );
  expect(result.delivered).toBe(true);
  expect(reporter.reports).toHaveLength(1);
  return reporter.reports[0]!;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
type RbacDoc = {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
};
const RBAC = parseAllDocuments(
  readFileSync(
    new URL('../../../shared/kube/rbac/stagesign-admission-checker.yaml', import.meta.url),
    'utf8',
  ),
).map((d) => d.toJS() as RbacDoc);

/** Whether shared/kube/rbac/stagesign-admission-checker.yaml (its bindings for `prod`) allows `request`. */
function allowedByManifest(request: RecordedKubeRequest, withRollback: boolean): boolean {
  if (request.resource === undefined) return true; // discovery: system:discovery allows it
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  return RBAC.filter((d) => d.kind === 'RoleBinding' && d.metadata.namespace === request.namespace)
    .filter((b) => withRollback || b.metadata.name !== 'stagesign-admission-rollback')
    .flatMap(
      (b) => RBAC.find((r) => r.kind === b.roleRef!.kind && r.metadata.name === b.roleRef!.name)?.rules ?? [],
    )
    .some(
      (rule) =>
        rule.apiGroups.includes(request.group ?? '') &&
        rule.resources.includes(resource) &&
        rule.verbs.includes(request.verb ?? ''),
    );
}

const success = (report: JobReport) => {
  if (report.kind !== 'success') throw new Error(`expected a success, got ${JSON.stringify(report)}`);
  return report;
};
const failure = (report: JobReport) => {
  if (report.kind !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(report)}`);
  return { ...report.failureDetails, code: report.code };
};

describe('check-admission against the fake API server', () => {
  it("reports a signed, verified deployment admitted with the extension's success line", async () => {
    await emulate();
    const deployed = [await deploy(SIGNED)];
    fake.requests.clear();
    const report = success(await check({ deployed }));
    expect(report.outputVariables?.ADMISSION).toBe('admitted');
    expect(JSON.parse(report.outputVariables!.ADMITTED_IMAGES!)).toEqual([
      {
        workload: { kind: 'Deployment', namespace: 'prod', name: 'web' },
        container: 'app',
        image: appImage(SIGNED),
        digest: SIGNED,
        evidence: 'verified',
      },
    ]);
    expect(report.executionDetails?.summary).toContain(
      `deployment prod/web, container app: admitted by kyverno-notation-aws: successfully verified image ${appImage(SIGNED)} digest ${SIGNED}`,
    );
    // Read-only, and every replica's log read with timestamps, a byte limit and sinceSeconds.
    expect(fake.requests.writes()).toEqual([]);
    const forbidden = fake.requests.matching({}).filter((r) => !allowedByManifest(r, false));
    expect(forbidden.map((r) => `${r.verb} ${r.resource}/${r.subresource ?? ''} in ${r.namespace}`)).toEqual(
      [],
    );
    const logReads = fake.requests.matching({ subresource: 'log', namespace: EXTENSION_NAMESPACE });
    expect(new Set(logReads.map((r) => r.name)).size).toBe(2);
    for (const read of logReads) {
      expect(read.query).toMatchObject({
        timestamps: 'true',
        container: 'kyverno-notation-aws',
        limitBytes: String(1024 * 1024),
      });
      expect(Number(read.query.sinceSeconds)).toBeGreaterThan(30);
    }
  });

  it('rejects an unsigned image (Shape A: FailedCreate) and rolls back to the previous revision', async () => {
    await emulate();
    await deploy(SIGNED);
    await fake.step(4);
    const deployed = [await deploy(UNSIGNED)];
    fake.requests.clear();
    const f = failure(await check({ deployed }));
    // Every request, the rollback's patch included, is one the RBAC manifest grants.
    expect(fake.requests.count({ verb: 'patch', resource: 'deployments' })).toBe(1);
    expect(fake.requests.matching({}).filter((r) => !allowedByManifest(r, true))).toEqual([]);
    expect(f).toMatchObject({ type: 'JobFailed', code: 'ADMISSION_REJECTED' });
    expect(f.message).toContain(
      `deployment prod/web, container app: rejected by kyverno-notation-aws: signature verification failed: no signature is associated with "${appImage(UNSIGNED)}", make sure the artifact was signed successfully`,
    );
    expect(f.message).toMatch(/Rolled back: Deployment prod\/web to revision 1\./);
    const web = fake.read('apps/v1', 'Deployment', 'prod', 'web') as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(web.spec.template.spec.containers[0]!.image).toBe(appImage(SIGNED));
  });

  it.each([
    ['the revision before it', (d: Record<string, unknown>) => d],
    ['no revision', (d: Record<string, unknown>) => ({ ...d, revision: null })],
  ])(
    'rolls back, never deletes, an existing Deployment whose DEPLOYED names %s (a deploy that did not wait)',
    async (_what, edit) => {
      await emulate();
      await deploy(SIGNED);
      await fake.step(4);
      const deployed = [edit(await deploy(UNSIGNED, 'prod', 'web', { wait: false }))];
      expect(deployed[0]).toMatchObject({ generation: 2 });
      const f = failure(await check({ deployed }));
      expect(f).toMatchObject({ type: 'JobFailed', code: 'ADMISSION_REJECTED' });
      expect(f.message).toMatch(/Rolled back: Deployment prod\/web to revision 1\./);
      expect(fake.requests.count({ verb: 'delete', resource: 'deployments' })).toBe(0);
      const web = fake.read('apps/v1', 'Deployment', 'prod', 'web') as {
        spec: { template: { spec: { containers: Array<{ image: string }> } } };
      };
      expect(web.spec.template.spec.containers[0]!.image).toBe(appImage(SIGNED));
    },
  );

  it('rolls a rejected StatefulSet back to the ControllerRevision it ran before', async () => {
    await emulate();
    const statefulSet = (digest: string) => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'prod' },
      spec: {
        replicas: 2,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { containers: [{ name: 'app', image: appImage(digest) }] },
        },
      },
    });
    await cluster.apply(statefulSet(SIGNED), { dryRun: false });
    await fake.step(8);
    const appliedAt = new Date(Date.now() - 1000).toISOString();
    await cluster.apply(statefulSet(UNSIGNED), { dryRun: false });
    await fake.step(2);
    const live = fake.read('apps/v1', 'StatefulSet', 'prod', 'db') as {
      metadata: { uid: string; generation: number };
      status: { updateRevision: string };
    };
    // As deploy-manifest writes DEPLOYED for a StatefulSet: its updateRevision's name.
    const deployed = [
      {
        kind: 'StatefulSet',
        namespace: 'prod',
        name: 'db',
        uid: live.metadata.uid,
        generation: live.metadata.generation,
        revision: live.status.updateRevision,
        appliedAt,
        images: [{ container: 'app', image: appImage(UNSIGNED) }],
      },
    ];
    const f = failure(await check({ deployed }));
    expect(f).toMatchObject({ type: 'JobFailed', code: 'ADMISSION_REJECTED' });
    expect(f.message).toContain('Rolled back: StatefulSet prod/db to revision 1.');
    const db = fake.read('apps/v1', 'StatefulSet', 'prod', 'db') as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(db.spec.template.spec.containers[0]!.image).toBe(appImage(SIGNED));
  });

  it('deletes a first deploy that was rejected, with onRejection "rollback"', async () => {
    await emulate();
    const deployed = [await deploy(UNSIGNED)];
    const f = failure(await check({ deployed }));
    expect(f.message).toMatch(/Rolled back: deleted Deployment prod\/web\./);
    expect(fake.read('apps/v1', 'Deployment', 'prod', 'web')).toBeUndefined();
  });

  it("admits a signed image under Shape B (validate-images, autogenerated for the Deployment) from its Pods' verification", async () => {
    await emulate({ shape: 'B' });
    const deployed = [await deploy(SIGNED)];
    const report = success(await check({ deployed }));
    expect(report.executionDetails?.summary).toContain('admitted by kyverno-notation-aws: ');
  });

  it('rejects with onRejection "none" and leaves the workload as it is', async () => {
    await emulate();
    const deployed = [await deploy(UNSIGNED)];
    fake.requests.clear();
    const f = failure(await check({ deployed, onRejection: 'none' }));
    expect(f).toMatchObject({ type: 'JobFailed', code: 'ADMISSION_REJECTED' });
    expect(f.message).toContain('onRejection is "none"');
    expect(fake.requests.writes()).toEqual([]);
  });

  it('admits from the previous container of an extension replica restarted after verifying', async () => {
    const ext = await emulate({ replicas: 1 });
    const deployed = [await deploy(SIGNED)];
    await fake.step(4);
    await ext.restart(0);
    fake.requests.clear();
    const report = success(await check({ deployed }));
    expect(report.executionDetails?.summary).toMatch(
      /admitted by kyverno-notation-aws: .*\(logged by \S+ \(previous\) at /,
    );
    expect(fake.requests.matching({ subresource: 'log' }).some((r) => r.query.previous === 'true')).toBe(
      true,
    );
  });

  it('reports a namespace no policy covers as unverified (JobFailed), naming the cause', async () => {
    await emulate();
    const deployed = [await deploy(SIGNED, 'unpoliced')];
    const f = failure(await check({ deployed, timeoutSeconds: 10 }));
    expect(f).toMatchObject({ type: 'JobFailed', code: 'ADMISSION_UNVERIFIED' });
    expect(f.message).toContain(
      `deployment unpoliced/web, container app: unverified: nothing shows kyverno-notation-aws verified ${appImage(SIGNED)}: the extension never saw the image: no kyverno-notation-aws ClusterPolicy matches namespace "unpoliced"`,
    );
  });

  it('with evidence "none", turns unverified into a warning and ADMISSION=unverified', async () => {
    await emulate();
    const deployed = [await deploy(SIGNED, 'unpoliced')];
    const report = success(await check({ deployed, evidence: 'none' }));
    expect(report.outputVariables?.ADMISSION).toBe('unverified');
    expect(JSON.parse(report.outputVariables!.ADMITTED_IMAGES!)[0]).toMatchObject({
      evidence: 'none',
      digest: SIGNED,
    });
    expect(report.executionDetails?.summary).toContain(
      'unverified: nothing shows kyverno-notation-aws verified',
    );
  });

  it('reports the extension absent as ConfigurationError', async () => {
    await emulate({ replicas: 0 });
    const deployed = [await deploy(SIGNED)];
    const f = failure(await check({ deployed }));
    expect(f).toMatchObject({ type: 'ConfigurationError', code: 'EXTENSION_ABSENT' });
    expect(f.message).toContain('no kyverno-notation-aws Pod matches');
  });

  it('reports the extension not Ready as ConfigurationError when the budget ends', async () => {
    const ext = await emulate();
    await ext.setReady(0, false);
    await ext.setReady(1, false);
    const deployed = [await deploy(SIGNED)];
    const f = failure(await check({ deployed, timeoutSeconds: 10 }));
    expect(f).toMatchObject({ type: 'ConfigurationError', code: 'EXTENSION_NOT_READY' });
  });

  it('reports 403 on pods/log as PermissionError naming the permission', async () => {
    await emulate();
    const deployed = [await deploy(SIGNED)];
    fake.rbac.push({ resource: 'pods', subresource: 'log', namespace: EXTENSION_NAMESPACE });
    const f = failure(await check({ deployed }));
    expect(f).toMatchObject({ type: 'PermissionError', code: 'ADMISSION_LOGS_FORBIDDEN' });
    expect(f.message).toContain('forbids get on pods/log in namespace "kyverno-notation-aws"');
  });

  it('reports "Token is not authorized" as ConfigurationError with the --allowedUsers fix', async () => {
    await emulate({ tokenAuthorized: false });
    const deployed = [await deploy(SIGNED)];
    const f = failure(await check({ deployed }));
    expect(f.type).toBe('ConfigurationError');
    expect(f.message).toContain('--allowedUsers');
  });

  it('continues across invocations until the verdict is in', async () => {
    await emulate();
    const deployed = [await deploy(SIGNED)];
    const clock = steppingClock();
    const first = await check({ deployed }, { remainingMs: 25_000, clock });
    if (first.kind !== 'continuation')
      throw new Error(`expected a continuation, got ${JSON.stringify(first)}`);
    expect(first.continuationToken.length).toBeLessThanOrEqual(2048);
    const second = success(await check({ deployed }, { continuationToken: first.continuationToken, clock }));
    expect(second.outputVariables?.ADMISSION).toBe('admitted');
  });

  it('counts the budget from the first invocation', async () => {
    await emulate();
    const deployed = [await deploy(SIGNED, 'unpoliced')];
    const clock = steppingClock();
    const first = await check({ deployed, timeoutSeconds: 5 }, { remainingMs: 25_000, clock });
    if (first.kind !== 'continuation')
      throw new Error(`expected a continuation, got ${JSON.stringify(first)}`);
    // Ten seconds later the budget has ended: one poll decides.
    for (let i = 0; i < 10; i++) clock();
    fake.requests.clear();
    const f = failure(
      await check({ deployed, timeoutSeconds: 5 }, { continuationToken: first.continuationToken, clock }),
    );
    expect(f.code).toBe('ADMISSION_UNVERIFIED');
    expect(fake.requests.count({ resource: 'deployments', verb: 'get' })).toBe(1);
  });
});
