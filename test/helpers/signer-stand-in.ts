/**
 * A local AWS Signer stand-in speaking the service's REST-JSON protocol on 127.0.0.1, for the
 * two operations stagesign uses:
 *
 * - `SignPayload`: `POST /signing-jobs/with-payload`, JSON body `{profileName, profileOwner,
 *   payload (base64), payloadFormat}` → `{jobId, jobOwner, metadata, signature (base64)}`.
 * - `GetRevocationStatus`: `GET /revocations?certificateHashes=…&jobArn=…&platformId=…
 *   &profileVersionArn=…&signatureTimestamp=…` → `{revokedEntities: […]}`.
 *
 * Point the real `SignerClient` at it with `AWS_ENDPOINT_URL_SIGNER=<standIn.endpoint>` (the
 * clients from `shared/signer/clients.ts` then disable the `data-` host prefix) or an explicit
 * `endpoint`. Every request is recorded (Authorization is reduced to its credential scope: the
 * signing region and service). Replies are programmable per test, including AWS errors in either
 * wire style (`x-amzn-errortype` header or `__type` in the body) with the right status codes.
 *
 * Usage:
 * ```ts
 * const signer = await startSignerStandIn();
 * signer.onSignPayload((req) => ({ jobId: 'job-1', signature: envelopeFor(req.payload), metadata: {...} }));
 * signer.onGetRevocationStatus(() => signerError('AccessDeniedException', 'no'));
 * …
 * await signer.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AWS_PROFILE_VERSION_ATTRIBUTE,
  AWS_SIGNING_JOB_ATTRIBUTE,
} from '../../shared/notary/aws-signer-plugin';
import { createJwsEnvelope } from '../../shared/notary/jws';

export type SignerOperation = 'SignPayload' | 'GetRevocationStatus' | 'Unknown';

/** A request as the stand-in received it. */
export interface RecordedRequest {
  operation: SignerOperation;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Headers, with `authorization` removed (see `signingRegion` / `signingService`). */
  headers: IncomingHttpHeaders;
  /** `Host` header as sent (shows whether a host prefix was prepended). */
  host: string | undefined;
  body: Buffer;
  /** From the SigV4 credential scope `<key>/<date>/<region>/<service>/aws4_request`. */
  signingRegion: string | undefined;
  signingService: string | undefined;
}

export interface SignPayloadRequest {
  profileName: string;
  profileOwner: string | undefined;
  payload: Uint8Array;
  payloadFormat: string;
  raw: RecordedRequest;
}

export interface SignPayloadResult {
  jobId: string;
  jobOwner?: string;
  metadata?: Record<string, string>;
  /** The envelope bytes (sent base64-encoded, as AWS does). */
  signature: Uint8Array;
}

export interface GetRevocationStatusRequest {
  certificateHashes: string[];
  jobArn: string | undefined;
  platformId: string | undefined;
  profileVersionArn: string | undefined;
  /** Raw query value as the SDK serialised it. */
  signatureTimestamp: string | undefined;
  raw: RecordedRequest;
}

export interface GetRevocationStatusResult {
  revokedEntities?: string[];
}

/** A literal HTTP reply (use `signerError` for AWS errors). */
export interface RawReply {
  kind: 'raw';
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

type Reply<T> = T | RawReply;
type Handler<Req, Res> = (request: Req) => Reply<Res> | Promise<Reply<Res>>;

/** Default HTTP status per AWS Signer error code. */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  NotFoundException: 404,
  ValidationException: 400,
  BadRequestException: 400,
  ConflictException: 409,
  ServiceLimitExceededException: 402,
  ThrottlingException: 429,
  TooManyRequestsException: 429,
  InternalServiceErrorException: 500,
  UnrecognizedClientException: 403,
};

/**
 * An AWS error reply. `style: 'header'` sends `x-amzn-errortype` (how AWS REST-JSON services
 * usually answer); `'body'` sends `{"__type": "…"}` only. The request id goes in `x-amzn-requestid`.
 */
export function signerError(
  code: string,
  message: string,
  options: { status?: number; style?: 'header' | 'body'; requestId?: string } = {},
): RawReply {
  const status = options.status ?? ERROR_STATUS[code] ?? 400;
  const style = options.style ?? 'header';
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-requestid': options.requestId ?? 'stand-in-request-id',
  };
  if (style === 'header')
    headers['x-amzn-errortype'] = `${code}:http://internal.amazon.com/coral/com.amazon.signer/`;
  const body = style === 'body' ? { __type: code, message } : { message };
  return { kind: 'raw', status, headers, body: JSON.stringify(body) };
}

export interface SignerStandIn {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  signPayloadRequests(): SignPayloadRequest[];
  revocationRequests(): GetRevocationStatusRequest[];
  /** Replaces the SignPayload handler (default: 500 "no SignPayload handler programmed"). */
  onSignPayload(handler: Handler<SignPayloadRequest, SignPayloadResult>): void;
  /** Replaces the GetRevocationStatus handler (default: nothing revoked). */
  onGetRevocationStatus(handler: Handler<GetRevocationStatusRequest, GetRevocationStatusResult>): void;
  close(): Promise<void>;
}

/** Starts a stand-in on an ephemeral 127.0.0.1 port. */
export async function startSignerStandIn(): Promise<SignerStandIn> {
  const requests: RecordedRequest[] = [];
  let signHandler: Handler<SignPayloadRequest, SignPayloadResult> = () =>
    signerError('InternalServiceErrorException', 'no SignPayload handler programmed in the stand-in');
  let revocationHandler: Handler<GetRevocationStatusRequest, GetRevocationStatusResult> = () => ({
    revokedEntities: [],
  });
  let requestCounter = 0;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      send(res, signerError('InternalServiceErrorException', `stand-in failure: ${String(error)}`));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const { authorization, ...headers } = req.headers;
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
    const operation: SignerOperation =
      req.method === 'POST' && url.pathname === '/signing-jobs/with-payload'
        ? 'SignPayload'
        : req.method === 'GET' && url.pathname === '/revocations'
          ? 'GetRevocationStatus'
          : 'Unknown';
    const recorded: RecordedRequest = {
      operation,
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers,
      host: req.headers.host,
      body,
      signingRegion: scope?.[1],
      signingService: scope?.[2],
    };
    requests.push(recorded);
    requestCounter += 1;
    const requestId = `stand-in-${requestCounter}`;

    switch (operation) {
      case 'SignPayload': {
        const parsed = parseSignPayload(recorded);
        if ('kind' in parsed) return send(res, parsed);
        const reply = await signHandler(parsed);
        if (isRaw(reply)) return send(res, reply);
        return sendJson(res, requestId, {
          jobId: reply.jobId,
          jobOwner: reply.jobOwner ?? parsed.profileOwner,
          metadata: reply.metadata ?? {},
          signature: Buffer.from(reply.signature).toString('base64'),
        });
      }
      case 'GetRevocationStatus': {
        const reply = await revocationHandler(parseRevocation(recorded));
        if (isRaw(reply)) return send(res, reply);
        return sendJson(res, requestId, { revokedEntities: reply.revokedEntities ?? [] });
      }
      case 'Unknown':
        return send(
          res,
          signerError(
            'UnknownOperationException',
            `stand-in does not implement ${req.method} ${url.pathname}`,
            {
              status: 404,
            },
          ),
        );
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    signPayloadRequests: () =>
      requests
        .filter((r) => r.operation === 'SignPayload')
        .map(parseSignPayload)
        .filter((r): r is SignPayloadRequest => !('kind' in r)),
    revocationRequests: () =>
      requests.filter((r) => r.operation === 'GetRevocationStatus').map(parseRevocation),
    onSignPayload: (handler) => {
      signHandler = handler;
    },
    onGetRevocationStatus: (handler) => {
      revocationHandler = handler;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function parseSignPayload(raw: RecordedRequest): SignPayloadRequest | RawReply {
  let json: unknown;
  try {
    json = JSON.parse(raw.body.toString('utf8'));
  } catch {
    return signerError('BadRequestException', 'request body is not JSON');
  }
  const body = json as Record<string, unknown>;
  if (typeof body['profileName'] !== 'string' || typeof body['payloadFormat'] !== 'string') {
    return signerError('ValidationException', 'profileName and payloadFormat are required');
  }
  if (typeof body['payload'] !== 'string') {
    return signerError('ValidationException', 'payload is required');
  }
  return {
    profileName: body['profileName'],
    profileOwner: typeof body['profileOwner'] === 'string' ? body['profileOwner'] : undefined,
    payload: new Uint8Array(Buffer.from(body['payload'], 'base64')),
    payloadFormat: body['payloadFormat'],
    raw,
  };
}

function parseRevocation(raw: RecordedRequest): GetRevocationStatusRequest {
  return {
    certificateHashes: raw.query.getAll('certificateHashes'),
    jobArn: raw.query.get('jobArn') ?? undefined,
    platformId: raw.query.get('platformId') ?? undefined,
    profileVersionArn: raw.query.get('profileVersionArn') ?? undefined,
    signatureTimestamp: raw.query.get('signatureTimestamp') ?? undefined,
    raw,
  };
}

function isRaw(value: unknown): value is RawReply {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'raw';
}

function send(res: ServerResponse, reply: RawReply): void {
  res.writeHead(reply.status, reply.headers ?? {});
  res.end(reply.body ?? '');
}

function sendJson(res: ServerResponse, requestId: string, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A test signing authority standing in for AWS Signer's per-region CA. */
export interface TestSigningAuthority {
  /** The leaf's private key (AWS uses ECDSA P-384, giving ES384). */
  privateKey: KeyObject;
  /** DER certificates, leaf first, ending with the root the verifier's trust store holds. */
  certificateChain: Uint8Array[];
}

/**
 * A SignPayload handler that answers like AWS Signer (notary-and-signer.md §1.2): a JWS under
 * `notary.x509.signingAuthority` with authenticSigningTime = `now()`, expiry = signing time +
 * `validityDays` (AWS default 135 months), a critical `io.cncf.notary.verificationPlugin:
 * com.amazonaws.signer.notation.plugin` and the critical `com.amazonaws.signer.signingProfileVersion`
 * / `signingJob` attributes, whose ARNs use the request's profile name and owner and the SigV4
 * signing region. `metadata` carries the same two ARNs (AWS documents it as "the signing profile
 * ARN and the signing job ID"; the exact keys are this stand-in's assumption).
 */
export function awsShapedSigning(
  authority: TestSigningAuthority,
  options: { now?: () => Date; profileVersion?: string; validityDays?: number; partition?: string } = {},
): (request: SignPayloadRequest) => SignPayloadResult {
  return (request) => {
    const now = options.now?.() ?? new Date();
    const region = request.raw.signingRegion ?? 'us-east-1';
    const partition =
      options.partition ??
      (region.startsWith('us-gov-') ? 'aws-us-gov' : region.startsWith('cn-') ? 'aws-cn' : 'aws');
    const owner = request.profileOwner ?? '000000000000';
    const jobId = randomUUID();
    const profileVersionArn = `arn:${partition}:signer:${region}:${owner}:/signing-profiles/${request.profileName}/${options.profileVersion ?? 'TestVer001'}`;
    const jobArn = `arn:${partition}:signer:${region}:${owner}:/signing-jobs/${jobId}`;
    const signature = createJwsEnvelope({
      payload: request.payload,
      signingScheme: 'notary.x509.signingAuthority',
      signingTime: now,
      expiry: new Date(now.getTime() + (options.validityDays ?? 4106) * 86_400_000),
      extendedAttributes: [
        { key: AWS_PROFILE_VERSION_ATTRIBUTE, value: profileVersionArn, critical: true },
        { key: AWS_SIGNING_JOB_ATTRIBUTE, value: jobArn, critical: true },
      ],
      verificationPlugin: 'com.amazonaws.signer.notation.plugin',
      certificateChain: authority.certificateChain,
      privateKey: authority.privateKey,
    });
    return {
      jobId,
      jobOwner: owner,
      metadata: { [AWS_PROFILE_VERSION_ATTRIBUTE]: profileVersionArn, [AWS_SIGNING_JOB_ATTRIBUTE]: jobArn },
      signature,
    };
  };
}
