/**
 * The error model (architecture.md §4): one base class with a stable `code`, a human message
 * and an optional `cause`; one subclass per kind. The CodePipeline failure type is derived from
 * the kind, never from message text. Classes set a literal `name` because minified bundles
 * rename classes.
 */
export type ErrorKind = 'configuration' | 'permission' | 'verification' | 'input' | 'dependency';

export abstract class StagesignError extends Error {
  abstract readonly kind: ErrorKind;
  /** Stable SCREAMING_SNAKE code; tests and mappings depend on it. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** Bad parameters, environment, trust policy or template wiring: the user must change configuration. */
export class ConfigurationError extends StagesignError {
  override readonly name = 'ConfigurationError';
  readonly kind = 'configuration' as const;
}

/** AccessDenied from AWS or a registry: a role or policy lacks a permission. */
export class PermissionError extends StagesignError {
  override readonly name = 'PermissionError';
  readonly kind = 'permission' as const;
}

/** A signature or admission verdict that says no. */
export class VerificationError extends StagesignError {
  override readonly name = 'VerificationError';
  readonly kind = 'verification' as const;
}

/** Malformed artifact, event, manifest, reference or envelope. */
export class InputError extends StagesignError {
  override readonly name = 'InputError';
  readonly kind = 'input' as const;
}

/** A dependency (AWS API, registry, cluster) still failing after retries: throttling, 5xx, timeouts. */
export class DependencyError extends StagesignError {
  override readonly name = 'DependencyError';
  readonly kind = 'dependency' as const;
}

export function isStagesignError(value: unknown): value is StagesignError {
  return value instanceof StagesignError;
}

/** Exhaustiveness helper for tagged unions: `default: return assertNever(x)`. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/**
 * Which kind a person should act on first when several errors happen in one job (e.g. several
 * images): a fix a human must make (configuration, permission) outranks a definitive verdict
 * (verification, input), which outranks a failure a retry might clear (dependency).
 */
export const ERROR_KIND_PRIORITY: readonly ErrorKind[] = [
  'configuration',
  'permission',
  'verification',
  'input',
  'dependency',
];

/** The most actionable of `kinds` by {@link ERROR_KIND_PRIORITY}; `undefined` when there are none. */
export function mostActionableKind(kinds: Iterable<ErrorKind>): ErrorKind | undefined {
  let best: ErrorKind | undefined;
  for (const kind of kinds) {
    if (best === undefined || ERROR_KIND_PRIORITY.indexOf(kind) < ERROR_KIND_PRIORITY.indexOf(best))
      best = kind;
  }
  return best;
}

/** A new error of the given kind (for summarising several errors under the most actionable one). */
export function errorOfKind(
  kind: ErrorKind,
  code: string,
  message: string,
  options?: { cause?: unknown },
): StagesignError {
  switch (kind) {
    case 'configuration':
      return new ConfigurationError(code, message, options);
    case 'permission':
      return new PermissionError(code, message, options);
    case 'verification':
      return new VerificationError(code, message, options);
    case 'input':
      return new InputError(code, message, options);
    case 'dependency':
      return new DependencyError(code, message, options);
    default:
      return assertNever(kind);
  }
}
