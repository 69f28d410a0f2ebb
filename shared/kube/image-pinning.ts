/**
 * Pins every container image of every pod spec in the manifests to the digest the verify stage
 * verified: `<registry>/<repository>@sha256:<digest>`. Pure: objects and verified images in,
 * rewritten objects (or a refusal naming file, object, container and image) out.
 *
 * Matching (issue 11 §1):
 * - a reference is normalised like Docker does (`nginx` → `docker.io/library/nginx`,
 *   `user/app` → `docker.io/user/app`), and registries are compared by the verifier's host rules
 *   (shared/oci/reference.ts `scopeRegistryHost`: lowercase, default port dropped, the ECR FIPS
 *   host of an account and region is the same registry as the plain one, Docker Hub's aliases
 *   are `docker.io`), so an image matches the verified entry however its host is spelled;
 * - an image matches the verified entry of the same registry and repository; with several, the
 *   one of the same digest, else of the same tag; it is pinned to the host the entry was
 *   verified at (in parseReference's spelling: a FIPS endpoint stays FIPS);
 * - a placeholder that names no repository (the CodeBuild convention `image: image`) matches the
 *   entry whose imagedefinitions `name` is the container's name;
 * - an image pinned to another digest than the verified one is refused; an image that matches
 *   nothing is refused unless its repository matches an `allowUnverified` pattern (then it is
 *   left as written); a verified entry marked `skipped` was not verified and is refused.
 */
import { ConfigurationError } from '../errors';
import { canonicalScope, digestProblem, parseReference, scopeRegistryHost } from '../oci/reference';
import type { KubeObject } from './cluster';
import { describeObject, describeSource } from './manifests';
import type { ManifestObject } from './manifests';

/** A verified image as the verify stage hands it over (`VERIFIED_IMAGES`). */
export interface PinTarget {
  /** The reference as verified (may carry a tag). */
  readonly image: string;
  /** `registry/repository@sha256:…`. */
  readonly imageUri: string;
  readonly digest: string;
  /** The container name from imagedefinitions.json. */
  readonly name?: string;
  /** The trust policy skipped verification: not deployable. */
  readonly skipped?: boolean;
}

/** One container's image after pinning. */
export interface PinnedContainer {
  readonly container: string;
  /** What was deployed: the pinned reference, or the allowed unverified image as written. */
  readonly image: string;
  readonly verified: boolean;
}

/** A manifest object with its pod specs pinned. */
export interface PinnedObject extends ManifestObject {
  /** Containers in pod-spec order (empty for objects without a pod spec). */
  readonly containers: readonly PinnedContainer[];
}

/** Where the pod spec sits, per workload kind. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

interface NormalisedImage {
  /** `registry/repository` with the registry as scopes compare it: what images are matched by. */
  readonly repository: string;
  /** `registry/repository` as parseReference spells it (lowercase host, no `:443`, FIPS kept). */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * Normalises an image reference like Docker (`nginx:1` → `docker.io/library/nginx:1`).
 * `undefined` when it is not a reference at all.
 */
export function normaliseImage(image: string): NormalisedImage | undefined {
  if (image.length === 0 || /\s/.test(image)) return undefined;
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const full = hasHost ? image : slash < 0 ? `docker.io/library/${image}` : `docker.io/${image}`;
  try {
    const ref = parseReference(full);
    return {
      repository: `${scopeRegistryHost(ref.registry)}/${ref.repository}`,
      name: `${ref.registry}/${ref.repository}`,
      ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
      ...(ref.digest !== undefined ? { digest: ref.digest } : {}),
    };
  } catch {
    return undefined;
  }
}

/** A bare word with no registry, path, tag or digest (`image`), or no reference at all (`<IMAGE>`). */
function isPlaceholder(image: string): boolean {
  return normaliseImage(image) === undefined || /^[A-Za-z0-9_-]+$/.test(image);
}

/** True when `repository` (canonical `registry/repository`) matches a glob (`*` matches anything). */
export function matchesPattern(repository: string, pattern: string): boolean {
  const normalised = normaliseImage(pattern.replace(/\*/g, 'x-wildcard-x'))?.repository.replace(
    /x-wildcard-x/g,
    '*',
  );
  const glob = normalised ?? canonicalScope(pattern);
  const re = new RegExp(`^${glob.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(repository);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Target {
  readonly entry: PinTarget;
  readonly normalised: NormalisedImage;
}

/** Entries that pin to the same thing (one image listed under several container names) are one target. */
function targetKey(t: Target): string {
  return `${t.entry.imageUri} ${t.entry.skipped === true ? 'skipped' : 'verified'}`;
}

/**
 * Pins every pod spec of `objects`.
 *
 * @throws ConfigurationError `IMAGE_NOT_VERIFIED`, `IMAGE_DIGEST_MISMATCH`, `IMAGE_VERIFICATION_SKIPPED`
 *   or `IMAGE_AMBIGUOUS`, naming file, object, container and image, and the fix.
 */
export function pinImages(
  objects: readonly ManifestObject[],
  verified: readonly PinTarget[],
  allowUnverified: readonly string[],
): PinnedObject[] {
  const targets: Target[] = verified.map((entry) => {
    const normalised = normaliseImage(entry.imageUri);
    const problem = digestProblem(entry.digest);
    if (!normalised || problem) {
      throw new ConfigurationError(
        'VERIFIED_IMAGES_INVALID',
        `UserParameters.verifiedImages has an entry ${JSON.stringify(entry.imageUri)} that is not registry/repository@sha256:<digest>${problem ? ` (${problem})` : ''}; pass #{VerifyVariables.VERIFIED_IMAGES} unchanged.`,
      );
    }
    return { entry, normalised };
  });
  return objects.map((item) => pinObject(item, targets, allowUnverified));
}

function pinObject(
  item: ManifestObject,
  targets: readonly Target[],
  allowUnverified: readonly string[],
): PinnedObject {
  const path = POD_SPEC_PATHS[item.object.kind];
  if (!path) return { ...item, containers: [] };
  const object = structuredClone(item.object);
  let spec: unknown = object;
  for (const key of path) spec = isRecord(spec) ? spec[key] : undefined;
  if (!isRecord(spec)) return { object, source: item.source, containers: [] };
  const containers: PinnedContainer[] = [];
  for (const list of CONTAINER_LISTS) {
    const entries = spec[list];
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) throw invalidField(item, `${path.join('.')}.${list} must be a list`);
    entries.forEach((container: unknown, i) => {
      if (!isRecord(container) || typeof container.image !== 'string' || typeof container.name !== 'string') {
        throw invalidField(item, `${path.join('.')}.${list}[${i}] needs a name and an image`);
      }
      const pinned = pinContainer(item, container.name, container.image, targets, allowUnverified);
      container.image = pinned.image;
      containers.push(pinned);
    });
  }
  return { object, source: item.source, containers };
}

function pinContainer(
  item: ManifestObject,
  container: string,
  image: string,
  targets: readonly Target[],
  allowUnverified: readonly string[],
): PinnedContainer {
  const where = (): string =>
    `${describeSource(item.source)}, ${describeObject(item.object)}, container ${JSON.stringify(container)}, image ${JSON.stringify(image)}`;
  const normalised = normaliseImage(image);
  let candidates = normalised ? targets.filter((t) => t.normalised.repository === normalised.repository) : [];
  if (candidates.length === 0 && isPlaceholder(image))
    candidates = targets.filter((t) => t.entry.name === container);
  if (candidates.length === 0) {
    if (normalised && allowUnverified.some((p) => matchesPattern(normalised.repository, p))) {
      return { container, image, verified: false };
    }
    throw new ConfigurationError(
      'IMAGE_NOT_VERIFIED',
      `${capitalise(where())} matches no verified image (verified: ${targets.map((t) => t.entry.imageUri).join(', ') || 'none'}). ` +
        'Verify it in the verify stage, or add its repository to UserParameters.allowUnverified.',
    );
  }
  // One image listed under several container names (containers sharing an image) is one target.
  if (new Set(candidates.map(targetKey)).size === 1) candidates = candidates.slice(0, 1);
  if (candidates.length > 1) {
    const byDigest = normalised?.digest ? candidates.filter((t) => t.entry.digest === normalised.digest) : [];
    const byTag = normalised?.tag
      ? candidates.filter((t) => normaliseImage(t.entry.image)?.tag === normalised.tag)
      : [];
    const byName = candidates.filter((t) => t.entry.name === container);
    const narrowed = [byDigest, byTag, byName].find((c) => c.length === 1);
    if (!narrowed) {
      throw new ConfigurationError(
        'IMAGE_AMBIGUOUS',
        `${capitalise(where())} matches ${candidates.length} verified images (${candidates.map((t) => t.entry.imageUri).join(', ')}); ` +
          'write the image with the tag or digest it was verified with.',
      );
    }
    candidates = narrowed;
  }
  const target = candidates[0]!;
  if (target.entry.skipped) {
    throw new ConfigurationError(
      'IMAGE_VERIFICATION_SKIPPED',
      `${capitalise(where())}: the trust policy skipped signature verification for ${target.entry.imageUri}, so it was not verified. ` +
        'Deploy only verified images: change the trust policy level from skip, or add the repository to UserParameters.allowUnverified.',
    );
  }
  if (normalised?.digest !== undefined && normalised.digest !== target.entry.digest) {
    throw new ConfigurationError(
      'IMAGE_DIGEST_MISMATCH',
      `${capitalise(where())} is pinned to ${normalised.digest}, but the verified digest is ${target.entry.digest}. ` +
        'Remove the digest from the manifest (it is pinned to the verified one), or verify the image that is written there.',
    );
  }
  return { container, image: `${target.normalised.name}@${target.entry.digest}`, verified: true };
}

function invalidField(item: ManifestObject, what: string): ConfigurationError {
  return new ConfigurationError(
    'MANIFEST_INVALID',
    `Manifest ${describeSource(item.source)}, ${describeObject(item.object)}: ${what}.`,
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The pod template of a workload (`spec.template`, or the CronJob's job template's), if any. */
export function podTemplateOf(
  object: KubeObject,
): { metadata?: Record<string, unknown>; spec: Record<string, unknown> } | undefined {
  const path = POD_SPEC_PATHS[object.kind];
  if (!path || object.kind === 'Pod') return undefined;
  let node: unknown = object;
  for (const key of path.slice(0, -1)) node = isRecord(node) ? node[key] : undefined;
  if (!isRecord(node) || !isRecord(node.spec)) return undefined;
  return { ...(isRecord(node.metadata) ? { metadata: node.metadata } : {}), spec: node.spec };
}
