/**
 * The hand-off between stages: the output variables one stage writes and the next one reads
 * (architecture.md §7). Writer and reader of each variable sit side by side, so that the digest
 * a stage writes is the digest the next one reads, through one type:
 *
 * | variable          | written by   | read by (UserParameters key)          | entry             |
 * | ----------------- | ------------ | ------------------------------------- | ----------------- |
 * | `SIGNED_IMAGES`   | sign-image   | verify-image (`signedImages`)         | {@link SignedImage}   |
 * | `VERIFIED_IMAGES` | verify-image | deploy-manifest (`verifiedImages`)    | {@link VerifiedImage} |
 * | `DEPLOYED`        | deploy-manifest | check-admission                    | {@link DeployedWorkload} |
 *
 * Each variable is a JSON array. A reading stage takes it in UserParameters written unquoted
 * (`{"signedImages": #{SignVariables.SIGNED_IMAGES}}`): CodePipeline substitutes a variable's raw
 * text, so only the unquoted form leaves an array in the UserParameters JSON; a string there is
 * refused with the form to write.
 *
 * An entry keeps the container `name` when its image came from `imagedefinitions.json` (sign
 * writes it, verify reads it and writes it again), so that a deploy stage can match a container
 * whose image is a placeholder (`image: image`) by its name. Pure.
 */
import { ConfigurationError, InputError } from '../errors';

/** Output variable of sign-image: a JSON array of {@link SignedImage}. */
export const SIGNED_IMAGES = 'SIGNED_IMAGES';
/** Output variable of verify-image: a JSON array of {@link VerifiedImage}. */
export const VERIFIED_IMAGES = 'VERIFIED_IMAGES';

/** One entry of `SIGNED_IMAGES` (and of sign-image's `signatures.json`). */
export interface SignedImage {
  /** The container name, when the image came from `imagedefinitions.json`. */
  readonly name?: string;
  /** The reference as given. */
  readonly source: string;
  /** `registry/repository@sha256:…`: what was signed. */
  readonly imageUri: string;
  readonly digest: string;
  readonly signatureDigest: string;
  /** True when an existing signature was reused instead of signing again. */
  readonly reused: boolean;
  readonly signingJobArn?: string;
  readonly signingProfileVersionArn?: string;
  /** RFC 3339. */
  readonly signedAt: string;
}

/** One entry of `VERIFIED_IMAGES`. */
export interface VerifiedImage {
  /** The container name, when the image came from `imagedefinitions.json` (directly or via `SIGNED_IMAGES`). */
  readonly name?: string;
  /** The reference as given. */
  readonly image: string;
  /** `registry/repository@sha256:…`: what was verified, to deploy by digest. */
  readonly imageUri: string;
  readonly digest: string;
  /** The passing signature's manifest digest (absent when the policy level is `skip`). */
  readonly signatureDigest?: string;
  readonly signingProfileVersionArn?: string;
  /** RFC 3339. */
  readonly signingTime?: string;
  /**
   * `true` when the trust policy's level for this image is `skip`: notation's semantics (the
   * verify job succeeds) but nothing was verified. A stage that must only use verified images
   * (deploy) refuses such an entry. Absent otherwise (never `false`).
   */
  readonly skipped?: true;
}

/** The `SIGNED_IMAGES` value. */
export function writeSignedImages(images: readonly SignedImage[]): string {
  return JSON.stringify(images);
}

/** The `VERIFIED_IMAGES` value. */
export function writeVerifiedImages(images: readonly VerifiedImage[]): string {
  return JSON.stringify(images);
}

/** Where a hand-off variable is read from, for messages. */
export interface HandoffField {
  /** The UserParameters field, e.g. `UserParameters.signedImages`. */
  readonly field: string;
  /** The form to write it in, e.g. `{"signedImages": #{SignVariables.SIGNED_IMAGES}}`. */
  readonly form: string;
  /** The ConfigurationError code of the reading stage's bad parameters. */
  readonly code: string;
}

/** An image named by a `SIGNED_IMAGES` entry, as the next stage acts on it. */
export interface HandedOffImage {
  /** The reference to act on: pinned to the entry's digest when the entry names one. */
  readonly reference: string;
  /** The container name, when the entry has one. */
  readonly name?: string;
  /** Index in the array, for messages (`<field>[<index>]`). */
  readonly index: number;
}

/**
 * Reads `SIGNED_IMAGES` as a later stage receives it. Lenient about the entry (hand-written
 * lists are allowed): a reference string, or an object with `imageUri` (or `image`), an optional
 * `digest` (pins a tag reference to it) and an optional `name`. The references are not parsed
 * here; the caller parses them with messages naming `<field>[<index>]`.
 */
export function readSignedImages(value: unknown, where: HandoffField): HandedOffImage[] {
  const { field } = where;
  return readArray(value, where, 'of image references or {"image":…,"digest":…} objects').map(
    (entry, index) => {
      if (typeof entry === 'string') return { reference: entry, index };
      if (typeof entry === 'object' && entry !== null) {
        const e = entry as Record<string, unknown>;
        const image =
          typeof e.imageUri === 'string' ? e.imageUri : typeof e.image === 'string' ? e.image : undefined;
        if (image !== undefined) {
          const digest = typeof e.digest === 'string' ? e.digest : undefined;
          // Pin to the signed digest when the entry names one and the reference does not.
          const reference =
            digest !== undefined && !image.includes('@')
              ? `${image.replace(/:[^/:]+$/, '')}@${digest}`
              : image;
          return { reference, index, ...(typeof e.name === 'string' ? { name: e.name } : {}) };
        }
      }
      throw new ConfigurationError(
        where.code,
        `${field}[${index}] must be an image reference or an object with "image" (or "imageUri") and optional "digest"`,
      );
    },
  );
}

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/**
 * Reads `VERIFIED_IMAGES` as a later stage receives it. Strict: every entry must be an object
 * as {@link writeVerifiedImages} writes it, with `imageUri` pinned to its `digest`; a deploy
 * stage must never act on an image it cannot tie to a verified digest. `skipped` entries are
 * returned as such (the caller refuses them where it needs a verified image).
 */
export function readVerifiedImages(value: unknown, where: HandoffField): VerifiedImage[] {
  const { field } = where;
  return readArray(value, where, `of the verify stage's entries`).map((entry, index) => {
    const at = `${field}[${index}]`;
    const bad = (what: string): ConfigurationError =>
      new ConfigurationError(
        where.code,
        `${at}${what}; pass the verify stage's variable unchanged, ${where.form}`,
      );
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw bad(
        ' must be an object {"imageUri": "<registry>/<repository>@sha256:…", "digest": "sha256:…", …}',
      );
    }
    const e = entry as Record<string, unknown>;
    const text = (key: string, required: boolean): string | undefined => {
      const v = e[key];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v === '') throw bad(`.${key} must be a non-empty string`);
      return v;
    };
    const digest = text('digest', true) as string;
    if (!DIGEST_PATTERN.test(digest)) throw bad('.digest must be a sha256 digest (sha256:<64 hex>)');
    const imageUri = text('imageUri', true) as string;
    if (!imageUri.endsWith(`@${digest}`)) throw bad(`.imageUri must be pinned to its digest (…@${digest})`);
    if (e.skipped !== undefined && e.skipped !== true) throw bad('.skipped must be true or absent');
    const name = text('name', false);
    const signatureDigest = text('signatureDigest', false);
    const signingProfileVersionArn = text('signingProfileVersionArn', false);
    const signingTime = text('signingTime', false);
    return {
      ...(name !== undefined ? { name } : {}),
      image: text('image', false) ?? imageUri,
      imageUri,
      digest,
      ...(signatureDigest !== undefined ? { signatureDigest } : {}),
      ...(signingProfileVersionArn !== undefined ? { signingProfileVersionArn } : {}),
      ...(signingTime !== undefined ? { signingTime } : {}),
      ...(e.skipped === true ? { skipped: true as const } : {}),
    };
  });
}

/*
 * DEPLOYED: one entry per object deploy-manifest applied that runs images (Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Pod, Job, CronJob).
 */

/** One deployed workload. */
export interface DeployedWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly generation: number;
  /** Deployment revision, StatefulSet update revision, DaemonSet ControllerRevision number; null for kinds without, or when the controller had not yet observed the applied generation (a deploy that did not wait). */
  readonly revision: string | null;
  /** RFC 3339, when this job applied it. */
  readonly appliedAt: string;
  /** Every container's image as deployed (`registry/repository@sha256:…` when verified). */
  readonly images: ReadonlyArray<{ readonly container: string; readonly image: string }>;
}

/** Output variable of deploy-manifest: a JSON array of {@link DeployedWorkload}. */
export const DEPLOYED = 'DEPLOYED';

/** Serialises `DEPLOYED`. */
export function writeDeployed(workloads: readonly DeployedWorkload[]): string {
  return JSON.stringify(
    workloads.map((w) => ({
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
      uid: w.uid,
      generation: w.generation,
      revision: w.revision,
      appliedAt: w.appliedAt,
      images: w.images.map((i) => ({ container: i.container, image: i.image })),
    })),
  );
}

/**
 * Reads `DEPLOYED` (the parsed UserParameters value, or its text).
 *
 * @throws InputError `DEPLOYED_INVALID` naming the field that is wrong.
 */
export function readDeployed(value: unknown, field = 'UserParameters.deployed'): DeployedWorkload[] {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      throw new InputError(
        'DEPLOYED_INVALID',
        `${field} is not JSON: pass #{DeployVariables.DEPLOYED} unquoted.`,
      );
    }
  }
  if (!Array.isArray(parsed))
    throw new InputError(
      'DEPLOYED_INVALID',
      `${field} must be the JSON array deploy-manifest writes as DEPLOYED.`,
    );
  return parsed.map((entry: unknown, i) => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const bad = (what: string): InputError => new InputError('DEPLOYED_INVALID', `${field}[${i}].${what}`);
    for (const key of ['kind', 'namespace', 'name', 'uid', 'appliedAt'] as const)
      if (typeof e[key] !== 'string' || e[key] === '') throw bad(`${key} must be a non-empty string`);
    if (typeof e.generation !== 'number' || !Number.isInteger(e.generation))
      throw bad('generation must be an integer');
    if (e.revision !== null && typeof e.revision !== 'string') throw bad('revision must be a string or null');
    if (Number.isNaN(Date.parse(e.appliedAt as string))) throw bad('appliedAt must be an RFC 3339 time');
    if (!Array.isArray(e.images)) throw bad('images must be a list of {container, image}');
    const images = e.images.map((img: unknown, j) => {
      const r = (typeof img === 'object' && img !== null ? img : {}) as Record<string, unknown>;
      if (typeof r.container !== 'string' || typeof r.image !== 'string')
        throw bad(`images[${j}] must be {container, image}`);
      return { container: r.container, image: r.image };
    });
    return {
      kind: e.kind as string,
      namespace: e.namespace as string,
      name: e.name as string,
      uid: e.uid as string,
      generation: e.generation,
      revision: (e.revision as string | null) ?? null,
      appliedAt: e.appliedAt as string,
      images,
    };
  });
}

/** The array a hand-off variable holds; a string (the quoted form) is refused with the right form. */
function readArray(value: unknown, where: HandoffField, of: string): unknown[] {
  if (typeof value === 'string') {
    throw new ConfigurationError(
      where.code,
      `${where.field} must be a JSON array, not a string: write the ${previousStage(where.form)} variable without quotes, ${where.form}, so that CodePipeline substitutes the array itself`,
    );
  }
  if (!Array.isArray(value)) {
    throw new ConfigurationError(where.code, `${where.field} must be a JSON array ${of}, e.g. ${where.form}`);
  }
  return value;
}

/** `sign stage's` for `#{SignVariables.…}`: the namespace names the stage in messages. */
function previousStage(form: string): string {
  const namespace = /#\{(\w+?)Variables\./.exec(form)?.[1];
  return namespace ? `${namespace.toLowerCase()} stage's` : "previous stage's";
}
