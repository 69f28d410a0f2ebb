/**
 * `stagesign policy show [--config-dir DIR]`: prints the trust policy file as notation does
 * (`notation policy show`): the file's content on stdout; when it does not pass notation's
 * validation, the content still, then the validation error.
 */
import type { Command } from '../command';
import { printError } from '../print-error';
import { notationConfigDir, readTrustPolicyFile } from '../notation-config';
import { parseCommandLine } from '../parse-command-line';
import { EXIT_FAILURE, EXIT_OK } from '../usage-error';
import { parseTrustPolicy } from '../../shared/notary/trust-policy';

const OPTIONS = { 'config-dir': { type: 'string' } } as const;

export const policyShowCommand: Command = {
  name: 'policy show',
  summary: "Show the trust policy (validated with notation's rules)",
  help: `Show the trust policy of a notation configuration directory

Usage:
  stagesign policy show [flags]

Reads trustpolicy.oci.json, else trustpolicy.json, from the configuration directory, prints it, and
validates it with notation's rules (an invalid policy is printed, then the error, exit status 1).

Flags:
      --config-dir string   notation configuration directory (default: $XDG_CONFIG_HOME/notation,
                            else ~/.config/notation)
  -h, --help                help for policy show`,

  async run(args, io) {
    const { values, help } = parseCommandLine('policy show', args, OPTIONS, 0);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    const configDir = notationConfigDir(values['config-dir'], io.env, io.homedir);
    let file;
    try {
      file = await readTrustPolicyFile(configDir);
    } catch (error) {
      printError(io, error, 'failed to show trust policy: ');
      return EXIT_FAILURE;
    }
    io.out(file.text.replace(/\n$/, ''));
    try {
      parseTrustPolicy(file.text);
    } catch (error) {
      io.err(`Existing trust policy configuration in ${file.path} is invalid; fix it or write a new one.`);
      printError(io, error);
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  },
};
