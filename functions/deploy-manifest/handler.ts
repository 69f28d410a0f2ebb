/**
 * deploy-manifest Lambda handler: wiring only. The environment is parsed at cold start (an
 * invalid one is reported on every job); the EKS connection (DescribeCluster results, tokens)
 * and the cluster clients are built once per container and cluster.
 */
import type { CallOptions } from '../../shared/abort';
import type { KubeCluster } from '../../shared/kube/cluster';
import { EksConnection } from '../../shared/kube/eks-connection';
import { ClientNodeCluster } from '../../shared/kube/kube-cluster';
import { createLogger } from '../../shared/log';
import { pipelineAction } from '../../shared/pipeline';
import { deployManifestAction } from './deploy-manifest';
import { parseDeployManifestEnvironment } from './params';

const environment = parseDeployManifestEnvironment(process.env);
const logger = createLogger('deploy-manifest');
const eks = new EksConnection({ ...(environment.region ? { defaultRegion: environment.region } : {}) });
const clusters = new Map<string, KubeCluster>();

async function connect(clusterName: string, options: CallOptions): Promise<KubeCluster> {
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
}

export const handler = pipelineAction(deployManifestAction({ connect, environment }), { logger });
