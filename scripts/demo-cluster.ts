/**
 * The demo's EKS cluster: the in-process HTTPS Kubernetes API server the tests use
 * (test/helpers/fake-kube: test CA, EKS bearer-token checks, Deployment/ReplicaSet controllers and
 * a kubelet that records `imageID`), with kyverno-notation-aws emulated as the cluster's admission
 * (Kyverno's `check-images` policy on Pods, the extension's Pods and their real log lines). The
 * extension's trust is the `TrustPolicy` and `TrustStore` resources `stagesign policy export
 * --kyverno` wrote from the pipeline's own notation configuration, and each image is judged by
 * stagesign's own verifier against the demo registry: one trust policy for pipeline and cluster.
 *
 * The stages reach it through the same client-node adapter as in Lambda (`ClientNodeCluster`:
 * TLS verified against the cluster CA, a bearer token per request); only EKS DescribeCluster and
 * the STS-presigned token are replaced by the server's address and a well-formed test token.
 */
import type { ClusterConnector } from '../shared/kube/cluster';
import { ClientNodeCluster } from '../shared/kube/kube-cluster';
import type { KubernetesObject } from '../shared/kube/kyverno-trust-resources';
import type { RevocationChecker } from '../shared/notary/types';
import type { Registry } from '../shared/oci/registry';
import { startFakeKube } from '../test/helpers/fake-kube/index';
import type { FakeKube } from '../test/helpers/fake-kube/index';
import { installKyvernoNotationAws } from '../test/helpers/fake-kube/kyverno-notation-aws';
import type { KyvernoNotationAws } from '../test/helpers/fake-kube/kyverno-notation-aws';
import {
  clusterPolicySettings,
  extensionTrust,
  notationVerdict,
} from '../test/helpers/fake-kube/notation-extension';

export const DEMO_CLUSTER = 'stagesign-demo';

export interface DemoClusterOptions {
  /** What `stagesign policy export --kyverno --cluster-policy` printed, parsed. */
  readonly resources: readonly KubernetesObject[];
  readonly registry: Registry;
  readonly revocationChecker: RevocationChecker;
}

export interface DemoCluster {
  readonly kube: FakeKube;
  readonly extension: KyvernoNotationAws;
  /** What the stages connect through (one client for the whole demo). */
  readonly connector: ClusterConnector;
  close(): Promise<void>;
}

export async function startDemoCluster(options: DemoClusterOptions): Promise<DemoCluster> {
  // The cluster runs what the export wrote: the ClusterPolicy's namespaces, policy, rule and
  // failurePolicy, and the trust policy it names with every TrustStore.
  const policy = clusterPolicySettings(options.resources);
  const trust = extensionTrust(options.resources, policy.trustPolicy);
  // Controllers step when a stage reads a workload (as if the cluster kept working between polls).
  const kube = await startFakeKube({
    clusterName: DEMO_CLUSTER,
    namespaces: policy.namespaces,
    controllers: { mode: 'poll' },
  });
  try {
    const extension = await installKyvernoNotationAws(kube, {
      shape: 'A',
      ...policy,
      replicas: 2,
      verdict: notationVerdict({
        registry: options.registry,
        trust,
        revocationChecker: options.revocationChecker,
      }),
    });
    const client = new ClientNodeCluster({
      endpoint: kube.endpoint,
      caData: kube.caData,
      token: () => Promise.resolve(kube.token()),
    });
    return {
      kube,
      extension,
      connector: { connect: () => Promise.resolve(client) },
      close: async () => {
        client.close();
        await kube.close();
      },
    };
  } catch (error) {
    await kube.close();
    throw error;
  }
}
