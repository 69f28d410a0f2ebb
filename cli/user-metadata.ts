/**
 * `-m, --user-metadata key=value` (repeatable), as notation's `sign` and `verify` take it
 * (notation `cmd/notation/internal/option/metadata.go`): each entry splits at its first `=`; a key
 * may appear once.
 */
import { UsageError } from './usage-error';

/** The parsed pairs, or undefined when none were given. Throws UsageError for `command`. */
export function parseUserMetadata(
  entries: string[] | undefined,
  command: string,
): Record<string, string> | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const metadata: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0)
      throw new UsageError(`could not parse flag user-metadata: "${entry}" is not a key=value pair`, command);
    const key = entry.slice(0, eq);
    if (Object.hasOwn(metadata, key))
      throw new UsageError(`could not parse flag user-metadata: duplicate key "${key}"`, command);
    metadata[key] = entry.slice(eq + 1);
  }
  return metadata;
}
