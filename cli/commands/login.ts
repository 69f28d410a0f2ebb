/**
 * `stagesign login <server>` and `stagesign logout <server>`, as notation's (`cmd/notation/login.go`,
 * `cmd/notation/logout.go`) on oras-go's credential store:
 *
 * - login takes the username from `-u` (default `NOTATION_USERNAME`) and the password from `-p`,
 *   `--password-stdin` (one line, trailing newline removed) or `NOTATION_PASSWORD`; checks them
 *   with `GET /v2/` (oras `credentials.Login` pings the registry first); then stores them through
 *   the credential helper of the chosen config file (`credHelpers`, `credsStore`, or the platform
 *   helper). Like notation it never writes the password in plain text: without a helper it fails,
 *   unless the same credential is already stored in `auths` (then it warns and succeeds).
 *   Prints `Login Succeeded`.
 * - logout removes the server's credential from the helper or from `auths`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from '../command';
import type { CliIo } from '../io';
import { notationConfigDir } from '../notation-config';
import { registryClient } from '../open-target';
import { parseCommandLine } from '../parse-command-line';
import { printError } from '../print-error';
import {
  CREDENTIALS_STORE_REQUIRED,
  openCredentialStore,
  REGISTRY_AUTH_DOC,
  serverAddress,
} from '../registry-credentials';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../usage-error';
import { ConfigurationError, isStagesignError } from '../../shared/errors';
import { parseReference } from '../../shared/oci/reference';

const LOGIN_OPTIONS = {
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
  'password-stdin': { type: 'boolean' },
  'insecure-registry': { type: 'boolean' },
  'plain-http': { type: 'boolean' },
  'config-dir': { type: 'string' },
} as const;

const LOGOUT_OPTIONS = { 'config-dir': { type: 'string' } } as const;

const CONFIG_DIR_HELP = `      --config-dir string   notation configuration directory whose config.json is tried first
                            (default: $NOTATION_CONFIG, else $XDG_CONFIG_HOME/notation, else ~/.config/notation)`;

export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in to a registry, storing the credential as notation and docker do',
  help: `Log in to an OCI registry

Usage:
  stagesign login [flags] <server>

Examples:
  stagesign login -u <user> --password-stdin registry.example.com < password.txt
  NOTATION_USERNAME=<user> NOTATION_PASSWORD=<password> stagesign login registry.example.com

The credential is checked against the registry (GET /v2/), then stored as notation stores it: through
the credential helper named by credHelpers or credsStore in notation's config.json (if it configures
authentication), else in Docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json),
else through docker-credential-pass or docker-credential-secretservice when installed. Like notation,
stagesign does not write passwords in plain text: configure a credential helper. Credentials from
"docker login" and "notation login" are read unchanged.

Flags:
  -u, --username string     username (default $NOTATION_USERNAME)
  -p, --password string     password (default $NOTATION_PASSWORD); prefer --password-stdin
      --password-stdin      take the password from stdin
      --insecure-registry   use plain HTTP to talk to the registry (--plain-http: the same)
${CONFIG_DIR_HELP}
  -h, --help                help for login`,

  async run(args, io) {
    const { values, positionals, help } = parseCommandLine('login', args, LOGIN_OPTIONS, 1);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    if (values['password-stdin'] === true && values.password !== undefined)
      throw new UsageError('--password and --password-stdin are mutually exclusive', 'login');
    const registry = positionals[0]!;
    try {
      parseReference(`${registry}/login-check`);
    } catch {
      throw new UsageError(
        `"${registry}" is not a registry host[:port], e.g. registry.example.com or localhost:5000`,
        'login',
      );
    }
    const username = values.username ?? io.env['NOTATION_USERNAME'] ?? '';
    const password =
      values['password-stdin'] === true
        ? readPasswordFromStdin()
        : (values.password ?? io.env['NOTATION_PASSWORD'] ?? '');
    if (password === '')
      throw new UsageError(
        'password required: give --password-stdin, -p/--password or NOTATION_PASSWORD',
        'login',
      );
    if (username === '')
      throw new UsageError(
        'username required: give -u/--username or NOTATION_USERNAME (identity tokens are not supported)',
        'login',
      );
    const configDir = notationConfigDir(values['config-dir'], io.env, io.homedir);
    try {
      const store = await openCredentialStore({ configDir, env: io.env, homedir: io.homedir });
      const client = await registryClient(
        registry,
        {
          insecureRegistry: values['insecure-registry'] === true || values['plain-http'] === true,
          username,
          password,
          configDir,
        },
        io,
      );
      const answer = await client.ping(registry);
      if (answer.kind !== 'registry')
        throw new ConfigurationError(
          'NOT_AN_OCI_REGISTRY',
          `${registry} is not an OCI registry: GET /v2/ answered ${answer.status}, not 200 or 401; check the registry host and port`,
        );
      const server = serverAddress(registry);
      try {
        await store.put(server, { username, password });
      } catch (error) {
        if (!isStagesignError(error) || error.code !== CREDENTIALS_STORE_REQUIRED) throw error;
        const saved = await store.get(server).catch(() => undefined);
        if (saved?.username !== username || saved.password !== password) throw error;
        // The same credential is already stored in plain text: accept it, as notation does.
        io.err(
          `Warning: The credentials store is not set up. It is recommended to configure the credentials store to securely store your credentials. See ${REGISTRY_AUTH_DOC}.`,
        );
        io.out('Authenticated with existing credentials');
      }
      io.out('Login Succeeded');
      return EXIT_OK;
    } catch (error) {
      printError(io, error, `failed to log in to ${registry}: `);
      return EXIT_FAILURE;
    }
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Log out from a registry, removing its stored credential',
  help: `Log out from an OCI registry

Usage:
  stagesign logout [flags] <server>

Removes the server's credential from where "stagesign login", "notation login" or "docker login"
stored it: the credential helper, or the auths of the config.json in use.

Flags:
${CONFIG_DIR_HELP}
  -h, --help                help for logout`,

  async run(args, io: CliIo) {
    const { values, positionals, help } = parseCommandLine('logout', args, LOGOUT_OPTIONS, 1);
    if (help) {
      io.out(this.help);
      return EXIT_OK;
    }
    const registry = positionals[0]!;
    try {
      const store = await openCredentialStore({
        configDir: notationConfigDir(values['config-dir'], io.env, io.homedir),
        env: io.env,
        homedir: io.homedir,
      });
      await store.delete(serverAddress(registry));
      io.out('Logout Succeeded');
      return EXIT_OK;
    } catch (error) {
      printError(io, error, `failed to log out of ${registry}: `);
      return EXIT_FAILURE;
    }
  },
};

/** One line from stdin without its trailing newline (notation `readLine`). */
function readPasswordFromStdin(): string {
  const text = readFileSync(0, 'utf8');
  return text.replace(/\n$/, '').replace(/\r$/, '');
}
