/**
 * `stagesign`: the pipeline's verifier (and signer) on your laptop, reading your existing notation
 * configuration. Commands: `verify`, `inspect`, `sign`, `policy show`.
 *
 * Output and exit status follow `notation`: results on stdout, `Error: …` and warnings on stderr,
 * exit 0 on success and 1 on every failure, usage errors included (as cobra does), so a script can
 * swap `notation verify` for `stagesign verify` unchanged.
 *
 * Command modules are loaded on demand: `policy show` need not load the AWS SDK.
 */
import type { Command } from './command';
import { processIo } from './io';
import type { CliIo } from './io';
import { printError } from './print-error';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './usage-error';

interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'verify',
    summary: 'Verify the signatures of an image, as notation verify does',
    load: async () => (await import('./commands/verify')).verifyCommand,
  },
  {
    name: 'inspect',
    summary: 'List the signatures of an image with their certificates and AWS Signer details',
    load: async () => (await import('./commands/inspect')).inspectCommand,
  },
  {
    name: 'sign',
    summary: 'Sign an image with an AWS Signer profile or a local key',
    load: async () => (await import('./commands/sign')).signCommand,
  },
  {
    name: 'login',
    summary: 'Log in to a registry, storing the credential as notation and docker do',
    load: async () => (await import('./commands/login')).loginCommand,
  },
  {
    name: 'logout',
    summary: 'Log out from a registry, removing its stored credential',
    load: async () => (await import('./commands/login')).logoutCommand,
  },
  {
    name: 'policy show',
    summary: 'Show the trust policy',
    load: async () => (await import('./commands/policy-show')).policyShowCommand,
  },
  {
    name: 'policy export',
    summary: 'Write the trust policy as kyverno-notation-aws resources for the cluster',
    load: async () => (await import('./commands/policy-export')).policyExportCommand,
  },
];

export const VERSION = '0.1.0';

/** `stagesign policy --help`: the policy command group, as cobra prints a parent command's help. */
const POLICY_HELP = `Manage the trust policy of the notation configuration directory

Usage:
  stagesign policy [command]

Available Commands:
  export      Export the trust policy and trust stores (--kyverno: kyverno-notation-aws resources)
  show        Show the trust policy (validated with notation's rules)

Flags:
  -h, --help   help for policy

Use "stagesign policy [command] --help" for more information about a command.`;

/** The top-level help. */
export function rootHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `stagesign - sign and verify container images like notation with the AWS Signer plugin

Usage:
  stagesign <command> [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Flags:
  -h, --help      help for stagesign
      --version   print the version

Exit status: 0 on success, 1 on any failure (verification, configuration, registry or usage).
Use "stagesign <command> --help" for more information about a command.`;
}

/** Finds the command named by the first one or two words of `argv`; returns it with the rest. */
function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  const two = argv.slice(0, 2).join(' ');
  const entry = COMMANDS.find((c) => c.name === two) ?? COMMANDS.find((c) => c.name === argv[0]);
  if (!entry) return undefined;
  return { entry, rest: argv.slice(entry.name.split(' ').length) };
}

/** Runs `stagesign` with `argv` (without the node and script paths); resolves to the exit status. */
export async function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first] = argv;
  if (first === 'help' && argv.length > 1) return run([...argv.slice(1), '--help'], io);
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.out(rootHelp());
    return EXIT_OK;
  }
  if (first === 'policy' && (argv[1] === undefined || argv[1] === '-h' || argv[1] === '--help')) {
    if (argv[1] === undefined) {
      io.err('Error: policy needs a subcommand: show, export');
      io.err("Run 'stagesign policy --help' for usage.");
      return EXIT_FAILURE;
    }
    io.out(POLICY_HELP);
    return EXIT_OK;
  }
  if (first === '--version' || first === 'version') {
    io.out(`stagesign ${VERSION}`);
    return EXIT_OK;
  }
  const found = findCommand(argv);
  if (!found) {
    if (first === 'policy') {
      io.err(
        argv[1] === undefined || argv[1].startsWith('-')
          ? 'Error: policy needs a subcommand: show, export'
          : `Error: unknown command "${argv[1]}" for "stagesign policy"`,
      );
    } else {
      io.err(`Error: unknown command "${first}" for "stagesign"`);
    }
    io.err("Run 'stagesign --help' for usage.");
    return EXIT_FAILURE;
  }
  try {
    const command = await found.entry.load();
    return await command.run(found.rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`Error: ${error.message}`);
      io.err(`Run 'stagesign ${error.command ?? found.entry.name} --help' for usage.`);
      return EXIT_FAILURE;
    }
    printError(io, error);
    return EXIT_FAILURE;
  }
}
