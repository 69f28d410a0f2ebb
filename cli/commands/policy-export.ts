/**
 * `stagesign policy export --kyverno`: prints the kyverno-notation-aws resources (TrustStore,
 * TrustPolicy and, on request, the Kyverno ClusterPolicy) for the trust policy and trust stores the
 * pipeline verifies with, so the cluster admits exactly what verify-image passed. Either a notation
 * configuration directory (as `stagesign verify` reads it) or the policy and stores as the stack
 * takes them (`TrustPolicy` / `TrustStores` parameters, the SSM parameters' text). The AWS Signer
 * roots are built in, as in verify-image.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Command } from '../command';
import { loadTrustPolicy, loadTrustStores, notationConfigDir } from '../notation-config';
import { parseCommandLine } from '../parse-command-line';
import { printError } from '../print-error';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../usage-error';
import { ConfigurationError } from '../../shared/errors';
import {
  DEFAULT_CLUSTER_POLICY_NAME,
  DEFAULT_EXTENSION_NAMESPACE,
  DEFAULT_KYVERNO_TRUST_POLICY_NAME,
  kyvernoNotationResources,
} from '../../shared/kube/kyverno-trust-resources';
import type { KubernetesObject } from '../../shared/kube/kyverno-trust-resources';
import { parseTrustPolicy } from '../../shared/notary/trust-policy';
import type { TrustPolicyDocument } from '../../shared/notary/trust-policy';
import { TrustStoreSet } from '../../shared/notary/trust-store';
// The verify-image stage's own reader of the TrustStores format, so both read it alike.
import { parseTrustStoresText } from '../../functions/verify-image/trust-stores-config';

const COMMAND = 'policy export';

const OPTIONS = {
  kyverno: { type: 'boolean' },
  'config-dir': { type: 'string' },
  'trust-policy': { type: 'string' },
  'trust-stores': { type: 'string' },
  name: { type: 'string' },
  'cluster-policy': { type: 'boolean' },
  namespaces: { type: 'string' },
  'extension-namespace': { type: 'string' },
} as const;

export const policyExportCommand: Command = {
  name: COMMAND,
  summary: 'Write the trust policy as kyverno-notation-aws resources for the cluster',
  help: `Write the trust policy and trust stores the pipeline verifies with as kyverno-notation-aws resources

Usage:
  stagesign policy export --kyverno [flags]

Prints YAML for kubectl apply -f -: a TrustStore (notation.nirmata.io/v1alpha1) for every trust store
the policy names (the built-in AWS Signer roots included), the TrustPolicy, and with --cluster-policy
the Kyverno ClusterPolicy that sends Pods in --namespaces to kyverno-notation-aws (failurePolicy Fail)
and pins their images to the verified digests.

The trust policy comes from the notation configuration directory (as "stagesign verify" reads it), or
from --trust-policy: the JSON the stack's TrustPolicy parameter (or its SSM parameter) holds, with
--trust-stores in the TrustStores parameter's format.

Flags:
      --kyverno                      write kyverno-notation-aws resources (the only format)
      --config-dir string            notation configuration directory (default: $XDG_CONFIG_HOME/notation,
                                     else ~/.config/notation)
      --trust-policy file            a notation trust policy JSON file instead of a configuration directory
      --trust-stores file            with --trust-policy: extra trust stores, {"signingAuthority:<name>": "<PEM>"}
      --name string                  name of the TrustPolicy (default "${DEFAULT_KYVERNO_TRUST_POLICY_NAME}",
                                     the extension's DEFAULT_TRUST_POLICY)
      --cluster-policy               also write the ClusterPolicy "${DEFAULT_CLUSTER_POLICY_NAME}"
      --namespaces a,b               with --cluster-policy: the application namespaces whose Pods are checked
      --extension-namespace string   namespace of kyverno-notation-aws (default "${DEFAULT_EXTENSION_NAMESPACE}")
  -h, --help                         help for policy export

Exit status: 0 when the resources were written, 1 otherwise (nothing is written then).`,

  async run(args, io) {
    const { values, help } = parseCommandLine(COMMAND, args, OPTIONS, 0);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    if (values.kyverno !== true) throw new UsageError('choose the output format: --kyverno', COMMAND);
    if (values['trust-policy'] !== undefined && values['config-dir'] !== undefined)
      throw new UsageError('--config-dir and --trust-policy cannot be used together', COMMAND);
    if (values['trust-stores'] !== undefined && values['trust-policy'] === undefined)
      throw new UsageError(
        '--trust-stores needs --trust-policy (a configuration directory has its own stores)',
        COMMAND,
      );
    const namespaces = values.namespaces
      ?.split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    if (values['cluster-policy'] === true && (namespaces === undefined || namespaces.length === 0))
      throw new UsageError('--cluster-policy needs --namespaces a,b (the application namespaces)', COMMAND);
    if (
      values['cluster-policy'] !== true &&
      (namespaces !== undefined || values['extension-namespace'] !== undefined)
    )
      throw new UsageError('--namespaces and --extension-namespace need --cluster-policy', COMMAND);

    let resources: KubernetesObject[];
    let source: string;
    try {
      let document: TrustPolicyDocument;
      let stores: TrustStoreSet;
      if (values['trust-policy'] !== undefined) {
        source = path.resolve(values['trust-policy']);
        document = parseTrustPolicy(await readText(values['trust-policy'], 'trust policy'));
        stores = TrustStoreSet.builtIn();
        if (values['trust-stores'] !== undefined) {
          const file = path.resolve(values['trust-stores']);
          stores = stores.with(
            ...parseTrustStoresText(await readText(file, 'trust stores'), `trust stores file ${file}`),
          );
        }
      } else {
        source = notationConfigDir(values['config-dir'], io.env, io.homedir);
        [document, stores] = await Promise.all([loadTrustPolicy(source), loadTrustStores(source)]);
      }
      resources = kyvernoNotationResources(document, stores, {
        ...(values.name !== undefined ? { trustPolicyName: values.name } : {}),
        ...(values['cluster-policy'] === true
          ? {
              clusterPolicy: {
                namespaces: namespaces!,
                ...(values['extension-namespace'] !== undefined
                  ? { extensionNamespace: values['extension-namespace'] }
                  : {}),
              },
            }
          : {}),
      });
    } catch (error) {
      printError(io, error, 'failed to export trust policy: ');
      return EXIT_FAILURE;
    }
    io.out(`# kyverno-notation-aws resources for the trust policy of ${source}`);
    io.out('# written by stagesign policy export --kyverno; apply with: kubectl apply -f <file>');
    io.out(resources.map((resource) => stringify(resource, { lineWidth: 0 }).trimEnd()).join('\n---\n'));
    return EXIT_OK;
  },
};

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      'INPUT_FILE_UNREADABLE',
      `cannot read ${what} file ${file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
