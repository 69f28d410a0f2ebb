/**
 * Pluggable admission: hooks called for every create and update (server-side apply included,
 * dry-runs included, Pods created by the ReplicaSet/StatefulSet/DaemonSet controllers included),
 * in two phases like the API server: mutating hooks, then object validation, then validating
 * hooks. A hook allows (optionally returning a mutated object), denies like a webhook (the server
 * wraps the message as `admission webhook "<name>" denied the request: <message>`, HTTP 400 unless
 * the webhook gave another 4xx/5xx), or fails to be called (500 `failed calling webhook`).
 */
import { KubeError, errors, statusBody } from './status';

type Obj = Record<string, unknown>;

export interface UserInfo {
  username: string;
  groups: string[];
}

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  kind: { group: string; version: string; kind: string };
  resource: string;
  subResource?: string;
  namespace: string | undefined;
  name: string;
  /** The object as it would be stored (defaults applied); a copy the hook may modify and return. */
  object: Obj;
  oldObject: Obj | undefined;
  dryRun: boolean;
  userInfo: UserInfo;
}

export type AdmissionVerdict =
  | { allowed: true; object?: Obj; warnings?: string[] }
  | { allowed: false; webhook: string; message: string; code?: number }
  | { allowed: false; webhook: string; unavailable: true; url?: string; cause?: string };

export interface AdmissionHook {
  /** Webhook name, for messages and for removal. */
  name: string;
  phase: 'mutating' | 'validating';
  review(request: AdmissionRequest): AdmissionVerdict | Promise<AdmissionVerdict>;
}

export const allow = (object?: Obj): AdmissionVerdict => ({ allowed: true, ...(object ? { object } : {}) });

export const deny = (webhook: string, message: string, code = 400): AdmissionVerdict => ({
  allowed: false,
  webhook,
  message,
  code,
});

export const webhookUnavailable = (
  webhook: string,
  url = `https://kyverno-svc.kyverno.svc:443/${webhook.startsWith('validate') ? 'validate' : 'mutate'}/fail?timeout=10s`,
  cause = 'context deadline exceeded',
): AdmissionVerdict => ({ allowed: false, webhook, unavailable: true, url, cause });

/** The error the API server returns for a denying or unreachable webhook. */
export function admissionError(v: Exclude<AdmissionVerdict, { allowed: true }>): KubeError {
  if ('unavailable' in v) {
    return errors.internal(
      `failed calling webhook "${v.webhook}": failed to call webhook: Post "${v.url}": ${v.cause}`,
    );
  }
  const code = v.code !== undefined && v.code >= 400 ? v.code : 400;
  const body = statusBody(code, '', `admission webhook "${v.webhook}" denied the request: ${v.message}`);
  delete body.reason;
  return new KubeError(body);
}
