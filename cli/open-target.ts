/**
 * Turns the `<reference>` argument and the registry flags into the Registry that holds the image
 * and the parsed reference: an OCI image layout on disk (`<path>@<digest>` or `<path>:<tag>`), or
 * a remote registry through the Distribution API, reached as notation reaches it:
 *
 * - plain HTTP with `--insecure-registry` (alias `--plain-http`), for a host listed in the notation
 *   configuration's `config.json` `insecureRegistries`, and for loopback hosts (`localhost`,
 *   127.0.0.0/8, `[::1]`, as Docker treats them); HTTPS otherwise (notation
 *   `cmd/notation/registry.go` `getAuthClient`, notation-go `config.IsRegistryInsecure`);
 * - credentials from `-u/--username` and `-p/--password` (default `NOTATION_USERNAME` /
 *   `NOTATION_PASSWORD`, notation `internal/flag/options.go`), else from the credential store
 *   (see `registry-credentials.ts`); ECR hosts without a stored credential authenticate with the
 *   caller's AWS credentials (`ecr:GetAuthorizationToken`, region from the host).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError, isStagesignError } from '../shared/errors';
import { DistributionRegistry } from '../shared/oci/distribution-registry';
import { OciErrorCode } from '../shared/oci/error-codes';
import { isLoopbackRegistryHost } from '../shared/oci/lambda-registry';
import { OciLayoutRegistry, parseLayoutReference } from '../shared/oci/oci-layout-registry';
import { parseReference } from '../shared/oci/reference';
import type { Reference } from '../shared/oci/reference';
import type { Registry } from '../shared/oci/registry';
import type { CliIo } from './io';
import { openCredentialStore, serverAddress } from './registry-credentials';
import type { RegistryCredential } from './registry-credentials';
import { UsageError } from './usage-error';

/** The flags of every command that contacts a registry (parseArgs options). */
export const REGISTRY_OPTIONS = {
  'insecure-registry': { type: 'boolean' },
  'plain-http': { type: 'boolean' },
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
} as const;

/** Their help lines. */
export const REGISTRY_FLAGS_HELP = `      --insecure-registry           use plain HTTP to talk to the registry (--plain-http: the same);
                                    localhost, 127.0.0.0/8 and [::1] always use plain HTTP
  -u, --username string             username for registry operations (default $NOTATION_USERNAME)
  -p, --password string             password for registry operations (default $NOTATION_PASSWORD)`;

/** The hint after a 401 from a registry without credentials. */
export function loginHint(host: string): string {
  return `; log in with "stagesign login ${host}" (or docker login / notation login), or set NOTATION_USERNAME and NOTATION_PASSWORD`;
}

/** The hint after an HTTPS handshake answered with plain HTTP. */
export const PLAIN_HTTP_HINT = 'if it is a plain-HTTP test registry, use --insecure-registry';

export interface TargetOptions {
  /** The reference is `<path>@<digest>` or `<path>:<tag>` of an OCI image layout. */
  ociLayout?: boolean;
  /** `--insecure-registry` / `--plain-http`: talk plain HTTP to the registry. */
  insecureRegistry?: boolean;
  /** `-u`, `-p` as given (undefined: not given). */
  username?: string;
  password?: string;
  /** The notation configuration directory (credentials and `insecureRegistries`). */
  configDir: string;
  /** Receives `-d` lines (never secrets). */
  debug?: (line: string) => void;
}

/** The parsed values of {@link REGISTRY_OPTIONS} (plus `--oci-layout`). */
export interface RegistryFlagValues {
  'insecure-registry'?: boolean;
  'plain-http'?: boolean;
  'oci-layout'?: boolean;
  username?: string;
  password?: string;
}

/** {@link TargetOptions} from a command's parsed flags. */
export function targetOptionsFromFlags(
  values: RegistryFlagValues,
  configDir: string,
  debug?: (line: string) => void,
): TargetOptions {
  return {
    ociLayout: values['oci-layout'] === true,
    insecureRegistry: values['insecure-registry'] === true || values['plain-http'] === true,
    ...(values.username !== undefined ? { username: values.username } : {}),
    ...(values.password !== undefined ? { password: values.password } : {}),
    configDir,
    ...(debug ? { debug } : {}),
  };
}

/** Where an image lives and how to reach it. */
export interface Target {
  registry: Registry;
  ref: Reference;
  /** The remote registry client (absent for an OCI layout), for {@link explainRegistryFailure}. */
  remote?: DistributionRegistry;
}

/**
 * Parses `reference` and builds its registry; throws InputError `INVALID_REFERENCE` naming what is
 * wrong, ConfigurationError for an unreadable credential store.
 */
export async function openTarget(reference: string, options: TargetOptions, io: CliIo): Promise<Target> {
  if (options.ociLayout) return { registry: new OciLayoutRegistry(), ref: parseLayoutReference(reference) };
  const ref = parseReference(reference);
  const remote = await registryClient(ref.registry, options, io);
  return { registry: remote, ref, remote };
}

/** A Distribution API client for `host` with notation's plain-HTTP rule and credentials. */
export async function registryClient(
  host: string,
  options: TargetOptions,
  io: CliIo,
): Promise<DistributionRegistry> {
  const plain =
    options.insecureRegistry === true ||
    isLoopbackRegistryHost(host) ||
    (await insecureRegistries(options.configDir)).includes(host);
  options.debug?.(`Registry ${host}: ${plain ? 'plain HTTP' : 'HTTPS'}`);
  const credential = await registryCredential(host, options, io);
  return new DistributionRegistry({
    plainHttp: plain,
    ...(credential ? { basicCredentials: (h: string) => (h === host ? credential : undefined) } : {}),
    loginHint,
    plainHttpHint: PLAIN_HTTP_HINT,
  });
}

/**
 * The credential for `host`: the flags (or NOTATION_USERNAME / NOTATION_PASSWORD) when either is
 * set, else the credential store; undefined when none is known.
 */
export async function registryCredential(
  host: string,
  options: Pick<TargetOptions, 'username' | 'password' | 'configDir' | 'debug'>,
  io: CliIo,
): Promise<RegistryCredential | undefined> {
  const username = options.username ?? io.env['NOTATION_USERNAME'] ?? '';
  const password = options.password ?? io.env['NOTATION_PASSWORD'] ?? '';
  if (username !== '' || password !== '') {
    if (username === '')
      throw new UsageError(
        'a password without a username would be used as an identity token, which stagesign does not support; give -u/--username (or NOTATION_USERNAME) too',
      );
    options.debug?.(
      `Registry ${host}: credentials from ${options.username !== undefined ? 'the command line' : 'NOTATION_USERNAME / NOTATION_PASSWORD'}`,
    );
    return { username, password };
  }
  const store = await openCredentialStore({ configDir: options.configDir, env: io.env, homedir: io.homedir });
  const server = serverAddress(host);
  const credential = await store.get(server);
  const backend = store.backendFor(server);
  options.debug?.(
    `Registry ${host}: ${credential ? 'credentials' : 'no credentials'} from ${
      backend.kind === 'helper' ? `docker-credential-${backend.helper}` : 'the auths of'
    } (${store.configPath})`,
  );
  return credential;
}

/** notation-go `config.json` `insecureRegistries` of the configuration directory (none when absent). */
async function insecureRegistries(configDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path.join(configDir, 'config.json'), 'utf8');
  } catch {
    return [];
  }
  try {
    const value = (JSON.parse(text) as { insecureRegistries?: unknown }).insecureRegistries;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * When a registry request failed in a way a non-registry server would cause (404 for the image,
 * a rejected request, a manifest that is not JSON), asks `GET /v2/` once: a server that does not
 * answer it as a registry is named "not an OCI registry". Any other error is returned unchanged.
 */
export async function explainRegistryFailure(target: Target | undefined, error: unknown): Promise<unknown> {
  if (target?.remote === undefined || !isStagesignError(error)) return error;
  const suspicious = [
    OciErrorCode.ImageNotFound,
    OciErrorCode.RegistryRequestRejected,
    OciErrorCode.InvalidManifest,
    OciErrorCode.ContentNotFound,
  ] as string[];
  if (!suspicious.includes(error.code)) return error;
  try {
    const answer = await target.remote.ping(target.ref.registry);
    if (answer.kind === 'registry') return error;
    return new ConfigurationError(
      'NOT_AN_OCI_REGISTRY',
      `${target.ref.registry} is not an OCI registry: GET /v2/ answered ${answer.status}, not 200 or 401; check the registry host and port`,
      { cause: error },
    );
  } catch {
    return error;
  }
}
