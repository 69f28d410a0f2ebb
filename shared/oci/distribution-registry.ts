import type { ECRClient } from '@aws-sdk/client-ecr';
import { abortedError, anySignal, isAbortedError, sleepUnlessAborted, throwIfAborted } from '../abort';
import {
  ConfigurationError,
  DependencyError,
  InputError,
  isStagesignError,
  PermissionError,
  type StagesignError,
} from '../errors';
import { parseAuthChallenge } from './auth-challenge';
import { assertWithinLimit, descriptorFor, parseDigest, sha256Digest, verifyContent } from './digest';
import { MAX_BLOB_BYTES, MAX_MANIFEST_BYTES, OciErrorCode } from './error-codes';
import { marshalIndex } from './go-json';
import { describeNetworkError, isPlainHttpAnswer } from './network-errors';
import {
  digestProblem,
  ecrPartition,
  formatReference,
  parseEcrHost,
  type EcrHost,
  type Reference,
} from './reference';
import {
  addReferrer,
  filterByArtifactType,
  parseIndex,
  parseManifest,
  referrerDescriptor,
  referrersTag,
} from './referrers-index';
import { drain, readLimited } from './bounded-read';
import { RegistryAuth, type BasicCredentials, type RegistryAccess } from './registry-auth';
import type { CallOptions, PushManifestOptions, Registry } from './registry';
import { backoffDelay, isRetryableStatus, parseRetryAfter, REGISTRY_RETRY_DEFAULTS } from './retry-policy';
import { resolveRetryOptions, type ResolvedRetryOptions, type RetryOptions } from '../retry';
import { MediaType, type Descriptor, type ImageIndex } from './types';

/** The few logger methods this client uses; a Powertools `Logger` fits. */
export interface OciLogger {
  warn(message: string, attributes?: Record<string, unknown>): void;
  debug(message: string, attributes?: Record<string, unknown>): void;
}

export interface DistributionRegistryOptions {
  /** Use http:// instead of https:// — only for the CLI's `--plain-http` and loopback tests. */
  plainHttp?: boolean | ((host: string) => boolean);
  /** ECR API clients per region (default: `createEcrClient`, with bounded connection and request time). */
  ecr?: { clientForRegion(region: string, host: EcrHost): ECRClient };
  /** Basic credentials per registry host (also sent to the Bearer token service). */
  basicCredentials?: (host: string) => BasicCredentials | undefined;
  /** The fetch to use (tests). */
  fetch?: typeof fetch;
  /** Retry bounds and injected clock/sleep/randomness. */
  retry?: RetryOptions;
  /**
   * Time limit of one attempt (request, redirects and reading the body), default 30 s. A timed
   * out attempt is retried like a network failure, within the retry bounds; retries after the
   * first attempt get at most the time left of `retry.maxTotalMs` (at least 1 s).
   */
  requestTimeoutMs?: number;
  /**
   * Aborts every request of this instance; an abort is not retried. Per call, pass
   * `{ signal }` to the method instead (a stage's `ctx.signal`): the two are combined.
   */
  signal?: AbortSignal;
  logger?: OciLogger;
  /**
   * Appended to a 401/403 from a registry for which no credentials are configured, e.g. the
   * CLI's "log in with `stagesign login <host>`". Default: none.
   */
  loginHint?: (host: string) => string;
  /**
   * Appended when an HTTPS connection is answered with plain HTTP, e.g. the CLI's
   * "use --insecure-registry". Default: a generic hint to allow plain HTTP for the host.
   */
  plainHttpHint?: string;
}

/** Which operation a request serves: names the ECR IAM actions in permission errors. */
type Operation =
  'resolve' | 'fetchManifest' | 'fetchBlob' | 'pushBlob' | 'pushManifest' | 'listReferrers' | 'deleteIndex';

/** The `Registry` methods a stage calls. */
export type RegistryMethod = Exclude<Operation, 'deleteIndex'>;

/**
 * The repository-level ECR IAM actions each `Registry` method may need: the union of
 * {@link ecrActionsOfRequest} over every request the method can send on any path (mount or HEAD
 * fallback, Referrers API or tag schema). Left out: deleting an outdated tag-schema index after
 * a push, which is best effort (a denial is only logged), and `ecr:GetAuthorizationToken`
 * (Resource "*"). test/unit/oci/ecr-actions.test.ts checks this table against the requests the
 * client really sends, and template.yaml against this table for each function.
 */
export const ECR_ACTIONS_BY_METHOD: Readonly<Record<RegistryMethod, readonly string[]>> = {
  resolve: ['ecr:BatchGetImage'],
  fetchManifest: ['ecr:BatchGetImage'],
  fetchBlob: ['ecr:GetDownloadUrlForLayer'],
  pushBlob: [
    'ecr:BatchCheckLayerAvailability',
    'ecr:InitiateLayerUpload',
    'ecr:UploadLayerPart',
    'ecr:CompleteLayerUpload',
  ],
  pushManifest: ['ecr:PutImage', 'ecr:BatchGetImage'],
  listReferrers: ['ecr:BatchGetImage'],
};

/** The actions named in permission errors: the table above, plus the best-effort index delete. */
const ECR_ACTIONS: Readonly<Record<Operation, readonly string[]>> = {
  ...ECR_ACTIONS_BY_METHOD,
  deleteIndex: ['ecr:BatchDeleteImage'],
};

/**
 * The ECR IAM actions one OCI Distribution API request needs (ECR's mapping of the API to IAM;
 * notary-and-signer.md §6.3): manifests and referrers are read with BatchGetImage, blobs with
 * GetDownloadUrlForLayer, checked with BatchCheckLayerAvailability, uploaded with the three
 * layer-upload actions; manifests are written with PutImage and deleted with BatchDeleteImage.
 */
export function ecrActionsOfRequest(method: string, pathname: string): string[] {
  const m = /^\/v2\/.+\/(manifests|blobs\/uploads|blobs|referrers)\/[^/]*$/.exec(pathname);
  if (!m) return [`unknown: ${method} ${pathname}`];
  const kind = m[1]!;
  if (kind === 'manifests') {
    if (method === 'GET' || method === 'HEAD') return ['ecr:BatchGetImage'];
    if (method === 'PUT') return ['ecr:PutImage'];
    if (method === 'DELETE') return ['ecr:BatchDeleteImage'];
  }
  if (kind === 'referrers' && method === 'GET') return ['ecr:BatchGetImage'];
  if (kind === 'blobs') {
    if (method === 'GET') return ['ecr:GetDownloadUrlForLayer'];
    if (method === 'HEAD') return ['ecr:BatchCheckLayerAvailability'];
  }
  if (kind === 'blobs/uploads') {
    if (method === 'POST') return ['ecr:InitiateLayerUpload'];
    if (method === 'PATCH') return ['ecr:UploadLayerPart'];
    // A monolithic upload sends the content with the closing PUT.
    if (method === 'PUT') return ['ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'];
  }
  return [`unknown: ${method} ${pathname}`];
}

const MANIFEST_ACCEPT = [
  MediaType.ImageManifest,
  MediaType.ImageIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
].join(', ');
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Most Referrers API pages followed for one listing. */
export const MAX_REFERRER_PAGES = 100;
/** Most referrer descriptors examined (before filtering) for one listing. */
export const MAX_REFERRERS_EXAMINED = 10_000;
/** Most bytes of referrers pages (or the tag-schema index) read for one listing. */
export const MAX_REFERRERS_BYTES = 16 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const MIN_RETRY_TIMEOUT_MS = 1_000;
/** Older distribution-spec drafts said "filters applied" with this index annotation instead of a header. */
const FILTERS_APPLIED_ANNOTATION = 'org.opencontainers.referrers.filtersApplied';
const OUTDATED_INDEX_WARNING =
  'Removal of outdated referrers index from remote registry failed. Garbage collection may be required.';

interface RequestSpec {
  operation: Operation;
  ref: Reference;
  access: RegistryAccess;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** The caller's signal (instance and call combined): ends the request and every retry. */
  signal?: AbortSignal;
}

interface RegistryErrorDetail {
  code?: string;
  message?: string;
}

/**
 * `Registry` over the OCI Distribution API: Amazon ECR and any OCI registry.
 *
 * Request economy (asserted in tests by counting requests): content is addressed by digest,
 * credentials are sent proactively once known, blob existence is checked by a same-repository
 * mount (one request when it exists, two when it does not), and the referrers mode that
 * works (API or tag schema) is remembered per registry host.
 */
export class DistributionRegistry implements Registry {
  private readonly fetchFn: typeof fetch;
  private readonly retry: ResolvedRetryOptions;
  private readonly auth: RegistryAuth;
  /** Per host: does the Referrers API work? (distribution 2.8 answers 404: use the tag schema.) */
  private readonly referrersMode = new Map<string, 'api' | 'tag-schema'>();
  /** Per host: does `POST …/uploads/?mount=` work, or must we HEAD first? */
  private readonly mountUnsupported = new Set<string>();

  private readonly requestTimeoutMs: number;

  constructor(private readonly options: DistributionRegistryOptions = {}) {
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.retry = resolveRetryOptions(options.retry, REGISTRY_RETRY_DEFAULTS);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.auth = new RegistryAuth({
      ...(options.ecr ? { ecr: options.ecr } : {}),
      ...(options.basicCredentials ? { basicCredentials: options.basicCredentials } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.loginHint ? { loginHint: options.loginHint } : {}),
      fetch: this.fetchFn,
      now: this.retry.now,
      plainHttp: (host) => this.isPlainHttp(host),
      requestTimeoutMs: this.requestTimeoutMs,
    });
  }

  async resolve(ref: Reference, options?: CallOptions): Promise<Descriptor> {
    const signal = this.callSignal(options);
    const reference = ref.digest ?? ref.tag;
    if (reference === undefined) {
      throw new InputError(
        OciErrorCode.InvalidReference,
        `reference ${formatReference(ref)} needs a tag or a digest, e.g. ${formatReference({ ...ref, tag: 'latest' })}`,
      );
    }
    const url = this.url(ref, `manifests/${reference}`);
    const head = await this.send({
      operation: 'resolve',
      ref,
      access: 'pull',
      method: 'HEAD',
      url,
      headers: { accept: MANIFEST_ACCEPT },
      ...(signal ? { signal } : {}),
    });
    if (head.status === 404) throw await this.notFound(head, 'resolve', ref);
    if (!head.ok)
      throw await this.failure({ operation: 'resolve', ref, access: 'pull', method: 'HEAD', url }, head);
    const mediaType = contentType(head);
    const headerDigest = head.headers.get('docker-content-digest') ?? undefined;
    const size = Number(head.headers.get('content-length') ?? NaN);
    if (ref.digest !== undefined && headerDigest !== undefined && headerDigest !== ref.digest) {
      throw new InputError(
        OciErrorCode.DigestMismatch,
        `registry ${ref.registry} answered digest ${headerDigest} for ${formatReference(ref)}`,
      );
    }
    const digest = ref.digest ?? headerDigest;
    if (
      mediaType &&
      digest !== undefined &&
      digestProblem(digest) === undefined &&
      Number.isSafeInteger(size) &&
      size >= 0
    ) {
      assertWithinLimit(
        { mediaType, digest, size },
        MAX_MANIFEST_BYTES,
        `manifest of ${formatReference(ref)}`,
      );
      return { mediaType, digest, size };
    }
    // Some registries omit Docker-Content-Digest or Content-Length on HEAD: read the manifest.
    const get = await this.send({
      operation: 'resolve',
      ref,
      access: 'pull',
      method: 'GET',
      url,
      headers: { accept: MANIFEST_ACCEPT },
      ...(signal ? { signal } : {}),
    });
    if (get.status === 404) throw await this.notFound(get, 'resolve', ref);
    if (!get.ok)
      throw await this.failure({ operation: 'resolve', ref, access: 'pull', method: 'GET', url }, get);
    const what = `manifest of ${formatReference(ref)}`;
    const bytes = await readLimited(get, MAX_MANIFEST_BYTES, what, OciErrorCode.ContentTooLarge, signal);
    const parsed = parseManifest(bytes, what);
    const type = contentType(get) || parsed.mediaType || '';
    if (!type) throw new InputError(OciErrorCode.InvalidManifest, `${what} has no media type`);
    const desc = descriptorFor(bytes, type);
    if (ref.digest !== undefined) verifyContent({ ...desc, digest: ref.digest }, bytes, what);
    return ref.digest !== undefined ? { ...desc, digest: ref.digest } : desc;
  }

  async fetchManifest(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array> {
    const signal = this.callSignal(options);
    parseDigest(desc.digest); // the digest goes into the URL: only a valid one may
    const what = `manifest ${formatReference(pinned(ref, desc.digest))}`;
    assertWithinLimit(desc, MAX_MANIFEST_BYTES, what);
    const spec: RequestSpec = {
      operation: 'fetchManifest',
      ref,
      access: 'pull',
      method: 'GET',
      url: this.url(ref, `manifests/${desc.digest}`),
      headers: { accept: `${desc.mediaType}, ${MANIFEST_ACCEPT}` },
      ...(signal ? { signal } : {}),
    };
    const response = await this.send(spec);
    if (response.status === 404)
      throw await this.notFound(response, 'fetchManifest', pinned(ref, desc.digest));
    if (!response.ok) throw await this.failure(spec, response);
    const bytes = await readLimited(response, desc.size, what, OciErrorCode.SizeMismatch, signal);
    verifyContent(desc, bytes, what);
    return bytes;
  }

  async fetchBlob(ref: Reference, desc: Descriptor, options?: CallOptions): Promise<Uint8Array> {
    const signal = this.callSignal(options);
    parseDigest(desc.digest); // the digest goes into the URL: only a valid one may
    const what = `blob ${desc.digest} of ${formatReference({ registry: ref.registry, repository: ref.repository })}`;
    assertWithinLimit(desc, MAX_BLOB_BYTES, what);
    const spec: RequestSpec = {
      operation: 'fetchBlob',
      ref,
      access: 'pull',
      method: 'GET',
      url: this.url(ref, `blobs/${desc.digest}`),
      ...(signal ? { signal } : {}),
    };
    const response = await this.send(spec);
    if (response.status === 404) throw await this.notFound(response, 'fetchBlob', pinned(ref, desc.digest));
    if (!response.ok) throw await this.failure(spec, response);
    const bytes = await readLimited(response, desc.size, what, OciErrorCode.SizeMismatch, signal);
    verifyContent(desc, bytes, what);
    return bytes;
  }

  async pushBlob(
    ref: Reference,
    desc: Descriptor,
    content: Uint8Array,
    options?: CallOptions,
  ): Promise<void> {
    const signal = this.callSignal(options);
    const caller = signal ? { signal } : {};
    verifyContent(
      desc,
      content,
      `blob to push to ${formatReference({ registry: ref.registry, repository: ref.repository })}`,
    );
    const uploads = this.url(ref, 'blobs/uploads/');
    let start: Response;
    let startSpec: RequestSpec;
    if (!this.mountUnsupported.has(ref.registry)) {
      // Mounting from the same repository answers 201 when the blob is already there and 202
      // (an ordinary upload session) when not: existence check and upload start in one request.
      const mountUrl = new URL(uploads);
      mountUrl.searchParams.set('mount', desc.digest);
      mountUrl.searchParams.set('from', ref.repository);
      startSpec = {
        operation: 'pushBlob',
        ref,
        access: 'push',
        method: 'POST',
        url: mountUrl.toString(),
        headers: { 'content-length': '0' },
        ...caller,
      };
      start = await this.send(startSpec);
      if (start.status === 201) return drain(start);
      if ([400, 404, 405, 501].includes(start.status)) {
        await drain(start);
        this.mountUnsupported.add(ref.registry);
        this.options.logger?.debug('registry does not support blob mount; checking blobs with HEAD', {
          registry: ref.registry,
        });
        return this.pushBlob(ref, desc, content, options);
      }
    } else {
      const head = await this.send({
        operation: 'pushBlob',
        ref,
        access: 'push',
        method: 'HEAD',
        url: this.url(ref, `blobs/${desc.digest}`),
        ...caller,
      });
      await drain(head);
      if (head.ok) return;
      startSpec = {
        operation: 'pushBlob',
        ref,
        access: 'push',
        method: 'POST',
        url: uploads,
        headers: { 'content-length': '0' },
        ...caller,
      };
      start = await this.send(startSpec);
    }
    if (start.status !== 202) throw await this.failure(startSpec, start);
    await drain(start);
    const location = start.headers.get('location');
    if (!location)
      throw new DependencyError(
        OciErrorCode.RegistryUnavailable,
        `registry ${ref.registry} started an upload without a Location header`,
      );
    const putUrl = new URL(location, uploads);
    putUrl.searchParams.set('digest', desc.digest);
    const putSpec: RequestSpec = {
      operation: 'pushBlob',
      ref,
      access: 'push',
      method: 'PUT',
      url: putUrl.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(content.byteLength) },
      body: content,
      ...caller,
    };
    const put = await this.send(putSpec);
    if (put.status !== 201 && put.status !== 204 && put.status !== 200)
      throw await this.failure(putSpec, put);
    await drain(put);
  }

  async pushManifest(
    ref: Reference,
    desc: Descriptor,
    content: Uint8Array,
    options?: PushManifestOptions,
  ): Promise<void> {
    const what = `manifest to push to ${formatReference({ registry: ref.registry, repository: ref.repository })}`;
    assertWithinLimit(desc, MAX_MANIFEST_BYTES, what);
    verifyContent(desc, content, what);
    const parsed = parseManifest(content, what);
    const signal = this.callSignal(options);
    const response = await this.putManifest(ref, desc.digest, desc.mediaType, content, signal);
    if (options?.tag !== undefined)
      await drain(await this.putManifest(ref, options.tag, desc.mediaType, content, signal));
    if (parsed.subject === undefined) return;
    // As oras-go: a known mode is kept; only an unknown one is settled by this push's answer.
    // A registry known to serve the Referrers API indexes referrers itself, so one answer
    // without OCI-Subject neither demotes it nor makes us write a tag-schema index that
    // listing (which uses the API) would never read.
    const known = this.referrersMode.get(ref.registry);
    if (known === 'api') return;
    if (known === undefined) {
      if (response.headers.get('oci-subject') !== null) {
        this.referrersMode.set(ref.registry, 'api');
        return;
      }
      this.referrersMode.set(ref.registry, 'tag-schema');
    }
    // The registry does not index subjects: the client must maintain the tag schema.
    await this.indexReferrer(ref, parsed.subject, referrerDescriptor(desc, parsed), signal);
  }

  /**
   * `GET /v2/` to `host` with the credentials this client would send (as `notation login` and
   * oras `Registry.Ping` do): `registry` when it answers 200, `not-a-registry` (with the status)
   * for any other answer than a 401/403, which throws PermissionError. Network failures throw as
   * for every request.
   */
  async ping(
    host: string,
    options?: CallOptions,
  ): Promise<{ kind: 'registry' } | { kind: 'not-a-registry'; status: number }> {
    const signal = this.callSignal(options);
    const ref: Reference = { registry: host, repository: '' };
    const response = await this.send({
      operation: 'resolve',
      ref,
      access: 'pull',
      method: 'GET',
      url: `${this.origin(ref)}/v2/`,
      ...(signal ? { signal } : {}),
    });
    await drain(response);
    return response.status === 200
      ? { kind: 'registry' }
      : { kind: 'not-a-registry', status: response.status };
  }

  async listReferrers(
    ref: Reference,
    subject: Descriptor,
    artifactType?: string,
    options?: CallOptions,
  ): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    for await (const page of this.referrerPages(ref, subject, artifactType, options)) out.push(...page);
    return out;
  }

  /**
   * The referrers of `subject`, one page at a time (Referrers API pages, else the one tag-schema
   * index), each page filtered by `artifactType` before it is handed out, so a caller that stops
   * early (at the first passing signature) neither fetches nor keeps the rest. Bounded per
   * listing: at most {@link MAX_REFERRER_PAGES} pages, {@link MAX_REFERRERS_EXAMINED}
   * descriptors and {@link MAX_REFERRERS_BYTES} bytes read; past a bound the listing fails
   * closed (InputError `REFERRERS_LIMIT_EXCEEDED`, naming the bound).
   */
  async *referrerPages(
    ref: Reference,
    subject: Descriptor,
    artifactType?: string,
    options?: CallOptions,
  ): AsyncGenerator<Descriptor[], void, undefined> {
    const signal = this.callSignal(options);
    const budget = new ReferrersBudget(ref, subject);
    if (this.referrersMode.get(ref.registry) !== 'tag-schema') {
      const supported = yield* this.referrerPagesViaApi(ref, subject, artifactType, signal, budget);
      if (supported) return;
    }
    const read = await this.readReferrersIndex(ref, subject.digest, 'listReferrers', signal);
    if (read !== undefined) budget.read(read.desc.size, read.index.manifests.length);
    yield filterByArtifactType(read?.index.manifests ?? [], artifactType);
  }

  /** Referrers API pages; returns false (having yielded nothing) when this registry does not support it (then remembered). */
  private async *referrerPagesViaApi(
    ref: Reference,
    subject: Descriptor,
    artifactType: string | undefined,
    signal: AbortSignal | undefined,
    budget: ReferrersBudget,
  ): AsyncGenerator<Descriptor[], boolean, undefined> {
    const first = new URL(this.url(ref, `referrers/${subject.digest}`));
    if (artifactType !== undefined) first.searchParams.set('artifactType', artifactType);
    let next: string | undefined = first.toString();
    for (let page = 0; next !== undefined; page++) {
      if (page >= MAX_REFERRER_PAGES) {
        throw new DependencyError(
          OciErrorCode.RegistryUnavailable,
          `registry ${ref.registry} returned more than ${MAX_REFERRER_PAGES} pages of referrers for ${subject.digest}`,
        );
      }
      const spec: RequestSpec = {
        operation: 'listReferrers',
        ref,
        access: 'pull',
        method: 'GET',
        url: next,
        headers: { accept: MediaType.ImageIndex },
        ...(signal ? { signal } : {}),
      };
      const response = await this.send(spec);
      if (response.status === 404) {
        const details = await readErrorDetails(response);
        if (details.some((d) => d.code === 'NAME_UNKNOWN')) {
          throw new InputError(
            OciErrorCode.ImageNotFound,
            `repository ${formatReference({ registry: ref.registry, repository: ref.repository })} does not exist (NAME_UNKNOWN)`,
          );
        }
        if (page > 0)
          throw new DependencyError(
            OciErrorCode.RegistryUnavailable,
            `registry ${ref.registry} lost the referrers page ${new URL(next).pathname}`,
          );
        // distribution 2.8 (and other pre-1.1 registries) answer 404: fall back to the tag schema.
        this.referrersMode.set(ref.registry, 'tag-schema');
        return false;
      }
      if (!response.ok) throw await this.failure(spec, response);
      if (contentType(response) !== MediaType.ImageIndex) {
        await drain(response);
        if (page > 0)
          throw new InputError(
            OciErrorCode.InvalidManifest,
            `registry ${ref.registry} answered a referrers page that is not an image index`,
          );
        this.referrersMode.set(ref.registry, 'tag-schema');
        return false;
      }
      this.referrersMode.set(ref.registry, 'api');
      const what = `referrers of ${formatReference(pinned(ref, subject.digest))}`;
      // Never read past what is left of the listing's byte budget (plus one byte to notice).
      const limit = Math.min(MAX_MANIFEST_BYTES, budget.bytesLeft + 1);
      let bytes: Uint8Array;
      try {
        bytes = await readLimited(response, limit, what, OciErrorCode.ContentTooLarge, signal);
      } catch (error) {
        if (
          limit < MAX_MANIFEST_BYTES &&
          isStagesignError(error) &&
          error.code === OciErrorCode.ContentTooLarge
        )
          budget.read(limit, 0); // throws REFERRERS_LIMIT_EXCEEDED naming the byte budget
        throw error;
      }
      const index = parseIndex(bytes, what);
      budget.read(bytes.byteLength, index.manifests.length);
      const applied = [
        response.headers.get('oci-filters-applied') ?? '',
        index.annotations?.[FILTERS_APPLIED_ANNOTATION] ?? '',
      ]
        .join(',')
        .split(',')
        .map((s) => s.trim());
      next = nextLink(response.headers.get('link'), next);
      if (next !== undefined && new URL(next).origin !== first.origin) {
        // Credentials are sent to the registry's origin: a page elsewhere (another host, or
        // HTTPS to HTTP) would receive them, so it is refused rather than fetched anonymously.
        throw new InputError(
          OciErrorCode.CrossOriginLink,
          `registry ${ref.registry} pointed the next page of referrers of ${subject.digest} at another origin (${new URL(next).origin}); refusing to follow it`,
        );
      }
      yield applied.includes('artifactType')
        ? index.manifests
        : filterByArtifactType(index.manifests, artifactType);
    }
    return true;
  }

  private async readReferrersIndex(
    ref: Reference,
    subjectDigest: string,
    operation: Operation,
    signal: AbortSignal | undefined,
  ): Promise<{ index: ImageIndex; desc: Descriptor } | undefined> {
    const tag = referrersTag(subjectDigest);
    const spec: RequestSpec = {
      operation,
      ref,
      access: 'pull',
      method: 'GET',
      url: this.url(ref, `manifests/${tag}`),
      headers: { accept: MediaType.ImageIndex },
      ...(signal ? { signal } : {}),
    };
    const response = await this.send(spec);
    if (response.status === 404) {
      await drain(response);
      return undefined;
    }
    if (!response.ok) throw await this.failure(spec, response);
    const what = `referrers index ${formatReference({ ...ref, digest: undefined, tag })}`;
    const bytes = await readLimited(response, MAX_MANIFEST_BYTES, what, OciErrorCode.ContentTooLarge, signal);
    return {
      index: parseIndex(bytes, what),
      desc: descriptorFor(bytes, contentType(response) || MediaType.ImageIndex),
    };
  }

  /** Tag schema: add the referrer to `sha256-<hex>`, replace the tag, delete the outdated index best-effort. */
  private async indexReferrer(
    ref: Reference,
    subject: Descriptor,
    entry: Descriptor,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const old = await this.readReferrersIndex(ref, subject.digest, 'pushManifest', signal);
    const updated = addReferrer(old?.index, entry);
    if (updated === undefined) return;
    const bytes = marshalIndex(updated);
    await drain(
      await this.putManifest(ref, referrersTag(subject.digest), MediaType.ImageIndex, bytes, signal),
    );
    if (old === undefined || old.desc.digest === sha256Digest(bytes)) return;
    try {
      const spec: RequestSpec = {
        operation: 'deleteIndex',
        ref,
        access: 'delete',
        method: 'DELETE',
        url: this.url(ref, `manifests/${old.desc.digest}`),
        ...(signal ? { signal } : {}),
      };
      const response = await this.send(spec);
      if (!response.ok) throw await this.failure(spec, response);
      await drain(response);
    } catch (error) {
      // Best effort, but an abort is the caller's decision, not a registry problem to log away.
      if (signal?.aborted)
        throw abortedError(`deleting the outdated referrers index of ${subject.digest}`, signal, error);
      this.options.logger?.warn(OUTDATED_INDEX_WARNING, {
        registry: ref.registry,
        repository: ref.repository,
        digest: old.desc.digest,
        code: (error as Partial<StagesignError>).code ?? 'UNKNOWN',
      });
    }
  }

  private async putManifest(
    ref: Reference,
    reference: string,
    mediaType: string,
    content: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const spec: RequestSpec = {
      operation: 'pushManifest',
      ref,
      access: 'push',
      method: 'PUT',
      url: this.url(ref, `manifests/${reference}`),
      headers: { 'content-type': mediaType, 'content-length': String(content.byteLength) },
      body: content,
      ...(signal ? { signal } : {}),
    };
    const response = await this.send(spec);
    if (
      response.status !== 201 &&
      response.status !== 200 &&
      response.status !== 202 &&
      response.status !== 204
    )
      throw await this.failure(spec, response);
    await drain(response);
    return response;
  }

  /** The instance's signal and the call's, combined; undefined when neither is given. */
  private callSignal(options: CallOptions | undefined): AbortSignal | undefined {
    return anySignal(this.options.signal, options?.signal);
  }

  private isPlainHttp(host: string): boolean {
    return typeof this.options.plainHttp === 'function'
      ? this.options.plainHttp(host)
      : this.options.plainHttp === true;
  }

  /** The registry's own origin: the only one that ever receives its credentials. */
  private origin(ref: Reference): string {
    return new URL(`${this.isPlainHttp(ref.registry) ? 'http' : 'https'}://${ref.registry}/`).origin;
  }

  private url(ref: Reference, path: string): string {
    return `${this.origin(ref)}/v2/${ref.repository}/${path}`;
  }

  /**
   * Sends one logical request: credentials (proactive once known, one retry after a 401
   * challenge), redirects (Authorization only to the registry's own origin), and retries of
   * 429/5xx/network failures. Returns any other response for the caller to interpret; throws
   * PermissionError on 401/403 and DependencyError when retries are exhausted. When the
   * caller's signal aborts, the request in flight ends and the DependencyError is `ABORTED`:
   * no further request (retry, challenge, redirect) is sent.
   */
  private async send(spec: RequestSpec): Promise<Response> {
    const started = this.retry.now();
    const registryOrigin = this.origin(spec.ref);
    const what = `registry request ${spec.method} ${new URL(spec.url).pathname} to ${spec.ref.registry}`;
    let challenged = false;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(spec.signal, what);
      let response: Response | undefined;
      let networkError: unknown;
      try {
        const authorization = await this.auth.authorization(
          spec.ref.registry,
          spec.ref.repository,
          spec.access,
          spec.signal,
        );
        const timeoutMs =
          attempt === 1
            ? this.requestTimeoutMs
            : Math.min(
                this.requestTimeoutMs,
                Math.max(MIN_RETRY_TIMEOUT_MS, this.retry.maxTotalMs - (this.retry.now() - started)),
              );
        const answered = await this.fetchFollowingRedirects(spec, authorization, timeoutMs);
        response = answered.response;
        // Only the registry itself may teach us how to authenticate to it: a 401 challenge
        // from a redirect target (e.g. storage on another host) is just a failure.
        if (response.status === 401 && !challenged && new URL(answered.url).origin === registryOrigin) {
          challenged = true;
          const challenge = parseAuthChallenge(response.headers.get('www-authenticate'));
          if (
            this.auth.onChallenge(
              spec.ref.registry,
              spec.ref.repository,
              spec.access,
              challenge,
              authorization !== undefined,
            )
          ) {
            await drain(response);
            attempt--;
            continue;
          }
        }
      } catch (error) {
        // The caller's abort first: whatever the fetch or the token service threw then is a
        // consequence of it, not a registry failure.
        if (spec.signal?.aborted)
          throw isAbortedError(error) ? error : abortedError(what, spec.signal, error);
        if (
          error instanceof PermissionError ||
          error instanceof InputError ||
          error instanceof ConfigurationError ||
          (error instanceof DependencyError && error.code !== OciErrorCode.RegistryUnavailable)
        )
          throw error;
        // An HTTPS handshake answered with plain HTTP never heals: fail once, at once.
        if (isPlainHttpAnswer(error) && !this.isPlainHttp(spec.ref.registry))
          throw new ConfigurationError(
            OciErrorCode.PlainHttpRegistry,
            `registry ${spec.ref.registry} answered the TLS handshake with plain HTTP; ${this.options.plainHttpHint ?? `it speaks plain HTTP only: allow plain HTTP for ${spec.ref.registry} if that is intended`}`,
            { cause: error },
          );
        networkError = error;
      }
      if (response !== undefined && (response.status === 401 || response.status === 403))
        throw await this.failure(spec, response);
      if (response !== undefined && !isRetryableStatus(response.status)) return response;
      const retryAfter = response
        ? parseRetryAfter(response.headers.get('retry-after'), this.retry.now())
        : undefined;
      const delay = backoffDelay(this.retry, attempt, retryAfter);
      const elapsed = this.retry.now() - started;
      if (attempt >= this.retry.maxAttempts || elapsed + delay > this.retry.maxTotalMs) {
        if (response !== undefined) throw await this.failure(spec, response, attempt);
        throw new DependencyError(
          OciErrorCode.RegistryUnavailable,
          `registry ${spec.ref.registry} did not answer ${spec.method} ${new URL(spec.url).pathname} after ${attempt} attempt(s): ${describeNetworkError(networkError)}`,
          { cause: networkError },
        );
      }
      if (response !== undefined) await drain(response);
      throwIfAborted(spec.signal, what);
      this.options.logger?.debug('retrying registry request', {
        registry: spec.ref.registry,
        method: spec.method,
        status: response?.status,
        attempt,
        delayMs: delay,
      });
      await sleepUnlessAborted(this.retry.sleep, delay, spec.signal, what);
    }
  }

  /**
   * One attempt: the request and its redirects under one time limit, which also bounds reading
   * the body (the signal stays attached to the response). Returns the final response and URL.
   */
  private async fetchFollowingRedirects(
    spec: RequestSpec,
    authorization: string | undefined,
    timeoutMs: number,
  ): Promise<{ response: Response; url: string }> {
    // The registry's origin, not the request's: a URL the registry handed us (a Link or an
    // upload Location) may point elsewhere, and its credentials must not follow.
    const origin = this.origin(spec.ref);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
    let url = spec.url;
    let method = spec.method;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...spec.headers };
      // Never send registry credentials to another origin (ECR redirects blobs to S3).
      if (authorization !== undefined && new URL(url).origin === origin)
        headers.authorization = authorization;
      const init: RequestInit = { method, headers, redirect: 'manual', signal };
      if (spec.body !== undefined && method !== 'GET' && method !== 'HEAD') init.body = spec.body;
      const response = await this.fetchFn(url, init);
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || location === null || (method !== 'GET' && method !== 'HEAD'))
        return { response, url };
      await drain(response);
      if (hop >= MAX_REDIRECTS) {
        throw new DependencyError(
          OciErrorCode.RegistryUnavailable,
          `registry ${spec.ref.registry} redirected ${spec.method} ${new URL(spec.url).pathname} more than ${MAX_REDIRECTS} times`,
        );
      }
      const target = new URL(location, url);
      if (new URL(url).protocol === 'https:' && target.protocol !== 'https:') {
        throw new DependencyError(
          OciErrorCode.RegistryUnavailable,
          `registry ${spec.ref.registry} redirected ${new URL(spec.url).pathname} from HTTPS to ${target.protocol}; refusing the downgrade`,
        );
      }
      if (response.status === 303) method = 'GET';
      url = target.toString();
    }
  }

  private async notFound(
    response: Response,
    operation: 'resolve' | 'fetchManifest' | 'fetchBlob',
    ref: Reference,
  ): Promise<InputError> {
    const details = await readErrorDetails(response);
    const codes = details.map(formatDetail).join('; ') || '404';
    if (operation === 'resolve') {
      return new InputError(
        OciErrorCode.ImageNotFound,
        `image ${formatReference(ref)} was not found (${codes}); check the repository, tag or digest`,
      );
    }
    return new InputError(
      OciErrorCode.ContentNotFound,
      `${operation === 'fetchBlob' ? 'blob' : 'manifest'} ${formatReference(ref)} was not found (${codes})`,
    );
  }

  private async failure(spec: RequestSpec, response: Response, attempts?: number): Promise<StagesignError> {
    const details = await readErrorDetails(response);
    const codes = details.map(formatDetail).join('; ');
    const where = `${spec.method} ${new URL(spec.url).pathname}`;
    const host = spec.ref.registry;
    const status = `${response.status}${codes ? ` ${codes}` : ''}`;
    if (response.status === 401 || response.status === 403) {
      const ecr = parseEcrHost(host);
      const hint = ecr
        ? `; the role needs ${ECR_ACTIONS[spec.operation].join(', ')} on arn:${ecrPartition(ecr)}:ecr:${ecr.region}:${ecr.accountId}:repository/${spec.ref.repository}`
        : this.auth.hasCredentials(host)
          ? spec.ref.repository === ''
            ? `; the credentials for ${host} were rejected: check the username and password`
            : `; check that the credentials for ${host} may ${spec.access} ${spec.ref.repository}`
          : `; no credentials are configured for ${host}${this.options.loginHint?.(host) ?? ''}`;
      return new PermissionError(
        OciErrorCode.RegistryDenied,
        `registry ${host} denied ${where} (${status})${hint}`,
      );
    }
    if (isRetryableStatus(response.status)) {
      return new DependencyError(
        OciErrorCode.RegistryUnavailable,
        `registry ${host} answered ${status} to ${where}${attempts ? ` after ${attempts} attempt(s)` : ''}`,
      );
    }
    return new InputError(
      OciErrorCode.RegistryRequestRejected,
      `registry ${host} rejected ${where}: ${status}`,
    );
  }
}

/** The bounds of one referrers listing: descriptors examined and bytes read. */
class ReferrersBudget {
  private examined = 0;
  private bytes = 0;
  constructor(
    private readonly ref: Reference,
    private readonly subject: Descriptor,
  ) {}

  get bytesLeft(): number {
    return MAX_REFERRERS_BYTES - this.bytes;
  }

  /** Counts a page; throws InputError `REFERRERS_LIMIT_EXCEEDED` naming the bound passed. */
  read(bytes: number, descriptors: number): void {
    this.bytes += bytes;
    this.examined += descriptors;
    const of = `referrers of ${formatReference(pinned(this.ref, this.subject.digest))}`;
    if (this.bytes > MAX_REFERRERS_BYTES) {
      throw new InputError(
        OciErrorCode.ReferrersLimitExceeded,
        `registry ${this.ref.registry} sent more than ${MAX_REFERRERS_BYTES} bytes of ${of} (MAX_REFERRERS_BYTES); refusing to read more`,
      );
    }
    if (this.examined > MAX_REFERRERS_EXAMINED) {
      throw new InputError(
        OciErrorCode.ReferrersLimitExceeded,
        `registry ${this.ref.registry} listed more than ${MAX_REFERRERS_EXAMINED} ${of} (MAX_REFERRERS_EXAMINED); refusing to examine more`,
      );
    }
  }
}

function pinned(ref: Reference, digest: string): Reference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

function contentType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
}

/** The `errors` of a distribution-spec error body; tolerant of any other body. */
async function readErrorDetails(response: Response): Promise<RegistryErrorDetail[]> {
  if (response.bodyUsed) return [];
  let bytes: Uint8Array;
  try {
    bytes = await readLimited(response, MAX_ERROR_BODY_BYTES, 'error body', OciErrorCode.ContentTooLarge);
  } catch {
    return [];
  }
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        ...(typeof e.message === 'string' ? { message: e.message.slice(0, 300) } : {}),
      }));
  } catch {
    return [];
  }
}

function formatDetail(detail: RegistryErrorDetail): string {
  return [detail.code, detail.message].filter(Boolean).join(': ');
}

/** The `rel="next"` target of a Link header, resolved against the current URL. */
function nextLink(header: string | null, current: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /\brel\s*=\s*"?next"?/i.test(m[2]!)) return new URL(m[1]!, current).toString();
  }
  return undefined;
}
