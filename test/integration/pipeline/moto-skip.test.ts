import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * How the moto suite behaves without moto, run as its own vitest process with an interpreter
 * that cannot import it: loud on a development machine (vitest's `silent: 'passed-only'` must
 * not swallow the reason), a failure in CI.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const vitest = path.join(root, 'node_modules/.bin/vitest');

function runMotoSuite(required: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHON: path.join(root, 'no-such-python') };
  delete env.STAGESIGN_REQUIRE_INTEGRATION;
  if (required) env.STAGESIGN_REQUIRE_INTEGRATION = '1';
  return spawnSync(vitest, ['run', 'test/integration/pipeline/s3-artifacts-moto.test.ts'], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('the moto S3 suite without moto', () => {
  it('is skipped with the reason and the install command on stderr', () => {
    const run = runMotoSuite(false);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('SKIPPED the moto S3 artifact tests');
    expect(run.stderr).toContain('pip install "moto[server]==5.2.1"');
  });

  it('fails when STAGESIGN_REQUIRE_INTEGRATION=1', () => {
    const run = runMotoSuite(true);
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toContain('moto is required (STAGESIGN_REQUIRE_INTEGRATION=1)');
  });
});
