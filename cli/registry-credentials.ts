/**
 * Registry credentials read and stored the way `notation` does (notation `internal/auth/credentials.go`
 * `NewCredentialsStore`, over oras-go `registry/remote/credentials`):
 *
 * 1. the notation configuration's own `config.json`, when it configures authentication
 *    (`credsStore`, `credHelpers` or any `auths` entry);
 * 2. else Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), when
 *    it configures authentication;
 * 3. else the platform's default helper when installed (`docker-credential-pass`, else
 *    `docker-credential-secretservice` on Linux);
 * 4. else the notation configuration's `config.json` (empty: nothing is found).
 *
 * Within the chosen file, a server's credential comes from its `credHelpers` entry, else the
 * `credsStore` helper, else the plain-text `auths` entry (`auth` = base64 `user:password`; keys
 * with a scheme or path such as `https://host/v1/` match by host name). Helpers are run as
 * `docker-credential-<name> get|store|erase` with the server (or the credential JSON) on stdin.
 *
 * Like notation (`AllowPlaintextPut: false`), `login` stores a credential only through a helper;
 * without one it refuses to write the password in plain text. `logout` removes the entry from the
 * helper or from `auths`. Secrets are never logged or put in error messages.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../shared/errors';

/** A username and password for a registry. */
export interface RegistryCredential {
  username: string;
  password: string;
}

/** Where a credential store keeps its entries: a helper program or the file's `auths`. */
export type CredentialBackend = { kind: 'helper'; helper: string } | { kind: 'file' };

export interface CredentialStore {
  /** The configuration file this store was chosen from. */
  readonly configPath: string;
  /** Which backend serves `server`. */
  backendFor(server: string): CredentialBackend;
  get(server: string): Promise<RegistryCredential | undefined>;
  /** Stores through a helper; throws `CREDENTIALS_STORE_REQUIRED` when only the plain-text file is available. */
  put(server: string, credential: RegistryCredential): Promise<void>;
  delete(server: string): Promise<void>;
}

/** Error code: `login` found no credential helper to store the password in. */
export const CREDENTIALS_STORE_REQUIRED = 'CREDENTIALS_STORE_REQUIRED';
/** Error code: a config.json that cannot be read or parsed, or a helper that failed. */
export const CREDENTIALS_CONFIG_INVALID = 'CREDENTIALS_CONFIG_INVALID';

/** notation's link for setting up a credentials store (notation `cmd/notation/login.go`). */
export const REGISTRY_AUTH_DOC = 'https://notaryproject.dev/docs/how-to/registry-authentication/';

const HELPER_PREFIX = 'docker-credential-';
/** oras-go `native_store.go`: a helper's answer when it holds nothing for the server. */
const HELPER_NOT_FOUND = 'credentials not found in native keychain';
/** oras-go `native_store.go`: the username a helper stores for an identity token. */
const TOKEN_USERNAME = '<token>';
const HELPER_TIMEOUT_MS = 30_000;
const HELPER_MAX_OUTPUT_BYTES = 1024 * 1024;
const CONFIG_MAX_BYTES = 4 * 1024 * 1024;

interface ConfigFile {
  path: string;
  content: Record<string, unknown>;
  auths: Record<string, unknown>;
  credsStore: string;
  credHelpers: Record<string, string>;
}

export interface CredentialStoreOptions {
  /** The notation configuration directory (its `config.json` is tried first). */
  configDir: string;
  env: Readonly<Record<string, string | undefined>>;
  homedir: string;
}

/** Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (oras-go `store.go`). */
export function dockerConfigPath(env: Readonly<Record<string, string | undefined>>, homedir: string): string {
  const dir = env['DOCKER_CONFIG'];
  return path.join(dir !== undefined && dir !== '' ? dir : path.join(homedir, '.docker'), 'config.json');
}

/**
 * The server address credentials are stored under (oras-go `ServerAddressFromRegistry`): Docker
 * Hub's legacy key for `docker.io`, the host (with port) otherwise.
 */
export function serverAddress(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

/** oras-go `ToHostname`: an `auths` key without scheme and path. */
function toHostname(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0]!;
}

/** Chooses the store as notation does (see the module comment). */
export async function openCredentialStore(options: CredentialStoreOptions): Promise<CredentialStore> {
  const notationConfig = await loadConfig(path.join(options.configDir, 'config.json'));
  if (isAuthConfigured(notationConfig)) return new FileBackedStore(notationConfig, options.env);
  const dockerConfig = await loadConfig(dockerConfigPath(options.env, options.homedir));
  if (isAuthConfigured(dockerConfig)) return new FileBackedStore(dockerConfig, options.env);
  for (const helper of ['pass', 'secretservice']) {
    if (await onPath(HELPER_PREFIX + helper, options.env))
      return new FileBackedStore(notationConfig, options.env, helper);
  }
  return new FileBackedStore(notationConfig, options.env);
}

function isAuthConfigured(config: ConfigFile): boolean {
  return (
    config.credsStore !== '' ||
    Object.keys(config.credHelpers).length > 0 ||
    Object.keys(config.auths).length > 0
  );
}

async function loadConfig(file: string): Promise<ConfigFile> {
  const empty: ConfigFile = { path: file, content: {}, auths: {}, credsStore: '', credHelpers: {} };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw new ConfigurationError(
      CREDENTIALS_CONFIG_INVALID,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  if (text.length > CONFIG_MAX_BYTES)
    throw new ConfigurationError(
      CREDENTIALS_CONFIG_INVALID,
      `${file} is larger than ${CONFIG_MAX_BYTES} bytes`,
    );
  if (text.trim() === '') return empty;
  const invalid = (what: string): never => {
    throw new ConfigurationError(CREDENTIALS_CONFIG_INVALID, `invalid config format in ${file}: ${what}`);
  };
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    return invalid((error as Error).message);
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content))
    return invalid('not a JSON object');
  const record = content as Record<string, unknown>;
  const auths = record['auths'] ?? {};
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths))
    return invalid('"auths" must be an object');
  const credsStore = record['credsStore'] ?? '';
  if (typeof credsStore !== 'string') return invalid('"credsStore" must be a string');
  const credHelpers = record['credHelpers'] ?? {};
  if (
    typeof credHelpers !== 'object' ||
    credHelpers === null ||
    Array.isArray(credHelpers) ||
    Object.values(credHelpers).some((v) => typeof v !== 'string')
  )
    return invalid('"credHelpers" must map registries to helper names');
  return {
    path: file,
    content: record,
    auths: auths as Record<string, unknown>,
    credsStore,
    credHelpers: credHelpers as Record<string, string>,
  };
}

class FileBackedStore implements CredentialStore {
  constructor(
    private readonly config: ConfigFile,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly detectedHelper?: string,
  ) {}

  get configPath(): string {
    return this.config.path;
  }

  backendFor(server: string): CredentialBackend {
    const helper = this.config.credHelpers[server] || this.config.credsStore || this.detectedHelper || '';
    return helper !== '' ? { kind: 'helper', helper } : { kind: 'file' };
  }

  async get(server: string): Promise<RegistryCredential | undefined> {
    const backend = this.backendFor(server);
    if (backend.kind === 'helper') {
      const result = await runHelper(backend.helper, 'get', server, this.env);
      if (!result.ok) {
        if (result.message === HELPER_NOT_FOUND) return undefined;
        throw helperError(backend.helper, 'get', server, result.message);
      }
      let parsed: { Username?: unknown; Secret?: unknown };
      try {
        parsed = JSON.parse(result.stdout) as typeof parsed;
      } catch {
        throw helperError(backend.helper, 'get', server, 'it did not answer JSON');
      }
      if (typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string')
        throw helperError(backend.helper, 'get', server, 'its answer has no Username and Secret strings');
      if (parsed.Username === TOKEN_USERNAME) throw identityTokenError(server);
      return { username: parsed.Username, password: parsed.Secret };
    }
    const key = Object.hasOwn(this.config.auths, server)
      ? server
      : Object.keys(this.config.auths).find((k) => toHostname(k) === server);
    if (key === undefined) return undefined;
    const entry = this.config.auths[key];
    if (typeof entry !== 'object' || entry === null)
      throw new ConfigurationError(
        CREDENTIALS_CONFIG_INVALID,
        `invalid config format in ${this.config.path}: auths["${key}"] must be an object`,
      );
    const { auth, username, password, identitytoken } = entry as Record<string, unknown>;
    if (typeof auth === 'string' && auth !== '') {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0)
        throw new ConfigurationError(
          CREDENTIALS_CONFIG_INVALID,
          `invalid config format in ${this.config.path}: auths["${key}"].auth is not base64 of "username:password"`,
        );
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof username === 'string' && typeof password === 'string' && username !== '')
      return { username, password };
    if (typeof identitytoken === 'string' && identitytoken !== '') throw identityTokenError(server);
    return undefined;
  }

  async put(server: string, credential: RegistryCredential): Promise<void> {
    const backend = this.backendFor(server);
    if (backend.kind === 'file')
      throw new ConfigurationError(
        CREDENTIALS_STORE_REQUIRED,
        `the credential could not be saved because a credentials store is required to securely store the password. See ${REGISTRY_AUTH_DOC}`,
      );
    const input = JSON.stringify({
      ServerURL: server,
      Username: credential.username,
      Secret: credential.password,
    });
    const result = await runHelper(backend.helper, 'store', input, this.env);
    if (!result.ok) throw helperError(backend.helper, 'store', server, result.message);
  }

  async delete(server: string): Promise<void> {
    const backend = this.backendFor(server);
    if (backend.kind === 'helper') {
      const result = await runHelper(backend.helper, 'erase', server, this.env);
      if (!result.ok) throw helperError(backend.helper, 'erase', server, result.message);
      return;
    }
    if (!Object.hasOwn(this.config.auths, server)) return;
    const auths = { ...this.config.auths };
    delete auths[server];
    this.config.auths = auths;
    await saveConfig(this.config.path, { ...this.config.content, auths });
  }
}

/** Writes the config atomically (a temporary file renamed over it), readable by the owner only. */
async function saveConfig(file: string, content: Record<string, unknown>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(content, null, '\t')}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

function identityTokenError(server: string): ConfigurationError {
  return new ConfigurationError(
    CREDENTIALS_CONFIG_INVALID,
    `the stored credential for ${server} is an identity token, which stagesign does not support; log in with a username and password (stagesign login -u <user> --password-stdin ${server})`,
  );
}

function helperError(helper: string, action: string, server: string, message: string): ConfigurationError {
  return new ConfigurationError(
    CREDENTIALS_CONFIG_INVALID,
    `credential helper ${HELPER_PREFIX}${helper} ${action} failed for ${server}: ${message}`,
  );
}

async function onPath(program: string, env: Readonly<Record<string, string | undefined>>): Promise<boolean> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      await access(path.join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

type HelperResult = { ok: true; stdout: string } | { ok: false; message: string };

/**
 * Runs `docker-credential-<helper> <action>` with `input` on stdin, bounded in time and output.
 * A failure's message is the helper's first output line (the protocol's error text), never more.
 */
function runHelper(
  helper: string,
  action: 'get' | 'store' | 'erase',
  input: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<HelperResult> {
  return new Promise((resolve) => {
    const program = HELPER_PREFIX + helper;
    let child;
    try {
      child = spawn(program, [action], {
        env: env as NodeJS.ProcessEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: HELPER_TIMEOUT_MS,
      });
    } catch (error) {
      resolve({ ok: false, message: (error as Error).message });
      return;
    }
    const out: Buffer[] = [];
    let size = 0;
    let overflow = false;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > HELPER_MAX_OUTPUT_BYTES) {
        overflow = true;
        child.kill();
        return;
      }
      out.push(chunk);
    });
    child.stderr.resume();
    child.on('error', (error: NodeJS.ErrnoException) =>
      resolve({
        ok: false,
        message: error.code === 'ENOENT' ? `${program} was not found on PATH` : error.message,
      }),
    );
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (overflow) resolve({ ok: false, message: `its output exceeded ${HELPER_MAX_OUTPUT_BYTES} bytes` });
      else if (signal !== null)
        resolve({
          ok: false,
          message: `it was stopped (${signal}), e.g. after ${HELPER_TIMEOUT_MS / 1000} s`,
        });
      else if (code !== 0)
        resolve({ ok: false, message: stdout.trim().split('\n')[0]!.slice(0, 300) || `exit status ${code}` });
      else resolve({ ok: true, stdout });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
