/**
 * The HTTPS front of the fake: bounded body reading, request recording, injected faults, EKS
 * token authentication (401 like the real server), RBAC denials (403 with the authorizer's text),
 * discovery, resource routing (`/api/v1/…`, `/apis/<group>/<version>/…`), watches (a chunked
 * stream of `{"type","object"}` lines, replayed from the list's resourceVersion) and pods/log.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { UserInfo } from './admission';
import { PATCH_CONTENT_TYPES, type FakeApi } from './api';
import {
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  apiVersionOf,
  findByResource,
  type ResourceType,
} from './discovery';
import { checkEksToken, type EksTokenClaims } from './eks-token';
import type { Faults } from './faults';
import { openApiGroupVersion, openApiRoot } from './openapi';
import type { PodLogs } from './pod-logs';
import type { RecordedKubeRequest, RequestLog } from './recorder';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { errors, KubeError } from './status';
import type { ObjectStore, StoreEvent } from './store';
import { metaOf } from './store';

type Obj = Record<string, unknown>;

/** The API server's default request body limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface RbacRule {
  /** Username the rule applies to (default: everyone). */
  user?: string;
  verb?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
}

export interface ServerDeps {
  api: FakeApi;
  store: ObjectStore;
  requests: RequestLog;
  faults: Faults;
  logs: PodLogs;
  rbac: RbacRule[];
  region: string;
  now: () => Date;
  identify: (claims: EksTokenClaims) => UserInfo | undefined;
  /** Called before serving a read of a rollout object (controllers stepping on polls). */
  onPoll: (resource: string) => Promise<void>;
  /** Called every few milliseconds while a watch is open. */
  onWatchTick: () => Promise<void>;
  maxBodyBytes: number;
}

interface Route {
  group: string;
  version: string;
  type?: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  discovery?: object;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        // Keep reading (and discarding) so the client sees the 413 rather than a reset.
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function route(path: string): Route | undefined {
  const parts = path.split('/').filter(Boolean);
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
    if (!version) return { group, version: '', discovery: apiVersions() };
  } else if (parts[0] === 'apis') {
    if (!parts[1]) return { group: '', version: '', discovery: apiGroupList() };
    group = parts[1];
    version = parts[2];
    if (!version) {
      const doc = apiGroupDocument(group);
      return doc ? { group, version: '', discovery: doc } : undefined;
    }
    rest = parts.slice(3);
  } else return undefined;
  if (rest.length === 0) {
    const doc = apiResourceList(group, version);
    return doc ? { group, version, discovery: doc } : undefined;
  }
  let namespace: string | undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(group === '' && rest.length === 3 && ['status', 'finalize'].includes(rest[2]!))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const type = findByResource(group, version, rest[0]!);
  if (!type || rest.length > 3) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  const r: Route = { group, version, type };
  if (namespace !== undefined) r.namespace = namespace;
  if (rest[1] !== undefined) r.name = rest[1];
  if (rest[2] !== undefined) {
    if (!type.subresources.includes(rest[2])) return undefined;
    r.subresource = rest[2];
  }
  if (type.namespaced && r.name !== undefined && namespace === undefined) return undefined;
  return r;
}

function verbOf(method: string, r: Route, query: URLSearchParams): string | undefined {
  switch (method) {
    case 'GET':
      if (r.name) return 'get';
      return query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return r.name ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Audit-Id': crypto.randomUUID(),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: KubeError): void {
  send(res, e.code, e.status, e.headers);
}

export class KubeHttpServer {
  readonly server: Server;
  private readonly watches = new Set<ServerResponse>();

  constructor(
    private readonly deps: ServerDeps,
    tls: { certPem: string; keyPem: string },
  ) {
    this.server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) {
          sendError(
            res,
            e instanceof KubeError ? e : errors.internal(e instanceof Error ? e.message : String(e)),
          );
        } else res.end();
      });
    });
  }

  closeWatches(): void {
    for (const w of this.watches) w.end();
    this.watches.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = url.searchParams;
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    const r = route(url.pathname);
    const rec: RecordedKubeRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(query),
      contentType,
      body: undefined,
      dryRun: query.getAll('dryRun').includes('All'),
      verb: r?.type ? verbOf(method, r, query) : undefined,
      resource: r?.type?.resource,
      subresource: r?.subresource,
      group: r?.type ? r.group : undefined,
      namespace: r?.namespace,
      name: r?.name,
      user: undefined,
      status: 0,
    };
    this.deps.requests.all.push(rec);
    const finish = (code: number): void => {
      rec.status = code;
    };
    let raw: Buffer;
    try {
      raw = await readBody(req, this.deps.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        finish(413);
        const e = errors.tooLarge(this.deps.maxBodyBytes);
        return send(res, e.code, e.status, { Connection: 'close' });
      }
      throw e;
    }
    if (raw.length > 0) {
      const text = raw.toString('utf8');
      try {
        rec.body = contentType === 'application/apply-patch+yaml' ? parseYaml(text) : JSON.parse(text);
      } catch {
        rec.body = text;
      }
    }
    try {
      const user = this.authenticate(req);
      rec.user = user.username;
      const injected = this.deps.faults.match(rec);
      if (injected) throw injected;
      if (url.pathname === '/version') return (finish(200), send(res, 200, versionInfo()));
      if (url.pathname === '/healthz' || url.pathname === '/readyz' || url.pathname === '/livez') {
        return (finish(200), send(res, 200, 'ok'));
      }
      if (url.pathname === '/openapi/v3') return (finish(200), send(res, 200, openApiRoot()));
      if (url.pathname.startsWith('/openapi/v3/')) {
        const doc = openApiGroupVersion(url.pathname.slice('/openapi/v3/'.length));
        if (!doc) throw errors.pathNotFound();
        return (finish(200), send(res, 200, doc));
      }
      if (!r) throw errors.pathNotFound();
      if (r.discovery) {
        if (method !== 'GET') throw errors.methodNotAllowed();
        return (finish(200), send(res, 200, r.discovery));
      }
      this.authorize(user, rec);
      const code = await this.dispatch(req, res, r, rec, user, raw);
      finish(code);
    } catch (e) {
      if (!(e instanceof KubeError)) throw e;
      finish(e.code);
      sendError(res, e);
    }
  }

  private authenticate(req: IncomingMessage): UserInfo {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/i.exec(header);
    if (!m) throw errors.unauthorized();
    const check = checkEksToken(m[1]!.trim(), this.deps.region, this.deps.now());
    if (!check.ok) throw errors.unauthorized();
    const user = this.deps.identify(check.claims);
    if (!user) throw errors.unauthorized();
    return user;
  }

  private authorize(user: UserInfo, rec: RecordedKubeRequest): void {
    const denied = this.deps.rbac.find(
      (rule) =>
        (rule.user === undefined || rule.user === user.username) &&
        (rule.verb === undefined || rule.verb === rec.verb) &&
        rule.resource === rec.resource &&
        (rule.subresource ?? undefined) === rec.subresource &&
        (rule.namespace === undefined || rule.namespace === rec.namespace),
    );
    if (!denied) return;
    throw errors.forbidden({
      user: user.username,
      verb: rec.verb ?? 'get',
      resource: rec.resource!,
      ...(rec.subresource ? { subresource: rec.subresource } : {}),
      group: rec.group ?? '',
      ...(rec.namespace ? { namespace: rec.namespace } : {}),
      ...(rec.name ? { name: rec.name } : {}),
    });
  }

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    rec: RecordedKubeRequest,
    user: UserInfo,
    raw: Buffer,
  ): Promise<number> {
    const { api } = this.deps;
    const t = r.type!;
    const q = new URL(req.url ?? '/', 'https://127.0.0.1').searchParams;
    const dryRunValues = q.getAll('dryRun');
    if (dryRunValues.some((v) => v !== 'All')) {
      throw errors.badRequest(`Invalid dryRun value: ${dryRunValues.join(',')}`);
    }
    const ctx = {
      user,
      dryRun: rec.dryRun,
      fieldManager: q.get('fieldManager') ?? managerFromUserAgent(req.headers['user-agent']),
    };
    const body = (): Obj => {
      if (rec.body === undefined || typeof rec.body !== 'object' || rec.body === null) {
        throw errors.badRequest(
          raw.length === 0
            ? 'the body of the request was empty'
            : 'the body of the request could not be decoded',
        );
      }
      return rec.body as Obj;
    };
    switch (rec.verb) {
      case 'get': {
        if (r.subresource === 'log') {
          const pod = api.get(t, r.namespace, r.name!);
          const containers = (((pod.spec as Obj).containers as Obj[]) ?? []).map((c) => String(c.name));
          const text = this.deps.logs.read(
            r.namespace!,
            r.name!,
            containers,
            Object.fromEntries(q),
            this.deps.now(),
          );
          send(res, 200, text);
          return 200;
        }
        await this.deps.onPoll(t.resource);
        send(res, 200, api.get(t, r.namespace, r.name!));
        return 200;
      }
      case 'list':
        await this.deps.onPoll(t.resource);
        send(
          res,
          200,
          api.list(t, r.namespace, {
            labelSelector: q.get('labelSelector'),
            fieldSelector: q.get('fieldSelector'),
          }),
        );
        return 200;
      case 'watch':
        this.watch(res, r, q);
        return 200;
      case 'create': {
        const created = await api.create(t, r.namespace, body(), ctx);
        send(res, 201, created);
        return 201;
      }
      case 'update': {
        const updated = await api.update(t, r.namespace, r.name!, body(), ctx, r.subresource);
        send(res, 200, updated);
        return 200;
      }
      case 'patch': {
        const patchType = PATCH_CONTENT_TYPES[rec.contentType ?? ''];
        if (!patchType) throw errors.unsupportedMediaType(rec.contentType ?? '');
        const force = q.get('force');
        if (patchType === 'apply' && !q.get('fieldManager')) {
          throw errors.invalidOptions(
            'PatchOptions.meta.k8s.io',
            'fieldManager: Required value: is required for apply patch',
          );
        }
        if (patchType !== 'apply' && force !== null) {
          throw errors.invalidOptions(
            'PatchOptions.meta.k8s.io',
            'force: Forbidden: may not be specified for non-apply patch',
          );
        }
        if (rec.body === undefined) throw errors.badRequest('the body of the request was empty');
        const status = api.store.get(t, r.namespace, r.name!) ? 200 : 201;
        const patched = await api.patch(
          t,
          r.namespace,
          r.name!,
          patchType,
          rec.body,
          { ...ctx, force: force === 'true' },
          r.subresource,
        );
        send(res, status, patched);
        return status;
      }
      case 'delete': {
        const options = rec.body && typeof rec.body === 'object' ? (rec.body as Obj) : {};
        const result = api.delete(t, r.namespace, r.name!, {
          dryRun: rec.dryRun || (Array.isArray(options.dryRun) && options.dryRun.includes('All')),
          propagationPolicy:
            q.get('propagationPolicy') ?? (options.propagationPolicy as string | undefined) ?? null,
        });
        send(res, 200, result);
        return 200;
      }
      default:
        throw errors.methodNotAllowed();
    }
  }

  private watch(res: ServerResponse, r: Route, q: URLSearchParams): void {
    const t = r.type!;
    const labels = q.get('labelSelector') ? parseLabelSelector(q.get('labelSelector')!) : [];
    const fields = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!, t.kind) : [];
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // Headers go out now: a watch with nothing to report yet must not leave the client waiting.
    res.flushHeaders();
    const matches = (e: StoreEvent): boolean =>
      e.resourceType === t &&
      (r.namespace === undefined || metaOf(e.object).namespace === r.namespace) &&
      matchesLabels(labels, metaOf(e.object).labels as Record<string, string>) &&
      matchesFields(fields, e.object);
    const write = (e: StoreEvent): void => {
      if (matches(e)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    };
    const from = Number(q.get('resourceVersion') ?? '');
    if (Number.isFinite(from) && from > 0) this.deps.store.since(from).forEach(write);
    else {
      for (const o of this.deps.store.list(t, r.namespace)) {
        write({ type: 'ADDED', resourceType: t, resourceVersion: 0, object: o });
      }
    }
    const unsubscribe = this.deps.store.subscribe(write);
    this.watches.add(res);
    const tick = setInterval(() => void this.deps.onWatchTick().catch(() => undefined), 20);
    const timeout = Number(q.get('timeoutSeconds') ?? '1800');
    const end = setTimeout(() => res.end(), Math.min(timeout, 1800) * 1000);
    res.on('close', () => {
      unsubscribe();
      clearInterval(tick);
      clearTimeout(end);
      this.watches.delete(res);
    });
  }
}

/** The default field manager: the User-Agent's product (`kubectl/v1.32…` → `kubectl`). */
function managerFromUserAgent(ua: string | undefined): string {
  const product = (ua ?? 'unknown').split('/')[0]!.trim();
  return product.slice(0, 128) || 'unknown';
}

function versionInfo(): object {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.9-eks-fake',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.12',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export { apiVersionOf };
