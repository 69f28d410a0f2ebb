/**
 * Which images a stage acts on (sign-image, verify-image): collected from `UserParameters`
 * (`image` / `images`, where pipeline variables such as `#{BuildVariables.IMAGE_URI}` have
 * already been resolved by CodePipeline) and/or from a file in an input artifact:
 *
 * - `imagedefinitions.json` — `[{"name": "web", "imageUri": "…"}]`, what the CodeBuild build stage
 *   writes for the ECS deploy action;
 * - `imageDetail.json` — `{"ImageURI": "…"}`, what the ECR source action and ECS blue/green use.
 *
 * Rules (parse once at the boundary, then trust):
 * - Images in `UserParameters` are used alone unless `UserParameters.imageFile` is set too; then
 *   both lists are combined (user parameters first).
 * - Without images in `UserParameters`, the input artifact is read: `imageFile` if set, else the
 *   first of {@link DEFAULT_IMAGE_FILES} that exists. Which artifact: `UserParameters.inputArtifact`,
 *   else the action's only input artifact.
 * - Zero images → ConfigurationError `NO_IMAGES` saying where it looked. A malformed reference →
 *   ConfigurationError `IMAGE_REFERENCE_INVALID` naming the field and quoting the value.
 * - The same reference given twice is acted on once: {@link collectImageSources} returns both the
 *   distinct references (the work list) and every entry as found (e.g. two containers of an
 *   `imagedefinitions.json` running the same image), so that a stage rewriting the file keeps every
 *   entry. Two different references to one image (a tag and its digest) are still two references
 *   here: only resolving them tells, and that is the stage's business.
 *
 * The parsing half is pure; {@link collectImages} reads the artifact through the callback it is given.
 */
import { ConfigurationError, InputError } from '../errors';
import { formatReference, parseReference } from '../oci/reference';
import type { Reference } from '../oci/reference';
import type { ArtifactFiles } from './artifact-store';
import { pickInputArtifact } from './input-artifact';

/** The files looked for, in this order, when `UserParameters.imageFile` is not set. */
export const DEFAULT_IMAGE_FILES = ['imagedefinitions.json', 'imageDetail.json'] as const;

/** More images than this in one action is refused: output variables and the summary stay readable. */
export const MAX_IMAGES = 50;

/** UserParameters keys this module reads (stages add their own). */
export const IMAGE_SOURCE_KEYS = ['image', 'images', 'imageFile', 'inputArtifact'] as const;

/** One image to act on, with where it came from (for messages and output naming). */
export interface ImageSource {
  readonly reference: Reference;
  /** The reference exactly as given. */
  readonly text: string;
  /** Where it was found, e.g. `UserParameters.images[1]` or `BuildOutput:imagedefinitions.json[0].imageUri`. */
  readonly origin: string;
  /** The container name from `imagedefinitions.json`, when it came from there. */
  readonly name?: string;
  /**
   * The names of later entries with the same reference (containers that share one image in
   * `imagedefinitions.json`): the image is worked on once, and the hand-off lists it under every
   * name, so a placeholder container of each name still finds it.
   */
  readonly otherNames?: readonly string[];
  /** Which kind of source it came from (decides how an output artifact is rewritten). */
  readonly kind: 'user-parameters' | 'imagedefinitions' | 'imageDetail';
  /**
   * The file entry as found (the `imagedefinitions.json` object or the `imageDetail.json` object),
   * so that a rewritten output file keeps the fields this module does not read.
   */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** What {@link collectImageSources} found. */
export interface CollectedImages {
  /** The distinct references, in the order given: what to act on. */
  readonly images: ImageSource[];
  /**
   * Every entry as found, in order, duplicates included (user parameters first, then the file's
   * entries): what an output file rewritten from the input must contain.
   */
  readonly entries: ImageSource[];
}

/** The image-related part of a stage's parameters, validated. */
export interface ImageSourceParams {
  /** Images given in `UserParameters` (already parsed). */
  readonly images: readonly ImageSource[];
  /** `UserParameters.imageFile`: a path inside the input artifact. */
  readonly imageFile?: string;
  /** `UserParameters.inputArtifact`: the input artifact to read. */
  readonly inputArtifact?: string;
}

const EXAMPLE_REF = '123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:…';

/**
 * Reads `image`, `images`, `imageFile` and `inputArtifact` from `UserParameters`. Other keys are
 * the stage's business. Throws ConfigurationError naming the field.
 */
export function parseImageSourceParams(
  userParameters: Readonly<Record<string, unknown>> | undefined,
): ImageSourceParams {
  const up = userParameters ?? {};
  const images: ImageSource[] = [];
  if (up.image !== undefined) {
    if (typeof up.image !== 'string') {
      throw new ConfigurationError(
        'IMAGE_REFERENCE_INVALID',
        `UserParameters.image must be a string reference, e.g. "${EXAMPLE_REF}", but is ${describeType(up.image)}.`,
      );
    }
    images.push(userImage(up.image, 'UserParameters.image'));
  }
  if (up.images !== undefined) {
    if (!Array.isArray(up.images)) {
      throw new ConfigurationError(
        'IMAGE_REFERENCE_INVALID',
        `UserParameters.images must be an array of references, e.g. ["${EXAMPLE_REF}"], but is ${describeType(up.images)}.`,
      );
    }
    up.images.forEach((value: unknown, i) => {
      const field = `UserParameters.images[${i}]`;
      if (typeof value !== 'string') {
        throw new ConfigurationError(
          'IMAGE_REFERENCE_INVALID',
          `${field} must be a string reference, e.g. "${EXAMPLE_REF}", but is ${describeType(value)}.`,
        );
      }
      images.push(userImage(value, field));
    });
  }
  const imageFile = optionalString(up.imageFile, 'UserParameters.imageFile', 'e.g. "imagedefinitions.json"');
  const inputArtifact = optionalString(
    up.inputArtifact,
    'UserParameters.inputArtifact',
    'e.g. "BuildOutput"',
  );
  if (imageFile !== undefined && (imageFile.startsWith('/') || imageFile.split('/').includes('..'))) {
    throw new ConfigurationError(
      'IMAGE_FILE_INVALID',
      `UserParameters.imageFile ${JSON.stringify(imageFile)} must be a relative path inside the input artifact, e.g. "imagedefinitions.json".`,
    );
  }
  return {
    images: dedupeImages(images),
    ...(imageFile !== undefined ? { imageFile } : {}),
    ...(inputArtifact !== undefined ? { inputArtifact } : {}),
  };
}

/** Whether {@link collectImages} will read an input artifact for these parameters. */
export function needsInputArtifact(params: ImageSourceParams): boolean {
  return params.images.length === 0 || params.imageFile !== undefined;
}

/** What {@link collectImages} needs from the running job. */
export interface ImageSourceJob {
  /** Names of the action's input artifacts. */
  readonly inputArtifactNames: readonly string[];
  /** Reads an input artifact by name (StageContext.readInputArtifact). */
  readInputArtifact(name: string): Promise<ArtifactFiles>;
}

/**
 * The images to act on (see the module comment for the rules), deduplicated, in the order given.
 * Throws ConfigurationError `NO_IMAGES` when none is found, saying where it looked.
 */
export async function collectImages(params: ImageSourceParams, job: ImageSourceJob): Promise<ImageSource[]> {
  return (await collectImageSources(params, job)).images;
}

/**
 * Like {@link collectImages}, and also every entry as found (duplicates included), for stages
 * that rewrite the input file: a container whose image equals another's must not vanish from it.
 */
export async function collectImageSources(
  params: ImageSourceParams,
  job: ImageSourceJob,
): Promise<CollectedImages> {
  const looked: string[] = ['UserParameters.image and UserParameters.images'];
  let entries = [...params.images];
  if (needsInputArtifact(params)) {
    const artifact = pickInputArtifact(job.inputArtifactNames, params.inputArtifact, 'the image file');
    if (artifact === undefined) {
      looked.push('input artifacts (the action has none)');
    } else {
      const files = await job.readInputArtifact(artifact);
      const found = imagesFromArtifactFiles(files, artifact, params.imageFile);
      looked.push(found.looked);
      entries = [...entries, ...found.images];
    }
  }
  const images = dedupeImages(entries);
  if (images.length === 0) {
    throw new ConfigurationError(
      'NO_IMAGES',
      `No image to act on. Looked in ${looked.join('; ')}. Set UserParameters to {"image":"${EXAMPLE_REF}"} ` +
        `(pipeline variables such as #{BuildVariables.IMAGE_URI} work), or add an input artifact with imagedefinitions.json or imageDetail.json.`,
    );
  }
  if (images.length > MAX_IMAGES) {
    throw new ConfigurationError(
      'TOO_MANY_IMAGES',
      `${images.length} images were given; one action handles at most ${MAX_IMAGES}. Split them across several actions.`,
    );
  }
  return { images, entries };
}

/**
 * Reads the image list from the files of an input artifact: `imageFile` when given (must exist),
 * else the first of {@link DEFAULT_IMAGE_FILES} present. The format is told by content: an array is
 * `imagedefinitions.json`, an object with `ImageURI` is `imageDetail.json`. Pure.
 *
 * @returns the images (possibly none) and a description of where it looked, for messages.
 */
export function imagesFromArtifactFiles(
  files: ArtifactFiles,
  artifactName: string,
  imageFile: string | undefined,
): { images: ImageSource[]; looked: string } {
  const candidates = imageFile !== undefined ? [imageFile] : [...DEFAULT_IMAGE_FILES];
  const path = candidates.find((p) => files.has(p));
  if (path === undefined) {
    const present = [...files.keys()].slice(0, 10);
    const contents = `it contains ${present.length > 0 ? present.join(', ') : 'no files'}${files.size > 10 ? ', …' : ''}`;
    if (imageFile !== undefined) {
      throw new ConfigurationError(
        'IMAGE_FILE_MISSING',
        `UserParameters.imageFile ${JSON.stringify(imageFile)} is not in input artifact ${artifactName} (${contents}). Fix the path or the build's artifact files.`,
      );
    }
    const where = `input artifact ${artifactName} for ${candidates.join(' or ')} (${contents})`;
    return { images: [], looked: where };
  }
  const where = `${artifactName}:${path}`;
  const value = parseJsonFile(files.get(path) as Uint8Array, where);
  return { images: parseImageFile(value, where), looked: where };
}

/**
 * Parses the JSON value of an image file (`imagedefinitions.json` array or `imageDetail.json`
 * object). `where` names the file in messages, e.g. `BuildOutput:imagedefinitions.json`.
 */
export function parseImageFile(value: unknown, where: string): ImageSource[] {
  if (Array.isArray(value)) {
    return value.map((entry: unknown, i) => {
      const field = `${where}[${i}]`;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw new ConfigurationError(
          'IMAGE_FILE_INVALID',
          `${field} must be an object {"name": "…", "imageUri": "…"} (imagedefinitions.json format), but is ${describeType(entry)}.`,
        );
      }
      const { name, imageUri } = entry as Record<string, unknown>;
      if (typeof imageUri !== 'string') {
        throw new ConfigurationError(
          'IMAGE_FILE_INVALID',
          `${field}.imageUri must be a string reference, but is ${describeType(imageUri)}.`,
        );
      }
      if (name !== undefined && typeof name !== 'string') {
        throw new ConfigurationError(
          'IMAGE_FILE_INVALID',
          `${field}.name must be a string, but is ${describeType(name)}.`,
        );
      }
      return {
        reference: parseField(imageUri, `${field}.imageUri`),
        text: imageUri,
        origin: `${field}.imageUri`,
        ...(name !== undefined ? { name } : {}),
        kind: 'imagedefinitions' as const,
        fields: entry as Record<string, unknown>,
      };
    });
  }
  const uri =
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>).ImageURI : undefined;
  if (typeof uri === 'string') {
    return [
      {
        reference: parseField(uri, `${where}.ImageURI`),
        text: uri,
        origin: `${where}.ImageURI`,
        kind: 'imageDetail',
        fields: value as Record<string, unknown>,
      },
    ];
  }
  throw new ConfigurationError(
    'IMAGE_FILE_INVALID',
    `${where} is neither imagedefinitions.json ([{"name","imageUri"}]) nor imageDetail.json ({"ImageURI"}): it is ${describeType(value)}${typeof value === 'object' && value !== null ? ' without a string ImageURI' : ''}.`,
  );
}

function userImage(text: string, field: string): ImageSource {
  return { reference: parseField(text, field), text, origin: field, kind: 'user-parameters' };
}

/** parseReference, with the error re-raised as a ConfigurationError naming the field. */
function parseField(text: string, field: string): Reference {
  if (/#\{[^}]*\}/.test(text)) {
    throw new ConfigurationError(
      'IMAGE_REFERENCE_INVALID',
      `${field} is ${JSON.stringify(text)}, which still contains an unresolved pipeline variable. Give the action that produces it a Namespace and check the variable name.`,
    );
  }
  try {
    return parseReference(text);
  } catch (error) {
    if (error instanceof InputError) {
      throw new ConfigurationError(
        'IMAGE_REFERENCE_INVALID',
        `${field} is not a valid image reference: ${error.message}.`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

function parseJsonFile(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ConfigurationError(
      'IMAGE_FILE_INVALID',
      `${where} is not valid UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}. Fix the build step that writes it.`,
    );
  }
}

function optionalString(value: unknown, field: string, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new ConfigurationError(
      'USER_PARAMETERS_INVALID',
      `${field} must be a non-empty string, ${example}, but is ${describeType(value)}.`,
    );
  }
  return value;
}

/**
 * The key under which two sources count as the same reference (the normalized reference text;
 * a tag and a digest of one image are different keys until resolved).
 */
export function imageSourceKey(image: ImageSource): string {
  return formatReference(image.reference);
}

/**
 * The first source of each {@link imageSourceKey}, in order; the names of its later duplicates
 * are kept in its `otherNames`.
 */
export function dedupeImages(images: readonly ImageSource[]): ImageSource[] {
  const first = new Map<string, ImageSource>();
  for (const image of images) {
    const key = imageSourceKey(image);
    const kept = first.get(key);
    if (kept === undefined) {
      first.set(key, image);
      continue;
    }
    const names = [image.name, ...(image.otherNames ?? [])].filter(
      (n): n is string => n !== undefined && n !== kept.name && !(kept.otherNames ?? []).includes(n),
    );
    if (names.length > 0) {
      first.set(key, { ...kept, otherNames: [...new Set([...(kept.otherNames ?? []), ...names])] });
    }
  }
  return [...first.values()];
}

/** Every container name an image source stands for (its own, then its duplicates'). */
export function namesOf(image: ImageSource): (string | undefined)[] {
  return [image.name, ...(image.otherNames ?? [])];
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
