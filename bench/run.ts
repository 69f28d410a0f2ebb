/**
 * Benchmarks with targets (`npm run bench`). Timings live here, never in tests.
 *
 *   bundle     size of each dist/<stage>/handler.mjs that `npm run build` produced from template.yaml
 *   cold start every stage (issue 13 item 7): a fresh Node process importing the bundle against a
 *              fresh `node -e 0` run just before it (bare, sign-image, bare, verify-image, …, then
 *              the next round) so that load on the machine slows both alike; the median of the
 *              pairs' ratios (wall time) is held to ≤ 2.9× (sign-image, verify-image) and ≤ 4×
 *              (deploy-manifest, check-admission). Run with this shell's environment; when
 *              NODE_EXTRA_CA_CERTS or NODE_OPTIONS is set (they slow every Node start, bare
 *              included), the ratio without them, as a Lambda runtime starts Node, is shown too.
 *              Also the import alone, timed inside the process (our code's share of INIT; the
 *              runtime's own start is not included), and the RSS after it
 *   verify     median and p95 time of one `verifySignature` on the AWS-shaped fixture (ES384, four
 *              P-384 certificates, revocation through an in-memory checker)
 *   deploy     deploy-manifest's own targets (issue 11): bundle ≤ 2.6 MB; a 50-workload manifest
 *              (50 Deployments + 50 Services) read, pinned, dry-run (100 objects + 50 Pods) and
 *              applied by one invocation against the in-process fake API server, and the pure
 *              planning (parse + order + pin) alone
 *
 * Exit status 1 when a figure misses its target. Options: --runs N (cold starts, default 15),
 * --iterations N (verifications, default 300), --no-build (use the existing dist/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { verifySignature } from '../shared/notary/verifier';
import { TrustStoreSet, trustStoreFromPem } from '../shared/notary/trust-store';
import type { TrustPolicyStatement } from '../shared/notary/trust-policy';
import type { RevocationChecker } from '../shared/notary/types';
import { AWS_FIXTURE, loadTestSigningAuthority } from '../test/helpers/test-signing-authority';
import { BARE_NODE, coldImport, importCase, median, pairedProcessMs } from './lib/cold-import';
import { deployManifestAction } from '../functions/deploy-manifest/deploy-manifest';
import { parseDeployManifestEnvironment } from '../functions/deploy-manifest/params';
import { pinImages } from '../shared/kube/image-pinning';
import { ClientNodeCluster } from '../shared/kube/kube-cluster';
import { inInstallOrder, parseManifests } from '../shared/kube/manifests';
import { createLogger } from '../shared/log';
import { RecordingReporter, runPipelineAction } from '../shared/pipeline';
import { jobEvent } from '../test/helpers/codepipeline-events';
import { startFakeKube } from '../test/helpers/fake-kube';

const DEPLOY_ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DEPLOY_DIGEST = `sha256:${'a1'.repeat(32)}`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KiB = 1024;

/** Targets. Bundles are measured as SAM ships them (minified, SDK bundled, no source map). */
const TARGETS = {
  bundleBytes: 1024 * KiB,
  coldRssBytes: 120 * 1024 * KiB,
  verifyMedianMs: 10,
};
/**
 * Cold start (issue 13 item 7): a fresh process importing the stage's bundle against a fresh
 * `node -e 0` on the same machine, both median wall time, the two taking turns. The Kubernetes
 * stages carry client-node's generated models, hence their larger allowance.
 */
const IMPORT_VS_BARE_NODE: Readonly<Record<string, number>> = {
  'sign-image': 2.9,
  'verify-image': 2.9,
  'deploy-manifest': 4,
  'check-admission': 4,
};
/**
 * deploy-manifest carries @kubernetes/client-node (its generated models are not tree-shaken), so
 * it has its own targets (issue 11 "Performance").
 */
const DEPLOY_TARGETS = {
  bundleBytes: 2.6 * 1000 * 1000,
  coldRssBytes: 160 * 1024 * KiB,
  /** One invocation for 50 workloads: well inside the function's 120 s Timeout. */
  fiftyWorkloadsMs: 30_000,
  planMs: 1_000,
};

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    iterations: { type: 'string', default: '300' },
    'no-build': { type: 'boolean', default: false },
  },
});

interface Row {
  name: string;
  value: string;
  target: string;
  ok: boolean;
}
const rows: Row[] = [];

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!;
}

// --- bundles and cold start -------------------------------------------------------------------
if (!values['no-build']) execFileSync('npx', ['tsx', 'scripts/build.ts'], { cwd: ROOT, stdio: 'ignore' });
const dist = join(ROOT, 'dist');
const stages = existsSync(dist)
  ? readdirSync(dist)
      .filter((d) => statSync(join(dist, d)).isDirectory())
      .sort()
  : [];
if (stages.length === 0) throw new Error('no bundles in dist/: run npm run build');
const missingTarget = stages.filter((stage) => IMPORT_VS_BARE_NODE[stage] === undefined);
if (missingTarget.length > 0)
  throw new Error(`no cold-start target for ${missingTarget.join(', ')}: add it to IMPORT_VS_BARE_NODE`);

const runsN = Number(values.runs);
const PROBE_VARS = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn,
};
/**
 * "The same machine": bare node and the bundles run with this shell's environment (npm's own
 * npm_* variables left out), so the figures are what `time node -e 0` shows here. Variables that
 * change every Node start, e.g. NODE_EXTRA_CA_CERTS (Node loads the file before any code), slow
 * bare node and the bundles alike; they are named in the output.
 */
const shellEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_'))),
  ...PROBE_VARS,
};
const startupVars = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'].filter((k) => process.env[k]);
/** Only PATH and the probe variables: a Lambda runtime starts Node without NODE_EXTRA_CA_CERTS (nodejs20.x and later). */
const cleanEnv: NodeJS.ProcessEnv = { PATH: process.env['PATH'], ...PROBE_VARS };
const cases = stages.map((stage) => importCase(stage, join(dist, stage, 'handler.mjs')));

function coldStartRows(env: NodeJS.ProcessEnv, label: string, target: boolean): void {
  const samples = pairedProcessMs(BARE_NODE, cases, runsN, env);
  for (const stage of stages) {
    const { ms, bareMs, ratios } = samples.get(stage)!;
    const ratio = median(ratios);
    const limit = IMPORT_VS_BARE_NODE[stage]!;
    rows.push({
      name: `${stage} cold start vs bare node${label}`,
      value: `${median(ms).toFixed(0)} / ${median(bareMs).toFixed(0)} ms, ${ratio.toFixed(2)}×`,
      target: target ? `≤ ${limit}×` : '-',
      ok: !target || ratio <= limit,
    });
  }
}
coldStartRows(shellEnv, ` (median of ${runsN} pairs)`, true);
if (startupVars.length > 0)
  coldStartRows(cleanEnv, ` without ${startupVars.join(', ')} (as on Lambda)`, false);

for (const stage of stages) {
  const bundle = join(dist, stage, 'handler.mjs');
  const size = statSync(bundle).size;
  // Both Kubernetes stages carry client-node: check-admission is held to deploy-manifest's targets.
  const deploy = stage === 'deploy-manifest' || stage === 'check-admission';
  const bundleTarget = deploy ? DEPLOY_TARGETS.bundleBytes : TARGETS.bundleBytes;
  rows.push({
    name: `${stage} bundle`,
    value: `${(size / KiB).toFixed(1)} KiB`,
    target: `≤ ${(bundleTarget / KiB).toFixed(0)} KiB`,
    ok: size <= bundleTarget,
  });
  const {
    ms: t,
    rss: mem,
    runs,
  } = coldImport(bundle, runsN, { SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn });
  rows.push({
    name: `${stage} import inside the process (median of ${runs})`,
    value: `${t.toFixed(1)} ms`,
    // The target is the whole process against bare node above; this is the share of our code.
    target: '-',
    ok: true,
  });
  const rssTarget = deploy ? DEPLOY_TARGETS.coldRssBytes : TARGETS.coldRssBytes;
  rows.push({
    name: `${stage} RSS after import`,
    value: `${(mem / KiB / KiB).toFixed(1)} MiB`,
    target: `≤ ${rssTarget / KiB / KiB} MiB`,
    ok: mem <= rssTarget,
  });
}

// --- verification -----------------------------------------------------------------------------
const envelope = new Uint8Array(
  readFileSync(join(ROOT, 'test/fixtures/notary/envelopes/aws_valid.jws.json')),
);
const { rootPem } = loadTestSigningAuthority();
const trustStores = new TrustStoreSet([trustStoreFromPem('signingAuthority', 'test-signer-ts', rootPem)]);
const policy: TrustPolicyStatement = {
  name: 'bench',
  registryScopes: ['*'],
  signatureVerification: { level: 'strict' },
  trustStores: [AWS_FIXTURE.trustStore],
  trustedIdentities: [AWS_FIXTURE.profileArn],
};
const revocationChecker: RevocationChecker = { getRevocationStatus: async () => ({ revokedEntities: [] }) };
const now = new Date('2026-01-01T00:00:00Z');
const input = {
  envelope,
  envelopeMediaType: 'application/jose+json',
  target: AWS_FIXTURE.target,
  policy,
  trustStores,
  revocationChecker,
  now,
};
const first = await verifySignature(input);
if (!first.passed) throw new Error(`the fixture did not verify: ${first.error ?? 'unknown'}`);
const samples: number[] = [];
for (let i = 0; i < Number(values.iterations); i++) {
  const t0 = performance.now();
  await verifySignature(input);
  samples.push(performance.now() - t0);
}
const vMedian = median(samples);
rows.push({
  name: `verifySignature AWS-shaped (median of ${samples.length})`,
  value: `${vMedian.toFixed(2)} ms (p95 ${percentile(samples, 95).toFixed(2)} ms)`,
  target: `≤ ${TARGETS.verifyMedianMs} ms`,
  ok: vMedian <= TARGETS.verifyMedianMs,
});

// --- deploy-manifest: 50 workloads in one invocation ----------------------------------------------
{
  const verified = [
    {
      image: `${DEPLOY_ECR}/app:v1`,
      imageUri: `${DEPLOY_ECR}/app@${DEPLOY_DIGEST}`,
      digest: DEPLOY_DIGEST,
      name: 'web',
    },
  ];
  const manifest = Array.from({ length: 50 }, (_, i) =>
    [
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web-${i} }\nspec:\n  replicas: 2\n  selector: { matchLabels: { app: web-${i} } }\n  template:\n    metadata: { labels: { app: web-${i} } }\n    spec:\n      containers: [{ name: web, image: image }, { name: sidecar, image: ${DEPLOY_ECR}/app:v1 }]\n`,
      `apiVersion: v1\nkind: Service\nmetadata: { name: web-${i} }\nspec:\n  selector: { app: web-${i} }\n  ports: [{ port: 80 }]\n`,
    ].join('---\n'),
  ).join('---\n');
  const files = new Map([['k8s/app.yaml', new TextEncoder().encode(manifest)]]);
  const planSamples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    pinImages(inInstallOrder(parseManifests(files, ['k8s/app.yaml'], 'prod')), verified, []);
    planSamples.push(performance.now() - t0);
  }
  const planMs = median(planSamples);
  rows.push({
    name: 'deploy-manifest plan + pin of 50 workloads (median of 20)',
    value: `${planMs.toFixed(1)} ms`,
    target: `≤ ${DEPLOY_TARGETS.planMs} ms`,
    ok: planMs <= DEPLOY_TARGETS.planMs,
  });

  const kube = await startFakeKube({ namespaces: ['prod'] });
  const cluster = new ClientNodeCluster({
    endpoint: kube.endpoint,
    caData: kube.caData,
    token: () => Promise.resolve(kube.token()),
  });
  try {
    const reporter = new RecordingReporter();
    const event = jobEvent(
      JSON.stringify({
        clusterName: 'prod',
        manifests: 'k8s/',
        namespace: 'prod',
        verifiedImages: verified,
        wait: false,
      }),
      {
        inputArtifacts: [
          { name: 'SourceOutput', location: { type: 'S3', s3Location: { bucketName: 'b', objectKey: 'k' } } },
        ],
      },
    );
    const t0 = performance.now();
    await runPipelineAction(
      event,
      { awsRequestId: 'bench', getRemainingTimeInMillis: () => 120_000 },
      deployManifestAction({
        cluster: { connect: () => Promise.resolve(cluster) },
        environment: parseDeployManifestEnvironment({}),
      }),
      {
        reporter,
        artifacts: {
          read: () => Promise.resolve(files),
          write: () => Promise.reject(new Error('no output')),
        },
        logger: createLogger('deploy-manifest'),
      },
    );
    const ms = performance.now() - t0;
    const report = reporter.reports[0];
    const oneInvocation = report?.kind === 'success';
    rows.push({
      name: `deploy-manifest 50 workloads: plan, pin, dry-run, apply (${kube.requests.dryRuns().length} dry runs, ${kube.requests.all.length} requests)`,
      value: `${ms.toFixed(0)} ms${oneInvocation ? '' : ` (${report?.kind ?? 'no report'})`}`,
      target: `one invocation, ≤ ${DEPLOY_TARGETS.fiftyWorkloadsMs} ms`,
      ok: oneInvocation && ms <= DEPLOY_TARGETS.fiftyWorkloadsMs,
    });
  } finally {
    cluster.close();
    await kube.close();
  }
}

// --- report -------------------------------------------------------------------------------------
const width = Math.max(...rows.map((r) => r.name.length));
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
for (const r of rows) {
  console.log(
    `${r.ok ? 'ok  ' : 'MISS'} ${r.name.padEnd(width)}  ${r.value.padStart(28)}   target ${r.target}`,
  );
}
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
