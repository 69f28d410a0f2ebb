/**
 * Request recording for assertions: every request the fake received, in order, with what the
 * stages' request budgets are about (method, path, query, content type, body, dry-run or not).
 */

export interface RecordedKubeRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** Parsed JSON/YAML body, or the raw text when it did not parse; undefined for no body. */
  body: unknown;
  /** `dryRun=All` was sent. */
  dryRun: boolean;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string | undefined;
  resource: string | undefined;
  subresource: string | undefined;
  group: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
  /** Username the token mapped to (undefined when authentication failed). */
  user: string | undefined;
  /** HTTP status returned. */
  status: number;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export class RequestLog {
  readonly all: RecordedKubeRequest[] = [];

  /** Writes that were not dry-runs (what changed, or tried to change, the cluster). */
  writes(): RecordedKubeRequest[] {
    return this.all.filter((r) => r.verb !== undefined && WRITE_VERBS.has(r.verb) && !r.dryRun);
  }

  dryRuns(): RecordedKubeRequest[] {
    return this.all.filter((r) => r.dryRun);
  }

  /** Requests matching every given field (e.g. `{verb: 'patch', resource: 'deployments'}`). */
  matching(filter: Partial<Omit<RecordedKubeRequest, 'query' | 'body'>>): RecordedKubeRequest[] {
    return this.all.filter((r) =>
      Object.entries(filter).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
    );
  }

  count(filter: Partial<Omit<RecordedKubeRequest, 'query' | 'body'>> = {}): number {
    return this.matching(filter).length;
  }

  clear(): void {
    this.all.length = 0;
  }
}
