/**
 * `onRejection` for check-admission: undoes the rejected workloads through deploy-manifest's
 * rollback code (shared/kube/rollback.ts). `DEPLOYED` records the revision each workload reached;
 * the revision before it is the highest older one still in its history (ReplicaSets or
 * ControllerRevisions), as `kubectl rollout undo` picks it. A workload with no older revision was
 * created by the deploy: `rollback` deletes it, like deploy-manifest does for what it created.
 */
import type { CallOptions } from '../../shared/abort';
import type { KubeCluster } from '../../shared/kube/cluster';
import { describeRollback, ownedBy, revisionOf, rollBack, selectorOf } from '../../shared/kube/rollback';
import type { AppliedObject, PriorState } from '../../shared/kube/rollback';
import type { WorkloadToCheck } from './params';

const HISTORY: Record<string, string> = {
  Deployment: 'ReplicaSet',
  StatefulSet: 'ControllerRevision',
  DaemonSet: 'ControllerRevision',
};
const API_VERSION: Record<string, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
};

/** Undoes `workloads` per `mode`; returns one sentence saying what was rolled back or deleted. */
export async function undoWorkloads(
  cluster: KubeCluster,
  workloads: readonly WorkloadToCheck[],
  mode: 'rollback' | 'delete',
  options: CallOptions = {},
): Promise<string> {
  const applied: AppliedObject[] = [];
  for (const w of workloads) {
    const ref = {
      apiVersion: API_VERSION[w.kind] ?? 'v1',
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
    };
    applied.push({
      ref,
      prior: mode === 'delete' ? { existed: true } : await priorState(cluster, w, options),
    });
  }
  return describeRollback(await rollBack(cluster, applied, mode, options));
}

async function priorState(
  cluster: KubeCluster,
  w: WorkloadToCheck,
  options: CallOptions,
): Promise<PriorState> {
  const history = HISTORY[w.kind];
  const deployedRevision =
    w.revision !== undefined && /^\d+$/.test(w.revision) ? Number(w.revision) : undefined;
  if (!history || deployedRevision === undefined) return { existed: true };
  const workload = await cluster.get(
    { apiVersion: 'apps/v1', kind: w.kind, namespace: w.namespace, name: w.name },
    options,
  );
  if (!workload || workload.metadata.uid !== w.uid) return { existed: true };
  const selector = selectorOf(workload);
  const candidates = await cluster.list(
    'apps/v1',
    history,
    { namespace: w.namespace, ...(selector ? { labelSelector: selector } : {}) },
    options,
  );
  const older = ownedBy(candidates, workload)
    .map(revisionOf)
    .filter((n): n is number => n !== undefined && n < deployedRevision);
  return older.length > 0 ? { existed: true, revision: Math.max(...older) } : { existed: false };
}
