import { isStagesignError } from '../shared/errors';
import type { CliIo } from './io';

/**
 * Prints `Error: <prefix><message>` on stderr, as cobra does for notation. Errors that are not
 * stagesign's own (a bug, an unexpected library failure) also get their name, so they are not
 * mistaken for a verdict; the message never contains credentials (the adapters never put any in).
 */
export function printError(io: CliIo, error: unknown, prefix = ''): void {
  if (isStagesignError(error)) {
    io.err(`Error: ${prefix}${error.message}`);
    return;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  io.err(`Error: ${prefix}${message}`);
}
