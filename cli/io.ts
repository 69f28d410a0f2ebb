/**
 * What a command may touch of the outside world, passed in so the commands can be driven by tests
 * in-process as well as by the real process (the child-process tests exercise the latter).
 */
import os from 'node:os';

export interface CliIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory (notation's default configuration lives under it). */
  readonly homedir: string;
  /** The only clock the commands read. */
  now(): Date;
}

/** The real process: stdout, stderr, `process.env`, the OS home directory and the system clock. */
export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    homedir: os.homedir(),
    now: () => new Date(),
  };
}
