/**
 * Naming a skipped suite's reason where vitest keeps it. `silent: 'passed-only'` (vitest.config.ts)
 * drops console output of files whose tests did not fail, so a `console.warn` at collection time is
 * never seen; the reason is put in the suite's title instead, and `skip-summary-reporter.ts` lists
 * every skipped suite with it after the run. A run where nothing is skipped prints nothing extra.
 */

/** What the title of a skipped suite carries after its name: ` (skipped: <reason>)`. */
export const SKIPPED_TITLE = /\(skipped: (.+)\)$/s;

/**
 * `title` when the suite runs, else `title (skipped: reason)`. Use it with `describe.skipIf`:
 * `describe.skipIf(!ok)(suiteTitle('S3ArtifactStore against moto', ok, 'moto is not installed; …'), …)`.
 */
export function suiteTitle(title: string, runs: boolean, reason: string): string {
  return runs ? title : `${title} (skipped: ${reason})`;
}
