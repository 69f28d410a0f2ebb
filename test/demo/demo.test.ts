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

  it('exits 0 after signing, verifying, deploying by digest and proving admission, and refusing every bad image', () => {
    // npm itself may warn about the user's npm configuration on stderr; the demo writes nothing there.
    expect(first.stderr).not.toMatch(/demo could not run|Error/);
    expect(first.status).toBe(0);
    const out = first.stdout;
    const digest = /demo\.stagesign\.local\/sample\/app:v1 = (sha256:[0-9a-f]{64})/.exec(out)?.[1];
    expect(digest).toBeDefined();
    const app = `demo.stagesign.local/sample/app@${digest!}`;
    // The cluster's admission trusts what `stagesign policy export --kyverno` wrote.
    expect(out).toContain('TrustStore demo, TrustPolicy aws-signer-trust-policy, ClusterPolicy check-images');
    // 1-2: signed and verified by digest.
    expect(out).toContain(`✔ PutJobSuccessResult: Successfully signed ${app}`);
    expect(out).toContain(`✔ PutJobSuccessResult: Successfully verified signature for ${app}`);
    // 3: deployed with the verified digest (the manifest names the tag), rolled out, Pods run it.
    expect(out).toContain('✔ PutJobSuccessResult: deployment "web" successfully rolled out');
    expect(out).toContain(`cluster: Deployment shop/web revision 1 runs ${app}`);
    expect(out).toContain(`2 Running Pods, imageID ${app}`);
    // The hand-off between stages is CodePipeline's variable substitution, by digest.
    expect(out).toMatch(/#\{VerifyVariables\.VERIFIED_IMAGES\} = \[\{"image":/);
    expect(out).toMatch(
      /#\{DeployVariables\.DEPLOYED\} = \[\{"kind":"Deployment","namespace":"shop","name":"web"/,
    );
    // 4: admitted, with the extension's log line as evidence.
    expect(out).toMatch(
      new RegExp(
        `✔ PutJobSuccessResult: deployment shop/web, container app: admitted by kyverno-notation-aws: successfully verified image ${app.replaceAll('.', '\\.')} digest ${digest!} \\(logged by kyverno-notation-aws-`,
      ),
    );
    expect(out).toContain('#{AdmissionVariables.ADMISSION} = admitted');
    // 5-6: verify-image refuses the unsigned and the tampered image.
    expect(out).toMatch(
      /✔ PutJobFailureResult \(JobFailed\): signature verification failed: no signature is associated with "demo\.stagesign\.local\/sample\/app@sha256:[0-9a-f]{64}", make sure the artifact was signed successfully/,
    );
    expect(out).toMatch(
      /✔ PutJobFailureResult \(JobFailed\): signature verification failed for all the signatures associated with demo\.stagesign\.local\/sample\/app@sha256:[0-9a-f]{64}/,
    );
    expect(out).toContain('integrity validation failed. Failure reason: signature is invalid');
    // 7: the unsigned sidecar is refused at preflight by the cluster's admission, nothing changed.
    expect(out).toMatch(
      /✔ PutJobFailureResult \(JobFailed\): admission webhook "mutate\.kyverno\.svc-fail" denied the request: .*failed to verify container log-shipper: .*no signature is associated with "demo\.stagesign\.local\/sample\/log-shipper@sha256:[0-9a-f]{64}"/,
    );
    expect(out).toContain('Preflight (dry run): nothing was changed.');
    expect(out).toContain('nothing changed: 0 writes after the dry runs');
    // 8-9: with preflight off it is applied, its Pods are rejected at creation, and it is rolled back.
    expect(out).toContain('✔ PutJobSuccessResult: deployment "web" applied');
    expect(out).toMatch(
      /✔ PutJobFailureResult \(JobFailed\): deployment shop\/web, container app: rejected by kyverno-notation-aws: the Pods were denied because of another image/,
    );
    expect(out).toContain('Rolled back: Deployment shop/web to revision 1.');
    expect(out).toContain(`cluster: Deployment shop/web revision 3 runs ${app}\n`);
    // 10: the CLI agrees.
    expect(out).toMatch(
      /✔ Successfully verified signature for .*demo\.stagesign\.local\/sample\/app@sha256:/,
    );
    expect(out).toContain('All 10 steps behaved as expected');
    expect(out).not.toContain('✘');
  });

  it('reuses the signing key on a second run and behaves the same', async () => {
    const second = await npmRunDemo(dir);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('ECDSA P-384 root CA and signing certificate, reused');
    expect(first.stdout).toContain('ECDSA P-384 root CA and signing certificate, created');
    expect(second.stdout).toContain('All 10 steps behaved as expected');
  }, 120_000);
});
