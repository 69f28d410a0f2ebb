/**
 * `npx tsx scripts/local-sign-run.ts` — runs the unchanged sign-image handler through
 * `npm run invoke` against local stand-ins, twice (sign, then the idempotent re-run):
 *
 * - the Debian docker-registry on 127.0.0.1 (distribution 2.8: referrers tag schema), with one
 *   test image pushed as `demo/app:v1`;
 * - the AWS Signer stand-in (real SignerClient via AWS_ENDPOINT_URL_SIGNER), answering with
 *   AWS-shaped envelopes from the test signing authority;
 * - the invoker's local CodePipeline stand-in, which prints the report.
 *
 * Test-only tooling: it borrows the test helpers; nothing deployed imports it. The deployed reuse
 * check trusts only the AWS Signer roots, so the re-run signs again with test envelopes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DistributionRegistry } from '../shared/oci/distribution-registry';
import { parseReference } from '../shared/oci/reference';
import { startDockerRegistry } from '../test/helpers/docker-registry';
import { awsShapedSigning, startSignerStandIn } from '../test/helpers/signer-stand-in';
import { loadTestSigningAuthority } from '../test/helpers/test-signing-authority';
import { pushTestImage } from '../test/integration/sign-image/support';

const PROFILE_ARN = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/stagesign_local';

async function main(): Promise<number> {
  const registry = await startDockerRegistry();
  const signer = await startSignerStandIn();
  try {
    const { chain, leafKey } = loadTestSigningAuthority();
    signer.onSignPayload(awsShapedSigning({ privateKey: leafKey, certificateChain: chain }));
    const image = `${registry.host}/demo/app:v1`;
    const desc = await pushTestImage(
      new DistributionRegistry({ plainHttp: true }),
      parseReference(image),
      'v1',
    );
    console.log(`pushed ${image} (${desc.digest}) to docker-registry at ${registry.url}`);
    console.log(`Signer stand-in at ${signer.endpoint}; signing profile ${PROFILE_ARN}\n`);

    const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-local-sign-'));
    const eventPath = path.join(dir, 'event.json');
    writeFileSync(
      eventPath,
      JSON.stringify({
        'CodePipeline.job': {
          id: '10ca1000-aaaa-4bbb-8ccc-1234567890ab',
          accountId: '111122223333',
          data: {
            actionConfiguration: {
              configuration: {
                FunctionName: 'stagesign-sign-image',
                UserParameters: JSON.stringify({ image }),
              },
            },
            inputArtifacts: [],
            outputArtifacts: [],
            artifactCredentials: {
              accessKeyId: 'AKIALOCALFAKE',
              secretAccessKey: 'local-fake',
              sessionToken: 'local-fake',
            },
          },
        },
      }),
    );
    const env = {
      ...process.env,
      SIGNING_PROFILE_ARN: PROFILE_ARN,
      AWS_ENDPOINT_URL_SIGNER: signer.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'local-stand-in-secret',
      AWS_REGION: 'us-west-2',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    let status = 0;
    for (const run of ['first run', 'second run']) {
      console.log(`$ npm run invoke -- sign-image ${eventPath}   # ${run}`);
      // Asynchronously: the Signer stand-in answers from this process's event loop.
      const child = spawn('npx', ['tsx', 'scripts/invoke.ts', 'sign-image', eventPath], {
        env,
        stdio: 'inherit',
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      status ||= code ?? 1;
      console.log(`SignPayload requests so far: ${signer.signPayloadRequests().length}\n`);
    }
    return status;
  } finally {
    await signer.close();
    await registry.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
