/**
 * Drives every events/deploy-manifest/*.json through the exported handler, unchanged and cold
 * (a fresh module per event): the real EKSClient against a DescribeCluster stand-in, the real
 * S3 artifact store against a GetObject stand-in, the real ClientNodeCluster against the fake
 * API server with kyverno-notation-aws installed; reports go to a recording reporter.
 */
import { readdirSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clearLocalReporter, RecordingReporter, useLocalReporter } from '../../../../shared/pipeline';
import type { JobReport, PipelineHandler } from '../../../../shared/pipeline';
import { readDeployed } from '../../../../shared/pipeline/handoff';
import { EVENT_SECRETS, fakeContext, loadEvent } from '../../../helpers/codepipeline-events';
import {
  ECR,
  NAMESPACE,
  PREVIOUS,
  SIGNED,
  startArtifactStandIn,
  startDeployScenario,
} from '../../../helpers/deploy-manifest-scenarios';
import { startEksStandIn } from '../../../helpers/eks-stand-in';
import type { EksStandIn } from '../../../helpers/eks-stand-in';
import type { DeployScenario } from '../../../helpers/deploy-manifest-scenarios';

type Expected =
  | { kind: 'success'; summary: string; check?: (report: JobReport, scenario: DeployScenario) => void }
  | {
      kind: 'failure';
      type: string;
      code: string;
      message: RegExp;
      check?: (report: JobReport, scenario: DeployScenario) => void;
    };

const SUMMARY = [
  'deployment "web" successfully rolled out',
  `  web: ${ECR}/app@${SIGNED}`,
  '1 other object applied',
].join('\n');

const image = (s: DeployScenario) =>
  (
    s.kube.read('apps/v1', 'Deployment', NAMESPACE, 'web') as
      { spec: { template: { spec: { containers: Array<{ image: string }> } } } } | undefined
  )?.spec.template.spec.containers[0]?.image;

/** What each sample event must lead to. Every file in events/deploy-manifest/ must be listed. */
const EXPECTED: Record<string, Expected> = {
  'happy-path': {
    kind: 'success',
    summary: SUMMARY,
    check: (report, s) => {
      expect(image(s)).toBe(`${ECR}/app@${SIGNED}`);
      if (report.kind !== 'success') return;
      expect(readDeployed(report.outputVariables?.DEPLOYED)[0]).toMatchObject({
        kind: 'Deployment',
        namespace: NAMESPACE,
        name: 'web',
        revision: '1',
        images: [{ container: 'web', image: `${ECR}/app@${SIGNED}` }],
      });
      expect(report.outputVariables).toMatchObject({ CLUSTER: 'prod', NAMESPACE });
    },
  },
  'cluster-arn': { kind: 'success', summary: SUMMARY },
  'unsigned-image': {
    kind: 'failure',
    type: 'JobFailed',
    code: 'ADMISSION_SIGNATURE_REJECTED',
    message:
      /^admission webhook "mutate\.kyverno\.svc-fail" denied the request: mutation policy check-images error: [\s\S]*no signature is associated with "123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/app@sha256:9b1e7a8c[0-9a-f]{56}"[\s\S]*\nPreflight \(dry run\): nothing was changed\.$/,
    check: (_report, s) => {
      expect(s.kube.requests.writes()).toEqual([]);
      expect(image(s)).toBeUndefined();
    },
  },
  'pod-rejected-rollback': {
    kind: 'failure',
    type: 'JobFailed',
    code: 'ADMISSION_SIGNATURE_REJECTED',
    message:
      /^admission webhook "mutate\.kyverno\.svc-fail" denied the request: [\s\S]*\nRolled back: Deployment web\/web to revision 1; deleted Service web\/web\.$/,
    check: (_report, s) => {
      expect(image(s)).toBe(`${ECR}/app@${PREVIOUS}`);
      expect(s.kube.read('v1', 'Service', NAMESPACE, 'web')).toBeUndefined();
    },
  },
  'bad-unverified-image': {
    kind: 'failure',
    type: 'ConfigurationError',
    code: 'IMAGE_NOT_VERIFIED',
    message:
      /^File "deployment\.yaml" document 1, Deployment web\/web, container "web", image "docker\.io\/library\/redis:7" matches no verified image/,
    check: (_report, s) => expect(s.kube.requests.all).toEqual([]),
  },
  'bad-user-parameters': {
    kind: 'failure',
    type: 'ConfigurationError',
    code: 'DEPLOY_PARAMETERS_INVALID',
    message: /^UserParameters\.onFailure must be "rollback", "delete" or "none"/,
  },
  'missing-user-parameters': {
    kind: 'failure',
    type: 'ConfigurationError',
    code: 'DEPLOY_PARAMETERS_INVALID',
    message: /^UserParameters\.verifiedImages is required/,
  },
  'bad-quoted-verified-images': {
    kind: 'failure',
    type: 'ConfigurationError',
    code: 'DEPLOY_PARAMETERS_INVALID',
    message: /^UserParameters\.verifiedImages must be a JSON array, not a string/,
  },
};

describe('the deploy-manifest handler on the sample events', () => {
  const savedEnv = { ...process.env };
  let artifacts: Awaited<ReturnType<typeof startArtifactStandIn>>;
  let scenario: DeployScenario | undefined;
  let eks: EksStandIn | undefined;

  beforeAll(async () => {
    artifacts = await startArtifactStandIn();
  });
  afterEach(async () => {
    clearLocalReporter();
    process.env = { ...savedEnv };
    await scenario?.close();
    await eks?.close();
    scenario = undefined;
    eks = undefined;
  });
  afterAll(async () => {
    await artifacts.close();
  });

  it('covers every sample event', () => {
    const files = readdirSync(new URL('../../../../events/deploy-manifest/', import.meta.url))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', async (name, expected) => {
    scenario = await startDeployScenario(name);
    const kube = scenario.kube;
    eks = await startEksStandIn({
      clusters: [{ name: 'prod', endpoint: kube.endpoint, caData: kube.caData }],
    });
    process.env = {
      ...savedEnv,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAFUNCTIONROLE0000',
      AWS_SECRET_ACCESS_KEY: 'function-role-secret',
      AWS_SESSION_TOKEN: 'function-role-session',
      AWS_ENDPOINT_URL_EKS: eks.endpoint,
      AWS_ENDPOINT_URL_S3: artifacts.endpoint,
      CLUSTER_NAME: 'prod',
    };
    vi.resetModules();
    const { handler } = (await import('../../../../functions/deploy-manifest/handler')) as {
      handler: PipelineHandler;
    };
    const reporter = new RecordingReporter();
    useLocalReporter(reporter);
    await handler(loadEvent('deploy-manifest', name), fakeContext(60_000) as unknown as Context);
    expect(reporter.reports).toHaveLength(1);
    const report = reporter.reports[0]!;
    if (expected.kind === 'success') {
      if (report.kind !== 'success') throw new Error(`expected success, got ${JSON.stringify(report)}`);
      expect(report.executionDetails?.summary).toBe(expected.summary);
    } else {
      if (report.kind !== 'failure') throw new Error(`expected failure, got ${JSON.stringify(report)}`);
      expect(report.failureDetails.type).toBe(expected.type);
      expect(report.code).toBe(expected.code);
      expect(report.failureDetails.message).toMatch(expected.message);
    }
    expected.check?.(report, scenario);
    // DescribeCluster once per container (cold start per event), and only when the cluster is needed.
    expect(eks.requests.length).toBeLessThanOrEqual(1);
    const text = JSON.stringify(report);
    for (const secret of EVENT_SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toContain('k8s-aws-v1.');
  });
});
