import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * How the moto suite behaves without moto, run as its own vitest process with an interpreter
 * that cannot import it: loud on a development machine (vitest's `silent: 'passed-only'` must
 * not swallow the reason: the skip-summary reporter lists it after the run), a failure in CI.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const vitest = path.join(root, 'node_modules/.bin/vitest');

function runVitest(file: string, env: NodeJS.ProcessEnv) {
  return spawnSync(vitest, ['run', file], {
    cwd: root,
    env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

function runMotoSuite(required: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHON: path.join(root, 'no-such-python') };
  delete env.STAGESIGN_REQUIRE_INTEGRATION;
  if (required) env.STAGESIGN_REQUIRE_INTEGRATION = '1';
  return runVitest('test/integration/pipeline/s3-artifacts-moto.test.ts', env);
}

describe('the moto S3 suite without moto', () => {
  it('is skipped, and the run ends with the suite, the reason and the install command', () => {
    const run = runMotoSuite(false);
    expect(run.status).toBe(0);
    const summary = run.stdout.slice(run.stdout.indexOf('suite(s) SKIPPED'));
    expect(summary).toMatch(/^suite\(s\) SKIPPED; their tests did not run/);
    expect(summary).toContain(
      'test/integration/pipeline/s3-artifacts-moto.test.ts › S3ArtifactStore against moto: 1 test(s) skipped:',
    );
    expect(summary).toContain('pip install "moto[server]==5.2.1"');
  });

  it('adds nothing to the output of a run where nothing is skipped', () => {
    const run = runVitest('test/unit/shared/errors.test.ts', process.env);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Tests\s+\S*\d+ passed/);
    expect(`${run.stdout}${run.stderr}`).not.toContain('SKIPPED');
  });

  it('fails when STAGESIGN_REQUIRE_INTEGRATION=1', () => {
    const run = runMotoSuite(true);
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toContain('moto is required (STAGESIGN_REQUIRE_INTEGRATION=1)');
  });
});
