/**
 * The pipeline runner's CodePipeline semantics on a small template whose actions run the fixture
 * stage handler: variables substituted as text from earlier namespaces, a continuation re-invoked
 * with its token, the run stopped at the first failure and at a variable that does not resolve.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveVariables } from '../../../scripts/lib/pipeline-definition';
import { runPipeline } from '../../../scripts/lib/pipeline-runner';
import { clearLocalReporter } from '../../../shared/pipeline/default-reporter';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-runner-'));
writeFileSync(path.join(dir, 'imagedefinitions.json'), '[]');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => clearLocalReporter());

const fixture = {
  Type: 'AWS::Serverless::Function',
  Metadata: {
    BuildMethod: 'esbuild',
    BuildProperties: { EntryPoints: ['test/helpers/codepipeline-fixture-handler.ts'] },
  },
  Properties: { CodeUri: './', Handler: 'handler.handler', Timeout: 30 },
};

function lambda(name: string, userParameters: unknown, namespace?: string) {
  return {
    Name: name,
    ...(namespace ? { Namespace: namespace } : {}),
    ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' },
    Configuration: { FunctionName: { Ref: 'FixtureFunction' }, UserParameters: userParameters },
    InputArtifacts: [{ Name: 'BuildOutput' }],
  };
}

function template(...stages: unknown[][]) {
  return {
    Parameters: { Image: { Type: 'String', Default: 'app' } },
    Resources: {
      FixtureFunction: fixture,
      Pipeline: {
        Type: 'AWS::CodePipeline::Pipeline',
        Properties: { Stages: stages.map((actions, i) => ({ Name: `Stage${i + 1}`, Actions: actions })) },
      },
    },
  };
}

describe('runPipeline', () => {
  it('substitutes earlier variables, follows a continuation and stops at the first failure', async () => {
    const run = await runPipeline({
      root,
      artifactDir: dir,
      continuationDelayMs: 0,
      template: template(
        [lambda('First', { 'Fn::Sub': '{"mode":"succeed","image":"${Image}"}' }, 'FirstVariables')],
        [lambda('Second', '{"mode":"continue","image":"#{FirstVariables.digest}"}', 'SecondVariables')],
        [lambda('Third', '{"mode":"permission"}')],
        [lambda('Fourth', '{"mode":"succeed"}')],
      ),
    });
    expect(run.succeeded).toBe(false);
    expect(run.actions.map((a) => [a.action, a.invocations, a.result.outcome])).toEqual([
      ['First', 1, 'success'],
      ['Second', 2, 'success'],
      ['Third', 1, 'failure'],
    ]);
    expect(run.actions[0]!.userParameters).toBe('{"mode":"succeed","image":"app"}');
    expect(run.actions[1]!.userParameters).toBe('{"mode":"continue","image":"sha256:abc"}');
    expect(run.stoppedBecause).toContain('Stage3/Third failed');
  });

  it('stops before an action whose variable no earlier action wrote', async () => {
    const run = await runPipeline({
      root,
      artifactDir: dir,
      template: template([lambda('Only', '{"mode":"succeed","image":"#{BuildVariables.IMAGE_URI}"}')]),
    });
    expect(run.actions).toEqual([]);
    expect(run.stoppedBecause).toBe(
      'Only: #{BuildVariables.IMAGE_URI}: no earlier action has namespace BuildVariables',
    );
  });
});

describe('resolveVariables', () => {
  const variables = new Map([['SignVariables', { SIGNED_IMAGES: '[{"uri":"a@sha256:1"}]', N: '2' }]]);

  it('substitutes text as is, so an unquoted JSON variable makes JSON', () => {
    const text = resolveVariables(
      '{"signedImages": #{SignVariables.SIGNED_IMAGES}, "n": "#{SignVariables.N}"}',
      variables,
    );
    expect(JSON.parse(text)).toEqual({ signedImages: [{ uri: 'a@sha256:1' }], n: '2' });
  });

  it('fails on a variable the namespace does not have, naming those it has', () => {
    expect(() => resolveVariables('#{SignVariables.IMAGE_URI}', variables)).toThrow(
      '#{SignVariables.IMAGE_URI}: SignVariables has no variable IMAGE_URI (it has N, SIGNED_IMAGES)',
    );
  });

  it('leaves text without references alone', () => {
    expect(resolveVariables('{"a": "#{not a ref}"}', variables)).toBe('{"a": "#{not a ref}"}');
  });
});
