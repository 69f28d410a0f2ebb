/**
 * Classifies an admission message from the Kubernetes API server (an apply's Status message, a
 * Pod dry-run's Status message, a ReplicaSet's `FailedCreate` event or `ReplicaFailure`
 * condition) by the table of eks-and-kyverno.md §4.1: stable substrings, tolerant of Kyverno's
 * wording changes between versions and of the event recorder's prefixes
 * (`Error creating: `, `(combined from similar events): `).
 *
 * Pure: text in, verdict out. The table is data ({@link ADMISSION_MESSAGE_RULES}); the first row
 * that matches wins.
 */
import type { ErrorKind } from '../errors';

/** What an admission message says about the deployment. */
export type AdmissionMessageVerdict =
  /** kyverno-notation-aws (or Kyverno's own verifyImages) rejected an image's signature. */
  | 'signature-rejected'
  /** The extension refused the call itself (token, parameters, its TLS secret): not a verdict on the image. */
  | 'extension-misconfigured'
  /** The webhook could not be called (timeout, no endpoints): retryable, not a verdict. */
  | 'webhook-unavailable'
  /** Another admission webhook or policy denied the request. */
  | 'other-policy';

/** One row of the §4.1 table. */
export interface AdmissionMessageRule {
  readonly verdict: AdmissionMessageVerdict;
  /** Every pattern must match. */
  readonly all: readonly RegExp[];
  /** At least one of these must match (empty: no further condition). */
  readonly any: readonly RegExp[];
  /** The error kind a failure with this verdict has (architecture.md §4). */
  readonly kind: ErrorKind;
  /** Stable error code for the failure. */
  readonly code: string;
}

const DENIED = /admission webhook "[^"]*" denied the request/;
const KYVERNO_DENIED = /admission webhook "[^"]*kyverno\.svc[^"]*" denied the request/;

/** eks-and-kyverno.md §4.1, in order. */
export const ADMISSION_MESSAGE_RULES: readonly AdmissionMessageRule[] = [
  {
    verdict: 'signature-rejected',
    all: [KYVERNO_DENIED],
    any: [
      /failed to verify container/,
      /failed to verify init container/,
      /failed to verify ephemeral container/,
      /failed to verify image/,
      /no signature is associated with/,
      /signature verification failed/,
      /HTTP 406 Not Acceptable: failed to verify/,
    ],
    kind: 'verification',
    code: 'ADMISSION_SIGNATURE_REJECTED',
  },
  {
    verdict: 'extension-misconfigured',
    all: [KYVERNO_DENIED],
    any: [
      /Token is not authorized/,
      /missing required parameter/,
      /Missing required data/,
      /failed to GET resource with raw url/,
      /tls-pair/,
      /x509/,
    ],
    kind: 'configuration',
    code: 'ADMISSION_EXTENSION_MISCONFIGURED',
  },
  {
    verdict: 'webhook-unavailable',
    all: [],
    any: [
      /failed calling webhook/,
      /context deadline exceeded/,
      /no endpoints available/,
      // Kyverno could not reach the extension (its apiCall to the Service failed).
      /failed to fetch data for APICall: (?:Post|Get) "[^"]*": (?:dial tcp|.*connection refused|.*no such host|.*i\/o timeout)/,
    ],
    kind: 'dependency',
    code: 'ADMISSION_WEBHOOK_UNAVAILABLE',
  },
  {
    verdict: 'other-policy',
    all: [DENIED],
    any: [],
    kind: 'verification',
    code: 'ADMISSION_DENIED',
  },
];

/** The verdict on one message, with what it names. */
export interface AdmissionMessageClassification {
  readonly verdict: AdmissionMessageVerdict;
  readonly kind: ErrorKind;
  readonly code: string;
  /** The webhook that denied or could not be called, e.g. `mutate.kyverno.svc-fail`. */
  readonly webhook?: string;
  /** Every `sha256:` digest the message names, in order, without repeats. */
  readonly digests: readonly string[];
  /** References from `no signature is associated with "<ref>"`. */
  readonly images: readonly string[];
  /** The message without the event recorder's prefixes. */
  readonly message: string;
}

const RECORDER_PREFIXES = [/^\(combined from similar events\):\s*/, /^Error creating:\s*/];

/**
 * Classifies `text`, or returns `undefined` when it is not an admission message at all (a
 * schema error, a quota, a conflict: the caller maps those by HTTP status).
 */
export function classifyAdmissionMessage(text: string): AdmissionMessageClassification | undefined {
  let message = text.trim();
  for (const prefix of RECORDER_PREFIXES) message = message.replace(prefix, '');
  const rule = ADMISSION_MESSAGE_RULES.find(
    (r) => r.all.every((p) => p.test(message)) && (r.any.length === 0 || r.any.some((p) => p.test(message))),
  );
  if (!rule) return undefined;
  const webhook =
    /admission webhook "([^"]+)"/.exec(message)?.[1] ?? /failed calling webhook "([^"]+)"/.exec(message)?.[1];
  const digests = [...new Set([...message.matchAll(/sha256:[0-9a-f]{64}/g)].map((m) => m[0]))];
  const images = [
    ...new Set([...message.matchAll(/no signature is associated with "([^"]+)"/g)].map((m) => m[1]!)),
  ];
  return {
    verdict: rule.verdict,
    kind: rule.kind,
    code: rule.code,
    ...(webhook !== undefined ? { webhook } : {}),
    digests,
    images,
    message,
  };
}
