/**
 * Error injection: a rule matches requests (by method, verb, resource, namespace, name, path,
 * dry-run) and answers them, `times` times (default once), with the real server's Status for the
 * code: 401 Unauthorized, 403 RBAC Forbidden (worded for the request's verb and resource), 404
 * NotFound, 409 Conflict, 422 Invalid (with `details.causes[].field`), 429 TooManyRequests
 * (`Retry-After`), 500 InternalError, 503 ServiceUnavailable — or a custom Status.
 */
import { RESOURCE_TYPES } from './discovery';
import type { RecordedKubeRequest } from './recorder';
import { errors, KubeError, type KubeStatus, type StatusCause } from './status';

export interface FaultRule {
  method?: string;
  verb?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Exact path, or a pattern tested against the path. */
  path?: string | RegExp;
  /** Only dry-run requests (true) or only real ones (false). */
  dryRun?: boolean;
  /** How many matching requests fail (default 1; Infinity for all). */
  times?: number;
  status: 401 | 403 | 404 | 409 | 422 | 429 | 500 | 503;
  /** Message for 403/500/503 (defaults are the server's usual texts). */
  message?: string;
  /** 422 causes (default one cause on `spec`). */
  causes?: StatusCause[];
  retryAfterSeconds?: number;
  /** A complete Status body instead of the generated one. */
  body?: KubeStatus;
}

export interface FaultHandle {
  /** Requests this rule answered so far. */
  readonly hits: number;
  remove(): void;
}

type Target = Pick<
  RecordedKubeRequest,
  'method' | 'path' | 'verb' | 'resource' | 'subresource' | 'group' | 'namespace' | 'name' | 'dryRun' | 'user'
>;

export class Faults {
  private readonly rules: { rule: FaultRule; left: number; hits: number }[] = [];

  add(rule: FaultRule): FaultHandle {
    const entry = { rule, left: rule.times ?? 1, hits: 0 };
    this.rules.push(entry);
    return {
      get hits() {
        return entry.hits;
      },
      remove: () => {
        const i = this.rules.indexOf(entry);
        if (i >= 0) this.rules.splice(i, 1);
      },
    };
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** The error for this request, if a rule with calls left matches it. */
  match(r: Target): KubeError | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (entry.left <= 0) continue;
      if (rule.method && rule.method.toUpperCase() !== r.method) continue;
      if (rule.verb && rule.verb !== r.verb) continue;
      if (rule.resource && rule.resource !== r.resource) continue;
      if (rule.subresource !== undefined && rule.subresource !== r.subresource) continue;
      if (rule.namespace && rule.namespace !== r.namespace) continue;
      if (rule.name && rule.name !== r.name) continue;
      if (rule.dryRun !== undefined && rule.dryRun !== r.dryRun) continue;
      if (rule.path && (typeof rule.path === 'string' ? rule.path !== r.path : !rule.path.test(r.path)))
        continue;
      entry.left -= 1;
      entry.hits += 1;
      return errorFor(rule, r);
    }
    return undefined;
  }
}

function errorFor(rule: FaultRule, r: Target): KubeError {
  if (rule.body)
    return new KubeError(
      rule.body,
      rule.retryAfterSeconds ? { 'Retry-After': String(rule.retryAfterSeconds) } : {},
    );
  const resource = r.resource ?? 'unknown';
  const group = r.group ?? '';
  const name = r.name ?? '';
  switch (rule.status) {
    case 401:
      return errors.unauthorized();
    case 403: {
      const e = errors.forbidden({
        user: r.user ?? 'system:anonymous',
        verb: r.verb ?? 'get',
        resource,
        ...(r.subresource ? { subresource: r.subresource } : {}),
        group,
        ...(r.namespace ? { namespace: r.namespace } : {}),
        ...(name ? { name } : {}),
      });
      if (rule.message) e.status.message = rule.message;
      return e;
    }
    case 404:
      return errors.notFound(resource, group, name);
    case 409:
      return errors.conflict(resource, group, name);
    case 422:
      return errors.invalid(
        kindOf(resource),
        group,
        name,
        rule.causes ?? [{ field: 'spec', message: 'Invalid value: "": injected' }],
      );
    case 429:
      return errors.tooManyRequests(rule.retryAfterSeconds ?? 1);
    case 500:
      return errors.internal(rule.message ?? 'etcdserver: request timed out');
    case 503:
      return errors.serviceUnavailable(rule.message);
  }
}

function kindOf(resource: string): string {
  return RESOURCE_TYPES.find((t) => t.resource === resource)?.kind ?? resource;
}
