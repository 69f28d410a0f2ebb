/**
 * `npm run pipeline`'s runner end to end, on template.yaml's own Pipeline resource: sign-image →
 * verify-image → deploy-manifest → check-admission, the unchanged handlers in this process against
 * the local stand-ins — the events' registry world (a registry answering for the ECR host, ECR and
 * Signer answered at the SDK, a test signing authority the verify stage trusts), the fake EKS
 * cluster with kyverno-notation-aws accepting only the signed digest, the EKS DescribeCluster
 * stand-in, and the runner's own S3 artifact store serving the build output directory.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../../scripts/lib/pipeline-runner';
import type { PipelineRun } from '../../../scripts/lib/pipeline-runner';
import { parseTemplate } from '../../../scripts/lib/sam-template';
import { clearLocalReporter } from '../../../shared/pipeline/default-reporter';
import { DEPLOYED, SIGNED_IMAGES, VERIFIED_IMAGES } from '../../../shared/pipeline/handoff';
import {
  CLUSTER,
  DEPLOY_ARTIFACTS,
  ECR,
  NAMESPACE,
  REGION,
  SIGNED,
  UNSIGNED,
  startDeployScenario,
} from '../../helpers/deploy-manifest-scenarios';
import type { DeployScenario } from '../../helpers/deploy-manifest-scenarios';
import { startEksStandIn } from '../../helpers/eks-stand-in';
import type { EksStandIn } from '../../helpers/eks-stand-in';
import { EVENT_WORLDS } from '../../helpers/event-worlds';
import { fixturePolicy } from '../../unit/functions/verify-image/signed-images';
import type { EventWorld } from '../../helpers/event-worlds';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
const eventsEnv = JSON.parse(readFileSync(path.join(root, 'events/env.json'), 'utf8')) as Record<
  string,
  Record<string, string>
>;

/** The profile events/env.json gives sign-image, whose versions the Signer stand-in signs with. */
const SIGNING_PROFILE = eventsEnv['SignImageFunction']!['SIGNING_PROFILE_ARN']!;

/** The build output: imagedefinitions.json naming the pushed tag, and the manifests under k8s/. */
function buildOutput(imageUri: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-pipeline-'));
  writeFileSync(path.join(dir, 'imagedefinitions.json'), JSON.stringify([{ name: 'web', imageUri }]));
  mkdirSync(path.join(dir, 'k8s'));
  for (const [name, text] of Object.entries(DEPLOY_ARTIFACTS['stagesign/SourceOutput/app.zip']!)) {
    if (!name.startsWith('k8s/')) continue;
    // The template's deploy action names no namespace: the manifests carry it.
    writeFileSync(
      path.join(dir, name),
      text.replace(/^metadata:\n/m, `metadata:\n  namespace: ${NAMESPACE}\n`),
    );
  }
  return dir;
}

describe('npm run pipeline (runner) on the example pipeline, against the local stand-ins', () => {
  let world: EventWorld;
  let scenario: DeployScenario;
  let eks: EksStandIn;
  const dirs: string[] = [];
  let run: PipelineRun;
  let refused: PipelineRun;
  const saved = { ...process.env };

  beforeAll(async () => {
    world = await EVENT_WORLDS['verify-image']!();
    scenario = await startDeployScenario('happy-path');
    const { kube } = scenario;
    eks = await startEksStandIn({
      region: kube.region,
      clusters: [{ name: kube.clusterName, endpoint: kube.endpoint, caData: kube.caData }],
    });
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'AKIDLOCALPIPELINEROLE',
      AWS_SECRET_ACCESS_KEY: 'local-stand-in-secret',
      AWS_ENDPOINT_URL_EKS: eks.endpoint,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
    const runWith = async (imageUri: string) => {
      const artifactDir = buildOutput(imageUri);
      dirs.push(artifactDir);
      return runPipeline({
        template,
        root,
        artifactDir,
        continuationDelayMs: 50,
        environment: (logicalId) => ({
          ...(eventsEnv[logicalId] ?? {}),
          // The events world's trust store, trusting only the profile the pipeline's sign action
          // signs with (not the events' pre-pushed signature): verify passes on the new signature.
          ...(logicalId === 'VerifyImageFunction'
            ? { ...world.env, TRUST_POLICY: JSON.stringify(fixturePolicy({ identities: [SIGNING_PROFILE] })) }
            : {}),
          ...(logicalId === 'DeployManifestFunction' || logicalId === 'CheckAdmissionFunction'
            ? { CLUSTER_NAME: CLUSTER }
            : {}),
        }),
      });
    };
    run = await runWith(`${ECR}/app:v1`);
    // Signed by the pipeline and verified, but not signed for the cluster: its admission refuses it.
    refused = await runWith(`${ECR}/unsigned@${UNSIGNED}`);
  }, 120_000);

  afterAll(async () => {
    clearLocalReporter();
    process.env = saved;
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await eks?.close();
    await scenario?.close();
    await world?.close();
  });

  it('runs the four Lambda actions in the template’s order, each in its namespace, all succeeding', () => {
    expect(run.stoppedBecause).toBeUndefined();
    expect(run.succeeded).toBe(true);
    expect(run.actions.map((a) => [a.stage, a.action, a.namespace, a.result.outcome])).toEqual([
      ['Sign', 'SignImage', 'SignVariables', 'success'],
      ['Sign', 'VerifyImage', 'VerifyVariables', 'success'],
      ['Deploy', 'DeployManifest', 'DeployVariables', 'success'],
      ['VerifyContainerSign', 'CheckAdmission', 'AdmissionVariables', 'success'],
    ]);
  });

  it('hands each action the previous one’s variable, substituted unquoted into its UserParameters', () => {
    const [sign, verify, deploy, admission] = run.actions;
    const signed = sign!.result.outputVariables![SIGNED_IMAGES]!;
    expect(verify!.userParameters).toBe(`{"signedImages": ${signed}}`);
    expect(JSON.parse(verify!.userParameters)).toEqual({ signedImages: JSON.parse(signed) });
    const verified = verify!.result.outputVariables![VERIFIED_IMAGES]!;
    expect(JSON.parse(deploy!.userParameters)).toEqual({
      inputArtifact: 'BuildOutput',
      manifests: 'k8s/',
      verifiedImages: JSON.parse(verified),
    });
    const deployed = deploy!.result.outputVariables![DEPLOYED]!;
    expect(admission!.userParameters).toBe(`{"deployed": ${deployed}}`);
  });

  it('signs the tag’s digest, verifies it, deploys it by digest and proves it admitted', () => {
    const [sign, verify, deploy, admission] = run.actions;
    expect(sign!.result.outputVariables!['IMAGE_URI']).toBe(`${ECR}/app@${SIGNED}`);
    expect(JSON.stringify(JSON.parse(verify!.result.outputVariables![VERIFIED_IMAGES]!))).toContain(SIGNED);
    expect(JSON.parse(deploy!.result.outputVariables![DEPLOYED]!)).toEqual(
      expect.arrayContaining([expect.objectContaining({ namespace: NAMESPACE, name: 'web' })]),
    );
    const d = scenario.kube.read('apps/v1', 'Deployment', NAMESPACE, 'web') as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(d.spec.template.spec.containers[0]!.image).toBe(`${ECR}/app@${SIGNED}`);
    expect(JSON.stringify(JSON.parse(admission!.result.outputVariables!['ADMITTED_IMAGES']!))).toContain(
      SIGNED,
    );
  });

  it('stops at the first failure: the refused image fails Deploy, check-admission never runs, nothing changed', () => {
    expect(refused.succeeded).toBe(false);
    expect(refused.actions.map((a) => [a.action, a.result.outcome])).toEqual([
      ['SignImage', 'success'],
      ['VerifyImage', 'success'],
      ['DeployManifest', 'failure'],
    ]);
    expect(refused.stoppedBecause).toMatch(/^Deploy\/DeployManifest failed: /);
    const d = scenario.kube.read('apps/v1', 'Deployment', NAMESPACE, 'web') as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(d.spec.template.spec.containers[0]!.image).toBe(`${ECR}/app@${SIGNED}`);
  });
});
