/**
 * Did kyverno-notation-aws verify and admit each deployed digest? Pure: API-server facts and
 * extension log records in, one verdict per workload × container image out; `now`-free (the
 * caller says whether the budget has ended with `final`).
 *
 * Ground truth comes from the API server (eks-and-kyverno.md §0.6, §4.1): an apply-time denial,
 * `ReplicaFailure`/`FailedCreate` or a Warning event with a Kyverno denial, the rollout of the
 * deployed generation and the Pods of the new revision running the expected digest
 * (`spec.containers[].image` pinned to it, `status.containerStatuses[].imageID` ending in it).
 * The extension's log records (extension-log.ts) prove that the running digest was verified at
 * admission (`evidence: "logs"`), or reject it. The digest is the join key everywhere.
 *
 * Verdicts:
 * - `admitted`: rollout complete, every new Pod runs the digest, and (with evidence `logs`) a
 *   success or cache-hit record for it since the deploy began, after any failure record;
 * - `rejected`: a signature denial (API) or a failure record (log) for the digest, or a denial
 *   by another admission policy;
 * - `unverified`: the Pods run (or the budget ended) but nothing shows the extension verified
 *   them; `cause` says what the evidence points to;
 * - `infrastructure`: the extension cannot decide (absent, not authorized, webhook unavailable);
 * - `pending`: not decided yet (only while `final` is false).
 */
import type { ErrorKind } from '../errors';
import { classifyAdmissionMessage } from './admission-message';
import type { AdmissionMessageClassification } from './admission-message';
import type { KubeObject } from './cluster';
import { recordConcerns, splitImageReference } from './extension-log';
import type { ExtensionRecord, ImageKey } from './extension-log';

/** What must prove that a digest was verified at admission. */
export type EvidenceMode = 'logs' | 'none';

/** A workload as the deploy stage wrote it. */
export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** One container image the deploy stage pinned. */
export interface DeployedImage {
  readonly container: string;
  /** `registry/repo@sha256:…` as applied. */
  readonly image: string;
  readonly digest: string;
}

/** The rollout's state (rollout-status.ts `RolloutStatus` fits this shape). */
export interface RolloutFact {
  readonly state: 'done' | 'waiting' | 'failed';
  readonly message: string;
}

/** What the API server shows about one workload. */
export interface WorkloadFacts {
  readonly workload: WorkloadRef;
  readonly images: readonly DeployedImage[];
  /** The Status message of a denied apply, when the deploy stage recorded one. */
  readonly applyDenial?: string;
  /** The rollout of the deployed generation; `undefined` when the workload is gone. */
  readonly rollout?: RolloutFact;
  /** `ReplicaFailure`/`FailedCreate` messages and Warning event messages since the deploy began. */
  readonly denials: readonly string[];
  /** The Pods of the new ReplicaSet / revision. */
  readonly pods: readonly KubeObject[];
}

/** What is known about the extension. */
export interface ExtensionFacts {
  /** The extension's Pods matched by the label selector, and which are Ready. */
  readonly pods: ReadonlyArray<{ readonly name: string; readonly ready: boolean }>;
  /** Records of every replica (and previous container instances), already cut at the deploy start. */
  readonly records: readonly ExtensionRecord[];
  /** False when the logs were not read (evidence `none` and reading failed). */
  readonly logsRead: boolean;
}

/** Why the Pods run without proof of verification. */
export type UnverifiedCause =
  | 'namespace-not-matched'
  | 'failure-policy-ignore'
  | 'outside-image-references'
  | 'trust-policy-scope'
  | 'success-not-logged'
  | 'runs-another-digest'
  | 'rollout-incomplete';

/** The log record (or API message) that decided a verdict. */
export interface LogEvidence {
  readonly kind: 'verified' | 'cache-hit';
  /** The record's message, e.g. `successfully verified image … digest sha256:…`. */
  readonly line: string;
  /** The extension Pod that logged it. */
  readonly pod: string;
  readonly time: Date;
}

/** The verdict on one image of one workload. */
export type ImageVerdict = { readonly workload: WorkloadRef; readonly image: DeployedImage } & (
  | { readonly verdict: 'admitted'; readonly evidence?: LogEvidence }
  | {
      readonly verdict: 'rejected';
      /** `kyverno-notation-aws`, or the webhook of another policy. */
      readonly by: string;
      readonly source: 'apply' | 'replica-set' | 'log';
      /** notation's text (or the other policy's message). */
      readonly reason: string;
      /** Set when the Pods run anyway (the policy's `failurePolicy: Ignore`). */
      readonly podsRun?: true;
    }
  | { readonly verdict: 'unverified'; readonly cause: UnverifiedCause; readonly detail: string }
  | {
      readonly verdict: 'infrastructure';
      readonly kind: Extract<ErrorKind, 'configuration' | 'dependency'>;
      readonly code: string;
      readonly reason: string;
    }
  | { readonly verdict: 'pending'; readonly reason: string }
);

/** Inputs of {@link judgeAdmission}. */
export interface JudgeInput {
  readonly workloads: readonly WorkloadFacts[];
  readonly extension: ExtensionFacts;
  readonly evidence: EvidenceMode;
  /** True when the budget has ended: nothing stays `pending`. */
  readonly final: boolean;
}

/** One verdict per workload × image, in input order. */
export function judgeAdmission(input: JudgeInput): ImageVerdict[] {
  return input.workloads.flatMap((facts) => facts.images.map((image) => judgeImage(facts, image, input)));
}

function judgeImage(facts: WorkloadFacts, image: DeployedImage, input: JudgeInput): ImageVerdict {
  const base = { workload: facts.workload, image };
  const key: ImageKey = { reference: image.image, digest: image.digest };
  const records = input.extension.records
    .filter((r) => recordConcerns(r, key))
    .sort((a, b) => a.time.getTime() - b.time.getTime());
  const decisive = records.filter(
    (r) => r.kind === 'verified' || r.kind === 'cache-hit' || r.kind === 'verification-failed',
  );
  const last = decisive.at(-1);
  const lastFailure = last?.kind === 'verification-failed' ? last : undefined;

  // 1. An apply-time denial is final: nothing was persisted.
  if (facts.applyDenial !== undefined) {
    const verdict = fromDenial(facts.applyDenial, image, facts.images, 'apply');
    if (verdict) return { ...base, ...verdict };
  }

  const pods = podsRunning(facts, image);
  if (pods.state === 'running') {
    if (lastFailure) {
      return {
        ...base,
        verdict: 'rejected',
        by: 'kyverno-notation-aws',
        source: 'log',
        reason: notationText(lastFailure.kind === 'verification-failed' ? lastFailure.error : ''),
        podsRun: true,
      };
    }
    if (last && (last.kind === 'verified' || last.kind === 'cache-hit')) {
      // A verification line is direct evidence; a cache hit only points at an earlier one. Cite the
      // newest verification since the last failure when there is one (e.g. the replica that
      // verified the first Pod, when another answered the last one from its cache).
      const afterFailure = decisive.slice(
        decisive.findLastIndex((r) => r.kind === 'verification-failed') + 1,
      );
      const proof = afterFailure.filter((r) => r.kind === 'verified').at(-1) ?? last;
      return {
        ...base,
        verdict: 'admitted',
        evidence: {
          kind: proof.kind === 'verified' ? 'verified' : 'cache-hit',
          line: proof.message,
          pod: proof.source,
          time: proof.time,
        },
      };
    }
    // With evidence "none" nothing more is awaited: the stage reports the cause as a warning.
    if (input.evidence === 'none') {
      return { ...base, verdict: 'unverified', ...unverifiedCause(records, input.extension, facts) };
    }
    const infra = infrastructure(input.extension, facts);
    if (infra) return { ...base, ...infra };
    if (!input.final) {
      return {
        ...base,
        verdict: 'pending',
        reason: 'the Pods run; waiting for the extension to log its verdict',
      };
    }
    return { ...base, verdict: 'unverified', ...unverifiedCause(records, input.extension, facts) };
  }
  if (pods.state === 'other-digest') {
    return { ...base, verdict: 'unverified', cause: 'runs-another-digest', detail: pods.detail };
  }

  // 2. Not running (yet): a denial in the API server or a failure in the log decides.
  for (const message of facts.denials) {
    const verdict = fromDenial(message, image, facts.images, 'replica-set');
    if (verdict && verdict.verdict !== 'infrastructure') return { ...base, ...verdict };
  }
  if (lastFailure && lastFailure.kind === 'verification-failed') {
    return {
      ...base,
      verdict: 'rejected',
      by: 'kyverno-notation-aws',
      source: 'log',
      reason: notationText(lastFailure.error),
    };
  }
  const infraDenials = facts.denials
    .map((message) => fromDenial(message, image, facts.images, 'replica-set'))
    .filter((v): v is Extract<Denial, { verdict: 'infrastructure' }> => v?.verdict === 'infrastructure');
  const misconfigured = infraDenials.find((v) => v.kind === 'configuration');
  if (misconfigured) return { ...base, ...misconfigured };
  const infra = infrastructure(input.extension, facts);
  if (infra && (infra.code !== 'EXTENSION_NOT_READY' || input.final)) return { ...base, ...infra };
  if (input.final && infraDenials[0]) return { ...base, ...infraDenials[0] };
  if (!input.final) {
    return { ...base, verdict: 'pending', reason: facts.rollout?.message ?? 'the workload is gone' };
  }
  return {
    ...base,
    verdict: 'unverified',
    cause: 'rollout-incomplete',
    detail: `the rollout did not complete: ${facts.rollout?.message ?? `${facts.workload.kind} ${facts.workload.namespace}/${facts.workload.name} no longer exists`}`,
  };
}

type Decided = Exclude<ImageVerdict, { verdict: 'admitted' | 'unverified' | 'pending' }>;
type Denial =
  | Omit<Extract<Decided, { verdict: 'rejected' }>, 'workload' | 'image'>
  | Omit<Extract<Decided, { verdict: 'infrastructure' }>, 'workload' | 'image'>;

/** A denial message as a verdict on `image`, or `undefined` when it is about another image of the workload or no admission message. */
function fromDenial(
  message: string,
  image: DeployedImage,
  all: readonly DeployedImage[],
  source: 'apply' | 'replica-set',
): Denial | undefined {
  const classified = classifyAdmissionMessage(message);
  if (!classified) return undefined;
  switch (classified.verdict) {
    case 'signature-rejected':
      if (!namesImage(classified, image, all)) {
        return {
          verdict: 'rejected',
          by: 'kyverno-notation-aws',
          source,
          reason: `the Pods were denied because of another image: ${notationText(classified.message)}`,
        };
      }
      return {
        verdict: 'rejected',
        by: 'kyverno-notation-aws',
        source,
        reason: notationText(classified.message),
      };
    case 'other-policy':
      return {
        verdict: 'rejected',
        by: classified.webhook ?? 'an admission webhook',
        source,
        reason: classified.message,
      };
    case 'extension-misconfigured':
      return {
        verdict: 'infrastructure',
        kind: 'configuration',
        code: 'ADMISSION_EXTENSION_MISCONFIGURED',
        reason: misconfiguredReason(classified.message),
      };
    case 'webhook-unavailable':
      return {
        verdict: 'infrastructure',
        kind: 'dependency',
        code: 'ADMISSION_WEBHOOK_UNAVAILABLE',
        reason: `the admission webhook could not be called: ${classified.message}`,
      };
  }
}

/** True when a signature denial is about `image`: by digest, else by the container's image name, else when it is the only image. */
function namesImage(
  classified: AdmissionMessageClassification,
  image: DeployedImage,
  all: readonly DeployedImage[],
): boolean {
  if (classified.digests.length > 0) return classified.digests.includes(image.digest);
  const name = splitImageReference(image.image).name;
  const container = /failed to verify (?:init |ephemeral )?container (\S+):/.exec(classified.message)?.[1];
  if (container !== undefined) return name.split('/').at(-1) === container;
  return all.length === 1;
}

type PodsState = { state: 'running' } | { state: 'not-running' } | { state: 'other-digest'; detail: string };

function rec(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
function list(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.map(rec) : [];
}

/**
 * `running` when the rollout of the deployed generation is complete and every Pod of the new
 * revision runs `image`: its container spec pinned to the digest and its status `imageID`
 * ending in it.
 */
function podsRunning(facts: WorkloadFacts, image: DeployedImage): PodsState {
  for (const pod of facts.pods) {
    const spec = [...list(rec(pod.spec).containers), ...list(rec(pod.spec).initContainers)].find(
      (c) => c.name === image.container,
    );
    const specImage = typeof spec?.image === 'string' ? spec.image : undefined;
    const specDigest = specImage === undefined ? undefined : splitImageReference(specImage).digest;
    if (specImage !== undefined && specDigest !== image.digest) {
      return {
        state: 'other-digest',
        detail: `Pod ${pod.metadata.name ?? '?'} runs ${specImage} in container ${image.container}, not ${image.digest}: something rewrote the image after the deploy pinned it`,
      };
    }
  }
  if (facts.rollout?.state !== 'done' || facts.pods.length === 0) return { state: 'not-running' };
  for (const pod of facts.pods) {
    const statuses = [
      ...list(rec(pod.status).containerStatuses),
      ...list(rec(pod.status).initContainerStatuses),
    ];
    const status = statuses.find((s) => s.name === image.container);
    const imageID = typeof status?.imageID === 'string' ? status.imageID : '';
    if (!imageID.endsWith(image.digest)) return { state: 'not-running' };
  }
  return { state: 'running' };
}

/** The extension cannot decide: absent, not Ready, or refusing Kyverno's token. */
function infrastructure(
  extension: ExtensionFacts,
  facts: WorkloadFacts,
): Omit<Extract<ImageVerdict, { verdict: 'infrastructure' }>, 'workload' | 'image'> | undefined {
  const token = extension.records.find((r) => r.kind === 'token-not-authorized');
  if (token && token.kind === 'token-not-authorized') {
    return {
      verdict: 'infrastructure',
      kind: 'configuration',
      code: 'EXTENSION_TOKEN_NOT_AUTHORIZED',
      reason: misconfiguredReason(
        `Token is not authorized${token.username ? ` (caller ${token.username})` : ''}`,
      ),
    };
  }
  if (extension.pods.length === 0) {
    return {
      verdict: 'infrastructure',
      kind: 'configuration',
      code: 'EXTENSION_ABSENT',
      reason: `no kyverno-notation-aws Pod matches the extension's namespace and label selector, so nothing verified ${facts.workload.namespace}/${facts.workload.name}'s images; install the extension or fix UserParameters.extension`,
    };
  }
  if (!extension.pods.some((p) => p.ready)) {
    return {
      verdict: 'infrastructure',
      kind: 'configuration',
      code: 'EXTENSION_NOT_READY',
      reason: `no kyverno-notation-aws Pod is Ready (${extension.pods.map((p) => p.name).join(', ')}); check the extension's Deployment and its logs`,
    };
  }
  return undefined;
}

function misconfiguredReason(message: string): string {
  if (/Token is not authorized/.test(message)) {
    return (
      `kyverno-notation-aws refused Kyverno's call: ${message}. Its --allowedUsers must include the Kyverno admission ` +
      "controller's service account (e.g. system:serviceaccount:<kyverno namespace>:kyverno-admission-controller)"
    );
  }
  return `kyverno-notation-aws is misconfigured: ${message}`;
}

function unverifiedCause(
  records: readonly ExtensionRecord[],
  extension: ExtensionFacts,
  facts: WorkloadFacts,
): { cause: UnverifiedCause; detail: string } {
  const skipped = records.find((r) => r.kind === 'skipped');
  if (skipped?.kind === 'skipped') {
    return skipped.why === 'image-references'
      ? {
          cause: 'outside-image-references',
          detail: `the extension skipped it ("Skipping image"): the image is outside the policy's imageReferences, so it was admitted unverified`,
        }
      : {
          cause: 'trust-policy-scope',
          detail: "the extension skipped it: the trust policy's registryScopes do not cover the image",
        };
  }
  if (records.some((r) => r.kind === 'cache-miss')) {
    return {
      cause: 'success-not-logged',
      detail:
        'the extension received the image (cache miss logged) but logged no verdict: it likely runs with --logLevel=error, which hides success lines; run it at info, or use "evidence": "none"',
    };
  }
  if (!extension.logsRead) {
    return {
      cause: 'namespace-not-matched',
      detail: "the extension's logs were not read, so nothing shows it verified the image",
    };
  }
  if (
    facts.denials.some((d) => classifyAdmissionMessage(d)?.verdict === 'webhook-unavailable') ||
    !extension.pods.some((p) => p.ready)
  ) {
    return {
      cause: 'failure-policy-ignore',
      detail:
        'the webhook could not reach the extension and the Pods were admitted anyway: the ClusterPolicy has failurePolicy: Ignore',
    };
  }
  return {
    cause: 'namespace-not-matched',
    detail: `the extension never saw the image: no kyverno-notation-aws ClusterPolicy matches namespace ${JSON.stringify(facts.workload.namespace)} (or the policy's failurePolicy: Ignore admitted it when the call failed)`,
  };
}

/**
 * notation's text inside a failure record or an admission message: what follows the dumped
 * image (`…/spec/containers/0/image}: <text>`), without Kyverno's closing `]` or `'`.
 */
export function notationText(message: string): string {
  let text = message;
  const afterDump = /\/image\}:\s([\s\S]*)$/.exec(text);
  if (afterDump) text = afterDump[1]!;
  else {
    const unsigned = /(no signature is associated with "[^"]+"[\s\S]*)$/.exec(text);
    if (unsigned) text = unsigned[1]!;
  }
  text = text
    .replace(/\s*\]\s*$/, '')
    .replace(/'\s*$/, '')
    .trim();
  return text;
}
