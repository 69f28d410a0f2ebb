/**
 * The "N of M items failed" outcome of a stage that acts on several items (images, workloads):
 * one error for the job, of the most actionable kind among the failures ({@link mostActionableKind}:
 * a fix a human must make outranks a verdict, which outranks what a retry could clear), so the
 * CodePipeline failure type tells the user what to do first. The stage writes the message (its
 * own wording lists every item); this module picks the kind, the code and the cause. Pure.
 */
import { errorOfKind, isStagesignError, mostActionableKind } from './errors';
import type { ErrorKind, StagesignError } from './errors';

/** One failed item: a thrown error, or a verdict (a judgement that said no, with its code). */
export type ItemFailure =
  { readonly error: unknown } | { readonly verdict: { readonly kind: ErrorKind; readonly code: string } };

/** An item's error kind; an error that is not a StagesignError counts as `input` (JobFailed). */
function kindOfItemError(error: unknown): ErrorKind {
  return isStagesignError(error) ? error.kind : 'input';
}

/** The failures' header line: `<what> failed for 2 of 5 <items>`. */
export function itemsFailedHeadline(what: string, failed: number, total: number, items: string): string {
  return `${what} failed for ${failed} of ${total} ${items}`;
}

/**
 * One error for several failed items, with `message`:
 *
 * - kind: the most actionable among the failures;
 * - cause: the first failure of that kind (its error; a verdict has none);
 * - code: that failure's code, or `mixedCode` when given and the failures' codes differ;
 * - an unexpected error (not a StagesignError) as the chosen failure stays unexpected: a plain
 *   `Error` with it as cause, so the failure mapping logs its stack and reports `JobFailed`.
 *
 * @param failures at least one.
 */
export function summariseItemFailures(
  failures: readonly ItemFailure[],
  message: string,
  options: { readonly mixedCode?: string; readonly unexpectedCode?: string } = {},
): Error {
  const described = failures.map((f) =>
    'verdict' in f
      ? { kind: f.verdict.kind, code: f.verdict.code, cause: undefined as unknown, ours: true }
      : {
          kind: kindOfItemError(f.error),
          code: isStagesignError(f.error) ? f.error.code : options.unexpectedCode,
          cause: f.error,
          ours: isStagesignError(f.error) || options.unexpectedCode !== undefined,
        },
  );
  const kind = mostActionableKind(described.map((d) => d.kind)) ?? 'input';
  const worst = described.find((d) => d.kind === kind) ?? described[0];
  if (worst === undefined) throw new Error('summariseItemFailures needs at least one failure');
  if (!worst.ours || worst.code === undefined) return new Error(message, { cause: worst.cause });
  const codes = new Set(described.map((d) => d.code));
  const code = options.mixedCode !== undefined && codes.size > 1 ? options.mixedCode : worst.code;
  return errorOfKind(kind, code, message, worst.cause === undefined ? undefined : { cause: worst.cause });
}

/** The same error under a new message (one item's failure, prefixed with where the item came from). */
export function withMessage(error: unknown, message: string): StagesignError | Error {
  return isStagesignError(error)
    ? errorOfKind(error.kind, error.code, message, { cause: error })
    : new Error(message, { cause: error });
}
