import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function npmRunDemo(dir: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'demo'],
      { cwd: REPO_ROOT, env: { ...process.env, STAGESIGN_DEMO_DIR: dir }, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({
          status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe('npm run demo', () => {
  let dir: string;
  let first: Awaited<ReturnType<typeof npmRunDemo>>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stagesign-demo-'));
    first = await npmRunDemo(dir);
  }, 180_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('exits 0 after signing, verifying and rejecting the unsigned and tampered images', () => {
    // npm itself may warn about the user's npm configuration on stderr; the demo writes nothing there.
    expect(first.stderr).not.toMatch(/demo could not run|Error/);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(
      '✔ PutJobSuccessResult: Successfully signed demo.stagesign.local/sample/app@sha256:',
    );
    expect(first.stdout).toContain(
      '✔ PutJobSuccessResult: Successfully verified signature for demo.stagesign.local/sample/app@sha256:',
    );
    expect(first.stdout).toMatch(
      /✔ PutJobFailureResult \(JobFailed\): signature verification failed: no signature is associated with "demo\.stagesign\.local\/sample\/app@sha256:[0-9a-f]{64}", make sure the artifact was signed successfully/,
    );
    expect(first.stdout).toMatch(
      /✔ PutJobFailureResult \(JobFailed\): signature verification failed for all the signatures associated with demo\.stagesign\.local\/sample\/app@sha256:[0-9a-f]{64}/,
    );
    expect(first.stdout).toContain('integrity validation failed. Failure reason: signature is invalid');
    expect(first.stdout).toContain('All 5 steps behaved as expected');
    expect(first.stdout).not.toContain('✘');
  });

  it('reuses the signing key on a second run and behaves the same', async () => {
    const second = await npmRunDemo(dir);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('ECDSA P-384 root CA and signing certificate, reused');
    expect(first.stdout).toContain('ECDSA P-384 root CA and signing certificate, created');
    expect(second.stdout).toContain('All 5 steps behaved as expected');
  }, 120_000);
});
