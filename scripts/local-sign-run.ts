/**
 * `npx tsx scripts/local-sign-run.ts` — runs the unchanged sign-image handler through
 * `npm run invoke` against local stand-ins, twice (sign, then the idempotent re-run):
 *
 * - the Debian docker-registry on 127.0.0.1 (distribution 2.8: referrers tag schema), with one
 *   test image pushed as `demo/app:v1`, reached through a counting proxy so that each run's
 *   registry requests can be printed (method and path; digests shortened);
 * - the AWS Signer stand-in (real SignerClient via AWS_ENDPOINT_URL_SIGNER), answering with
 *   AWS-shaped envelopes from the test signing authority;
 * - the invoker's local CodePipeline stand-in, which prints the report.
 *
 * Test-only tooling: it borrows the test helpers; nothing deployed imports it.
 *
 * Why the second run signs again here: see {@link RERUN_NOTE}. With AWS Signer's own envelopes
 * the second run reuses the first signature (no SignPayload); the unit and integration tests
 * show that reuse with the test root trusted.
 */
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** Printed before the second run: why it calls SignPayload again in this local set-up. */
const RERUN_NOTE = [
  'Note: the second run signs again. The deployed handler reuses an existing signature only if it',
  'verifies against the built-in AWS Signer root certificates (functions/sign-image/handler.ts passes',
  'no other trust store). The stand-in signs with the test signing authority, whose root is not one',
  'of them, so the first signature fails the trust-store step of the reuse check, is not reused, and',
  'a second SignPayload call adds a second signature. GetRevocationStatus is not called: the chain',
  'check fails before it. With envelopes from AWS Signer the second run reuses the first signature.',
].join('\n');

/** A pass-through HTTP proxy in front of the registry that records each request. */
async function countingProxy(target: string): Promise<{
  host: string;
  requests: string[];
  close(): Promise<void>;
}> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const [pathname = '', query = ''] = (req.url ?? '').split('?', 2);
    const shown = `${req.method} ${pathname.replace(/sha256([:-])([0-9a-f]{8})[0-9a-f]{56}/g, 'sha256$1$2…')}`;
    requests.push(new URLSearchParams(query).has('mount') ? `${shown}?mount=…` : shown);
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: Number(target.split(':')[1]),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        const headers = { ...answer.headers };
        // The registry answers with absolute upload URLs built from the Host header it was sent,
        // which is the proxy's; rewrite defensively in case it used its own address.
        if (typeof headers.location === 'string')
          headers.location = headers.location.replace(target, proxyHost());
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyHost = (): string => `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host: proxyHost(),
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<number> {
  const registry = await startDockerRegistry();
  const proxy = await countingProxy(registry.host);
  const signer = await startSignerStandIn();
  try {
    const { chain, leafKey } = loadTestSigningAuthority();
    signer.onSignPayload(awsShapedSigning({ privateKey: leafKey, certificateChain: chain }));
    const image = `${proxy.host}/demo/app:v1`;
    const desc = await pushTestImage(
      new DistributionRegistry({ plainHttp: true }),
      parseReference(image),
      'v1',
    );
    console.log(
      `pushed ${image} (${desc.digest}) to docker-registry at ${registry.url}, reached through a counting proxy at http://${proxy.host}`,
    );
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
      if (run === 'second run') console.log(`${RERUN_NOTE}\n`);
      proxy.requests.length = 0;
      const signPayloadBefore = signer.signPayloadRequests().length;
      const revocationBefore = signer.revocationRequests().length;
      console.log(`$ npm run invoke -- sign-image ${eventPath}   # ${run}`);
      // Asynchronously: the Signer stand-in answers from this process's event loop.
      const child = spawn('npx', ['tsx', 'scripts/invoke.ts', 'sign-image', eventPath], {
        env,
        stdio: 'inherit',
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      status ||= code ?? 1;
      const registryRequests = proxy.requests.filter((r) => r.split(' ')[1]?.startsWith('/v2/'));
      console.log(
        `${run}: ${registryRequests.length} registry requests, ` +
          `${signer.signPayloadRequests().length - signPayloadBefore} SignPayload, ` +
          `${signer.revocationRequests().length - revocationBefore} GetRevocationStatus`,
      );
      for (const line of registryRequests) console.log(`  ${line}`);
      console.log('');
    }
    return status;
  } finally {
    await signer.close();
    await proxy.close();
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
