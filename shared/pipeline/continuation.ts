import { InputError } from '../errors';
import { LIMITS } from './limits';

/**
 * Continuation state: a stage that is "not done yet" (e.g. waiting for a rollout) reports
 * success with a continuation token; CodePipeline re-invokes the function with a new job id and
 * that token, and the wrapper hands the decoded state back to the stage.
 *
 * Token format, version 1: `ss1.` + base64url(JSON `{"stage": <stage>, "state": <state>}`).
 * The stage tag makes a token from another stage fail loudly instead of being misread.
 * The token is not secret and not signed: only CodePipeline invokes the function, and whoever
 * can forge an invocation can already run the stage. Never put credentials in the state.
 */
const PREFIX = 'ss1.';

/**
 * Serializes `state` for `stage`.
 *
 * @throws InputError `CONTINUATION_STATE_TOO_LARGE` when the token would exceed 2048 characters
 *   (never truncated: a truncated token cannot be decoded), or `CONTINUATION_STATE_INVALID`
 *   when the state is not JSON-serializable.
 */
export function encodeContinuationToken(stage: string, state: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify({ stage, state });
  } catch (error) {
    throw new InputError(
      'CONTINUATION_STATE_INVALID',
      `The ${stage} continuation state is not JSON-serializable.`,
      {
        cause: error,
      },
    );
  }
  if (json === undefined || state === undefined) {
    throw new InputError('CONTINUATION_STATE_INVALID', `The ${stage} continuation state is empty.`);
  }
  const token = PREFIX + Buffer.from(json, 'utf8').toString('base64url');
  if (token.length > LIMITS.continuationToken) {
    throw new InputError(
      'CONTINUATION_STATE_TOO_LARGE',
      `The ${stage} continuation state needs a ${token.length}-character token, over CodePipeline's limit of ${LIMITS.continuationToken}. ` +
        'Keep only identifiers (digests, names, counters) in the state.',
    );
  }
  return token;
}

/**
 * Decodes a token produced by {@link encodeContinuationToken} for the same `stage`.
 *
 * @throws InputError `CONTINUATION_TOKEN_INVALID` for a token of another version, another stage
 *   or garbage.
 */
export function decodeContinuationToken(stage: string, token: string): unknown {
  const invalid = (why: string): InputError =>
    new InputError(
      'CONTINUATION_TOKEN_INVALID',
      `The continuation token cannot be used by ${stage}: ${why}.`,
    );
  if (!token.startsWith(PREFIX)) throw invalid('it was not written by this version of stagesign');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalid('it is not valid base64url JSON');
  }
  if (typeof decoded !== 'object' || decoded === null || !('stage' in decoded) || !('state' in decoded)) {
    throw invalid('it has no stage tag or state');
  }
  const tagged = decoded as { stage: unknown; state: unknown };
  if (tagged.stage !== stage) throw invalid(`it belongs to stage ${JSON.stringify(tagged.stage)}`);
  return tagged.state;
}
