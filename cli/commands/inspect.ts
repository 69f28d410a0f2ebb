/**
 * `stagesign inspect <reference>`: every Notary signature of an image, as `notation inspect` lists
 * them (a tree, or JSON with `--output json`): manifest digest, envelope media type, signature
 * algorithm, signed attributes (signing scheme, signing time, expiry, AWS Signer's signing profile
 * version and job), user metadata, certificates with SHA-256 fingerprints, and the signed artifact.
 * It also says whether each envelope passes the integrity check; it makes no trust decision.
 */
import type { Command } from '../command';
import type { CliIo } from '../io';
import { describeSignature } from '../describe-signature';
import type { SignatureDetails } from '../describe-signature';
import { notationConfigDir } from '../notation-config';
import {
  explainRegistryFailure,
  openTarget,
  REGISTRY_FLAGS_HELP,
  REGISTRY_OPTIONS,
  targetOptionsFromFlags,
} from '../open-target';
import type { Target } from '../open-target';
import { parseCommandLine } from '../parse-command-line';
import { printError } from '../print-error';
import { renderTree } from '../tree';
import type { TreeNode } from '../tree';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../usage-error';
import { RegistrySignatureSource } from '../../shared/notary/registry-signature-source';
import { formatReference } from '../../shared/oci/reference';
import { MediaType } from '../../shared/oci/types';
import type { Descriptor } from '../../shared/oci/types';

const OPTIONS = {
  ...REGISTRY_OPTIONS,
  'config-dir': { type: 'string' },
  'oci-layout': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
} as const;

/** notation's warning when an artifact is named by tag. */
export const TAG_WARNING =
  'Always inspect the artifact using digest(@sha256:...) rather than a tag(:%s) because resolved digest may not point to the same signed artifact, as tags are mutable.';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'List the signatures of an image with their certificates and AWS Signer details',
  help: `Inspect the Notary Project signatures of an image, as "notation inspect" does

Usage:
  stagesign inspect [flags] <reference>

  <reference> is registry/repository@sha256:<digest> (or :<tag>), or with --oci-layout
  <path>@sha256:<digest> or <path>:<tag>.

Shows each signature's manifest digest, envelope media type, signature algorithm, signing scheme,
signing time, expiry, AWS Signer signing profile version and job, certificates (SHA-256
fingerprints, subjects, expiry) and the signed artifact, and whether the envelope passes the
integrity check. It does not decide trust: use "stagesign verify" for that.

Flags:
      --oci-layout                  the reference names an OCI image layout directory
${REGISTRY_FLAGS_HELP}
      --config-dir string           notation configuration directory (credentials, insecureRegistries)
  -o, --output string               output format: text or json (default "text")
  -h, --help                        help for inspect`,

  async run(args, io) {
    const { values, positionals, help } = parseCommandLine('inspect', args, OPTIONS, 1);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    const format = values.output ?? 'text';
    if (format !== 'text' && format !== 'json')
      throw new UsageError(`invalid argument "${format}" for "--output" flag: use text or json`, 'inspect');

    let subjectRef: string;
    let subject: Descriptor;
    const signatures: SignatureDetails[] = [];
    const skipped: Array<{ digest: string; error: string }> = [];
    let target: Target | undefined;
    try {
      target = await openTarget(
        positionals[0]!,
        targetOptionsFromFlags(values, notationConfigDir(values['config-dir'], io.env, io.homedir)),
        io,
      );
      subject = await target.registry.resolve(target.ref);
      if (target.ref.digest === undefined && target.ref.tag !== undefined)
        io.err(`Warning: ${TAG_WARNING.replace('%s', target.ref.tag)}`);
      const source = new RegistrySignatureSource(target.registry, target.ref, subject);
      subjectRef = formatReference({
        registry: target.ref.registry,
        repository: target.ref.repository,
        digest: subject.digest,
      });
      for (const descriptor of await source.list()) {
        const { mediaType, envelope } = await source.fetchEnvelope(descriptor);
        try {
          signatures.push(describeSignature({ descriptor, mediaType, envelope }));
        } catch (error) {
          skipped.push({ digest: descriptor.digest, error: (error as Error).message });
        }
      }
    } catch (error) {
      printError(io, await explainRegistryFailure(target, error));
      return EXIT_FAILURE;
    }

    if (format === 'json') {
      io.out(
        JSON.stringify(
          {
            reference: subjectRef,
            mediaType: subject.mediaType,
            digest: subject.digest,
            size: subject.size,
            signatures,
            ...(skipped.length > 0 ? { skipped } : {}),
          },
          null,
          2,
        ),
      );
    } else {
      printText(io, subjectRef, signatures);
    }
    for (const skip of skipped)
      io.err(`Warning: Skipping signature ${skip.digest} because of error: ${skip.error}`);
    if (skipped.length > 0) {
      io.err('Error: at least one signature was skipped and not displayed');
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  },
};

function printText(io: CliIo, subjectRef: string, signatures: SignatureDetails[]): void {
  if (signatures.length === 0) {
    io.out(`${subjectRef} has no associated signature`);
    return;
  }
  io.out('Inspecting all signatures for signed artifact');
  const tree = renderTree({
    label: subjectRef,
    children: [{ label: MediaType.NotarySignature, children: signatures.map(signatureNode) }],
  });
  for (const line of tree) io.out(line);
}

const LABELS: Record<string, string> = {
  contentType: 'content type',
  signingScheme: 'signing scheme',
  signingTime: 'signing time',
  authenticSigningTime: 'authentic signing time',
  expiry: 'expiry',
};

function leaves(entries: Array<[string, unknown]>): TreeNode[] {
  if (entries.length === 0) return [{ label: '(empty)' }];
  return entries.map(([key, value]) => ({
    label: `${LABELS[key] ?? key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  }));
}

function signatureNode(s: SignatureDetails): TreeNode {
  const children: TreeNode[] = [{ label: `media type: ${s.mediaType}` }];
  if (s.signatureAlgorithm !== undefined)
    children.push({ label: `signature algorithm: ${s.signatureAlgorithm}` });
  if (s.created !== undefined) children.push({ label: `created: ${s.created}` });
  children.push({ label: `integrity: ${s.integrity}` });
  children.push({ label: 'signed attributes', children: leaves(Object.entries(s.signedAttributes)) });
  if (s.aws !== undefined) {
    children.push({
      label: 'AWS Signer',
      children: [
        { label: `signing profile version: ${s.aws.signingProfileVersionArn ?? '(absent)'}` },
        { label: `signing job: ${s.aws.signingJobArn ?? '(absent)'}` },
      ],
    });
  }
  children.push({
    label: 'user defined attributes',
    children: leaves(Object.entries(s.userDefinedAttributes)),
  });
  children.push({ label: 'unsigned attributes', children: leaves(Object.entries(s.unsignedAttributes)) });
  children.push({
    label: 'certificates',
    children: s.certificates.map((c) => ({
      label: `SHA256 fingerprint: ${c.sha256Fingerprint}`,
      children: [
        { label: `issued to: ${c.issuedTo}` },
        { label: `issued by: ${c.issuedBy}` },
        { label: `expiry: ${c.expiry}` },
      ],
    })),
  });
  if (s.signedArtifact !== undefined) {
    children.push({
      label: 'signed artifact',
      children: [
        { label: `media type: ${s.signedArtifact.mediaType}` },
        { label: `digest: ${s.signedArtifact.digest}` },
        { label: `size: ${s.signedArtifact.size}` },
      ],
    });
  }
  return { label: s.digest, children };
}
