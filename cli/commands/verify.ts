/**
 * `stagesign verify <reference>`: `notation verify` with the AWS Signer plugin, on the one verifier
 * the verify-image stage uses (`verifyImageReference`), reading the trust policy and trust stores
 * from notation's configuration directory (plus the built-in AWS Signer roots).
 *
 * Output as notation (notary-and-signer.md §5): the success or skip line on stdout, exit 0;
 * the tag warning and logged failures (`Warning: … was set to "log" …`) on stderr; every failure as
 * `Error: …` on stderr, exit 1; with `-v`, each rejected signature's reasons before the error.
 */
import type { Command } from '../command';
import type { CliIo } from '../io';
import { loadTrustPolicy, loadTrustStores, notationConfigDir } from '../notation-config';
import { openTarget } from '../open-target';
import { parseCommandLine } from '../parse-command-line';
import { printError } from '../print-error';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../usage-error';
import { isStagesignError } from '../../shared/errors';
import { SIGNATURE_RETRIEVAL_FAILED } from '../../shared/notary/registry-signature-source';
import {
  DEFAULT_LAYOUT_SCOPE,
  DEFAULT_MAX_SIGNATURES,
  verifyImageReference,
} from '../../shared/notary/verify-image-reference';
import type { VerifyImageReferenceResult } from '../../shared/notary/verify-image-reference';
import { AwsSignerRevocationChecker } from '../../shared/signer/aws-signer-revocation-checker';

const OPTIONS = {
  'config-dir': { type: 'string' },
  'plain-http': { type: 'boolean' },
  'oci-layout': { type: 'boolean' },
  scope: { type: 'string' },
  'max-signatures': { type: 'string' },
  'user-metadata': { type: 'string', short: 'm', multiple: true },
  verbose: { type: 'boolean', short: 'v' },
  debug: { type: 'boolean', short: 'd' },
} as const;

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Verify the signatures of an image, as notation verify does',
  help: `Verify the Notary Project signatures of an image, as "notation verify" with the AWS Signer plugin

Usage:
  stagesign verify [flags] <reference>

  <reference> is registry/repository@sha256:<digest> (or :<tag>, which is resolved to its digest with a
  warning), or with --oci-layout <path>@sha256:<digest> or <path>:<tag>.

The trust policy (trustpolicy.oci.json, else trustpolicy.json) and trust stores
(truststore/x509/<ca|signingAuthority|tsa>/<name>/) are read from the notation configuration
directory. The AWS Signer roots are built in as signingAuthority:aws-signer-ts and
signingAuthority:aws-us-gov-signer-ts. ECR registries authenticate with your AWS credentials;
AWS Signer signatures are checked for revocation with signer:GetRevocationStatus.

Flags:
      --config-dir string         notation configuration directory (default: $XDG_CONFIG_HOME/notation,
                                  else ~/.config/notation)
      --oci-layout                the reference names an OCI image layout directory
      --scope string              with --oci-layout: the trust policy scope the layout is verified under
                                  (default "${DEFAULT_LAYOUT_SCOPE}"; a "*" statement applies as well)
      --plain-http                use plain HTTP instead of HTTPS to talk to the registry
      --max-signatures int        maximum number of signatures to evaluate (default ${DEFAULT_MAX_SIGNATURES})
  -m, --user-metadata key=value   payload annotation every accepted signature must carry (repeatable)
  -v, --verbose                   print why each rejected signature failed (-d/--debug: the same)
  -h, --help                      help for verify

Exit status: 0 when a signature verified (or the policy skips verification), 1 otherwise.`,

  async run(args, io) {
    const { values, positionals, help } = parseCommandLine('verify', args, OPTIONS, 1);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    const maxSignatures = parseMaxSignatures(values['max-signatures']);
    const userMetadata = parseUserMetadata(values['user-metadata']);
    const verbose = values.verbose === true || values.debug === true;
    if (values.scope !== undefined && values['oci-layout'] !== true)
      throw new UsageError('--scope is only valid with --oci-layout', 'verify');
    const configDir = notationConfigDir(values['config-dir'], io.env, io.homedir);

    let result: VerifyImageReferenceResult;
    try {
      const target = openTarget(positionals[0]!, {
        ociLayout: values['oci-layout'] === true,
        plainHttp: values['plain-http'] === true,
      });
      const [policyDocument, trustStores] = await Promise.all([
        loadTrustPolicy(configDir),
        loadTrustStores(configDir),
      ]);
      result = await verifyImageReference({
        registry: target.registry,
        reference: target.ref,
        policyDocument,
        trustStores,
        revocationChecker: new AwsSignerRevocationChecker(),
        now: io.now(),
        maxSignatures,
        ...(userMetadata ? { userMetadata } : {}),
        ...(values.scope !== undefined ? { layoutScope: values.scope } : {}),
      });
    } catch (error) {
      printError(io, error, verificationPrefix(error));
      return EXIT_FAILURE;
    }
    return report(io, result, verbose);
  },
};

/** Prints a verdict as notation does and returns the exit status. */
export function report(io: CliIo, result: VerifyImageReferenceResult, verbose: boolean): number {
  if (result.tagWarning !== undefined)
    io.err(result.tagWarning.startsWith('Warning: ') ? result.tagWarning : `Warning: ${result.tagWarning}`);
  switch (result.outcome) {
    case 'skipped':
      io.out(result.message);
      return EXIT_OK;
    case 'verified':
      for (const warning of result.warnings) io.err(warning);
      if (result.warnings.length > 0) io.err('');
      io.out(result.message);
      if (result.userMetadata !== undefined && Object.keys(result.userMetadata).length > 0) {
        io.out('');
        io.out('The artifact was signed with the following user metadata.');
        for (const line of metadataTable(result.userMetadata)) io.out(line);
      }
      return EXIT_OK;
    case 'failed':
      if (verbose) for (const failure of result.failures) for (const line of failure.lines) io.err(line);
      io.err(`Error: ${result.message}`);
      return EXIT_FAILURE;
  }
}

/**
 * notation prefixes every error of `notation.Verify` (no applicable policy, missing trust store,
 * unretrievable signature) with "signature verification failed: "; reference, registry and
 * configuration-file errors that happen before it keep their own words.
 */
function verificationPrefix(error: unknown): string {
  if (!isStagesignError(error)) return '';
  if (error.code === SIGNATURE_RETRIEVAL_FAILED) return 'signature verification failed: ';
  if (error.kind === 'verification') return 'signature verification failed: ';
  if (
    error.kind === 'configuration' &&
    error.code !== 'TRUST_POLICY_INVALID' &&
    error.code !== 'TRUST_POLICY_MISSING' &&
    error.code !== 'TRUST_STORE_INVALID'
  ) {
    return 'signature verification failed: ';
  }
  return '';
}

/** notation's KEY/VALUE table (Go tabwriter, padding 3), keys sorted. */
function metadataTable(metadata: Record<string, string>): string[] {
  const rows: Array<[string, string]> = [
    ['KEY', 'VALUE'],
    ...Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ];
  const keyWidth = Math.max(...rows.map(([k]) => k.length)) + 3;
  return ['', ...rows.map(([k, v]) => `${k.padEnd(keyWidth)}${v}`)];
}

function parseMaxSignatures(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_SIGNATURES;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(
      `invalid argument "${value}" for "--max-signatures" flag: must be a positive whole number`,
      'verify',
    );
  }
  return n;
}

function parseUserMetadata(entries: string[] | undefined): Record<string, string> | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const metadata: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `could not parse flag user-metadata: "${entry}" is not a key=value pair`,
        'verify',
      );
    const key = entry.slice(0, eq);
    if (key in metadata)
      throw new UsageError(`could not parse flag user-metadata: duplicate key "${key}"`, 'verify');
    metadata[key] = entry.slice(eq + 1);
  }
  return metadata;
}
