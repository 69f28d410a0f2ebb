/**
 * Which input artifact a stage reads: the one `UserParameters.inputArtifact` names, else the
 * only one. One wording for every stage and for `ctx.readInputArtifact`. Pure.
 */
import { ConfigurationError } from '../errors';

/**
 * The input artifact to read.
 *
 * @param names the action's input artifact names, in order.
 * @param requested `UserParameters.inputArtifact`, when set.
 * @param holding what the artifact must hold, for the message (e.g. `the image file`).
 * @returns the name, or `undefined` when the action has no input artifact (the caller decides
 *   whether that is an error).
 * @throws ConfigurationError `INPUT_ARTIFACT_MISSING` when `requested` is not one of `names`,
 *   `INPUT_ARTIFACT_AMBIGUOUS` when nothing is requested and there are several.
 */
export function pickInputArtifact(
  names: readonly string[],
  requested: string | undefined,
  holding: string,
): string | undefined {
  if (requested !== undefined) {
    if (!names.includes(requested)) {
      throw new ConfigurationError(
        'INPUT_ARTIFACT_MISSING',
        `The action has no input artifact named ${requested} (it has: ${names.join(', ') || 'none'}). Add it to the action's InputArtifacts or fix UserParameters.inputArtifact.`,
      );
    }
    return requested;
  }
  if (names.length > 1) {
    throw new ConfigurationError(
      'INPUT_ARTIFACT_AMBIGUOUS',
      `The action has ${names.length} input artifacts (${names.join(', ')}); set UserParameters.inputArtifact to the one holding ${holding}.`,
    );
  }
  return names[0];
}
