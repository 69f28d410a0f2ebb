/**
 * Maps a failed Kubernetes API request to a StagesignError whose kind decides the CodePipeline
 * failure type (issue 11 §2 "Failure types"). Pure: request + Status in, error out.
 *
 * - an admission message (any status): by the §4.1 table (admission-message.ts);
 * - 401: PermissionError, the function's role has no access entry;
 * - 403: PermissionError naming verb, resource and namespace (RBAC);
 * - 422: ConfigurationError with the Status causes' field paths;
 * - 429 and 5xx: DependencyError (the adapter retried first);
 * - anything else: InputError quoting the server.
 */
import { errorOfKind, ConfigurationError, DependencyError, InputError, PermissionError } from '../errors';
import type { StagesignError } from '../errors';
import { classifyAdmissionMessage } from './admission-message';
import { KubeApiError } from './cluster';
import type { KubeRequest, KubeStatus } from './cluster';

/** True for statuses the adapter retries (with backoff) before giving up. */
export function isRetryableStatus(code: number): boolean {
  return code === 429 || code >= 500;
}

/** `create deployments.apps "web" in namespace "prod"`-style text for messages. */
export function describeRequest(request: KubeRequest): string {
  return [
    request.verb,
    request.resource,
    ...(request.name ? [JSON.stringify(request.name)] : []),
    ...(request.namespace ? [`in namespace ${JSON.stringify(request.namespace)}`] : []),
    ...(request.dryRun ? ['(dry run)'] : []),
  ].join(' ');
}

/** The StagesignError for `status`; its `cause` is a {@link KubeApiError}. */
export function kubeApiFailure(request: KubeRequest, status: KubeStatus): StagesignError {
  const cause = new KubeApiError(request, status);
  const what = describeRequest(request);
  const admission = classifyAdmissionMessage(status.message);
  if (admission) return errorOfKind(admission.kind, admission.code, admission.message, { cause });
  switch (status.code) {
    case 401:
      return new PermissionError(
        'KUBE_UNAUTHORIZED',
        `The cluster's API server did not accept the function's token (401 Unauthorized) for ${what}. ` +
          'Give the function role an EKS access entry on the cluster (template parameter CreateAccessEntry=true, or ' +
          '`aws eks create-access-entry --cluster-name <cluster> --principal-arn <DeployManifestFunctionRole ARN>`), ' +
          'or map the role in aws-auth for a CONFIG_MAP cluster.',
        { cause },
      );
    case 403:
      return new PermissionError(
        'KUBE_FORBIDDEN',
        `Kubernetes RBAC forbids ${request.verb === 'apply' ? 'patch' : request.verb} on ${request.resource}` +
          `${request.namespace ? ` in namespace ${JSON.stringify(request.namespace)}` : ' (cluster scope)'}: ${status.message}. ` +
          'Grant it to the function role: the access policy of its access entry, or the ClusterRole in shared/kube/rbac/stagesign-deployer.yaml.',
        { cause },
      );
    case 422: {
      const fields = status.causes
        .filter((c) => c.field || c.message)
        .map((c) => `${c.field ?? '(object)'}: ${c.message ?? c.reason ?? 'invalid'}`);
      return new ConfigurationError(
        'KUBE_INVALID_OBJECT',
        `The API server refused ${what} as invalid: ${status.message}` +
          (fields.length > 0 ? `\n${fields.map((f) => `  ${f}`).join('\n')}` : ''),
        { cause },
      );
    }
    default:
      if (isRetryableStatus(status.code)) {
        return new DependencyError(
          'KUBE_UNAVAILABLE',
          `The cluster's API server answered ${status.code} to ${what} after retries: ${status.message}`,
          { cause },
        );
      }
      return new InputError(
        'KUBE_REQUEST_REJECTED',
        `The API server refused ${what} (${status.code}${status.reason ? ` ${status.reason}` : ''}): ${status.message}`,
        { cause },
      );
  }
}

/**
 * The Status in a response body, or a stand-in when the body is not a Status (a proxy's HTML,
 * an empty body).
 */
export function parseStatus(code: number, body: string): KubeStatus {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (parsed && typeof parsed === 'object' && typeof parsed.message === 'string') {
      const details = (parsed.details ?? {}) as { causes?: unknown };
      const causes = Array.isArray(details.causes)
        ? details.causes.flatMap((c: unknown) => {
            if (!c || typeof c !== 'object') return [];
            const r = c as Record<string, unknown>;
            return [
              {
                ...(typeof r.field === 'string' ? { field: r.field } : {}),
                ...(typeof r.message === 'string' ? { message: r.message } : {}),
                ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
              },
            ];
          })
        : [];
      return {
        code: typeof parsed.code === 'number' ? parsed.code : code,
        ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}),
        message: parsed.message,
        causes,
      };
    }
  } catch {
    // not JSON: fall through
  }
  const text = body.replace(/\s+/g, ' ').trim().slice(0, 300);
  return { code, message: text.length > 0 ? text : `HTTP ${code}`, causes: [] };
}
