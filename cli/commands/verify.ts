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
import { loadTrustPolicyWithPath, loadTrustStores, resolveNotationConfigDir } from '../notation-config';
import {
  explainRegistryFailure,
  openTarget,
  REGISTRY_FLAGS_HELP,
  REGISTRY_OPTIONS,
  targetOptionsFromFlags,
} from '../open-target';
import type { Target } from '../open-target';
import { selectPolicy } from '../../shared/notary/trust-policy';
import type { TrustPolicyDocument } from '../../shared/notary/trust-policy';
import { parseCommandLine } from '../parse-command-line';
import { parseUserMetadata } from '../user-metadata';
import { printError } from '../print-error';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../usage-error';
import { isStagesignError } from '../../shared/errors';
import { OciErrorCode } from '../../shared/oci/error-codes';
import { CREDENTIALS_CONFIG_INVALID } from '../registry-credentials';
import { SIGNATURE_RETRIEVAL_FAILED } from '../../shared/notary/registry-signature-source';
import {
  DEFAULT_LAYOUT_SCOPE,
  DEFAULT_MAX_SIGNATURES,
  verifyImageReference,
} from '../../shared/notary/verify-image-reference';
import type { VerifyImageReferenceResult } from '../../shared/notary/verify-image-reference';
import { AwsSignerRevocationChecker } from '../../shared/signer/aws-signer-revocation-checker';

const OPTIONS = {
  ...REGISTRY_OPTIONS,
  'config-dir': { type: 'string' },
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
      --config-dir string         notation configuration directory (default: $NOTATION_CONFIG, else
                                  $XDG_CONFIG_HOME/notation, else ~/.config/notation)
      --oci-layout                the reference names an OCI image layout directory
      --scope string              with --oci-layout: the trust policy scope the layout is verified under
                                  (default "${DEFAULT_LAYOUT_SCOPE}"; a "*" statement applies as well)
${REGISTRY_FLAGS_HELP}
      --max-signatures int        maximum number of signatures to evaluate (default ${DEFAULT_MAX_SIGNATURES})
  -m, --user-metadata key=value   payload annotation every accepted signature must carry (repeatable)
  -v, --verbose                   print the configuration used and why each rejected signature failed
  -d, --debug                     also print the verifier's debug log: statement, trust stores and each
                                  step's result per signature (no secrets)
  -h, --help                      help for verify

Exit status: 0 when a signature verified (or the policy skips verification), 1 otherwise.`,

  async run(args, io) {
    const { values, positionals, help } = parseCommandLine('verify', args, OPTIONS, 1);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    const maxSignatures = parseMaxSignatures(values['max-signatures']);
    const userMetadata = parseUserMetadata(values['user-metadata'], 'verify');
    const debug = values.debug === true;
    const verbose = values.verbose === true || debug;
    if (values.scope !== undefined && values['oci-layout'] !== true)
      throw new UsageError('--scope is only valid with --oci-layout', 'verify');
    const config = resolveNotationConfigDir(values['config-dir'], io.env, io.homedir);
    const configDir = config.path;
    const log = (line: string) => io.err(`[debug] ${line}`);
    if (verbose) io.err(`Using notation configuration directory ${configDir} (from ${config.source})`);

    let result: VerifyImageReferenceResult;
    let target: Target | undefined;
    let policyDocument: TrustPolicyDocument | undefined;
    try {
      target = await openTarget(
        positionals[0]!,
        targetOptionsFromFlags(values, configDir, debug ? log : undefined),
        io,
      );
      const [policy, trustStores] = await Promise.all([
        loadTrustPolicyWithPath(configDir),
        loadTrustStores(configDir),
      ]);
      policyDocument = policy.document;
      if (verbose) io.err(`Using trust policy ${policy.path}`);
      if (debug)
        log(
          `Trust stores available: ${trustStores
            .list()
            .map((s) => `${s.type}:${s.name}`)
            .join(', ')}`,
        );
      result = await verifyImageReference({
        registry: target.registry,
        reference: target.ref,
        policyDocument: policy.document,
        trustStores,
        revocationChecker: new AwsSignerRevocationChecker(),
        now: io.now(),
        maxSignatures,
        ...(userMetadata ? { userMetadata } : {}),
        ...(values.scope !== undefined ? { layoutScope: values.scope } : {}),
      });
    } catch (error) {
      const explained = await explainRegistryFailure(target, error);
      printError(io, explained, verificationPrefix(explained));
      return EXIT_FAILURE;
    }
    if (debug && policyDocument) for (const line of debugLines(result, policyDocument)) log(line);
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
      // Signatures rejected before the one that passed (notation logs them at -v as well).
      if (verbose) for (const failure of result.failures) for (const line of failure.lines) io.err(line);
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
 * The verifier's debug log, as notation-go logs it at debug level (`verifier/verifier.go`): the
 * statement that applied with its level, trust stores and identities, then per signature each
 * step's validation type, action and result. Digests, names and reasons only: never secrets.
 */
export function debugLines(
  result: VerifyImageReferenceResult,
  policyDocument: TrustPolicyDocument,
): string[] {
  const out = [`Check verification level against artifact ${result.digestReference}`];
  if (result.policyName === '') return out;
  let statement;
  try {
    statement = selectPolicy(policyDocument, result.digestReference);
  } catch {
    statement = policyDocument.trustPolicies.find((p) => p.name === result.policyName);
  }
  if (statement) {
    out.push(
      `Trust policy statement "${statement.name}": level ${statement.signatureVerification.level}, trust stores [${statement.trustStores.join(', ')}], trusted identities [${statement.trustedIdentities.join(', ')}]`,
    );
  }
  if (result.outcome === 'skipped') return [...out, 'Skipping signature verification'];
  for (const signature of result.evaluated) {
    out.push(`Verify signature ${signature.signatureDigest} against artifact ${result.descriptor.digest}`);
    for (const step of signature.steps) {
      const state = step.passed
        ? step.detail === 'skipped by trust policy'
          ? 'skipped'
          : 'passed'
        : 'failed';
      out.push(
        `  ${step.step} (${step.type}, action ${step.action}): ${state}${step.error !== undefined ? `. Failure reason: ${step.error}` : step.detail !== undefined && state === 'passed' ? ` (${step.detail})` : ''}`,
      );
    }
    out.push(`Signature ${signature.signatureDigest}: ${signature.passed ? 'verified' : 'rejected'}`);
  }
  return out;
}

/** Configuration errors raised before verification starts: printed in their own words. */
const OWN_WORDS: ReadonlySet<string> = new Set([
  'TRUST_POLICY_INVALID',
  'TRUST_POLICY_MISSING',
  'TRUST_STORE_INVALID',
  'NOT_AN_OCI_REGISTRY',
  OciErrorCode.PlainHttpRegistry,
  OciErrorCode.EcrCredentialsMissing,
  CREDENTIALS_CONFIG_INVALID,
]);

/**
 * notation prefixes every error of `notation.Verify` (no applicable policy, missing trust store,
 * unretrievable signature) with "signature verification failed: "; reference, registry and
 * configuration-file errors that happen before it keep their own words.
 */
function verificationPrefix(error: unknown): string {
  if (!isStagesignError(error)) return '';
  if (error.code === SIGNATURE_RETRIEVAL_FAILED) return 'signature verification failed: ';
  if (error.kind === 'verification') return 'signature verification failed: ';
  if (error.kind === 'configuration' && !OWN_WORDS.has(error.code)) return 'signature verification failed: ';
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
