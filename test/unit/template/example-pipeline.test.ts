/**
 * The example pipeline in template.yaml (CreatePipeline): stage and action order, the namespaces
 * and the `#{Namespace.VARIABLE}` wiring between the Lambda actions (each reads the variable the
 * previous action writes, unquoted as the stages' UserParameters contracts need), every pipeline
 * resource conditional on CreatePipeline, and a pipeline role that may invoke exactly the four
 * stage functions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../../scripts/lib/sam-template';
import { lambdaActions, pipelineStages } from '../../../scripts/lib/pipeline-definition';
import { DEPLOYED, SIGNED_IMAGES, VERIFIED_IMAGES } from '../../../shared/pipeline/handoff';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const template = parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8'));
type Node = Record<string, unknown>;
const resources = template['Resources'] as Record<string, Node>;
const conditions = template['Conditions'] as Record<string, unknown>;

const PIPELINE_TYPES = new Set([
  'AWS::CodePipeline::Pipeline',
  'AWS::CodeBuild::Project',
  'AWS::KMS::Key',
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
  'AWS::CodeCommit::Repository',
  'AWS::Events::Rule',
]);

/** Conditions a condition name depends on, transitively (itself included). */
function dependsOn(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) {
        if (k === 'Condition' && typeof x === 'string') dependsOn(x, seen);
        else walk(x);
      }
  };
  walk(conditions[name]);
  return seen;
}

describe('the example pipeline', () => {
  const stages = pipelineStages(template);

  it('is a V2 pipeline created only when CreatePipeline is true', () => {
    const pipeline = resources['Pipeline']!;
    expect(pipeline['Type']).toBe('AWS::CodePipeline::Pipeline');
    expect((pipeline['Properties'] as Node)['PipelineType']).toBe('V2');
    expect(pipeline['Condition']).toBe('CreatesPipeline');
    expect(conditions['CreatesPipeline']).toEqual({ 'Fn::Equals': [{ Ref: 'CreatePipeline' }, 'true'] });
  });

  it('has every pipeline resource behind a condition that needs CreatePipeline', () => {
    const pipelineResources = Object.entries(resources).filter(
      ([id, r]) => PIPELINE_TYPES.has(r['Type'] as string) || id.startsWith('Pipeline'),
    );
    expect(pipelineResources.length).toBeGreaterThanOrEqual(10);
    for (const [id, r] of pipelineResources) {
      expect(r['Condition'], `${id} has a Condition`).toEqual(expect.any(String));
      expect([...dependsOn(r['Condition'] as string)], `${id}'s condition needs CreatesPipeline`).toContain(
        'CreatesPipeline',
      );
    }
  });

  it('runs Source, Build, Sign, Deploy, VerifyContainerSign in that order', () => {
    expect(stages.map((s) => s.name)).toEqual(['Source', 'Build', 'Sign', 'Deploy', 'VerifyContainerSign']);
    expect(stages[2]!.actions.map((a) => [a.name, a.runOrder])).toEqual([
      ['SignImage', 1],
      ['VerifyImage', 2],
    ]);
  });

  it('invokes the four stage functions in order, each in its namespace', () => {
    expect(lambdaActions(template).map((a) => [a.stage, a.functionLogicalId, a.namespace])).toEqual([
      ['Sign', 'SignImageFunction', 'SignVariables'],
      ['Sign', 'VerifyImageFunction', 'VerifyVariables'],
      ['Deploy', 'DeployManifestFunction', 'DeployVariables'],
      ['VerifyContainerSign', 'CheckAdmissionFunction', 'AdmissionVariables'],
    ]);
  });

  it('hands each action the previous action’s output variable, unquoted', () => {
    const params = lambdaActions(template).map((a) => a.userParameters);
    expect(params[1]).toBe(`{"signedImages": #{SignVariables.${SIGNED_IMAGES}}}`);
    expect(params[2]).toContain(`"verifiedImages": #{VerifyVariables.${VERIFIED_IMAGES}}`);
    expect(params[3]).toBe(`{"deployed": #{DeployVariables.${DEPLOYED}}}`);
    // Every reference names a namespace of an earlier action.
    const actions = lambdaActions(template);
    const earlier = new Set<string>(['BuildVariables']);
    for (const action of actions) {
      for (const [, ns] of action.userParameters.matchAll(/#\{([A-Za-z0-9@\-_]+)\.[A-Za-z0-9@\-_]+\}/g)) {
        expect(earlier, `${action.name} reads #{${ns}.…}`).toContain(ns);
      }
      if (action.namespace) earlier.add(action.namespace);
    }
  });

  it('gives sign-image and deploy-manifest the build output (imagedefinitions.json and the manifests)', () => {
    const build = stages[1]!.actions[0]!;
    expect(build.outputArtifacts).toEqual(['BuildOutput']);
    const [sign, , deploy] = lambdaActions(template);
    expect(sign!.inputArtifacts).toEqual(['BuildOutput']);
    expect(deploy!.inputArtifacts).toEqual(['BuildOutput']);
    expect(JSON.parse(sign!.userParameters)).toEqual({ inputArtifact: 'BuildOutput' });
  });

  it('lets the pipeline role invoke exactly the four stage functions', () => {
    const statements = (
      ((resources['PipelineRole']!['Properties'] as Node)['Policies'] as Node[]).flatMap(
        (p) => (p['PolicyDocument'] as Node)['Statement'] as Node[],
      ) as Node[]
    ).flatMap((s) => (s['Fn::If'] ? (s['Fn::If'] as Node[]).slice(1) : [s]));
    const invoking = statements.filter((s) =>
      [s['Action']].flat().some((a) => String(a).startsWith('lambda:')),
    );
    expect(invoking).toHaveLength(1);
    expect(invoking[0]!['Action']).toBe('lambda:InvokeFunction');
    expect(invoking[0]!['Resource']).toEqual([
      { 'Fn::GetAtt': ['SignImageFunction', 'Arn'] },
      { 'Fn::GetAtt': ['VerifyImageFunction', 'Arn'] },
      { 'Fn::GetAtt': ['DeployManifestFunction', 'Arn'] },
      { 'Fn::GetAtt': ['CheckAdmissionFunction', 'Arn'] },
    ]);
    expect(statements.every((s) => s['Resource'] !== '*')).toBe(true);
  });

  it('keeps the artifact bucket KMS-encrypted, closed to the public and TLS-only', () => {
    const bucket = resources['PipelineArtifactBucket']!['Properties'] as Node;
    const rule = ((bucket['BucketEncryption'] as Node)['ServerSideEncryptionConfiguration'] as Node[])[0]![
      'ServerSideEncryptionByDefault'
    ] as Node;
    expect(rule).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': ['PipelineArtifactKey', 'Arn'] },
    });
    expect(bucket['PublicAccessBlockConfiguration']).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = (resources['PipelineArtifactBucketPolicy']!['Properties'] as Node)[
      'PolicyDocument'
    ] as Node;
    expect(policy['Statement']).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
  });

  it('creates both Kubernetes stages’ access entries with the pipeline, through their own resources', () => {
    const entries = Object.entries(resources).filter(([, r]) => r['Type'] === 'AWS::EKS::AccessEntry');
    expect(entries.map(([id]) => id).sort()).toEqual([
      'CheckAdmissionAccessEntry',
      'DeployManifestAccessEntry',
    ]);
    for (const [id, entry] of entries) {
      expect([...dependsOn(entry['Condition'] as string)], id).toContain('CreatesPipeline');
    }
  });
});
