/**
 * `stagesign sign <reference>`: signs an image by digest with the code the sign-image stage runs
 * (`signArtifact`), either through an AWS Signer signing profile (SignPayload, as the AWS Signer
 * notation plugin) or with a local key and certificate chain (as `notation sign --key`), and pushes
 * the signature to the image's registry or OCI layout.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from '../command';
import { loadTrustStores, notationConfigDir } from '../notation-config';
import {
  explainRegistryFailure,
  openTarget,
  REGISTRY_FLAGS_HELP,
  REGISTRY_OPTIONS,
  targetOptionsFromFlags,
} from '../open-target';
import type { Target } from '../open-target';
import { parseCommandLine } from '../parse-command-line';
import { parseUserMetadata } from '../user-metadata';
import { printError } from '../print-error';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../usage-error';
import { ConfigurationError } from '../../shared/errors';
import { signArtifact } from '../../shared/notary/sign-artifact';
import { TrustStoreSet, trustStoreFromPem } from '../../shared/notary/trust-store';
import type { SignatureManifestShape } from '../../shared/notary/signature-manifest';
import type { PayloadSigner } from '../../shared/notary/types';
import { formatReference } from '../../shared/oci/reference';
import { AwsSignerPayloadSigner } from '../../shared/signer/aws-signer-payload-signer';
import { AwsSignerRevocationChecker } from '../../shared/signer/aws-signer-revocation-checker';
import { LocalKeySigner } from '../../shared/signer/local-key-signer';

const OPTIONS = {
  'signing-profile': { type: 'string' },
  key: { type: 'string' },
  cert: { type: 'string' },
  expiry: { type: 'string', short: 'e' },
  ...REGISTRY_OPTIONS,
  'oci-layout': { type: 'boolean' },
  'user-metadata': { type: 'string', short: 'm', multiple: true },
  force: { type: 'boolean' },
  'signature-manifest': { type: 'string' },
  'config-dir': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

/** notation's warning when signing by tag. */
export const SIGN_TAG_WARNING =
  'Always sign the artifact using digest(@sha256:...) rather than a tag(:%s) because tags are mutable and a tag reference can point to a different artifact than the one signed.';

export const signCommand: Command = {
  name: 'sign',
  summary: 'Sign an image with an AWS Signer profile or a local key',
  help: `Sign an image (by digest) and push the Notary Project signature next to it

Usage:
  stagesign sign [flags] <reference> (--signing-profile <ARN> | --key <key.pem> --cert <chain.pem>)

  <reference> is registry/repository@sha256:<digest> or :<tag> (a tag is resolved and its digest is
  signed), or with --oci-layout <path>@sha256:<digest> or <path>:<tag>.

With --signing-profile the payload is signed by AWS Signer SignPayload (your AWS credentials; the
profile's region). With --key/--cert the payload is signed locally under the notary.x509 scheme
(the chain file holds the leaf certificate first, then its issuers up to the root). An existing
signature of the same profile (or the same signing certificate) that still verifies and carries the
same user metadata is reused unless --force is given.

Flags:
      --signing-profile string      AWS Signer signing profile ARN
                                    (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)
      --key string                  PEM private key of the signing certificate (local signing)
      --cert string                 PEM certificate chain, leaf first (local signing)
  -e, --expiry string               signature validity for local signing, e.g. 24h, 90m, 3600s
      --signature-manifest string   oci-1.1 (artifactType, the default) or legacy (notation 1.x shape)
  -m, --user-metadata key=value     metadata signed into the payload (repeatable); "verify -m" can require it
      --force                       sign again even when a reusable signature exists
      --config-dir string           notation configuration directory whose signingAuthority trust stores
                                    a reusable signature may chain to, besides the built-in AWS Signer
                                    roots (default: $XDG_CONFIG_HOME/notation, else ~/.config/notation)
      --oci-layout                  the reference names an OCI image layout directory
${REGISTRY_FLAGS_HELP}
  -v, --verbose                     say why an existing signature was not reused
  -h, --help                        help for sign`,

  async run(args, io) {
    const { values, positionals, help } = parseCommandLine('sign', args, OPTIONS, 1);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    const profileArn = values['signing-profile'];
    const local = values.key !== undefined || values.cert !== undefined;
    if ((profileArn !== undefined) === local) {
      throw new UsageError(
        'give either --signing-profile <ARN> or both --key <key.pem> and --cert <chain.pem>',
        'sign',
      );
    }
    if (local && (values.key === undefined || values.cert === undefined)) {
      throw new UsageError('local signing needs both --key <key.pem> and --cert <chain.pem>', 'sign');
    }
    if (profileArn !== undefined && values.expiry !== undefined) {
      throw new UsageError(
        "AWS Signer doesn't support -e (--expiry); the signing profile's signature validity period sets the expiry",
        'sign',
      );
    }
    const shape = parseShape(values['signature-manifest']);
    const userMetadata = parseUserMetadata(values['user-metadata'], 'sign');
    const expirySeconds = values.expiry === undefined ? undefined : parseDuration(values.expiry);

    const configDir = notationConfigDir(values['config-dir'], io.env, io.homedir);
    let target: Target | undefined;
    try {
      target = await openTarget(positionals[0]!, targetOptionsFromFlags(values, configDir), io);
      let signer: PayloadSigner;
      let reuseLocalKey: { leafSha256: string; trustStores: TrustStoreSet } | undefined;
      if (profileArn !== undefined) {
        signer = new AwsSignerPayloadSigner({ profileArn });
      } else {
        const certificateChainPem = await readInput(values.cert!, '--cert');
        const local = new LocalKeySigner({
          privateKeyPem: await readInput(values.key!, '--key'),
          certificateChainPem,
          now: () => io.now(),
          ...(expirySeconds !== undefined ? { expirySeconds } : {}),
        });
        signer = local;
        reuseLocalKey = localKeyReuse(local.certificateChain);
      }
      if (target.ref.digest === undefined && target.ref.tag !== undefined)
        io.err(`Warning: ${SIGN_TAG_WARNING.replace('%s', target.ref.tag)}`);
      // Reused signatures must chain to a trusted signing authority: the built-in AWS Signer
      // roots plus the notation configuration's stores.
      const trustStores = await loadTrustStores(configDir);
      const logger = {
        debug: (_message: string, attributes?: Record<string, unknown>) =>
          io.err(
            `Not reusing signature ${String(attributes?.['signatureDigest'])}: ${String(attributes?.['reason'])}`,
          ),
      };
      const signed = await signArtifact(
        {
          registry: target.registry,
          signer,
          trustStores,
          ...(values.verbose === true ? { logger } : {}),
          ...(profileArn !== undefined ? { revocation: new AwsSignerRevocationChecker() } : {}),
        },
        target.ref,
        {
          now: io.now(),
          force: values.force === true,
          shape,
          ...(profileArn !== undefined ? { profileArn } : {}),
          ...(reuseLocalKey !== undefined ? { reuseLocalKey } : {}),
          ...(userMetadata !== undefined ? { userMetadata } : {}),
        },
      );
      const signatureRef = formatReference({
        registry: target.ref.registry,
        repository: target.ref.repository,
        digest: signed.signatureDigest,
      });
      io.out(`Successfully signed ${signed.reference}`);
      if (signed.reused)
        io.out(
          `Reused the existing signature ${signatureRef} (it still verifies; use --force to sign again)`,
        );
      else io.out(`Pushed the signature to ${signatureRef}`);
      return EXIT_OK;
    } catch (error) {
      printError(io, await explainRegistryFailure(target, error));
      return EXIT_FAILURE;
    }
  },
};

/**
 * What a local-key signature must have to be reused: the same leaf certificate (so the same key)
 * and a chain to the root of `--cert`, which serves as the only `ca` store.
 */
function localKeyReuse(chain: Uint8Array[]): { leafSha256: string; trustStores: TrustStoreSet } {
  const leaf = new X509Certificate(chain[0]!);
  const root = new X509Certificate(chain[chain.length - 1]!);
  return {
    leafSha256: leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
    trustStores: new TrustStoreSet([trustStoreFromPem('ca', 'stagesign-local-key', root.toString())]),
  };
}

function parseShape(value: string | undefined): SignatureManifestShape {
  if (value === undefined || value === 'oci-1.1') return 'oci-1.1';
  if (value === 'legacy') return 'legacy';
  throw new UsageError(
    `invalid argument "${value}" for "--signature-manifest" flag: use oci-1.1 or legacy`,
    'sign',
  );
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** A whole number of seconds from `90m`, `24h`, `3600s` (Go duration units s, m, h; combinable: `1h30m`). */
export function parseDuration(value: string): number {
  if (!/^(?:\d+[hms])+$/.test(value))
    throw new UsageError(
      `invalid argument "${value}" for "-e, --expiry" flag: use a duration such as 24h, 90m or 3600s`,
      'sign',
    );
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)([hms])/g))
    seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  if (seconds <= 0)
    throw new UsageError(
      `invalid argument "${value}" for "-e, --expiry" flag: the duration must be positive`,
      'sign',
    );
  return seconds;
}

async function readInput(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      'LOCAL_SIGNING_KEY_UNREADABLE',
      `cannot read ${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
}
