/**
 * A command line that cannot be run as written (unknown command or flag, missing argument). Like
 * notation (cobra), stagesign prints `Error: <message>` and exits 1, so a script that swaps
 * `notation verify` for `stagesign verify` sees the same exit status for every failure.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(
    message: string,
    /** The command whose `--help` explains the correct usage, e.g. `verify` or `policy show`. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Exit status of a successful run. */
export const EXIT_OK = 0;
/** Exit status of every failure: verification, configuration, registry, usage (as notation). */
export const EXIT_FAILURE = 1;
