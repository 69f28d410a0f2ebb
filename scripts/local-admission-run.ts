/**
 * `npx tsx scripts/local-admission-run.ts` — runs the unchanged check-admission handler through
 * `npm run invoke` against a local cluster, three times:
 *
 * 1. a signed image deployed to `prod`, which kyverno-notation-aws verifies → admitted, with the
 *    extension's success line as evidence;
 * 2. an unsigned image deployed over it → rejected (Shape A: the ReplicaSet's Pods are denied)
 *    and rolled back to the signed revision;
 * 3. the signed image deployed to `unpoliced`, a namespace no policy covers → unverified when
 *    its 10-second budget ends.
 *
 * The cluster is the fake HTTPS API server (test/helpers/fake-kube, controllers stepping in real
 * time) with kyverno-notation-aws emulated (test/helpers/fake-kube/kyverno-notation-aws.ts: its
 * Pods, and an admission hook that writes the verifier's real log lines); EKS DescribeCluster is
 * the local REST stand-in (test/helpers/eks-stand-in.ts) reached through AWS_ENDPOINT_URL_EKS, so
 * the handler's own EKS connection, token signing and client-node adapter run unchanged. Each
 * run's event is written like deploy-manifest's `DEPLOYED` for what was just applied.
 *
 * Test-only tooling: it borrows the test helpers; nothing deployed imports it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientNodeCluster } from '../shared/kube/kube-cluster';
import { startEksStandIn } from '../test/helpers/eks-stand-in';
import { startFakeKube } from '../test/helpers/fake-kube/index';
import type { FakeKube } from '../test/helpers/fake-kube/index';
import {
  EXTENSION_NAMESPACE,
  installKyvernoNotationAws,
  verdictFromDigests,
} from '../test/helpers/fake-kube/kyverno-notation-aws';
import { SIGNED, UNSIGNED, pinned as appImage } from '../test/fixtures/kyverno-logs/names';

const CLUSTER = 'prod';

/** Server-side applies the Deployment as deploy-manifest does and returns its `DEPLOYED` entry. */
async function deploy(cluster: ClientNodeCluster, fake: FakeKube, namespace: string, digest: string) {
  const appliedAt = new Date().toISOString();
  await cluster.apply(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: appImage(digest) }] },
        },
      },
    },
    { dryRun: false },
  );
  await fake.step(2);
  const d = fake.read('apps/v1', 'Deployment', namespace, 'web') as {
    metadata: { uid: string; generation: number; annotations?: Record<string, string> };
  };
  return {
    kind: 'Deployment',
    namespace,
    name: 'web',
    uid: d.metadata.uid,
    generation: d.metadata.generation,
    revision: d.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? null,
    appliedAt,
    images: [{ container: 'app', image: appImage(digest) }],
  };
}

function event(id: string, userParameters: Record<string, unknown>): Record<string, unknown> {
  return {
    'CodePipeline.job': {
      id,
      accountId: '123456789012',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'stagesign-check-admission',
            UserParameters: JSON.stringify(userParameters),
          },
        },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: {
          accessKeyId: 'AKIAFAKESTAGESIGN000',
          secretAccessKey: 'FAKE-stagesign-secret-access-key-never-log-me',
          sessionToken: 'FAKE-stagesign-session-token-never-log-me',
        },
      },
    },
  };
}

async function main(): Promise<number> {
  const fake = await startFakeKube({
    clusterName: CLUSTER,
    namespaces: ['prod', 'unpoliced', EXTENSION_NAMESPACE],
    controllers: { mode: 'interval', intervalMs: 200 },
  });
  const eks = await startEksStandIn({
    clusters: [{ name: CLUSTER, endpoint: fake.endpoint, caData: fake.caData }],
  });
  const cluster = new ClientNodeCluster({
    endpoint: fake.endpoint,
    caData: fake.caData,
    token: async () => fake.token(),
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'stagesign-admission-'));
  try {
    await installKyvernoNotationAws(fake, {
      shape: 'A',
      verdict: verdictFromDigests([SIGNED]),
      namespaces: ['prod'],
      replicas: 2,
    });
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL_EKS: eks.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'local-stand-in-secret',
      AWS_REGION: 'us-east-1',
      CLUSTER_NAME: CLUSTER,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    const runs: Array<[string, string, () => Promise<Record<string, unknown>>]> = [
      [
        'signed image in prod (policy check-images)',
        'c4a10001-aaaa-4bbb-8ccc-1234567890ab',
        async () => ({ deployed: [await deploy(cluster, fake, 'prod', SIGNED)] }),
      ],
      [
        'unsigned image over it',
        'c4a10002-aaaa-4bbb-8ccc-1234567890ab',
        async () => ({ deployed: [await deploy(cluster, fake, 'prod', UNSIGNED)], onRejection: 'rollback' }),
      ],
      [
        'signed image in a namespace no policy covers',
        'c4a10003-aaaa-4bbb-8ccc-1234567890ab',
        async () => ({ deployed: [await deploy(cluster, fake, 'unpoliced', SIGNED)], timeoutSeconds: 10 }),
      ],
    ];
    const codes: number[] = [];
    for (const [what, id, prepare] of runs) {
      const params = await prepare();
      const file = path.join(dir, `${id}.json`);
      writeFileSync(file, JSON.stringify(event(id, params), null, 2));
      console.log(`# ${what}\n# UserParameters: ${JSON.stringify(params)}`);
      console.log(`$ npm run invoke -- check-admission ${file}`);
      // Asynchronously: the fake cluster answers from this process's event loop.
      const child = spawn('npx', ['tsx', 'scripts/invoke.ts', 'check-admission', file], {
        env,
        stdio: 'inherit',
      });
      codes.push((await new Promise<number | null>((resolve) => child.once('exit', resolve))) ?? 1);
      const web = fake.read(
        'apps/v1',
        'Deployment',
        String((params.deployed as Array<{ namespace: string }>)[0]!.namespace),
        'web',
      ) as { spec: { template: { spec: { containers: Array<{ image: string }> } } } } | undefined;
      console.log(
        `# afterwards the Deployment runs: ${web ? web.spec.template.spec.containers[0]!.image : '(deleted)'}\n`,
      );
    }
    // Expected: admitted (0), rejected (1), unverified (1).
    const expected = [0, 1, 1];
    const ok = codes.every((c, i) => c === expected[i]);
    console.log(
      `exit codes ${codes.join(', ')} (expected ${expected.join(', ')}): ${ok ? 'as expected' : 'NOT as expected'}`,
    );
    return ok ? 0 : 1;
  } finally {
    cluster.close();
    await eks.close();
    await fake.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
