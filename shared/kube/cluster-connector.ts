/**
 * The `connect` dependency both Kubernetes stages take: a cluster name (or ARN) to a
 * {@link KubeCluster}, built once per container and cluster over one {@link EksConnection}
 * (DescribeCluster results cached, tokens re-signed before they age). Adapter.
 */
import type { CallOptions } from '../abort';
import type { KubeCluster } from './cluster';
import type { EksConnection } from './eks-connection';
import { ClientNodeCluster } from './kube-cluster';

/** `connect(clusterName, options)` over `eks`, caching one client per cluster. */
export function clusterConnector(
  eks: EksConnection,
): (clusterName: string, options: CallOptions) => Promise<KubeCluster> {
  const clusters = new Map<string, KubeCluster>();
  return async (clusterName, options) => {
    const endpoint = await eks.describe(clusterName, options);
    const key = `${endpoint.region}/${endpoint.name}`;
    let cluster = clusters.get(key);
    if (!cluster) {
      cluster = new ClientNodeCluster({
        endpoint: endpoint.endpoint,
        caData: endpoint.caData,
        token: () => eks.token(endpoint),
      });
      clusters.set(key, cluster);
    }
    return cluster;
  };
}
