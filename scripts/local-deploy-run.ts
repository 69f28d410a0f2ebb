/**
 * `npx tsx scripts/local-deploy-run.ts [event ...]` — runs the unchanged deploy-manifest handler
 * through `npm run invoke` on sample events (default: happy-path, unsigned-image,
 * pod-rejected-rollback), each against a fresh fake EKS cluster:
 *
 * - the in-process HTTPS fake Kubernetes API server (test CA, EKS token checks) with
 *   kyverno-notation-aws installed (Shape A: the Pod-only `check-images` mutate policy) that
 *   accepts only the signed digest;
 * - an EKS DescribeCluster stand-in (the real EKSClient, via AWS_ENDPOINT_URL_EKS) and an S3
 *   GetObject stand-in serving the event's input artifact (via AWS_ENDPOINT_URL_S3);
 * - the invoker's local CodePipeline stand-in, which prints the report.
 *
 * After each run it prints what the cluster received (every request, dry runs marked) and the
 * Deployment's image. Test-only tooling: it borrows the test helpers; nothing deployed imports it.
 */
import { spawn } from 'node:child_process';
import {
  NAMESPACE,
  startArtifactStandIn,
  startDeployScenario,
} from '../test/helpers/deploy-manifest-scenarios';
import { startEksStandIn } from '../test/helpers/eks-stand-in';

const DEFAULT_EVENTS = ['happy-path', 'unsigned-image', 'pod-rejected-rollback'];

async function runOne(event: string, artifactsEndpoint: string): Promise<number> {
  const scenario = await startDeployScenario(event);
  const { kube } = scenario;
  const eks = await startEksStandIn({
    region: kube.region,
    clusters: [{ name: kube.clusterName, endpoint: kube.endpoint, caData: kube.caData }],
  });
  try {
    const before = deploymentImage(kube);
    console.log(`\n=== ${event} ===`);
    console.log(
      `fake cluster ${kube.clusterName} at ${kube.endpoint}; Deployment ${NAMESPACE}/web before: ${before ?? '(none)'}`,
    );
    console.log(`$ npm run invoke -- deploy-manifest events/deploy-manifest/${event}.json`);
    const env = {
      ...process.env,
      AWS_REGION: kube.region,
      AWS_ACCESS_KEY_ID: 'AKIDLOCALDEPLOYROLE0',
      AWS_SECRET_ACCESS_KEY: 'local-stand-in-secret',
      AWS_ENDPOINT_URL_EKS: eks.endpoint,
      AWS_ENDPOINT_URL_S3: artifactsEndpoint,
      CLUSTER_NAME: kube.clusterName,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    const status = await new Promise<number>((resolve) => {
      const child = spawn(
        'npx',
        ['tsx', 'scripts/invoke.ts', 'deploy-manifest', `events/deploy-manifest/${event}.json`],
        {
          env,
          stdio: 'inherit',
        },
      );
      child.on('exit', (code) => resolve(code ?? 1));
    });
    console.log(`exit status ${status}`);
    console.log(`DescribeCluster calls: ${eks.requests.length}`);
    console.log(
      `Kubernetes API requests (${kube.requests.all.length}, ${kube.requests.writes().length} non-dry-run writes):`,
    );
    for (const r of kube.requests.all) {
      const query = r.query.dryRun ? ' dryRun=All' : '';
      const type = r.contentType && r.method === 'PATCH' ? ` [${r.contentType}]` : '';
      console.log(`  ${r.method} ${r.path}${query}${type} -> ${r.status}`);
    }
    console.log(`Deployment ${NAMESPACE}/web after: ${deploymentImage(kube) ?? '(none)'}`);
    return status;
  } finally {
    await eks.close();
    await scenario.close();
  }
}

function deploymentImage(kube: Awaited<ReturnType<typeof startDeployScenario>>['kube']): string | undefined {
  const d = kube.read('apps/v1', 'Deployment', NAMESPACE, 'web') as
    { spec: { template: { spec: { containers: Array<{ image: string }> } } } } | undefined;
  return d?.spec.template.spec.containers[0]?.image;
}

async function main(): Promise<void> {
  const events = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_EVENTS;
  const artifacts = await startArtifactStandIn();
  try {
    for (const event of events) await runOne(event, artifacts.endpoint);
  } finally {
    await artifacts.close();
  }
}

await main();
