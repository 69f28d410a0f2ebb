/**
 * `metav1.Status` failure bodies with the real API server's reasons, codes and message wording
 * (k8s.io/apimachinery/pkg/api/errors).
 */

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A failure to send: HTTP code and the Status body (plus extra headers such as Retry-After). */
export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly status: KubeStatus,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

export function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** `deployments.apps` / `pods` (group-qualified resource as the server prints it). */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const errors = {
  unauthorized: (): KubeError => new KubeError(statusBody(401, 'Unauthorized', 'Unauthorized')),
  notFound: (resource: string, group: string, name: string): KubeError =>
    new KubeError(
      statusBody(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, {
        name,
        ...(group ? { group } : {}),
        kind: resource,
      }),
    ),
  /** 404 for a path no resource serves (the real server's body for an unknown URL). */
  pathNotFound: (): KubeError =>
    new KubeError(statusBody(404, 'NotFound', 'the server could not find the requested resource', {})),
  alreadyExists: (resource: string, group: string, name: string): KubeError =>
    new KubeError(
      statusBody(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, {
        name,
        ...(group ? { group } : {}),
        kind: resource,
      }),
    ),
  /** Optimistic-concurrency conflict (stale resourceVersion). */
  conflict: (resource: string, group: string, name: string): KubeError =>
    new KubeError(
      statusBody(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, ...(group ? { group } : {}), kind: resource },
      ),
    ),
  /** 422 with field causes: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: …`. */
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]): KubeError => {
    const qualified = group ? `${kind}.${group}` : kind;
    const list = causes.map((c) => `${c.field}: ${c.message}`);
    const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    return new KubeError(
      statusBody(422, 'Invalid', `${qualified} "${name}" is invalid: ${joined}`, {
        name,
        ...(group ? { group } : {}),
        kind,
        causes: causes.map((c) => ({
          reason: c.reason ?? 'FieldValueInvalid',
          message: c.message,
          field: c.field,
        })),
      }),
    );
  },
  badRequest: (message: string): KubeError => new KubeError(statusBody(400, 'BadRequest', message)),
  /** A patch that cannot be applied (the server answers 422 for JSON-patch failures). */
  invalidPatch: (message: string): KubeError =>
    new KubeError(
      statusBody(
        422,
        'Invalid',
        `the server rejected our request due to an error in our request: ${message}`,
      ),
    ),
  invalidPodLogOptions: (message: string): KubeError =>
    new KubeError(statusBody(422, 'Invalid', `PodLogOptions "" is invalid: ${message}`)),
  /** 422 for bad request options: `The PatchOptions "" is invalid: fieldManager: Required value: …`. */
  invalidOptions: (kind: string, message: string): KubeError =>
    new KubeError(statusBody(422, 'Invalid', `${kind} "" is invalid: ${message}`, { kind })),
  methodNotAllowed: (): KubeError =>
    new KubeError(
      statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    ),
  unsupportedMediaType: (contentType: string): KubeError =>
    new KubeError(
      statusBody(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
      ),
    ),
  tooLarge: (limit: number): KubeError =>
    new KubeError(statusBody(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`)),
  tooManyRequests: (retryAfterSeconds: number): KubeError =>
    new KubeError(
      statusBody(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
      { 'Retry-After': String(retryAfterSeconds) },
    ),
  internal: (message: string): KubeError =>
    new KubeError(
      statusBody(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
    ),
  serviceUnavailable: (message = 'the server is currently unable to handle the request'): KubeError =>
    new KubeError(statusBody(503, 'ServiceUnavailable', message)),
  /**
   * RBAC denial, worded like the authorizer: `deployments.apps "web" is forbidden: User "u" cannot
   * patch resource "deployments" in API group "apps" in the namespace "prod"`.
   */
  forbidden: (a: {
    user: string;
    verb: string;
    resource: string;
    subresource?: string;
    group: string;
    namespace?: string;
    name?: string;
  }): KubeError => {
    const subject = a.name
      ? `${qualifiedResource(a.resource, a.group)} "${a.name}"`
      : qualifiedResource(a.resource, a.group);
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    return new KubeError(
      statusBody(
        403,
        'Forbidden',
        `${subject} is forbidden: User "${a.user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`,
        { ...(a.name ? { name: a.name } : {}), ...(a.group ? { group: a.group } : {}), kind: a.resource },
      ),
    );
  },
};
