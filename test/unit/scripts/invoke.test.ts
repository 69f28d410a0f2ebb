import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { functionTimeoutSeconds, parseTemplate } from '../../../scripts/lib/sam-template';
import { EVENT_SECRETS, jobEvent } from '../../helpers/codepipeline-events';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtureHandler = path.join(root, 'test/helpers/codepipeline-fixture-handler.ts');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-invoke-'));

function eventFile(userParameters: string | undefined, name: string): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(jobEvent(userParameters)));
  return file;
}

function invoke(args: string[]) {
  const env = { ...process.env };
  delete env.AWS_ENDPOINT_URL_CODEPIPELINE;
  const result = spawnSync(tsx, ['scripts/invoke.ts', ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = result.stdout.trim().split('\n');
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, last: lines.at(-1) ?? '' };
}

describe('npm run invoke', () => {
  it.each([
    [
      'succeed',
      0,
      { outcome: 'success', outputVariables: { digest: 'sha256:abc' } },
      'PutJobSuccessResult job',
    ],
    [
      'continue',
      0,
      {
        outcome: 'continuation',
        continuationToken: expect.stringMatching(/^ss1\./),
        executionDetails: expect.objectContaining({ percentComplete: 50 }),
      },
      'PutJobSuccessResult (continuation) job',
    ],
    [
      'crash',
      1,
      {
        outcome: 'failure',
        failureDetails: {
          type: 'JobFailed',
          message: expect.stringContaining('Unexpected error (TypeError)'),
        },
      },
      'PutJobFailureResult job 11111111-abcd-1111-abcd-111111abcdef: JobFailed [UNEXPECTED_ERROR]: Unexpected error (TypeError)',
    ],
    [
      'permission',
      1,
      {
        outcome: 'failure',
        failureDetails: { type: 'PermissionError', message: 'not allowed to sign' },
      },
      // The code is in the stand-in's human-readable line only, never in what CodePipeline gets.
      'PutJobFailureResult job 11111111-abcd-1111-abcd-111111abcdef: PermissionError [ACCESS_DENIED]: not allowed to sign',
    ],
  ])('prints the %s report as the last stdout line and exits %i', (mode, status, expected, printed) => {
    const run = invoke([
      'sign-image',
      eventFile(JSON.stringify({ mode }), mode),
      '--handler',
      fixtureHandler,
    ]);
    expect(run.status).toBe(status);
    expect(JSON.parse(run.last)).toMatchObject({
      jobId: '11111111-abcd-1111-abcd-111111abcdef',
      ...expected,
    });
    expect(run.stderr).toContain(`[local CodePipeline] ${printed}`);
    // The result line keeps the spec's shape: no code anywhere in it.
    const line = JSON.parse(run.last) as { failureDetails?: object };
    expect(run.last).not.toContain('"code"');
    if (line.failureDetails) expect(Object.keys(line.failureDetails).sort()).toEqual(['message', 'type']);
  });

  it('prints a ConfigurationError line for UserParameters that are not JSON', () => {
    const run = invoke([
      'sign-image',
      path.join(root, 'events/sign-image/bad-user-parameters.json'),
      '--handler',
      fixtureHandler,
    ]);
    expect(run.status).toBe(1);
    expect(JSON.parse(run.last)).toEqual({
      jobId: '5a1e3000-aaaa-4bbb-8ccc-1234567890ab',
      outcome: 'failure',
      failureDetails: {
        type: 'ConfigurationError',
        message: expect.stringMatching(/^UserParameters is not valid JSON/),
      },
    });
    expect(run.stderr).toContain(
      '[local CodePipeline] PutJobFailureResult job 5a1e3000-aaaa-4bbb-8ccc-1234567890ab: ConfigurationError [USER_PARAMETERS_INVALID]: UserParameters is not valid JSON',
    );
  });

  it('reports a timeout from the configured Lambda timeout', () => {
    const run = invoke([
      'sign-image',
      eventFile('{"mode":"hang"}', 'hang'),
      '--handler',
      fixtureHandler,
      '--timeout',
      '5.2',
    ]);
    expect(run.status).toBe(1);
    expect(JSON.parse(run.last)).toMatchObject({
      outcome: 'failure',
      failureDetails: {
        type: 'SystemUnavailable',
        message: expect.stringMatching(/^sign-image timed out while waiting forever/),
      },
    });
    expect(run.stderr).toContain(
      'SystemUnavailable [STAGE_TIMED_OUT]: sign-image timed out while waiting forever',
    );
  });

  it("gives the handler the stage function's Timeout from template.yaml when --timeout is absent", () => {
    const seconds = functionTimeoutSeconds(
      parseTemplate(readFileSync(path.join(root, 'template.yaml'), 'utf8')),
      'sign-image',
    );
    expect(seconds).toBeDefined();
    const probe = path.join(dir, 'remaining-time-handler.mjs');
    writeFileSync(
      probe,
      'export const handler = async (_event, context) => {\n' +
        '  process.stderr.write(`remaining=${context.getRemainingTimeInMillis()}\\n`);\n' +
        '};\n',
    );
    const run = invoke(['sign-image', eventFile('{}', 'probe'), '--handler', probe]);
    const remaining = Number(/remaining=(\d+)/.exec(run.stderr)?.[1]);
    // Counted down from the template's value: at most it, and far above any other default.
    expect(remaining).toBeLessThanOrEqual(seconds! * 1000);
    expect(remaining).toBeGreaterThan(seconds! * 1000 - 30_000);
  });

  it('never prints the credentials of the event', () => {
    for (const mode of ['succeed', 'crash']) {
      const run = invoke([
        'sign-image',
        eventFile(JSON.stringify({ mode }), `secret-${mode}`),
        '--handler',
        fixtureHandler,
      ]);
      for (const secret of EVENT_SECRETS) {
        expect(run.stdout).not.toContain(secret);
        expect(run.stderr).not.toContain(secret);
      }
    }
  });

  it("sets --env-vars values for the stage's function as sam local invoke does, over the shell's", () => {
    const probe = path.join(dir, 'env-probe-handler.mjs');
    writeFileSync(
      probe,
      'export const handler = async () => {\n' +
        "  for (const name of ['SIGNING_PROFILE_ARN', 'POWERTOOLS_LOG_LEVEL', 'NOT_IN_TEMPLATE'])\n" +
        '    process.stderr.write(`${name}=${process.env[name] ?? "(unset)"}\\n`);\n' +
        '};\n',
    );
    const envVars = path.join(dir, 'env-vars.json');
    writeFileSync(
      envVars,
      JSON.stringify({
        Parameters: { POWERTOOLS_LOG_LEVEL: 'DEBUG', SIGNING_PROFILE_ARN: 'from-parameters' },
        SignImageFunction: { SIGNING_PROFILE_ARN: 'arn:from-function', NOT_IN_TEMPLATE: 'x' },
        VerifyImageFunction: { SIGNING_PROFILE_ARN: 'arn:of-the-other-function' },
      }),
    );
    const run = invoke([
      'sign-image',
      eventFile('{}', 'env-event'),
      '--handler',
      probe,
      '--env-vars',
      envVars,
    ]);
    expect(run.stderr).toContain('SIGNING_PROFILE_ARN=arn:from-function\n');
    expect(run.stderr).toContain('POWERTOOLS_LOG_LEVEL=DEBUG\n');
    expect(run.stderr).toContain('NOT_IN_TEMPLATE=(unset)\n');
    expect(run.stderr).toContain(
      `[env-vars] SignImageFunction: set POWERTOOLS_LOG_LEVEL, SIGNING_PROFILE_ARN from ${envVars}`,
    );
    expect(run.stderr).toContain(
      "[env-vars] SignImageFunction: ignored NOT_IN_TEMPLATE: not declared in template.yaml's Environment.Variables for SignImageFunction",
    );
    // Names only: the values never reach the invoker's own lines.
    expect(
      run.stderr
        .split('\n')
        .filter((l) => l.startsWith('[env-vars]'))
        .join('\n'),
    ).not.toContain('arn:');
  });

  it('treats an --env-vars file that is not in the format as a usage error naming the key', () => {
    const envVars = path.join(dir, 'bad-env-vars.json');
    writeFileSync(envVars, JSON.stringify({ SignImageFunction: { TRUST_POLICY: { version: '1.0' } } }));
    const run = invoke([
      'sign-image',
      eventFile('{}', 'bad-env-event'),
      '--handler',
      fixtureHandler,
      '--env-vars',
      envVars,
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `${envVars}: SignImageFunction.TRUST_POLICY must be a string, number, boolean or null`,
    );
  });

  it('treats a stage without functions/<stage>/handler.ts as a usage error listing the stages', () => {
    const run = invoke(['no-such-stage', eventFile('{}', 'usage')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /unknown stage "no-such-stage": no functions\/no-such-stage\/handler\.ts\. Stages: /,
    );
  });

  it('treats a missing event file as a usage error', () => {
    const run = invoke(['sign-image', path.join(dir, 'absent.json'), '--handler', fixtureHandler]);
    expect(run.status).toBe(2);
  });
});
