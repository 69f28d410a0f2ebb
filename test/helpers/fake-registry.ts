import { createHash, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A programmable, in-memory OCI Distribution registry over node:http on 127.0.0.1, for what
 * distribution 2.8 cannot show (Referrers API, OCI-Subject, auth flows, redirects, faults).
 * Every request is recorded, so tests assert request budgets by counting.
 *
 *   const fake = await FakeRegistry.start({ referrersApi: true });
 *   // ... point a DistributionRegistry at fake.host with plainHttp
 *   expect(fake.registryRequests()).toHaveLength(4);
 *   await fake.close();
 */
export interface FakeRegistryOptions {
  /** Serve `GET /v2/<name>/referrers/<digest>` and answer `OCI-Subject` on subject pushes. Default true. */
  referrersApi?: boolean;
  /** Page size of Referrers API answers (paging via `Link`). Default: everything in one page. */
  referrersPageSize?: number;
  /** Apply the `artifactType` filter server-side and say so with `OCI-Filters-Applied`. Default true. */
  applyArtifactTypeFilter?: boolean;
  /** Honour `POST …/uploads/?mount=<digest>&from=<repo>`. Default true. */
  supportMount?: boolean;
  /**
   * Require credentials: `bearer` (token service at `/token`, optionally with Basic username
   * and password), `basic` (username/password), or `token` (ECR style: `Basic <token>`).
   */
  auth?:
    | { scheme: 'bearer'; username?: string; password?: string }
    | { scheme: 'basic'; username: string; password: string }
    | { scheme: 'token'; token: string };
  /** The `realm` of Bearer challenges. Default: this server's `/token`. */
  tokenRealm?: string;
  /** Answer blob GETs with 307 to this URL (e.g. another server standing in for S3). */
  blobRedirect?: (repository: string, digest: string) => string | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/**
 * Return a response to take over a request, `'hang'` to never answer it (the connection stays
 * open until the client gives up; see {@link FakeRegistry.abandoned}), or undefined to let the
 * registry answer it.
 */
export type Interceptor = (request: RecordedRequest) => FakeResponse | 'hang' | undefined;

interface StoredManifest {
  bytes: Uint8Array;
  mediaType: string;
}

interface Repository {
  blobs: Map<string, Uint8Array>;
  manifests: Map<string, StoredManifest>;
  tags: Map<string, string>;
}

const INDEX = 'application/vnd.oci.image.index.v1+json';

export class FakeRegistry {
  readonly requests: RecordedRequest[] = [];
  /** Requests held by a `'hang'` interceptor whose connection the client closed. */
  abandoned = 0;
  private abandonedWaiters: (() => void)[] = [];
  private readonly repositories = new Map<string, Repository>();
  private readonly uploads = new Map<string, string>();
  private readonly tokens = new Map<string, Set<string>>();
  private interceptors: Interceptor[] = [];

  private constructor(
    private readonly server: Server,
    readonly options: FakeRegistryOptions,
  ) {}

  /** Starts on 127.0.0.1 with a free port. */
  static async start(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
    const holder: { instance?: FakeRegistry } = {};
    const server = createServer((req, res) => {
      void holder.instance!.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    const instance = new FakeRegistry(server, options);
    holder.instance = instance;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  /** `127.0.0.1:<port>` — the registry host of references. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  /** Requests to the registry API (`/v2/…`), without those to the token service. */
  registryRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/v2/'));
  }

  /** Settles once the client has closed `count` hung requests. */
  async untilAbandoned(count = 1): Promise<void> {
    while (this.abandoned < count) await new Promise<void>((resolve) => this.abandonedWaiters.push(resolve));
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  /** Adds an interceptor consulted before the registry logic; returns a function removing it. */
  intercept(interceptor: Interceptor): () => void {
    this.interceptors.push(interceptor);
    return () => {
      this.interceptors = this.interceptors.filter((i) => i !== interceptor);
    };
  }

  /** Stores a blob without a request (test setup). */
  seedBlob(repository: string, bytes: Uint8Array): string {
    const digest = sha256(bytes);
    this.repo(repository).blobs.set(digest, bytes);
    return digest;
  }

  /** Stores a manifest without a request (test setup), optionally tagged. */
  seedManifest(repository: string, bytes: Uint8Array, mediaType: string, tag?: string): string {
    const digest = sha256(bytes);
    this.repo(repository).manifests.set(digest, { bytes, mediaType });
    if (tag !== undefined) this.repo(repository).tags.set(tag, digest);
    return digest;
  }

  /** A stored manifest by tag or digest. */
  manifest(repository: string, reference: string): StoredManifest | undefined {
    const repo = this.repositories.get(repository);
    const digest = reference.includes(':') ? reference : repo?.tags.get(reference);
    return digest === undefined ? undefined : repo?.manifests.get(digest);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private repo(name: string): Repository {
    let repo = this.repositories.get(name);
    if (!repo) {
      repo = { blobs: new Map(), manifests: new Map(), tags: new Map() };
      this.repositories.set(name, repo);
    }
    return repo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
    };
    this.requests.push(request);
    const body = await readBody(req);
    for (const interceptor of this.interceptors) {
      const answer = interceptor(request);
      if (answer === 'hang') {
        res.once('close', () => {
          this.abandoned++;
          for (const wake of this.abandonedWaiters.splice(0)) wake();
        });
        return;
      }
      if (answer) return send(res, answer);
    }
    if (url.pathname === '/token') return send(res, this.issueToken(request));
    if (!url.pathname.startsWith('/v2/')) return send(res, { status: 404, body: '404 page not found' });
    const denied = this.checkAuth(request);
    if (denied) return send(res, denied);
    if (url.pathname === '/v2/') return send(res, { status: 200, body: '{}' });
    return send(res, this.route(request, body));
  }

  private route(request: RecordedRequest, body: Uint8Array): FakeResponse {
    const { method, path, query } = request;
    let m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(path);
    if (m) {
      const [, name, id] = m as unknown as [string, string, string];
      if (method === 'POST' && id === '') {
        const mount = query.get('mount');
        const from = query.get('from');
        if (
          mount &&
          from &&
          this.options.supportMount !== false &&
          this.repositories.get(from)?.blobs.has(mount)
        ) {
          this.repo(name).blobs.set(mount, this.repositories.get(from)!.blobs.get(mount)!);
          return {
            status: 201,
            headers: { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount },
          };
        }
        const uploadId = randomUUID();
        this.uploads.set(uploadId, name);
        return {
          status: 202,
          headers: {
            location: `/v2/${name}/blobs/uploads/${uploadId}?_state=opaque`,
            'docker-upload-uuid': uploadId,
            range: '0-0',
          },
        };
      }
      if (method === 'PUT' && this.uploads.get(id) === name) {
        const digest = query.get('digest') ?? '';
        if (sha256(body) !== digest)
          return registryError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
        this.uploads.delete(id);
        this.repo(name).blobs.set(digest, body);
        return {
          status: 201,
          headers: { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest },
        };
      }
      return registryError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
    }
    m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
    if (m) {
      const [, name, digest] = m as unknown as [string, string, string];
      const blob = this.repositories.get(name)?.blobs.get(digest);
      if ((method === 'GET' || method === 'HEAD') && blob) {
        const redirect = method === 'GET' ? this.options.blobRedirect?.(name, digest) : undefined;
        if (redirect) return { status: 307, headers: { location: redirect } };
        return {
          status: 200,
          headers: { 'content-type': 'application/octet-stream', 'docker-content-digest': digest },
          body: blob,
        };
      }
      return registryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    }
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (m) return this.manifestRoute(request, m[1]!, m[2]!, body);
    m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(path);
    if (m && method === 'GET') {
      if (this.options.referrersApi === false)
        return { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' };
      return this.referrers(request, m[1]!, m[2]!);
    }
    return { status: 404, body: '404 page not found' };
  }

  private manifestRoute(
    request: RecordedRequest,
    name: string,
    reference: string,
    body: Uint8Array,
  ): FakeResponse {
    const repo = this.repositories.get(name);
    if (request.method === 'PUT') {
      const digest = sha256(body);
      if (reference.includes(':') && reference !== digest)
        return registryError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
      const mediaType = String(request.headers['content-type'] ?? '');
      const target = this.repo(name);
      target.manifests.set(digest, { bytes: body, mediaType });
      if (!reference.includes(':')) target.tags.set(reference, digest);
      const headers: Record<string, string> = {
        location: `/v2/${name}/manifests/${digest}`,
        'docker-content-digest': digest,
      };
      const parsed = JSON.parse(new TextDecoder().decode(body)) as { subject?: { digest: string } };
      if (parsed.subject && this.options.referrersApi !== false)
        headers['oci-subject'] = parsed.subject.digest;
      return { status: 201, headers };
    }
    if (!repo) return registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry');
    const digest = reference.includes(':') ? reference : repo.tags.get(reference);
    const stored = digest === undefined ? undefined : repo.manifests.get(digest);
    if (request.method === 'DELETE') {
      if (!stored || digest === undefined || !reference.includes(':'))
        return registryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      repo.manifests.delete(digest);
      for (const [tag, d] of repo.tags) if (d === digest) repo.tags.delete(tag);
      return { status: 202 };
    }
    if (!stored || digest === undefined) return registryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    return {
      status: 200,
      headers: {
        'content-type': stored.mediaType,
        'docker-content-digest': digest,
        'content-length': String(stored.bytes.byteLength),
      },
      body: request.method === 'HEAD' ? undefined : stored.bytes,
    };
  }

  private referrers(request: RecordedRequest, name: string, subject: string): FakeResponse {
    const repo = this.repositories.get(name);
    if (!repo) return registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry');
    const artifactType = request.query.get('artifactType');
    const filter = artifactType !== null && this.options.applyArtifactTypeFilter !== false;
    const all: Record<string, unknown>[] = [];
    for (const [digest, stored] of [...repo.manifests].sort(([a], [b]) => a.localeCompare(b))) {
      const m = JSON.parse(new TextDecoder().decode(stored.bytes)) as {
        subject?: { digest: string };
        artifactType?: string;
        config?: { mediaType: string };
        annotations?: Record<string, string>;
      };
      if (m.subject?.digest !== subject) continue;
      const type = m.artifactType ?? m.config?.mediaType;
      if (filter && type !== artifactType) continue;
      all.push({
        mediaType: stored.mediaType,
        digest,
        size: stored.bytes.byteLength,
        ...(m.annotations ? { annotations: m.annotations } : {}),
        ...(type ? { artifactType: type } : {}),
      });
    }
    const size = this.options.referrersPageSize ?? Number.MAX_SAFE_INTEGER;
    const last = request.query.get('last');
    const start = last === null ? 0 : all.findIndex((d) => d.digest === last) + 1;
    const page = all.slice(start, start + size);
    const headers: Record<string, string> = { 'content-type': INDEX };
    if (filter) headers['oci-filters-applied'] = 'artifactType';
    if (start + size < all.length) {
      const next = new URLSearchParams(request.query);
      next.set('last', String(page[page.length - 1]!.digest));
      headers.link = `<${request.path}?${next.toString()}>; rel="next"`;
    }
    return {
      status: 200,
      headers,
      body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: page }),
    };
  }

  private checkAuth(request: RecordedRequest): FakeResponse | undefined {
    const auth = this.options.auth;
    if (!auth) return undefined;
    const header = request.headers.authorization ?? '';
    const name = /^\/v2\/(.+)\/(?:manifests|blobs|referrers)\//.exec(request.path)?.[1] ?? '';
    const action =
      request.method === 'GET' || request.method === 'HEAD'
        ? 'pull'
        : request.method === 'DELETE'
          ? 'delete'
          : 'push';
    const unauthorized = (challenge: string): FakeResponse => ({
      ...registryError(401, 'UNAUTHORIZED', 'authentication required'),
      headers: { 'www-authenticate': challenge, 'content-type': 'application/json' },
    });
    switch (auth.scheme) {
      case 'token':
        return header === `Basic ${auth.token}`
          ? undefined
          : unauthorized('Basic realm="https://fake.dkr.ecr/",service="ecr.amazonaws.com"');
      case 'basic':
        return header === basic(auth.username, auth.password)
          ? undefined
          : unauthorized('Basic realm="fake"');
      case 'bearer': {
        const granted = header.startsWith('Bearer ') ? this.tokens.get(header.slice(7)) : undefined;
        if (granted && (name === '' || granted.has(`${name}:${action}`))) return undefined;
        const scope = name === '' ? '' : `,scope="repository:${name}:${action}"`;
        const realm = this.options.tokenRealm ?? `${this.url}/token`;
        return unauthorized(`Bearer realm="${realm}",service="fake-registry"${scope}`);
      }
    }
  }

  private issueToken(request: RecordedRequest): FakeResponse {
    const auth = this.options.auth;
    if (auth?.scheme !== 'bearer') return { status: 404 };
    if (
      auth.username !== undefined &&
      request.headers.authorization !== basic(auth.username, auth.password ?? '')
    ) {
      return {
        status: 401,
        headers: { 'content-type': 'application/json' },
        body: '{"details":"incorrect username or password"}',
      };
    }
    if (request.query.get('service') !== 'fake-registry') return { status: 400 };
    const granted = new Set<string>();
    for (const scope of request.query.getAll('scope')) {
      const m = /^repository:(.+):([a-z,*]+)$/.exec(scope);
      if (m) for (const action of m[2]!.split(',')) granted.add(`${m[1]}:${action}`);
    }
    const token = `fake-token-${randomUUID()}`;
    this.tokens.set(token, granted);
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, expires_in: 300 }),
    };
  }
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function registryError(status: number, code: string, message: string): FakeResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ errors: [{ code, message }] }),
  };
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

function send(res: ServerResponse, answer: FakeResponse): void {
  res.statusCode = answer.status;
  for (const [key, value] of Object.entries(answer.headers ?? {})) res.setHeader(key, value);
  if (answer.body !== undefined) {
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : Buffer.from(answer.body);
    if (!res.hasHeader('content-length')) res.setHeader('content-length', body.byteLength);
    res.end(body);
  } else {
    res.end();
  }
}
