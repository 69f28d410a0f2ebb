/**
 * `npm run pipeline` as a command: its help says Source and Build are not run and what the
 * directory stands for, usage errors exit 2, and a run whose first action fails exits 1 with the
 * run as the last stdout line (env-vars applied per function, names only on stderr).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-pipeline-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pipeline(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: 'us-east-1' };
  delete env.AWS_ENDPOINT_URL_CODEPIPELINE;
  delete env.SIGNING_PROFILE_ARN;
  const result = spawnSync(tsx, ['scripts/pipeline.ts', ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run pipeline', () => {
  it('--help says which actions run and that the directory stands for the build output', () => {
    const { status, stdout } = pipeline(['--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('Source and Build are not Lambda actions and are not run');
    expect(stdout).toContain('imagedefinitions.json');
    expect(stdout).toContain('AWS_ENDPOINT_URL_');
  });

  it.each([
    [[], 'expected one build output directory'],
    [['/nonexistent-stagesign-dir'], 'is not a directory'],
    [[dir, '--parameter', 'NoEquals'], 'expected Name=Value'],
    [[dir, '--bogus'], 'unknown option --bogus'],
  ])('%j is a usage error (exit 2)', (args, message) => {
    const { status, stderr } = pipeline(args);
    expect(status).toBe(2);
    expect(stderr).toContain(message);
  });

  it('stops at the first failing action and prints the run as the last stdout line', () => {
    writeFileSync(path.join(dir, 'imagedefinitions.json'), '[]');
    const envVars = path.join(dir, 'env.json');
    // A profile ARN that is not one: sign-image fails before any network call.
    writeFileSync(envVars, JSON.stringify({ SignImageFunction: { SIGNING_PROFILE_ARN: 'not-an-arn' } }));
    const { status, stdout, stderr } = pipeline([dir, '--env-vars', envVars]);
    expect(status).toBe(1);
    const run = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      succeeded: boolean;
      actions: { action: string; result: { outcome: string } }[];
    };
    expect(run.succeeded).toBe(false);
    expect(run.actions.map((a) => [a.action, a.result.outcome])).toEqual([['SignImage', 'failure']]);
    expect(stderr).toContain('[env-vars] SignImageFunction: set SIGNING_PROFILE_ARN');
    expect(stderr).toContain('pipeline stopped: Sign/SignImage failed');
  });
});
