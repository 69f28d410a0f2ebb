/**
 * Serves one attack of test/helpers/hostile-registry.ts on 127.0.0.1 and writes a verify-image
 * event naming its image, for measuring the real stage against it (figures go to the closing
 * note, never to tests):
 *
 *   npx tsx bench/hostile-registry.ts <attack> <event-out.json> [--port N] [key=value …]
 *   NODE_OPTIONS=--max-old-space-size=450 /usr/bin/time -v \
 *     npm run invoke -- verify-image <event-out.json>
 *
 * Attacks and their knobs (defaults in parentheses):
 *   junk-x5c         certificates (30000)
 *   token-bomb       inflatedBytes (8 GiB), gzip (true)
 *   referrer-pages   pageBytes (4 MiB minus 1 KiB), artifactType (the Notary signature type)
 *   many-signatures  signatures (101), manifestBytes (4 MiB minus 1 KiB)
 *
 * The stage needs SIGNING_PROFILE_ARN (the default trust policy) in its environment. Stops on
 * SIGINT/SIGTERM and prints the request counts.
 */
import { writeFileSync } from 'node:fs';
import { HostileRegistry, type HostileAttack } from '../test/helpers/hostile-registry';

const MiB = 1024 * 1024;

function attackFrom(kind: string, knobs: Record<string, string>): HostileAttack {
  const n = (key: string, fallback: number) => (knobs[key] !== undefined ? Number(knobs[key]) : fallback);
  switch (kind) {
    case 'junk-x5c':
      return { kind, certificates: n('certificates', 30_000) };
    case 'token-bomb':
      return { kind, inflatedBytes: n('inflatedBytes', 8 * 1024 * MiB), gzip: knobs.gzip !== 'false' };
    case 'referrer-pages':
      return {
        kind,
        pageBytes: n('pageBytes', 4 * MiB - 1024),
        ...(knobs.artifactType ? { artifactType: knobs.artifactType } : {}),
      };
    case 'many-signatures':
      return { kind, signatures: n('signatures', 101), manifestBytes: n('manifestBytes', 4 * MiB - 1024) };
    default:
      throw new Error(`unknown attack ${kind}: junk-x5c, token-bomb, referrer-pages or many-signatures`);
  }
}

const [kind, eventPath, ...rest] = process.argv.slice(2);
if (kind === undefined || eventPath === undefined) {
  console.error(
    'usage: npx tsx bench/hostile-registry.ts <attack> <event-out.json> [--port N] [key=value …]',
  );
  process.exit(2);
}
let port = 0;
const knobs: Record<string, string> = {};
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--port') port = Number(rest[++i]);
  else {
    const [key, value] = rest[i]!.split('=');
    knobs[key!] = value ?? '';
  }
}
const registry = await HostileRegistry.start(attackFrom(kind, knobs), port);
const event = {
  'CodePipeline.job': {
    id: `e1f09000-aaaa-4bbb-8ccc-${Date.now().toString().padStart(12, '0').slice(-12)}`,
    accountId: '123456789012',
    data: {
      actionConfiguration: {
        configuration: {
          FunctionName: 'stagesign-verify-image',
          UserParameters: JSON.stringify({ image: registry.image }),
        },
      },
      inputArtifacts: [],
      outputArtifacts: [],
      artifactCredentials: {
        accessKeyId: 'AKIAFAKESTAGESIGN000',
        secretAccessKey: 'FAKE-stagesign-secret-access-key-never-log-me',
        sessionToken: 'FAKE-stagesign-session-token-never-log-me',
        expirationTime: 1893456000000,
      },
    },
  },
};
writeFileSync(eventPath, `${JSON.stringify(event, null, 2)}\n`);
console.log(`hostile registry (${kind}) at ${registry.host}; image ${registry.image}; event ${eventPath}`);
const stop = (): void => {
  console.log(`requests ${JSON.stringify(registry.requests)}; body bytes sent ${registry.bytesSent}`);
  void registry.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
