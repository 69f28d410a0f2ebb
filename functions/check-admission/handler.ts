/**
 * check-admission Lambda handler: wiring only. The environment is parsed at cold start (an
 * invalid one is reported on every job); the EKS connection and the cluster clients are built
 * once per container and cluster.
 */
import { EksConnection } from '../../shared/kube/eks-connection';
import { EksClusterConnector } from '../../shared/kube/kube-cluster';
import { createLogger } from '../../shared/log';
// From action.ts itself, not the pipeline index: this stage reads no artifacts, so its bundle has no S3 client.
import { pipelineAction } from '../../shared/pipeline/action';
import { checkAdmissionAction } from './check-admission';
import { parseCheckAdmissionEnvironment } from './params';

const environment = parseCheckAdmissionEnvironment(process.env);
const logger = createLogger('check-admission');
const eks = new EksConnection(environment.region ? { defaultRegion: environment.region } : {});

export const handler = pipelineAction(
  checkAdmissionAction({ environment, cluster: new EksClusterConnector(eks) }),
  {
    logger,
  },
);
