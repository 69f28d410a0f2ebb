/**
 * What the stages need from a Kubernetes cluster, as one small interface. The deployed
 * implementation is `ClientNodeCluster` (kube-cluster.ts, @kubernetes/client-node 1.4 over an
 * EKS connection); tests use the fake API server through the same adapter, or an in-memory fake.
 *
 * Pure: types only. Every method takes {@link CallOptions} last; an aborted call rejects with
 * DependencyError `ABORTED`. Failures are StagesignErrors built by `kubeApiFailure`
 * (api-failure.ts), whose `cause` is a {@link KubeApiError} carrying the API server's Status.
 */
import type { CallOptions } from '../abort';

/** `metadata` as the stages read it. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
  }>;
  [key: string]: unknown;
}

/** Any Kubernetes object (manifests, API responses). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Names one object. `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** One JSON Patch (RFC 6902) operation, as rollback sends them. */
export type JsonPatchOperation =
  | { op: 'replace' | 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'test'; path: string; value: unknown };

/** Selects objects of one namespace. */
export interface ListQuery {
  namespace: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Options of a bounded log read (`GET …/pods/<name>/log`). */
export interface PodLogQuery {
  namespace: string;
  name: string;
  container?: string;
  /** Only lines newer than this many seconds. */
  sinceSeconds?: number;
  /** The server stops after this many bytes (the adapter also caps what it reads). */
  limitBytes: number;
  /** Prefix each line with its RFC 3339 timestamp. */
  timestamps?: boolean;
  /** The previous container instance's log (after a restart). */
  previous?: boolean;
}

/** The cluster, as the deploy and admission stages use it. */
export interface KubeCluster {
  /**
   * Server-side apply (`fieldManager=stagesign`, `force=true`), or its `dryRun=All` form that
   * runs admission and persists nothing. Returns the object as the server has it (or would).
   */
  apply(object: KubeObject, options: { dryRun: boolean } & CallOptions): Promise<KubeObject>;
  /** Creates `pod` with `dryRun=All`: admission judges it, nothing is created. */
  createDryRunPod(pod: KubeObject, options?: CallOptions): Promise<KubeObject>;
  /** Reads one object; `undefined` when it does not exist (404). */
  get(ref: ObjectRef, options?: CallOptions): Promise<KubeObject | undefined>;
  /** Lists the objects of `kind` in a namespace (all pages). */
  list(apiVersion: string, kind: string, query: ListQuery, options?: CallOptions): Promise<KubeObject[]>;
  /** Reads a bounded tail of a Pod's log. */
  readPodLog(query: PodLogQuery, options?: CallOptions): Promise<string>;
  /** JSON Patch (rollback's `kubectl rollout undo` patch). */
  patchJson(
    ref: ObjectRef,
    operations: readonly JsonPatchOperation[],
    options?: CallOptions,
  ): Promise<KubeObject>;
  /** Deletes one object (foreground propagation); `false` when it was already gone. */
  delete(ref: ObjectRef, options?: CallOptions): Promise<boolean>;
}

/** Connects to a cluster named by a stage's parameters (an EKS cluster name or ARN). */
export interface ClusterConnector {
  /** The cluster, built once per container and cluster. */
  connect(clusterName: string, options?: CallOptions): Promise<KubeCluster>;
}

/** What was asked, for messages that name verb, resource and namespace. */
export interface KubeRequest {
  readonly verb: 'apply' | 'create' | 'get' | 'list' | 'patch' | 'delete' | 'log' | 'discover';
  /** Plural resource with its group, e.g. `deployments.apps`, `pods`. */
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly dryRun?: boolean;
}

/** A Kubernetes `Status` answer, reduced to what the stages read. */
export interface KubeStatus {
  readonly code: number;
  readonly reason?: string;
  readonly message: string;
  /** `details.causes`: field paths of a 422. */
  readonly causes: ReadonlyArray<{
    readonly field?: string;
    readonly message?: string;
    readonly reason?: string;
  }>;
}

/** The API server's answer to a failed request; the `cause` of the StagesignError the adapter throws. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly request: KubeRequest,
    readonly status: KubeStatus,
  ) {
    super(`${request.verb} ${request.resource}: ${status.code} ${status.message}`);
  }
}

/** The Status behind a failure, if it came from the API server. */
export function kubeApiErrorOf(error: unknown): KubeApiError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof KubeApiError) return e;
  }
  return undefined;
}

/** An EKS cluster name: what CreateCluster accepts (also the template's ClusterName pattern). */
const CLUSTER_NAME_RE = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
/** An EKS cluster ARN in any partition; group 1 is the region, group 2 the name. */
const CLUSTER_ARN_RE = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):\d{12}:cluster\/([0-9A-Za-z][A-Za-z0-9_-]{0,99})$/;

/** `prod` or `arn:aws:eks:us-west-2:123456789012:cluster/prod`, split; undefined when neither. */
export function matchClusterRef(text: string): { name: string; region?: string } | undefined {
  const arn = CLUSTER_ARN_RE.exec(text);
  if (arn) return { region: arn[1]!, name: arn[2]! };
  return CLUSTER_NAME_RE.test(text) ? { name: text } : undefined;
}
