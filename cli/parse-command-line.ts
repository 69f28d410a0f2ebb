/**
 * Argument parsing for every command, on `node:util` `parseArgs` in strict mode, with cobra-style
 * messages (`unknown flag: --x`, `flag needs an argument: --config-dir`, `accepts 1 arg(s),
 * received 2`) so the errors read like notation's.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The parsed values: booleans for flags, strings for options that take a value. */
export type ParsedValues<T extends OptionsConfig> = {
  [K in keyof T]?: T[K] extends { multiple: true }
    ? T[K] extends { type: 'boolean' }
      ? boolean[]
      : string[]
    : T[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

export interface ParsedCommandLine<T extends OptionsConfig> {
  values: ParsedValues<T>;
  positionals: string[];
  /** True when `-h`/`--help` was given: print the command's help and exit 0. */
  help: boolean;
}

/**
 * Parses `args` for `command` with `options` (plus `-h/--help`). Throws UsageError for unknown
 * flags, missing values and a wrong number of positional arguments (`expected` = exact count).
 */
export function parseCommandLine<T extends OptionsConfig>(
  command: string,
  args: string[],
  options: T,
  expected: number,
): ParsedCommandLine<T> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error), command);
  }
  const help = parsed.values['help'] === true;
  if (!help && parsed.positionals.length !== expected) {
    throw new UsageError(`accepts ${expected} arg(s), received ${parsed.positionals.length}`, command);
  }
  const { help: _help, ...values } = parsed.values;
  return { values: values as ParsedValues<T>, positionals: parsed.positionals, help };
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const quoted = /'([^']+)'/.exec(message)?.[1]?.split(' ')[0];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag: ${quoted ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(message)
        ? `flag needs an argument: ${quoted ?? message}`
        : `invalid argument for ${quoted ?? 'flag'}: ${message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument: ${quoted ?? message}`;
    default:
      return message;
  }
}
