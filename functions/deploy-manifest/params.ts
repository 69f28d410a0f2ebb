/**
 * The deploy-manifest stage's inputs, parsed once at the boundary (issue 11 §2, a public
 * contract: keep the names):
 *
 * ```
 * { "clusterName": "prod", "manifests": "k8s/", "inputArtifact": "SourceOutput", "namespace": "default",
 *   "verifiedImages": #{VerifyVariables.VERIFIED_IMAGES}, "allowUnverified": [], "preflight": true,
 *   "wait": true, "timeoutSeconds": 900, "onFailure": "rollback" }
 * ```
 *
 * The environment (`CLUSTER_NAME`, `AWS_REGION`) is read at cold start; its error is kept and
 * thrown for each job.
 */
import { ConfigurationError } from '../../shared/errors';
import { matchClusterRef } from '../../shared/kube/cluster';
import type { PinTarget } from '../../shared/kube/image-pinning';
import type { OnFailure } from '../../shared/kube/rollback';
import { readVerifiedImages } from '../../shared/pipeline/handoff';

export const PARAM_INVALID = 'DEPLOY_PARAMETERS_INVALID';
export const ENV_INVALID = 'DEPLOY_ENVIRONMENT_INVALID';

export const DEFAULT_MANIFESTS = 'deployment.yaml';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TIMEOUT_SECONDS = 900;
/** A rollout budget longer than a day is a mistake (CodePipeline's own action timeout is shorter). */
export const MAX_TIMEOUT_SECONDS = 24 * 3600;

const KEYS = [
  'clusterName',
  'manifests',
  'inputArtifact',
  'namespace',
  'verifiedImages',
  'allowUnverified',
  'preflight',
  'wait',
  'timeoutSeconds',
  'onFailure',
] as const;

/** The form `verifiedImages` must be written in (unquoted: the variable is a JSON array). */
export const VERIFIED_IMAGES_FORM = '{"verifiedImages": #{VerifyVariables.VERIFIED_IMAGES}}';

export interface DeployManifestParams {
  readonly clusterName: string;
  readonly manifests: readonly string[];
  readonly inputArtifact?: string;
  readonly namespace: string;
  readonly verifiedImages: readonly PinTarget[];
  readonly allowUnverified: readonly string[];
  readonly preflight: boolean;
  readonly wait: boolean;
  readonly timeoutSeconds: number;
  readonly onFailure: OnFailure;
}

export interface DeployManifestEnvironment {
  /** `CLUSTER_NAME` (the template's ClusterName parameter). */
  readonly clusterName?: string;
  /** `AWS_REGION`: the region of a cluster given by name. */
  readonly region?: string;
  readonly error?: ConfigurationError;
}

/** Reads the environment; never throws (the error is kept for each job). */
export function parseDeployManifestEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): DeployManifestEnvironment {
  const clusterName = env.CLUSTER_NAME?.trim() || undefined;
  const region = env.AWS_REGION?.trim() || undefined;
  if (clusterName !== undefined && matchClusterRef(clusterName) === undefined) {
    return {
      region,
      error: new ConfigurationError(
        ENV_INVALID,
        `CLUSTER_NAME ${JSON.stringify(clusterName)} is not an EKS cluster name or ARN. Set the ClusterName template parameter to the cluster's name.`,
      ),
    } as DeployManifestEnvironment;
  }
  return { ...(clusterName ? { clusterName } : {}), ...(region ? { region } : {}) };
}

function invalid(message: string): ConfigurationError {
  return new ConfigurationError(PARAM_INVALID, message);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function relativePath(value: unknown, field: string): string {
  if (
    typeof value !== 'string' ||
    value.trim() === '' ||
    value.startsWith('/') ||
    value.split('/').includes('..')
  ) {
    throw invalid(
      `${field} must be a relative path inside the input artifact (a file or a directory), e.g. "k8s/" or "deployment.yaml"`,
    );
  }
  return value.trim();
}

function bool(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false`);
  return value;
}

/** Parses `UserParameters` (an object, or absent) with the environment's defaults. */
export function parseDeployManifestParams(
  userParameters: Readonly<Record<string, unknown>> | undefined,
  environment: DeployManifestEnvironment,
): DeployManifestParams {
  if (environment.error) throw environment.error;
  const params = userParameters ?? {};
  for (const key of Object.keys(params)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw invalid(
        `UserParameters.${key} is not a parameter of deploy-manifest (known: ${KEYS.join(', ')})`,
      );
    }
  }
  const clusterName = params.clusterName ?? environment.clusterName;
  if (typeof clusterName !== 'string' || clusterName.trim() === '') {
    throw invalid(
      'UserParameters.clusterName is missing and the ClusterName template parameter (CLUSTER_NAME) is empty: name the EKS cluster (or its ARN), e.g. {"clusterName": "prod"}',
    );
  }
  const manifestsRaw = params.manifests ?? DEFAULT_MANIFESTS;
  const manifests = Array.isArray(manifestsRaw)
    ? manifestsRaw.map((m, i) => relativePath(m, `UserParameters.manifests[${i}]`))
    : [relativePath(manifestsRaw, 'UserParameters.manifests')];
  if (manifests.length === 0)
    throw invalid('UserParameters.manifests must name at least one file or directory');

  let inputArtifact: string | undefined;
  if (params.inputArtifact !== undefined) {
    if (typeof params.inputArtifact !== 'string' || params.inputArtifact.trim() === '')
      throw invalid(
        'UserParameters.inputArtifact must be the name of an input artifact of the action, e.g. "SourceOutput"',
      );
    inputArtifact = params.inputArtifact;
  }
  const namespace = params.namespace ?? DEFAULT_NAMESPACE;
  if (typeof namespace !== 'string' || !DNS_LABEL.test(namespace))
    throw invalid(
      'UserParameters.namespace must be a Kubernetes namespace name (lowercase letters, digits and -), e.g. "default"',
    );

  if (params.verifiedImages === undefined) {
    throw invalid(
      `UserParameters.verifiedImages is required: pass the verify stage's output unquoted, ${VERIFIED_IMAGES_FORM}`,
    );
  }
  const verifiedImages = readVerifiedImagesParam(params.verifiedImages);

  const allowRaw = params.allowUnverified ?? [];
  if (!Array.isArray(allowRaw) || allowRaw.some((p) => typeof p !== 'string' || p.trim() === '')) {
    throw invalid(
      'UserParameters.allowUnverified must be a list of repository patterns, e.g. ["public.ecr.aws/eks-distro/*"]',
    );
  }

  const timeoutSeconds = params.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (
    typeof timeoutSeconds !== 'number' ||
    !Number.isInteger(timeoutSeconds) ||
    timeoutSeconds < 1 ||
    timeoutSeconds > MAX_TIMEOUT_SECONDS
  ) {
    throw invalid(
      `UserParameters.timeoutSeconds must be an integer from 1 to ${MAX_TIMEOUT_SECONDS} (default ${DEFAULT_TIMEOUT_SECONDS})`,
    );
  }
  const onFailure = params.onFailure ?? 'rollback';
  if (onFailure !== 'rollback' && onFailure !== 'delete' && onFailure !== 'none') {
    throw invalid('UserParameters.onFailure must be "rollback", "delete" or "none" (default "rollback")');
  }
  return {
    clusterName: clusterName.trim(),
    manifests,
    ...(inputArtifact !== undefined ? { inputArtifact } : {}),
    namespace,
    verifiedImages,
    allowUnverified: allowRaw as string[],
    preflight: bool(params.preflight, 'UserParameters.preflight', true),
    wait: bool(params.wait, 'UserParameters.wait', true),
    timeoutSeconds,
    onFailure,
  };
}

/** `verifiedImages` through the hand-off reader the verify stage's writer sits next to. */
function readVerifiedImagesParam(value: unknown): PinTarget[] {
  const images = readVerifiedImages(value, {
    field: 'UserParameters.verifiedImages',
    form: VERIFIED_IMAGES_FORM,
    code: PARAM_INVALID,
  });
  if (images.length === 0) {
    throw invalid(
      `UserParameters.verifiedImages is empty: the verify stage verified no image, so nothing can be deployed (${VERIFIED_IMAGES_FORM})`,
    );
  }
  return images;
}
