/**
 * Drives every events/check-admission/*.json through the exported handler: the real EKS
 * connection (DescribeCluster mocked at the SDK, the token signed for real), the real client-node
 * adapter against the fake HTTPS API server with kyverno-notation-aws emulated, CodePipeline
 * mocked at the SDK. `DEPLOYED` names one run's objects, so the sample events' `uid`,
 * `generation` and `revision` are mapped to the live Deployment's before the event is sent;
 * and `appliedAt` to when this test applied it (the log records of the earlier events, for the
 * same digest in another namespace, must not count); nothing else is changed.
 */
import { readdirSync } from 'node:fs';
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import type {
  PutJobFailureResultCommandInput,
  PutJobSuccessResultCommandInput,
} from '@aws-sdk/client-codepipeline';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineHandler } from '../../../shared/pipeline';
import { EVENT_SECRETS, fakeContext, loadEvent } from '../../helpers/codepipeline-events';
import { ADMIN, startFakeKube } from '../../helpers/fake-kube/index';
import { typeOf } from '../../helpers/fake-kube/discovery';
import type { FakeKube } from '../../helpers/fake-kube/index';
import {
  EXTENSION_NAMESPACE,
  installKyvernoNotationAws,
  verdictFromDigests,
} from '../../helpers/fake-kube/kyverno-notation-aws';
import { SIGNED, UNSIGNED, pinned as appImage } from '../../fixtures/kyverno-logs/names';

type Expected =
  | { kind: 'success'; summary: RegExp; admission: string }
  | { kind: 'failure'; type: string; message: RegExp };

/** What each sample event must lead to, in the order they run. Every file must be listed. */
const EXPECTED: Record<string, Expected> = {
  'signed-admitted': {
    kind: 'success',
    summary: new RegExp(
      `^deployment prod/web, container app: admitted by kyverno-notation-aws: successfully verified image ${escape(appImage(SIGNED))} digest ${SIGNED} \\(logged by kyverno-notation-aws-`,
    ),
    admission: 'admitted',
  },
  // The budget (600 s from the token's startedAt) has ended: one poll decides.
  continuation: {
    kind: 'success',
    summary: /^deployment prod\/web, container app: admitted by kyverno-notation-aws: /,
    admission: 'admitted',
  },
  'unsigned-rejected': {
    kind: 'failure',
    type: 'JobFailed',
    message: new RegExp(
      `^deployment prod/web, container app: rejected by kyverno-notation-aws: signature verification failed: no signature is associated with "${escape(appImage(UNSIGNED))}", make sure the artifact was signed successfully\nRolled back: Deployment prod/web to revision 1\\.$`,
    ),
  },
  'namespace-not-covered': {
    kind: 'failure',
    type: 'JobFailed',
    message:
      /^deployment unpoliced\/web, container app: unverified: nothing shows kyverno-notation-aws verified .* no kyverno-notation-aws ClusterPolicy matches namespace "unpoliced"/,
  },
  'evidence-none': {
    kind: 'success',
    summary:
      /^deployment unpoliced\/web, container app: unverified: nothing shows kyverno-notation-aws verified/,
    admission: 'unverified',
  },
  'bad-user-parameters': {
    kind: 'failure',
    type: 'ConfigurationError',
    message: /^UserParameters\.evidence must be one of "logs", "none" \(default "logs"\)$/,
  },
  'missing-deployed': {
    kind: 'failure',
    type: 'ConfigurationError',
    message:
      /^UserParameters\.deployed is required: pass the deploy stage's variable unquoted, \{"deployed": #\{DeployVariables\.DEPLOYED\}\}$/,
  },
};

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

let fake: FakeKube;
let handler: PipelineHandler;
const eks = mockClient(EKSClient);
const codepipeline = mockClient(CodePipelineClient);
const saved = { ...process.env };

/** When each namespace's Deployment was last applied (deploy-manifest's `appliedAt`). */
const appliedAt = new Map<string, string>();

/** Applies the Deployment as deploy-manifest would and lets the fake's controllers roll it out. */
async function deploy(namespace: string, digest: string): Promise<void> {
  // Let what earlier events started (a rollback's new Pods) settle first: the same digest admitted
  // in another namespace after this deploy began would count as this deploy's evidence (the
  // extension's lines name no namespace; see the README's limits).
  await fake.step(30);
  appliedAt.set(namespace, new Date().toISOString());
  await fake
    .seed({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: appImage(digest) }] },
        },
      },
    })
    .catch(async () => {
      const current = fake.read('apps/v1', 'Deployment', namespace, 'web') as Record<string, unknown>;
      const spec = structuredClone(current.spec) as {
        template: { spec: { containers: Array<{ image: string }> } };
      };
      spec.template.spec.containers[0]!.image = appImage(digest);
      await fake.api.update(
        typeOf('deployments', 'apps'),
        namespace,
        'web',
        { ...current, spec },
        {
          user: ADMIN,
          fieldManager: 'deploy-manifest',
        },
      );
    });
  await fake.step(6);
}

/** The event with `deployed`'s identity fields set to the live Deployment's. */
function withLiveIdentity(event: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(event) as {
    'CodePipeline.job': { data: { actionConfiguration: { configuration: { UserParameters: string } } } };
  };
  const configuration = copy['CodePipeline.job'].data.actionConfiguration.configuration;
  const params = JSON.parse(configuration.UserParameters) as { deployed?: Array<Record<string, unknown>> };
  for (const entry of params.deployed ?? []) {
    const live = fake.read('apps/v1', 'Deployment', String(entry.namespace), String(entry.name)) as
      { metadata: { uid: string; generation: number; annotations?: Record<string, string> } } | undefined;
    if (!live) continue;
    entry.uid = live.metadata.uid;
    entry.generation = live.metadata.generation;
    entry.revision = live.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? null;
    entry.appliedAt = appliedAt.get(String(entry.namespace)) ?? entry.appliedAt;
  }
  configuration.UserParameters = JSON.stringify(params);
  return copy;
}

beforeAll(async () => {
  fake = await startFakeKube({
    namespaces: ['prod', 'unpoliced', EXTENSION_NAMESPACE],
    controllers: { mode: 'manual' },
  });
  await installKyvernoNotationAws(fake, {
    shape: 'A',
    verdict: verdictFromDigests([SIGNED]),
    namespaces: ['prod'],
    replicas: 2,
  });
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEADMISSION000';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-admission-secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.CLUSTER_NAME;
  eks.on(DescribeClusterCommand).resolves({
    cluster: {
      name: 'prod',
      status: 'ACTIVE',
      endpoint: fake.endpoint,
      certificateAuthority: { data: fake.caData },
    },
  });
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  ({ handler } = await import('../../../functions/check-admission/handler'));
});
afterAll(async () => {
  process.env = saved;
  eks.restore();
  codepipeline.restore();
  await fake.close();
});

describe('check-admission handler on the sample events', () => {
  it('has an expectation for every events/check-admission file', () => {
    const files = readdirSync(new URL('../../../events/check-admission/', import.meta.url))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  const setups: Record<string, () => Promise<void>> = {
    'signed-admitted': () => deploy('prod', SIGNED),
    'unsigned-rejected': () => deploy('prod', UNSIGNED),
    'namespace-not-covered': () => deploy('unpoliced', SIGNED),
  };

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}.json → ${expected.kind === 'success' ? 'success' : expected.type}`, async () => {
      await setups[name]?.();
      codepipeline.resetHistory();
      await handler(withLiveIdentity(loadEvent('check-admission', name)), fakeContext(60_000) as never);
      const successes = codepipeline.commandCalls(PutJobSuccessResultCommand);
      const failures = codepipeline.commandCalls(PutJobFailureResultCommand);
      expect(
        [...successes, ...failures].map((c) => JSON.stringify(c.args[0].input).slice(0, 300)),
      ).toHaveLength(1);
      const sent = JSON.stringify([...successes, ...failures].map((c) => c.args[0].input));
      for (const secret of EVENT_SECRETS) expect(sent).not.toContain(secret);
      if (expected.kind === 'success') {
        const input = successes[0]!.args[0].input as PutJobSuccessResultCommandInput;
        expect(input.executionDetails?.summary).toMatch(expected.summary);
        expect(input.outputVariables?.ADMISSION).toBe(expected.admission);
      } else {
        expect(successes.map((c) => JSON.stringify(c.args[0].input))).toEqual([]);
        const input = failures[0]!.args[0].input as PutJobFailureResultCommandInput;
        expect(input.failureDetails?.type).toBe(expected.type);
        expect(input.failureDetails?.message).toMatch(expected.message);
      }
    });
  }
});
