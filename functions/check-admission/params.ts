/**
 * The check-admission stage's inputs, parsed once at the boundary:
 *
 * - `UserParameters` (per job, the public contract of issue 12): `clusterName`, `deployed`
 *   (deploy-manifest's `DEPLOYED`, unquoted), `extension` {namespace, labelSelector, container},
 *   `evidence` (`logs` | `none`), `timeoutSeconds`, `onRejection` (`rollback` | `delete` | `none`);
 * - the environment (per container, at cold start): `CLUSTER_NAME`, `AWS_REGION`.
 *
 * A broken environment is kept and thrown for each job (never at cold start), so every job gets
 * a ConfigurationError report naming the variable.
 */
import { ConfigurationError } from '../../shared/errors';
import type { DeployedImage, EvidenceMode, WorkloadRef } from '../../shared/kube/admission-verdict';
import { matchClusterRef } from '../../shared/kube/cluster';
import { InputError } from '../../shared/errors';
import { readDeployed } from '../../shared/pipeline/handoff';

/** Error code of every bad UserParameters field of this stage. */
export const PARAM_INVALID = 'ADMISSION_PARAMETERS_INVALID';
/** Error code of a bad environment variable. */
export const ENV_INVALID = 'ADMISSION_ENVIRONMENT_INVALID';

/** The form `deployed` must be written in. */
export const DEPLOYED_FORM = '{"deployed": #{DeployVariables.DEPLOYED}}';

/** kyverno-notation-aws's install.yaml names (eks-and-kyverno.md §3.3). */
export const DEFAULT_EXTENSION: ExtensionLocation = {
  namespace: 'kyverno-notation-aws',
  labelSelector: 'app=kyverno-notation-aws',
  container: 'kyverno-notation-aws',
};
export const DEFAULT_TIMEOUT_SECONDS = 600;
const MAX_TIMEOUT_SECONDS = 3 * 3600;

/** What `onRejection` does to the workloads this check rejected (shared with deploy-manifest's `onFailure`). */
export type OnRejection = 'rollback' | 'delete' | 'none';

/** Where kyverno-notation-aws runs. */
export interface ExtensionLocation {
  readonly namespace: string;
  readonly labelSelector: string;
  readonly container: string;
}

/** One workload to judge, with the digests the deploy stage pinned. */
export interface WorkloadToCheck extends WorkloadRef {
  readonly uid: string;
  readonly generation: number;
  readonly revision?: string;
  /** When deploy-manifest applied it: records and events before this are earlier runs. */
  readonly appliedAt: Date;
  readonly images: readonly DeployedImage[];
}

/** Validated per-job parameters. */
export interface CheckAdmissionParams {
  readonly clusterName: string;
  readonly deployed: readonly WorkloadToCheck[];
  readonly extension: ExtensionLocation;
  readonly evidence: EvidenceMode;
  readonly timeoutSeconds: number;
  readonly onRejection: OnRejection;
}

/** What the environment configures, parsed at cold start. */
export interface CheckAdmissionEnvironment {
  /** `CLUSTER_NAME`: the default cluster (name or ARN). */
  readonly clusterName?: string;
  /** `AWS_REGION`: the region of a cluster given by name. */
  readonly region?: string;
  /** The first configuration error found, reported on every job. */
  readonly error?: ConfigurationError;
}

const KNOWN = ['clusterName', 'deployed', 'extension', 'evidence', 'timeoutSeconds', 'onRejection'] as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** `key=value`, `key!=value`, `key`, `!key`, `key in (a,b)` terms, comma-separated (no free text). */
const LABEL_SELECTOR = /^[A-Za-z0-9_./\-=!,() ]{1,512}$/;

/** Reads the environment; never throws. */
export function parseCheckAdmissionEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): CheckAdmissionEnvironment {
  const name = env.CLUSTER_NAME?.trim();
  const region = env.AWS_REGION?.trim() || undefined;
  const withRegion = region ? { region } : {};
  if (name === undefined || name === '') return withRegion;
  if (matchClusterRef(name) === undefined) {
    return {
      ...withRegion,
      error: new ConfigurationError(
        ENV_INVALID,
        `CLUSTER_NAME is invalid: ${JSON.stringify(name)} is not an EKS cluster name or ARN. Set the template parameter ClusterName to the cluster's name, e.g. prod.`,
      ),
    };
  }
  return { ...withRegion, clusterName: name };
}

/**
 * Validates `UserParameters`. Throws the environment's error first, then ConfigurationError
 * `ADMISSION_PARAMETERS_INVALID` naming the field and the fix.
 */
export function parseCheckAdmissionParams(
  userParameters: Readonly<Record<string, unknown>> | undefined,
  environment: CheckAdmissionEnvironment,
): CheckAdmissionParams {
  if (environment.error) throw environment.error;
  const params = userParameters ?? {};
  for (const key of Object.keys(params)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw invalid(
        `UserParameters.${key} is not a parameter of check-admission (known: ${KNOWN.join(', ')})`,
      );
    }
  }
  return {
    clusterName: clusterName(params.clusterName, environment),
    deployed: deployed(params.deployed),
    extension: extension(params.extension),
    evidence: oneOf(params.evidence, 'evidence', ['logs', 'none'] as const, 'logs'),
    timeoutSeconds: timeout(params.timeoutSeconds),
    onRejection: oneOf(
      params.onRejection,
      'onRejection',
      ['rollback', 'delete', 'none'] as const,
      'rollback',
    ),
  };
}

function clusterName(value: unknown, environment: CheckAdmissionEnvironment): string {
  if (value === undefined) {
    if (environment.clusterName !== undefined) return environment.clusterName;
    throw invalid(
      'UserParameters.clusterName is missing and the function has no CLUSTER_NAME: set "clusterName" to the EKS cluster name or ARN, e.g. "prod", or the template parameter ClusterName',
    );
  }
  if (typeof value !== 'string' || matchClusterRef(value.trim()) === undefined) {
    throw invalid(
      'UserParameters.clusterName must be an EKS cluster name (e.g. "prod") or ARN (arn:aws:eks:<region>:<account>:cluster/<name>)',
    );
  }
  return value.trim();
}

function deployed(value: unknown): WorkloadToCheck[] {
  if (value === undefined) {
    throw invalid(
      `UserParameters.deployed is required: pass the deploy stage's variable unquoted, ${DEPLOYED_FORM}`,
    );
  }
  let entries;
  try {
    entries = readDeployed(value, 'UserParameters.deployed');
  } catch (error) {
    // A bad hand-off value is a bad parameter of this action: name the field and the form.
    if (error instanceof InputError) throw invalid(`${error.message} Write it as ${DEPLOYED_FORM}.`);
    throw error;
  }
  if (entries.length === 0) {
    throw invalid(`UserParameters.deployed is empty: there is nothing to check. Pass ${DEPLOYED_FORM}`);
  }
  return entries.map((entry, index) => ({
    kind: entry.kind,
    namespace: entry.namespace,
    name: entry.name,
    uid: entry.uid,
    generation: entry.generation,
    ...(entry.revision !== null ? { revision: entry.revision } : {}),
    appliedAt: new Date(entry.appliedAt),
    images: entry.images.map((image, i) => {
      const digest = /@(sha256:[0-9a-f]{64})$/.exec(image.image)?.[1];
      if (digest === undefined) {
        throw invalid(
          `UserParameters.deployed[${index}].images[${i}].image ${JSON.stringify(image.image)} is not pinned to a digest; check-admission judges digests only: pass ${DEPLOYED_FORM}`,
        );
      }
      return { container: image.container, image: image.image, digest };
    }),
  }));
}

function extension(value: unknown): ExtensionLocation {
  if (value === undefined) return DEFAULT_EXTENSION;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(
      'UserParameters.extension must be an object, e.g. {"namespace":"kyverno-notation-aws","labelSelector":"app=kyverno-notation-aws","container":"kyverno-notation-aws"}',
    );
  }
  const e = value as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (!['namespace', 'labelSelector', 'container'].includes(key)) {
      throw invalid(
        `UserParameters.extension.${key} is not known (known: namespace, labelSelector, container)`,
      );
    }
  }
  const text = (key: keyof ExtensionLocation, pattern: RegExp, what: string): string => {
    const v = e[key];
    if (v === undefined) return DEFAULT_EXTENSION[key];
    if (typeof v !== 'string' || !pattern.test(v.trim())) {
      throw invalid(
        `UserParameters.extension.${key} must be ${what} (default ${JSON.stringify(DEFAULT_EXTENSION[key])})`,
      );
    }
    return v.trim();
  };
  return {
    namespace: text('namespace', DNS_LABEL, 'a Kubernetes namespace name'),
    labelSelector: text(
      'labelSelector',
      LABEL_SELECTOR,
      'a Kubernetes label selector such as "app=kyverno-notation-aws"',
    ),
    container: text('container', DNS_LABEL, 'a container name'),
  };
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(
      `UserParameters.${field} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (default ${JSON.stringify(fallback)})`,
    );
  }
  return value as T;
}

function timeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMEOUT_SECONDS) {
    throw invalid(
      `UserParameters.timeoutSeconds must be an integer from 0 to ${MAX_TIMEOUT_SECONDS} (default ${DEFAULT_TIMEOUT_SECONDS}): how long to wait for every digest's verdict, across invocations`,
    );
  }
  return value;
}

function invalid(message: string): ConfigurationError {
  return new ConfigurationError(PARAM_INVALID, message);
}
