import type { CliIo } from './io';

/** One `stagesign` command: its name as typed (`verify`, `policy show`), help text and runner. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full `--help` text. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(args: string[], io: CliIo): Promise<number>;
}
