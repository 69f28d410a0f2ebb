import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJob } from '../../../shared/pipeline/job';
import { S3ArtifactStore } from '../../../shared/pipeline/s3-artifact-store';
import { readZip, writeZip } from '../../../shared/pipeline/zip';
import { jobEvent } from '../../helpers/codepipeline-events';
import { suiteTitle } from '../../helpers/skip-notice';

/**
 * A real S3 round-trip of artifact zips against moto (`python -m moto.server`), with the job's
 * artifact credentials, path-style addressing and SSE-KMS on upload.
 */
const python = process.env.PYTHON ?? 'python3';
const motoAvailable = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
const required = process.env.STAGESIGN_REQUIRE_INTEGRATION === '1';
const SUITE = suiteTitle(
  'S3ArtifactStore against moto',
  motoAvailable || required,
  `\`${python} -c "import moto.server"\` failed; install moto with \`pip install "moto[server]==5.2.1"\` (or set PYTHON to an interpreter that has it)`,
);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe.skipIf(!motoAvailable && !required)(SUITE, () => {
  let moto: ChildProcess | undefined;
  let endpoint = '';
  const env = () => ({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint });

  beforeAll(async () => {
    if (!motoAvailable)
      throw new Error('moto is required (STAGESIGN_REQUIRE_INTEGRATION=1) but `import moto.server` failed');
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`${endpoint}/moto-api/`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('moto did not start');
  });

  afterAll(() => {
    moto?.kill();
  });

  it('reads an input zip and writes an output zip with SSE-KMS using the job credentials', async () => {
    const location = (key: string) => ({
      type: 'S3',
      s3Location: { bucketName: 'artifacts', objectKey: key },
    });
    const job = parseJob(
      jobEvent('{}', {
        inputArtifacts: [{ name: 'In', revision: null, location: location('p/In/a') }],
        outputArtifacts: [{ name: 'Out', revision: null, location: location('p/Out/b') }],
        encryptionKey: {
          id: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          type: 'KMS',
        },
      }),
    );
    const admin = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' },
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
    await admin.send(
      new PutObjectCommand({
        Bucket: 'artifacts',
        Key: 'p/In/a',
        Body: writeZip(new Map([['app/deploy.yaml', new TextEncoder().encode('kind: Deployment')]])),
      }),
    );

    const store = new S3ArtifactStore({ env: env() });
    const files = await store.read(job, job.inputArtifacts[0]!);
    expect(new TextDecoder().decode(files.get('app/deploy.yaml'))).toBe('kind: Deployment');

    await store.write(
      job,
      job.outputArtifacts[0]!,
      new Map([['signature.jws', new TextEncoder().encode('{"sig":1}')]]),
    );
    const written = await admin.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'p/Out/b' }));
    expect(written.ServerSideEncryption).toBe('aws:kms');
    expect(written.SSEKMSKeyId).toContain('1234abcd-12ab-34cd-56ef-1234567890ab');
    const zip = readZip(await written.Body!.transformToByteArray());
    expect(new TextDecoder().decode(zip.get('signature.jws'))).toBe('{"sig":1}');
    admin.destroy();
  });
});
