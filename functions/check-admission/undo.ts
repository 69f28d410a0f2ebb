/**
 * `onRejection` for check-admission: undoes the rejected workloads through deploy-manifest's
 * rollback code (shared/kube/rollback.ts). `DEPLOYED` records the revision each workload reached;
 * the revision before it is the highest older one still in its history (ReplicaSets or
 * ControllerRevisions), as `kubectl rollout undo` picks it. A workload with no older revision was
 * created by the deploy: `rollback` deletes it, like deploy-manifest does for what it created.
 */
import type { CallOptions } from '../../shared/abort';
import type { KubeCluster, KubeObject } from '../../shared/kube/cluster';
import {
  controllerRevisionOf,
  describeRollback,
  generationObserved,
  ownedBy,
  revisionOf,
  rollBack,
  selectorOf,
} from '../../shared/kube/rollback';
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
  if (!history) return { existed: true };
  const workload = await cluster.get(
    { apiVersion: 'apps/v1', kind: w.kind, namespace: w.namespace, name: w.name },
    options,
  );
  if (!workload || workload.metadata.uid !== w.uid) return { existed: true };
  const selector = selectorOf(workload);
  const owned = ownedBy(
    await cluster.list(
      'apps/v1',
      history,
      { namespace: w.namespace, ...(selector ? { labelSelector: selector } : {}) },
      options,
    ),
    workload,
  );
  // A workload at generation 1 was created by the deploy; any later generation existed before it
  // (or changed since), so it is never deleted for want of an older revision.
  const created = w.generation === 1;
  const deployedRevision = revisionDeployed(w, workload, owned);
  if (deployedRevision === undefined) return created ? { existed: false } : { existed: true };
  const older = owned.map(revisionOf).filter((n): n is number => n !== undefined && n < deployedRevision);
  if (older.length > 0) return { existed: true, revision: Math.max(...older) };
  return created ? { existed: false } : { existed: true };
}

/**
 * The revision number the deploy reached. `DEPLOYED` names it when the deploy waited for the
 * rollout (a Deployment's or DaemonSet's number, a StatefulSet's `updateRevision`, the name of a
 * ControllerRevision in `history`); a deploy that did not wait may have recorded the revision
 * before the controller created the new one, or none. While the workload is still at the deployed
 * generation and its controller has observed it, the live revision is the deployed one and wins.
 */
function revisionDeployed(
  w: WorkloadToCheck,
  workload: KubeObject,
  history: readonly KubeObject[],
): number | undefined {
  if (workload.metadata.generation === w.generation && generationObserved(workload)) {
    const live = w.kind === 'Deployment' ? revisionOf(workload) : controllerRevisionOf(workload, history);
    if (live !== undefined) return live;
  }
  if (w.revision === undefined) return undefined;
  if (/^\d+$/.test(w.revision)) return Number(w.revision);
  const named = history.find((h) => h.metadata.name === w.revision);
  return named === undefined ? undefined : revisionOf(named);
}
