/**
 * `KubeCluster` over the Kubernetes API with @kubernetes/client-node 1.4 (2.x does not load on
 * Node 20): built from an endpoint, the cluster CA and a token source — no kubeconfig file.
 *
 * client-node maps kinds to resource paths (`KubernetesObjectApi`'s discovery, cached per
 * instance). Requests are sent as raw JSON by this adapter rather than through client-node's
 * `ObjectSerializer`, which drops fields its 1.34 models do not know and turns timestamps into
 * `Date`s: a server-side apply must send exactly the manifest, and the pure modules read the API's
 * own JSON.
 *
 * Every request: TLS verified against the cluster CA (never skipped), a fresh-enough bearer token
 * from the token source, a time bound ({@link KUBE_REQUEST_TIMEOUT_MS}, and the caller's signal),
 * a size bound on the answer ({@link KUBE_MAX_RESPONSE_BYTES}; logs: their `limitBytes`), and
 * retries with backoff for 429, 5xx and connection failures ({@link KUBE_MAX_ATTEMPTS} attempts;
 * every request this adapter sends is idempotent). Failures become StagesignErrors via
 * `kubeApiFailure`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import https from 'node:https';
// client-node's own modules, not its index: the index also loads KubeConfig, exec, attach,
// port-forward, cp and watch (ws, socks, tar, jsonpath-plus, js-yaml), which this adapter never
// runs and which cost deploy-manifest and check-admission about 50 ms of every cold start
// (bench/run.ts). The package has no "exports" map, so these paths are its public files.
import { KubernetesObjectApi } from '@kubernetes/client-node/dist/object.js';
import type { KubernetesObject } from '@kubernetes/client-node/dist/types.js';
import { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
import { ResponseContext, wrapHttpLibrary } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
import { abortedError, throwIfAborted } from '../abort';
import type { CallOptions } from '../abort';
import { ConfigurationError, DependencyError, isStagesignError } from '../errors';
import { isRetryableStatus, kubeApiFailure, parseStatus } from './api-failure';
import type { EksConnection } from './eks-connection';
import type {
  ClusterConnector,
  JsonPatchOperation,
  KubeCluster,
  KubeObject,
  KubeRequest,
  ListQuery,
  ObjectRef,
  PodLogQuery,
} from './cluster';

/** The field manager of every apply. */
export const FIELD_MANAGER = 'stagesign';
/** Longest wait for one API answer (connection included). */
export const KUBE_REQUEST_TIMEOUT_MS = 20_000;
/** Largest answer read (a list page of 500 objects fits well within). */
export const KUBE_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Attempts per request for 429, 5xx and connection failures. */
export const KUBE_MAX_ATTEMPTS = 3;
/** Most objects one `list` collects (over all pages). */
export const KUBE_MAX_LIST_ITEMS = 5_000;

export interface ClientNodeClusterOptions {
  /** `https://…` */
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA (DescribeCluster's `certificateAuthority.data`). */
  readonly caData: string;
  /** A bearer token for each request (re-signed by the caller before it ages). */
  readonly token: () => Promise<string>;
  readonly requestTimeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly maxAttempts?: number;
  /** Backoff sleep (injected by tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** client-node's discovery and path mapping, opened up for this adapter. */
class ResourcePaths extends KubernetesObjectApi {
  path(spec: KubernetesObject, action: 'create' | 'read' | 'patch' | 'delete' | 'list'): Promise<string> {
    return this.specUriPath(spec, action);
  }
}

/** The deployed {@link KubeCluster}. */
export class ClientNodeCluster implements KubeCluster {
  private readonly agent: https.Agent;
  private readonly paths: ResourcePaths;
  private readonly signals = new AsyncLocalStorage<AbortSignal | undefined>();
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly attempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ClientNodeClusterOptions) {
    if (!options.endpoint.startsWith('https://')) {
      throw new ConfigurationError(
        'CLUSTER_ENDPOINT_INVALID',
        `The cluster endpoint ${JSON.stringify(options.endpoint)} is not https.`,
      );
    }
    this.agent = new https.Agent({
      ca: Buffer.from(options.caData, 'base64').toString('utf8'),
      rejectUnauthorized: true,
      keepAlive: true,
      maxSockets: 16,
    });
    this.timeoutMs = options.requestTimeoutMs ?? KUBE_REQUEST_TIMEOUT_MS;
    this.maxBytes = options.maxResponseBytes ?? KUBE_MAX_RESPONSE_BYTES;
    this.attempts = Math.max(1, options.maxAttempts ?? KUBE_MAX_ATTEMPTS);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration<Record<string, string>>(options.endpoint.replace(/\/+$/, ''), {}),
      authMethods: {
        default: {
          getName: () => 'eks-bearer-token',
          applySecurityAuthentication: async (context: RequestContext) => {
            context.setHeaderParam('Authorization', `Bearer ${await options.token()}`);
          },
        },
      },
      httpApi: wrapHttpLibrary({
        send: async (context: RequestContext) => {
          const headers: Record<string, string> = { ...context.getHeaders() };
          const response = await this.withRetries(
            { verb: 'discover', resource: new URL(context.getUrl()).pathname },
            () =>
              this.raw('GET', context.getUrl(), headers, undefined, this.signals.getStore(), this.maxBytes),
            this.signals.getStore(),
          );
          const text = response.body.toString('utf8');
          return new ResponseContext(response.status, response.headers, {
            text: () => Promise.resolve(text),
            binary: () => Promise.resolve(response.body),
          });
        },
      }),
    });
    this.paths = new ResourcePaths(configuration);
  }

  /** Releases pooled connections (tests; a Lambda keeps them for the next invocation). */
  close(): void {
    this.agent.destroy();
  }

  async apply(object: KubeObject, options: { dryRun: boolean } & CallOptions): Promise<KubeObject> {
    const path = await this.pathOf(object, 'patch', options.signal);
    const query = {
      fieldManager: FIELD_MANAGER,
      force: 'true',
      ...(options.dryRun ? { dryRun: 'All' } : {}),
    };
    return this.json(
      request('apply', object, path, options.dryRun),
      'PATCH',
      path,
      query,
      { body: JSON.stringify(object), contentType: 'application/apply-patch+yaml' },
      options.signal,
    );
  }

  async createDryRunPod(pod: KubeObject, options: CallOptions = {}): Promise<KubeObject> {
    const path = await this.pathOf(pod, 'create', options.signal);
    return this.json(
      request('create', pod, path, true),
      'POST',
      path,
      { dryRun: 'All', fieldManager: FIELD_MANAGER },
      { body: JSON.stringify(pod), contentType: 'application/json' },
      options.signal,
    );
  }

  async get(ref: ObjectRef, options: CallOptions = {}): Promise<KubeObject | undefined> {
    const spec = specOf(ref);
    const path = await this.pathOf(spec, 'read', options.signal);
    try {
      return await this.json(request('get', spec, path), 'GET', path, {}, undefined, options.signal);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    query: ListQuery,
    options: CallOptions = {},
  ): Promise<KubeObject[]> {
    const spec: KubeObject = { apiVersion, kind, metadata: { namespace: query.namespace } };
    const path = await this.pathOf(spec, 'list', options.signal);
    const items: KubeObject[] = [];
    let next: string | undefined;
    do {
      const page = await this.json<{ items?: KubeObject[]; metadata?: { continue?: string } }>(
        request('list', spec, path),
        'GET',
        path,
        {
          limit: '500',
          ...(query.labelSelector ? { labelSelector: query.labelSelector } : {}),
          ...(query.fieldSelector ? { fieldSelector: query.fieldSelector } : {}),
          ...(next ? { continue: next } : {}),
        },
        undefined,
        options.signal,
      );
      // List items carry no apiVersion/kind; give them the list's, so they are objects like any other.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind });
      if (items.length > KUBE_MAX_LIST_ITEMS) {
        throw new DependencyError(
          'KUBE_LIST_TOO_LARGE',
          `Listing ${kind} in namespace ${JSON.stringify(query.namespace)} returned more than ${KUBE_MAX_LIST_ITEMS} objects; narrow the selector.`,
        );
      }
      next = page.metadata?.continue || undefined;
    } while (next);
    return items;
  }

  async readPodLog(query: PodLogQuery, options: CallOptions = {}): Promise<string> {
    const spec: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: query.name, namespace: query.namespace },
    };
    const path = `${await this.pathOf(spec, 'read', options.signal)}/log`;
    const params: Record<string, string> = {
      limitBytes: String(query.limitBytes),
      ...(query.container ? { container: query.container } : {}),
      ...(query.sinceSeconds !== undefined
        ? { sinceSeconds: String(Math.max(1, Math.ceil(query.sinceSeconds))) }
        : {}),
      ...(query.timestamps ? { timestamps: 'true' } : {}),
      ...(query.previous ? { previous: 'true' } : {}),
    };
    const response = await this.send(
      { verb: 'log', resource: 'pods/log', namespace: query.namespace, name: query.name },
      'GET',
      path,
      params,
      undefined,
      options.signal,
      // The server stops at limitBytes; allow a little more for a last line, never unbounded.
      Math.min(this.maxBytes, query.limitBytes + 64 * 1024),
    );
    return response.body.toString('utf8');
  }

  async patchJson(
    ref: ObjectRef,
    operations: readonly JsonPatchOperation[],
    options: CallOptions = {},
  ): Promise<KubeObject> {
    const spec = specOf(ref);
    const path = await this.pathOf(spec, 'patch', options.signal);
    return this.json(
      request('patch', spec, path),
      'PATCH',
      path,
      { fieldManager: FIELD_MANAGER },
      { body: JSON.stringify(operations), contentType: 'application/json-patch+json' },
      options.signal,
    );
  }

  async delete(ref: ObjectRef, options: CallOptions = {}): Promise<boolean> {
    const spec = specOf(ref);
    const path = await this.pathOf(spec, 'delete', options.signal);
    try {
      await this.send(
        request('delete', spec, path),
        'DELETE',
        path,
        { propagationPolicy: 'Background' },
        undefined,
        options.signal,
        this.maxBytes,
      );
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 404) return false;
      throw error;
    }
  }

  /** The resource path of `spec` (discovery on first use of an apiVersion). */
  private async pathOf(
    spec: KubeObject,
    action: 'create' | 'read' | 'patch' | 'delete' | 'list',
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const copy = { ...spec, metadata: { ...spec.metadata } } as KubernetesObject;
    try {
      return await this.signals.run(signal, () => this.paths.path(copy, action));
    } catch (error) {
      if (isStagesignError(error)) throw error;
      const text = error instanceof Error ? error.message : String(error);
      if (/Unrecognized API version and kind/.test(text)) {
        throw new ConfigurationError(
          'KUBE_KIND_UNKNOWN',
          `The cluster serves no kind ${spec.kind} in ${spec.apiVersion} (is its CustomResourceDefinition installed, and the apiVersion right?).`,
        );
      }
      const code = statusCodeOf(error);
      if (code !== undefined) {
        const body = (error as { body?: unknown }).body;
        throw kubeApiFailure(
          { verb: 'discover', resource: `${spec.apiVersion} ${spec.kind}` },
          parseStatus(code, typeof body === 'string' ? body : ''),
        );
      }
      throw error;
    }
  }

  private async json<T = KubeObject>(
    req: KubeRequest,
    method: string,
    path: string,
    query: Record<string, string>,
    body: { body: string; contentType: string } | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const response = await this.send(req, method, path, query, body, signal, this.maxBytes);
    try {
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch (cause) {
      throw new DependencyError(
        'KUBE_RESPONSE_INVALID',
        `The API server's answer to ${req.verb} ${req.resource} is not JSON.`,
        { cause },
      );
    }
  }

  private async send(
    req: KubeRequest,
    method: string,
    path: string,
    query: Record<string, string>,
    body: { body: string; contentType: string } | undefined,
    signal: AbortSignal | undefined,
    maxBytes: number,
  ): Promise<RawResponse> {
    const url = new URL(this.options.endpoint.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const response = await this.withRetries(
      req,
      async () => {
        const headers: Record<string, string> = {
          Accept: 'application/json, */*;q=0.8',
          Authorization: `Bearer ${await this.options.token()}`,
          ...(body ? { 'Content-Type': body.contentType } : {}),
        };
        return this.raw(method, url.toString(), headers, body?.body, signal, maxBytes);
      },
      signal,
    );
    if (response.status >= 200 && response.status < 300) return response;
    throw kubeApiFailure(req, parseStatus(response.status, response.body.toString('utf8')));
  }

  /** Runs `attempt` until it answers something other than 429/5xx, or attempts run out. */
  private async withRetries(
    req: KubeRequest,
    attempt: () => Promise<RawResponse>,
    signal?: AbortSignal,
  ): Promise<RawResponse> {
    let last: RawResponse | undefined;
    for (let i = 1; i <= this.attempts; i++) {
      throwIfAborted(signal, `Kubernetes ${req.verb} ${req.resource}`);
      try {
        last = await attempt();
        if (!isRetryableStatus(last.status) || i === this.attempts) return last;
      } catch (error) {
        if (signal?.aborted) throw abortedError(`Kubernetes ${req.verb} ${req.resource}`, signal, error);
        if (isStagesignError(error) || i === this.attempts) {
          if (isStagesignError(error)) throw error;
          throw new DependencyError(
            'KUBE_UNREACHABLE',
            `The cluster's API server could not be reached for ${req.verb} ${req.resource} after ${i} attempts: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }
      }
      const retryAfter = Number(last?.headers['retry-after']);
      const pause =
        Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(5_000, retryAfter * 1000)
          : 250 * 2 ** (i - 1);
      await this.sleep(pause);
    }
    return last!;
  }

  /** One bounded HTTPS request. */
  private raw(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    outer: AbortSignal | undefined,
    maxBytes: number,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            ...headers,
            ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
          },
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              res.destroy();
              reject(
                new DependencyError(
                  'KUBE_RESPONSE_TOO_LARGE',
                  `The API server's answer to ${method} ${new URL(url).pathname} exceeded ${maxBytes} bytes.`,
                ),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
            resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (error) => {
        reject(
          timeout.aborted && !outer?.aborted
            ? new Error(`no answer within ${this.timeoutMs} ms`, { cause: error })
            : error,
        );
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

function specOf(ref: ObjectRef): KubeObject {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) },
  };
}

/** `deployments.apps` from `/apis/apps/v1/namespaces/ns/deployments/web`. */
function request(verb: KubeRequest['verb'], spec: KubeObject, path: string, dryRun?: boolean): KubeRequest {
  const parts = path.split('/').filter(Boolean);
  const core = parts[0] === 'api';
  const rest = parts.slice(core ? 2 : 3);
  const plural = rest[0] === 'namespaces' && rest.length > 2 ? rest[2]! : rest[0]!;
  const group = core ? '' : parts[1]!;
  return {
    verb,
    resource: group ? `${plural}.${group}` : plural,
    ...(spec.metadata.namespace ? { namespace: spec.metadata.namespace } : {}),
    ...(spec.metadata.name ? { name: spec.metadata.name } : {}),
    ...(dryRun ? { dryRun } : {}),
  };
}

function statusCodeOf(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const status = (e as { status?: { code?: unknown } }).status;
    if (typeof status?.code === 'number') return status.code;
    const code = (e as { code?: unknown }).code;
    if (e.name !== 'DependencyError' && typeof code === 'number') return code;
  }
  return undefined;
}

/**
 * EKS clusters by name or ARN: DescribeCluster through the connection (cached), then one
 * {@link ClientNodeCluster} per cluster and container, its tokens signed by the connection.
 */
export class EksClusterConnector implements ClusterConnector {
  private readonly clusters = new Map<string, KubeCluster>();

  constructor(private readonly eks: EksConnection) {}

  async connect(clusterName: string, options: CallOptions = {}): Promise<KubeCluster> {
    const endpoint = await this.eks.describe(clusterName, options);
    const key = `${endpoint.region}/${endpoint.name}`;
    let cluster = this.clusters.get(key);
    if (!cluster) {
      cluster = new ClientNodeCluster({
        endpoint: endpoint.endpoint,
        caData: endpoint.caData,
        token: () => this.eks.token(endpoint),
      });
      this.clusters.set(key, cluster);
    }
    return cluster;
  }
}
