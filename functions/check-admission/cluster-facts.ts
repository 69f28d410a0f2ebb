/**
 * Reads what check-admission judges from the cluster, through the {@link KubeCluster} interface:
 * each deployed workload's rollout, new ReplicaSet, Warning events and new Pods; the extension's
 * Pods and every replica's log since the deploy began. The judging itself is pure
 * (shared/kube/admission-verdict.ts).
 */
import type { CallOptions } from '../../shared/abort';
import { PermissionError } from '../../shared/errors';
import type { ExtensionFacts, WorkloadFacts } from '../../shared/kube/admission-verdict';
import type { KubeCluster, KubeObject } from '../../shared/kube/cluster';
import { kubeApiErrorOf } from '../../shared/kube/cluster';
import { classifyAdmissionMessage } from '../../shared/kube/admission-message';
import { parseExtensionLog } from '../../shared/kube/extension-log';
import type { ExtensionRecord } from '../../shared/kube/extension-log';
import { rolloutStatus } from '../../shared/kube/rollout-status';
import { selectorOf } from '../../shared/kube/rollback';
import type { WorkloadToCheck, ExtensionLocation } from './params';

/** Added to `sinceSeconds` so that a node clock behind the function's still returns every line. */
export const LOG_SKEW_SECONDS = 30;
/** Bytes one log request may return. */
export const LOG_LIMIT_BYTES = 1024 * 1024;
/** Requests per container log when it is larger than {@link LOG_LIMIT_BYTES} since the deploy. */
export const LOG_MAX_PAGES = 8;

const rec = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
const list = (value: unknown): Array<Record<string, unknown>> => (Array.isArray(value) ? value.map(rec) : []);
const APPS: Record<string, string> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1' };

/** The API server's facts about one deployed workload. */
export async function workloadFacts(
  cluster: KubeCluster,
  deployed: WorkloadToCheck,
  options: CallOptions = {},
): Promise<WorkloadFacts> {
  const { kind, namespace, name } = deployed;
  const base = { workload: { kind, namespace, name }, images: deployed.images };
  const apiVersion = APPS[kind];
  if (apiVersion === undefined) {
    // A bare Pod: its own status is the rollout.
    const pod = await cluster.get({ apiVersion: 'v1', kind: 'Pod', namespace, name }, options);
    const events = pod
      ? await warnings(cluster, namespace, [pod.metadata.uid], deployed.appliedAt, options)
      : [];
    return {
      ...base,
      ...(pod ? { rollout: podRollout(pod) } : {}),
      denials: events,
      pods: pod ? [pod] : [],
    };
  }
  const workload = await cluster.get({ apiVersion, kind, namespace, name }, options);
  if (!workload || (deployed.uid !== undefined && workload.metadata.uid !== deployed.uid)) {
    const events = await warnings(cluster, namespace, [deployed.uid], deployed.appliedAt, options);
    return { ...base, denials: events, pods: [] };
  }
  const selector = selectorOf(workload) ?? '';
  let newReplicaSet: KubeObject | undefined;
  let podSelector = selector;
  if (kind === 'Deployment') {
    const sets = (
      await cluster.list('apps/v1', 'ReplicaSet', { namespace, labelSelector: selector }, options)
    ).filter((rs) => (rs.metadata.ownerReferences ?? []).some((o) => o.uid === workload.metadata.uid));
    const revision = workload.metadata.annotations?.['deployment.kubernetes.io/revision'];
    newReplicaSet = sets.find(
      (rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision,
    );
    const hash = newReplicaSet?.metadata.labels?.['pod-template-hash'];
    podSelector = hash ? `${selector},pod-template-hash=${hash}` : selector;
  }
  const events = await eventsAbout(
    cluster,
    namespace,
    [workload.metadata.uid, newReplicaSet?.metadata.uid],
    options,
  );
  const pods =
    kind === 'Deployment' && !newReplicaSet
      ? []
      : (await cluster.list('v1', 'Pod', { namespace, labelSelector: podSelector }, options)).filter(
          (pod) => kind !== 'StatefulSet' || currentRevisionPod(pod, workload),
        );
  const generationMoved =
    deployed.generation !== undefined && (workload.metadata.generation ?? 0) > deployed.generation;
  const rollout = generationMoved
    ? {
        state: 'waiting' as const,
        message: `${kind.toLowerCase()} ${JSON.stringify(name)} changed after this deploy (generation ${workload.metadata.generation ?? '?'}, deployed ${deployed.generation})`,
      }
    : rolloutStatus(
        { workload, ...(newReplicaSet ? { newReplicaSet } : {}), events, pods },
        deployed.appliedAt,
      );
  const denials = [
    ...failureConditions(newReplicaSet),
    ...failureConditions(workload),
    ...warningMessages(events, deployed.appliedAt),
  ];
  return { ...base, rollout, denials: [...new Set(denials)], pods };
}

function currentRevisionPod(pod: KubeObject, set: KubeObject): boolean {
  const revision = rec(set.status).updateRevision;
  return typeof revision !== 'string' || pod.metadata.labels?.['controller-revision-hash'] === revision;
}

function podRollout(pod: KubeObject): { state: 'done' | 'waiting'; message: string } {
  const ready = list(rec(pod.status).conditions).some((c) => c.type === 'Ready' && c.status === 'True');
  return ready
    ? { state: 'done', message: `pod ${JSON.stringify(pod.metadata.name)} is ready` }
    : { state: 'waiting', message: `Waiting for pod ${JSON.stringify(pod.metadata.name)} to be ready...` };
}

async function eventsAbout(
  cluster: KubeCluster,
  namespace: string,
  uids: ReadonlyArray<string | undefined>,
  options: CallOptions,
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const uid of uids) {
    if (uid === undefined) continue;
    out.push(
      ...(await cluster.list(
        'v1',
        'Event',
        { namespace, fieldSelector: `involvedObject.uid=${uid}` },
        options,
      )),
    );
  }
  return out;
}

async function warnings(
  cluster: KubeCluster,
  namespace: string,
  uids: ReadonlyArray<string | undefined>,
  since: Date,
  options: CallOptions,
): Promise<string[]> {
  return warningMessages(await eventsAbout(cluster, namespace, uids, options), since);
}

function eventTime(event: KubeObject): number {
  const e = event as Record<string, unknown>;
  const times = [e.lastTimestamp, e.eventTime, rec(e.series).lastObservedTime, e.firstTimestamp]
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : Number.NaN;
}

/** Warning events since the deploy began whose message is an admission message. */
function warningMessages(events: readonly KubeObject[], since: Date): string[] {
  return events
    .filter((e) => (e as Record<string, unknown>).type === 'Warning')
    .filter((e) => eventTime(e) >= since.getTime())
    .sort((a, b) => eventTime(b) - eventTime(a))
    .map((e) => (e as Record<string, unknown>).message)
    .filter((m): m is string => typeof m === 'string' && classifyAdmissionMessage(m) !== undefined);
}

function failureConditions(object: KubeObject | undefined): string[] {
  return list(rec(object?.status).conditions)
    .filter((c) => c.type === 'ReplicaFailure' && c.status === 'True' && typeof c.message === 'string')
    .map((c) => c.message as string);
}

/** Options of {@link extensionFacts}. */
export interface ExtensionFactsOptions extends CallOptions {
  readonly location: ExtensionLocation;
  /** The deploy's start: records before it are dropped. */
  readonly since: Date;
  readonly now: Date;
  /** Read the logs at all (evidence `logs`, or best effort with `none`). */
  readonly readLogs: boolean;
  /** Whether a 403 on the logs fails (evidence `logs`) or only leaves them unread (`none`). */
  readonly logsRequired: boolean;
}

/** The extension's Pods, their readiness, and every replica's records since the deploy began. */
export async function extensionFacts(
  cluster: KubeCluster,
  options: ExtensionFactsOptions,
): Promise<ExtensionFacts & { readonly warnings: readonly string[] }> {
  const { location } = options;
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const pods = await cluster.list(
    'v1',
    'Pod',
    { namespace: location.namespace, labelSelector: location.labelSelector },
    call,
  );
  const summary = pods.map((pod) => ({
    name: pod.metadata.name ?? '?',
    ready: list(rec(pod.status).conditions).some((c) => c.type === 'Ready' && c.status === 'True'),
  }));
  if (!options.readLogs) return { pods: summary, records: [], logsRead: false, warnings: [] };
  const records: ExtensionRecord[] = [];
  try {
    for (const pod of pods) {
      const name = pod.metadata.name;
      if (!name) continue;
      records.push(...(await containerLog(cluster, pod, false, options)));
      const status = list(rec(pod.status).containerStatuses).find((s) => s.name === location.container);
      const finished = rec(rec(status?.lastState).terminated).finishedAt;
      // Restarted, and not known to have ended before the deploy: its verdict may be in the
      // previous instance's log (records before the deploy are dropped anyway).
      const restarted =
        typeof status?.restartCount === 'number' &&
        status.restartCount > 0 &&
        !(typeof finished === 'string' && Date.parse(finished) < options.since.getTime());
      if (restarted) records.push(...(await containerLog(cluster, pod, true, options)));
    }
  } catch (error) {
    const status = kubeApiErrorOf(error)?.status.code;
    if (status === 403 || status === 401) {
      const denied = new PermissionError(
        'ADMISSION_LOGS_FORBIDDEN',
        `The function may not read the kyverno-notation-aws logs: Kubernetes RBAC forbids get on pods/log in namespace ${JSON.stringify(location.namespace)}. ` +
          'Grant get on pods and pods/log in that namespace to the function role (shared/kube/rbac/stagesign-admission-checker.yaml), or set "evidence": "none".',
        { cause: error },
      );
      if (options.logsRequired) throw denied;
      return { pods: summary, records: [], logsRead: false, warnings: [denied.message] };
    }
    throw error;
  }
  return { pods: summary, records, logsRead: true, warnings: [] };
}

/**
 * One container instance's records since the deploy began. A log larger than the byte limit is
 * read in pages, each from the last complete record's time; repeated records are dropped.
 */
async function containerLog(
  cluster: KubeCluster,
  pod: KubeObject,
  previous: boolean,
  options: ExtensionFactsOptions,
): Promise<ExtensionRecord[]> {
  const name = pod.metadata.name!;
  const source = previous ? `${name} (previous)` : name;
  const out: ExtensionRecord[] = [];
  const seen = new Set<string>();
  let from = options.since;
  for (let page = 0; page < LOG_MAX_PAGES; page++) {
    let text: string;
    try {
      text = await cluster.readPodLog(
        {
          namespace: options.location.namespace,
          name,
          container: options.location.container,
          sinceSeconds: Math.ceil((options.now.getTime() - from.getTime()) / 1000) + LOG_SKEW_SECONDS,
          timestamps: true,
          limitBytes: LOG_LIMIT_BYTES,
          ...(previous ? { previous: true } : {}),
        },
        options.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      // The Pod went away, or has no previous instance: nothing to read there.
      const status = kubeApiErrorOf(error)?.status.code;
      if (status === 404 || (previous && status === 400)) return out;
      throw error;
    }
    const truncated = Buffer.byteLength(text, 'utf8') >= LOG_LIMIT_BYTES;
    const records = parseExtensionLog(text, { source, since: options.since });
    // A cut page's last record may be incomplete: read it again on the next page.
    const complete = truncated ? records.slice(0, -1) : records;
    for (const record of complete) {
      const key = `${record.time.toISOString()}\n${record.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(record);
    }
    const last = complete.at(-1);
    if (!truncated || !last || last.time.getTime() <= from.getTime()) break;
    from = last.time;
  }
  return out;
}
