/**
 * deploy-manifest Lambda handler: wiring only. The environment is parsed at cold start (an
 * invalid one is reported on every job); the EKS connection (DescribeCluster results, tokens)
 * and the cluster clients are built once per container and cluster.
 */
import { EksConnection } from '../../shared/kube/eks-connection';
import { EksClusterConnector } from '../../shared/kube/kube-cluster';
import { createLogger } from '../../shared/log';
import { pipelineAction } from '../../shared/pipeline/action';
import { S3ArtifactStore } from '../../shared/pipeline/s3-artifact-store';
import { deployManifestAction } from './deploy-manifest';
import type { DeployManifestDeps } from './deploy-manifest';
import { parseDeployManifestEnvironment } from './params';

const environment = parseDeployManifestEnvironment(process.env);
const logger = createLogger('deploy-manifest');
const deps: DeployManifestDeps = {
  cluster: new EksClusterConnector(
    new EksConnection(environment.region ? { defaultRegion: environment.region } : {}),
  ),
  environment,
};

export const handler = pipelineAction(deployManifestAction(deps), {
  logger,
  artifacts: new S3ArtifactStore(),
});
