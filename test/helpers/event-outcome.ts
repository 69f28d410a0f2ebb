/**
 * The outcome an events/<stage>/<name>.json file promises by its name (the rule events/README.md
 * documents). A name is words joined by "-"; the first rule that matches decides:
 *
 * 1. first word `bad`, `missing` or `invalid`                 → failure, ConfigurationError
 * 2. a word `forbidden` or `unauthorized`                      → failure, PermissionError
 * 3. a word `unavailable`, `throttled` or `timeout`            → failure, SystemUnavailable
 * 4. a word `unsigned`, `tampered`, `revoked`, `expired`,
 *    `untrusted`, `rejected`, `denied` or `unverified`         → failure, JobFailed
 * 5. a word `waiting`, `pending`, `progressing` or `rolling`   → continuation
 * 6. anything else                                             → success
 *
 * (`continuation.json` names the input, a re-invocation that carries a continuation token; the
 * stage's answer follows from the other rules, success for sign-image and verify-image.)
 */
export type PromisedOutcome =
  | { outcome: 'success' }
  | { outcome: 'continuation' }
  | {
      outcome: 'failure';
      type: 'ConfigurationError' | 'PermissionError' | 'SystemUnavailable' | 'JobFailed';
    };

const FAILURE_WORDS: ReadonlyArray<
  [readonly string[], 'PermissionError' | 'SystemUnavailable' | 'JobFailed']
> = [
  [['forbidden', 'unauthorized'], 'PermissionError'],
  [['unavailable', 'throttled', 'timeout'], 'SystemUnavailable'],
  [
    ['unsigned', 'tampered', 'revoked', 'expired', 'untrusted', 'rejected', 'denied', 'unverified'],
    'JobFailed',
  ],
];
const CONTINUATION_WORDS = ['waiting', 'pending', 'progressing', 'rolling'];

/** What `fileName` (`bad-user-parameters.json`, `happy-path`) promises. */
export function promisedOutcome(fileName: string): PromisedOutcome {
  const words = fileName.replace(/\.json$/, '').split('-');
  if (['bad', 'missing', 'invalid'].includes(words[0]!))
    return { outcome: 'failure', type: 'ConfigurationError' };
  for (const [vocabulary, type] of FAILURE_WORDS)
    if (words.some((w) => vocabulary.includes(w))) return { outcome: 'failure', type };
  if (words.some((w) => CONTINUATION_WORDS.includes(w))) return { outcome: 'continuation' };
  return { outcome: 'success' };
}
