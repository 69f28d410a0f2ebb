import { InputError } from '../errors';

/**
 * The CodePipeline API limits every report must respect (codepipeline-and-sam.md §1.3–1.4,
 * from botocore's service model). A report that breaks one is rejected with a
 * ValidationException and the job hangs until it times out, so they are enforced before sending.
 */
export const LIMITS = {
  /** `failureDetails.message`: 1–5000 characters. */
  failureMessage: 5000,
  /** `executionDetails.summary`: 1–2048 characters. */
  summary: 2048,
  /** `externalExecutionId`: 1–1500 characters. */
  externalExecutionId: 1500,
  /** `continuationToken`: 1–2048 characters. */
  continuationToken: 2048,
  /** All output variables of one action, keys and values together, in UTF-8 bytes. */
  outputVariablesBytes: 122_880,
} as const;

/** Output variable keys allowed by the API. */
export const OUTPUT_VARIABLE_KEY = /^[A-Za-z0-9@\-_]+$/;

/**
 * Shortens `text` to at most `max` characters, ending with a visible marker that says how much
 * was cut, so a reader knows the message is incomplete. Empty text becomes `fallback`.
 */
export function truncate(text: string, max: number, fallback = '(no message)'): string {
  const value = text.length === 0 ? fallback : text;
  if (value.length <= max) return value;
  const marker = (cut: number): string => ` … [truncated ${cut} characters]`;
  // The marker's length depends on the number it prints: start from the worst case and grow
  // `keep` while the result still fits, so the output uses the whole budget.
  let keep = Math.max(0, max - marker(value.length).length);
  while (keep + 1 + marker(value.length - keep - 1).length <= max) keep++;
  // Never end on the first half of a surrogate pair (an astral character such as an emoji):
  // the lone half is not valid Unicode and would show as a replacement character. Cutting one
  // more code unit can add a digit to the count, which the unit given up pays for.
  if (keep > 0 && isHighSurrogate(value.charCodeAt(keep - 1)) && isLowSurrogate(value.charCodeAt(keep)))
    keep--;
  return value.slice(0, keep) + marker(value.length - keep);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** UTF-8 size of the output variables as CodePipeline counts them (keys plus values). */
export function outputVariablesBytes(variables: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const [key, value] of Object.entries(variables)) {
    total += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  return total;
}

/**
 * Checks output variables against the API: key pattern, string values, total size.
 *
 * @throws InputError `OUTPUT_VARIABLE_KEY_INVALID` or `OUTPUT_VARIABLES_TOO_LARGE`. They are
 *   refused, never trimmed: a downstream action would otherwise read a silently wrong value.
 */
export function checkOutputVariables(variables: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(variables)) {
    if (!OUTPUT_VARIABLE_KEY.test(key)) {
      throw new InputError(
        'OUTPUT_VARIABLE_KEY_INVALID',
        `Output variable key ${JSON.stringify(key.slice(0, 100))} is invalid: keys may contain only letters, digits, @, - and _.`,
      );
    }
    if (typeof value !== 'string') {
      throw new InputError(
        'OUTPUT_VARIABLE_VALUE_INVALID',
        `Output variable ${key} must be a string, got ${typeof value}.`,
      );
    }
  }
  const bytes = outputVariablesBytes(variables);
  if (bytes > LIMITS.outputVariablesBytes) {
    throw new InputError(
      'OUTPUT_VARIABLES_TOO_LARGE',
      `The output variables total ${bytes} bytes, over CodePipeline's limit of ${LIMITS.outputVariablesBytes} bytes per action. ` +
        'Put large data in an output artifact and pass only references (digests, keys) as variables.',
    );
  }
}
