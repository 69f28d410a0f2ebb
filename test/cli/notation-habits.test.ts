/**
 * `stagesign` behaves like `notation` for people who already use notation (issue 10): registry
 * credentials (docker config, credential helpers, NOTATION_USERNAME/PASSWORD, login/logout)
 * against a real docker-registry with htpasswd auth, plain HTTP rules, NOTATION_CONFIG, an
 * unsupported envelope as one failed signature, notation-go v1.2+ texts, `-d`, small CLI habits,
 * and an installable tarball. Every test runs the real command and checks stdout, stderr and the
 * exit status.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signArtifact } from '../../shared/notary/sign-artifact';
import { DistributionRegistry } from '../../shared/oci/distribution-registry';
import { descriptorFor } from '../../shared/oci/digest';
import type { Reference } from '../../shared/oci/reference';
import { MediaType } from '../../shared/oci/types';
import type { Descriptor } from '../../shared/oci/types';
import { buildSampleImage, pushSampleImage } from '../../scripts/demo-image';
import { describeWithDockerRegistry } from '../helpers/docker-registry';
import { lines, REPO_ROOT, stagesign, Workspace } from './cli-harness';

const USER = 'alice';
const PASSWORD = 'pw-Secret-9f2c';
const LOGIN_DOC = 'https://notaryproject.dev/docs/how-to/registry-authentication/';

/** A `docker-credential-<name>` script keeping one credential per server in files under `dir`. */
async function credentialHelper(dir: string, name: string): Promise<string> {
  const bin = path.join(dir, 'bin');
  const store = path.join(dir, 'helper-store');
  await mkdir(bin, { recursive: true });
  await mkdir(store, { recursive: true });
  const script = `#!/bin/sh
# A docker credential helper (get/store/erase) for tests: one file per server.
store=${JSON.stringify(store)}
case "$1" in
  get)
    server=$(cat)
    key=$(printf '%s' "$server" | tr '/:' '__')
    if [ -f "$store/$key" ]; then cat "$store/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    input=$(cat)
    server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
    key=$(printf '%s' "$server" | tr '/:' '__')
    printf '%s' "$input" > "$store/$key" ;;
  erase)
    server=$(cat)
    key=$(printf '%s' "$server" | tr '/:' '__')
    rm -f "$store/$key" ;;
  *) echo "unknown action $1"; exit 1 ;;
esac
`;
  const file = path.join(bin, `docker-credential-${name}`);
  await writeFile(file, script);
  await chmod(file, 0o755);
  return bin;
}

/** `stagesign <args>` with `input` on stdin. */
function stagesignWithStdin(
  args: string[],
  input: string,
  env: Record<string, string>,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'cli/bin/stagesign.mjs'), ...args],
      { cwd: REPO_ROOT, env: { AWS_EC2_METADATA_DISABLED: 'true', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ status, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

describeWithDockerRegistry(
  'registry credentials as notation reads them (docker-registry with htpasswd auth)',
  (registry) => {
    let ws: Workspace;
    let configDir: string;
    let home: string;
    let reference: string;
    const env = (extra: Record<string, string> = {}) => ({
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      PATH: process.env['PATH'] ?? '',
      ...extra,
    });

    beforeAll(async () => {
      ws = await Workspace.create();
      home = path.join(ws.dir, 'home');
      await mkdir(home, { recursive: true });
      configDir = await ws.config('notation');
      const client = new DistributionRegistry({
        plainHttp: true,
        basicCredentials: () => ({ username: USER, password: PASSWORD }),
      });
      const ref: Reference = { registry: registry().host, repository: 'team/app' };
      const desc = await pushSampleImage(client, ref, buildSampleImage('registry image\n'), 'v1');
      await signArtifact(
        { registry: client, signer: ws.signer() },
        { ...ref, digest: desc.digest },
        {
          now: new Date(),
          force: true,
        },
      );
      reference = `${registry().host}/team/app@${desc.digest}`;
    });
    afterAll(async () => ws.remove());

    it('without credentials: a 401 names the host and says how to log in', async () => {
      const r = await stagesign(['verify', reference, '--config-dir', configDir], env());
      const host = registry().host;
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        `Error: registry ${host} denied HEAD /v2/team/app/manifests/${reference.split('@')[1]} (401); no credentials are configured for ${host}; log in with "stagesign login ${host}" (or docker login / notation login), or set NOTATION_USERNAME and NOTATION_PASSWORD`,
      ]);
    });

    it('reads a docker login credential from $DOCKER_CONFIG/config.json auths (base64 user:password)', async () => {
      const dockerConfig = path.join(ws.dir, 'docker-auths');
      await mkdir(dockerConfig, { recursive: true });
      const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
      await writeFile(
        path.join(dockerConfig, 'config.json'),
        JSON.stringify({ auths: { [`https://${registry().host}/v1/`]: { auth } } }),
      );
      const r = await stagesign(
        ['verify', reference, '--config-dir', configDir],
        env({ DOCKER_CONFIG: dockerConfig }),
      );
      expect(r).toEqual({
        status: 0,
        stdout: `Successfully verified signature for ${reference}\n`,
        stderr: '',
      });
    });

    it('reads ~/.docker/config.json when DOCKER_CONFIG is not set', async () => {
      await mkdir(path.join(home, '.docker'), { recursive: true });
      const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
      await writeFile(
        path.join(home, '.docker', 'config.json'),
        JSON.stringify({ auths: { [registry().host]: { auth } } }),
      );
      try {
        const r = await stagesign(['verify', reference, '--config-dir', configDir], env());
        expect(r).toEqual({
          status: 0,
          stdout: `Successfully verified signature for ${reference}\n`,
          stderr: '',
        });
      } finally {
        await rm(path.join(home, '.docker'), { recursive: true, force: true });
      }
    });

    it('takes NOTATION_USERNAME / NOTATION_PASSWORD, and -u/-p, and never prints the password', async () => {
      const byEnv = await stagesign(
        ['verify', '-d', reference, '--config-dir', configDir],
        env({ NOTATION_USERNAME: USER, NOTATION_PASSWORD: PASSWORD }),
      );
      expect(byEnv.status).toBe(0);
      expect(byEnv.stdout).toBe(`Successfully verified signature for ${reference}\n`);
      expect(byEnv.stderr).toContain(
        `[debug] Registry ${registry().host}: credentials from NOTATION_USERNAME / NOTATION_PASSWORD`,
      );
      expect(byEnv.stderr).not.toContain(PASSWORD);
      const byFlags = await stagesign(
        ['verify', '-u', USER, '-p', PASSWORD, reference, '--config-dir', configDir],
        env(),
      );
      expect(byFlags).toEqual({
        status: 0,
        stdout: `Successfully verified signature for ${reference}\n`,
        stderr: '',
      });
      const wrong = await stagesign(
        ['verify', '-u', USER, '-p', 'not-the-password', reference, '--config-dir', configDir],
        env(),
      );
      expect(wrong.status).toBe(1);
      expect(wrong.stdout).toBe('');
      expect(wrong.stderr).toMatch(
        new RegExp(
          `^Error: registry ${registry().host} denied HEAD .* \\(401\\); check that the credentials for ${registry().host} may pull team/app\\n$`,
        ),
      );
      expect(wrong.stderr).not.toContain('not-the-password');
    });

    it('login stores through the credsStore helper; verify reads it; logout erases it', async () => {
      const dir = await mkdtemp(path.join(ws.dir, 'creds-store-'));
      const bin = await credentialHelper(dir, 'teststore');
      const dockerConfig = path.join(dir, 'docker');
      await mkdir(dockerConfig);
      const configFile = path.join(dockerConfig, 'config.json');
      await writeFile(configFile, JSON.stringify({ credsStore: 'teststore' }));
      const e = env({ DOCKER_CONFIG: dockerConfig, PATH: `${bin}:${process.env['PATH'] ?? ''}` });

      const login = await stagesignWithStdin(
        ['login', '-u', USER, '--password-stdin', registry().host, '--config-dir', configDir],
        `${PASSWORD}\n`,
        e,
      );
      expect(login).toEqual({ status: 0, stdout: 'Login Succeeded\n', stderr: '' });
      const stored = JSON.parse(
        await readFile(path.join(dir, 'helper-store', registry().host.replace(':', '_')), 'utf8'),
      ) as Record<string, string>;
      expect(stored).toEqual({ ServerURL: registry().host, Username: USER, Secret: PASSWORD });
      expect(await readFile(configFile, 'utf8')).not.toContain(PASSWORD);

      const verified = await stagesign(['verify', reference, '--config-dir', configDir], e);
      expect(verified).toEqual({
        status: 0,
        stdout: `Successfully verified signature for ${reference}\n`,
        stderr: '',
      });

      const logout = await stagesign(['logout', registry().host, '--config-dir', configDir], e);
      expect(logout).toEqual({ status: 0, stdout: 'Logout Succeeded\n', stderr: '' });
      const after = await stagesign(['verify', reference, '--config-dir', configDir], e);
      expect(after.status).toBe(1);
      expect(after.stderr).toContain(`no credentials are configured for ${registry().host}`);
    });

    it("uses the per-registry credHelpers entry of notation's own config.json first", async () => {
      const dir = await mkdtemp(path.join(ws.dir, 'cred-helpers-'));
      const bin = await credentialHelper(dir, 'perhost');
      const notationDir = await ws.config(`notation-helpers-${path.basename(dir)}`);
      await writeFile(
        path.join(notationDir, 'config.json'),
        JSON.stringify({ credHelpers: { [registry().host]: 'perhost' } }),
      );
      const key = registry().host.replace(':', '_');
      await writeFile(
        path.join(dir, 'helper-store', key),
        JSON.stringify({ ServerURL: registry().host, Username: USER, Secret: PASSWORD }),
      );
      const r = await stagesign(
        ['verify', reference, '--config-dir', notationDir],
        env({ PATH: `${bin}:${process.env['PATH'] ?? ''}` }),
      );
      expect(r).toEqual({
        status: 0,
        stdout: `Successfully verified signature for ${reference}\n`,
        stderr: '',
      });
    });

    it('login refuses to write the password in plain text without a credential store, as notation does', async () => {
      const dockerConfig = await mkdtemp(path.join(ws.dir, 'no-store-'));
      const r = await stagesign(
        ['login', '-u', USER, '-p', PASSWORD, registry().host, '--config-dir', configDir],
        env({ DOCKER_CONFIG: dockerConfig }),
      );
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        `Error: failed to log in to ${registry().host}: the credential could not be saved because a credentials store is required to securely store the password. See ${LOGIN_DOC}`,
      ]);
      await expect(readFile(path.join(dockerConfig, 'config.json'), 'utf8')).rejects.toThrow();
    });

    it('login with a wrong password fails naming the host, without storing or printing it', async () => {
      const dir = await mkdtemp(path.join(ws.dir, 'wrong-'));
      const bin = await credentialHelper(dir, 'teststore');
      const dockerConfig = path.join(dir, 'docker');
      await mkdir(dockerConfig);
      await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'teststore' }));
      const r = await stagesignWithStdin(
        ['login', '-u', USER, '--password-stdin', registry().host, '--config-dir', configDir],
        'wrong-password-77\n',
        env({ DOCKER_CONFIG: dockerConfig, PATH: `${bin}:${process.env['PATH'] ?? ''}` }),
      );
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        `Error: failed to log in to ${registry().host}: registry ${registry().host} denied GET /v2/ (401 UNAUTHORIZED: authentication required); the credentials for ${registry().host} were rejected: check the username and password`,
      ]);
      expect(r.stderr).not.toContain('wrong-password-77');
    });

    it('talks plain HTTP to localhost:<port> without a flag', async () => {
      const port = registry().host.split(':')[1]!;
      const local = reference.replace(registry().host, `localhost:${port}`);
      const r = await stagesign(
        ['verify', local, '--config-dir', configDir],
        env({ NOTATION_USERNAME: USER, NOTATION_PASSWORD: PASSWORD }),
      );
      expect(r).toEqual({ status: 0, stdout: `Successfully verified signature for ${local}\n`, stderr: '' });
    });
  },
  { htpasswd: { username: USER, password: PASSWORD } },
);

describe('plain HTTP, network errors and servers that are not registries', () => {
  let ws: Workspace;
  let configDir: string;
  const digest = `sha256:${'ab'.repeat(32)}`;
  beforeAll(async () => {
    ws = await Workspace.create();
    configDir = await ws.config('notation');
  });
  afterAll(async () => ws.remove());

  /** An HTTP server answering 404 to everything, counting connections and requests. */
  async function webServer(host: string) {
    const counts = { connections: 0, requests: 0 };
    const server = createServer((_req, res) => {
      counts.requests++;
      res.statusCode = 404;
      res.end('<html>not here</html>');
    });
    server.on('connection', () => counts.connections++);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return { counts, port: (server.address() as AddressInfo).port, close: () => server.close() };
  }

  it('a TLS handshake answered with plain HTTP fails at once, once, with the --insecure-registry hint', async () => {
    const web = await webServer('0.0.0.0');
    try {
      const host = `0.0.0.0:${web.port}`;
      const r = await stagesign(['verify', `${host}/app@${digest}`, '--config-dir', configDir]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        `Error: registry ${host} answered the TLS handshake with plain HTTP; if it is a plain-HTTP test registry, use --insecure-registry`,
      ]);
      expect(web.counts.connections).toBe(1);
      expect(web.counts.requests).toBe(0);
    } finally {
      web.close();
    }
  });

  it.each(['--insecure-registry', '--plain-http'])(
    '%s talks plain HTTP; a server that does not answer GET /v2/ is "not an OCI registry"',
    async (flag) => {
      const web = await webServer('0.0.0.0');
      try {
        const host = `0.0.0.0:${web.port}`;
        const r = await stagesign(['verify', flag, `${host}/app@${digest}`, '--config-dir', configDir]);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe('');
        expect(lines(r.stderr)).toEqual([
          `Error: ${host} is not an OCI registry: GET /v2/ answered 404, not 200 or 401; check the registry host and port`,
        ]);
        // HEAD manifest, then the GET /v2/ probe.
        expect(web.counts.requests).toBe(2);
      } finally {
        web.close();
      }
    },
  );

  it('says "connection refused" with the host, not only a Node error code', async () => {
    const web = await webServer('127.0.0.1');
    const port = web.port;
    web.close();
    const r = await stagesign(['verify', `127.0.0.1:${port}/app@${digest}`, '--config-dir', configDir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      `Error: registry 127.0.0.1:${port} did not answer HEAD /v2/app/manifests/${digest} after 4 attempt(s): connection refused (ECONNREFUSED)`,
    ]);
  });

  it('says "host not found" with the host', async () => {
    const r = await stagesign([
      'verify',
      `registry.stagesign-test.invalid/app@${digest}`,
      '--config-dir',
      configDir,
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^Error: registry registry\.stagesign-test\.invalid did not answer HEAD \/v2\/app\/manifests\/sha256:[0-9a-f]{64} after \d attempt\(s\): host not found( \(DNS lookup failed\))? \((ENOTFOUND|EAI_AGAIN)\)\n$/,
    );
  });

  it('missing AWS credentials for ECR are a configuration error saying how to configure them', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'stagesign-noaws-'));
    try {
      const r = await stagesign(
        ['verify', `111122223333.dkr.ecr.us-west-2.amazonaws.com/app@${digest}`, '--config-dir', configDir],
        {
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          HOME: empty,
          AWS_CONFIG_FILE: path.join(empty, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: path.join(empty, 'credentials'),
          DOCKER_CONFIG: empty,
        },
      );
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([
        'Error: no AWS credentials were found to call ecr:GetAuthorizationToken for us-west-2; configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or log in to the registry with stagesign login, docker login or notation login',
      ]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('NOTATION_CONFIG, -v and -d', () => {
  let ws: Workspace;
  let image: Awaited<ReturnType<Workspace['image']>>;
  let good: string;
  let rejecting: string;
  beforeAll(async () => {
    ws = await Workspace.create();
    image = await ws.image('signed');
    await ws.sign(image.layout, image.desc);
    good = await ws.config('good');
    rejecting = await ws.config('xdg/notation', {
      identities: ['x509.subject:CN=someone else,O=elsewhere,ST=NY,C=US'],
    });
  });
  afterAll(async () => ws.remove());

  it('reads NOTATION_CONFIG before XDG_CONFIG_HOME and says which directory and policy file -v used', async () => {
    const r = await stagesign(['verify', '-v', '--oci-layout', image.byDigest], {
      NOTATION_CONFIG: good,
      XDG_CONFIG_HOME: path.dirname(rejecting),
      HOME: '/nonexistent',
    });
    expect(r).toEqual({
      status: 0,
      stdout: `Successfully verified signature for ${image.byDigest}\n`,
      stderr: `Using notation configuration directory ${good} (from NOTATION_CONFIG)\nUsing trust policy ${good}/trustpolicy.oci.json\n`,
    });
  });

  it('lets --config-dir win over NOTATION_CONFIG', async () => {
    const r = await stagesign(['verify', '-v', '--oci-layout', image.byDigest, '--config-dir', rejecting], {
      NOTATION_CONFIG: good,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)[0]).toBe(
      `Using notation configuration directory ${rejecting} (from --config-dir)`,
    );
    expect(lines(r.stderr).at(-1)).toBe(
      `Error: signature verification failed for all the signatures associated with ${image.byDigest}`,
    );
  });

  it("-d prints the verifier's debug log: statement, trust stores and each step per signature", async () => {
    const r = await stagesign(['verify', '-d', '--oci-layout', image.byDigest, '--config-dir', good]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`Successfully verified signature for ${image.byDigest}\n`);
    const err = lines(r.stderr);
    expect(err).toContain(
      '[debug] Trust policy statement "test": level strict, trust stores [ca:test], trusted identities [x509.subject:CN=stagesign demo signer,O=stagesign demo,ST=WA,C=US]',
    );
    expect(err).toContain('[debug]   integrity (integrity, action enforce): passed');
    expect(err).toContain('[debug]   trustedIdentity (authenticity, action enforce): passed');
    expect(err.filter((l) => /^\[debug\] Signature sha256:[0-9a-f]{64}: verified$/.test(l))).toHaveLength(1);
  });
});

describe('a signature blob that is not a supported envelope is one failed signature', () => {
  let ws: Workspace;
  let configDir: string;
  beforeAll(async () => {
    ws = await Workspace.create();
    configDir = await ws.config('notation');
  });
  afterAll(async () => ws.remove());

  /** Attaches a signature manifest whose envelope layer has an unsupported media type. */
  async function attachUnsupported(layout: Reference, subject: Descriptor): Promise<string> {
    const blob = new TextEncoder().encode('not an envelope');
    const blobDesc = descriptorFor(blob, 'application/vnd.example.signature+cbor');
    const config = new TextEncoder().encode('{}');
    const configDesc = descriptorFor(config, MediaType.Empty);
    await ws.registry.pushBlob(layout, blobDesc, blob);
    await ws.registry.pushBlob(layout, configDesc, config);
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageManifest,
        artifactType: MediaType.NotarySignature,
        config: configDesc,
        layers: [blobDesc],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      }),
    );
    const desc = descriptorFor(manifest, MediaType.ImageManifest);
    await ws.registry.pushManifest(layout, desc, manifest);
    return desc.digest;
  }

  it('shows "integrity validation failed" with -v and still verifies the good signature after it', async () => {
    const image = await ws.image('mixed');
    const bad = await attachUnsupported(image.layout, image.desc);
    await ws.sign(image.layout, image.desc);
    const r = await stagesign(['verify', '-v', '--oci-layout', image.byDigest, '--config-dir', configDir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`Successfully verified signature for ${image.byDigest}\n`);
    const reason =
      'unable to parse the digital signature, error : signature envelope format with media type "application/vnd.example.signature+cbor" is not supported';
    expect(lines(r.stderr).slice(2)).toEqual([
      `Signature ${bad} failed verification with error: ${reason}`,
      `integrity validation failed. Failure reason: ${reason}`,
    ]);
  });

  it('fails with the all-signatures message when it is the only signature', async () => {
    const image = await ws.image('only-bad');
    await attachUnsupported(image.layout, image.desc);
    const r = await stagesign(['verify', '--oci-layout', image.byDigest, '--config-dir', configDir]);
    expect(r).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: signature verification failed for all the signatures associated with ${image.byDigest}\n`,
    });
  });
});

describe('messages of notation-go v1.2+', () => {
  let ws: Workspace;
  let image: Awaited<ReturnType<Workspace['image']>>;
  beforeAll(async () => {
    ws = await Workspace.create();
    image = await ws.image('signed');
    await ws.sign(image.layout, image.desc);
  });
  afterAll(async () => ws.remove());

  it('accepts S for state in an x509.subject identity', async () => {
    const dir = await ws.config('s-alias', {
      identities: ['x509.subject:CN=stagesign demo signer,O=stagesign demo,S=WA,C=US'],
    });
    const r = await stagesign(['verify', '--oci-layout', image.byDigest, '--config-dir', dir]);
    expect(r).toEqual({
      status: 0,
      stdout: `Successfully verified signature for ${image.byDigest}\n`,
      stderr: '',
    });
  });

  it("says 'C', 'ST' or 'S', and 'O' when the state is missing", async () => {
    const dir = await ws.config('no-state', { identities: ['x509.subject:CN=x,O=stagesign demo,C=US'] });
    const r = await stagesign(['verify', '--oci-layout', image.byDigest, '--config-dir', dir]);
    expect(r).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: oci trust policy: trust policy statement "test" has trusted identity "x509.subject:CN=x,O=stagesign demo,C=US" with invalid identity value: distinguished name (DN) "CN=x,O=stagesign demo,C=US" has no mandatory RDN attribute for "ST", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum\n`,
    });
  });

  it('names a registry scope shared by two statements without listing them', async () => {
    const statement = (name: string) => ({
      name,
      registryScopes: ['registry.example.com/app'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:test'],
      trustedIdentities: ['*'],
    });
    const dir = await ws.config('shared-scope', {
      policy: { version: '1.0', trustPolicies: [statement('a'), statement('b')] },
    });
    const r = await stagesign(['policy', 'show', '--config-dir', dir]);
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `Existing trust policy configuration in ${dir}/trustpolicy.oci.json is invalid; fix it or write a new one.`,
      'Error: registry scope "registry.example.com/app" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement',
    ]);
  });
});

describe('small CLI habits', () => {
  let ws: Workspace;
  let keyFile: string;
  let chainFile: string;
  let configDir: string;
  beforeAll(async () => {
    ws = await Workspace.create();
    ({ keyFile, chainFile } = await ws.keyFiles());
    configDir = await ws.config('notation');
  });
  afterAll(async () => ws.remove());

  it('stagesign policy --help prints the policy help and exits 0', async () => {
    const r = await stagesign(['policy', '--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)[0]).toBe('Manage the trust policy of the notation configuration directory');
    expect(r.stdout).toContain('  show        Show the trust policy');
  });

  it('stagesign help verify prints what verify --help prints and exits 0', async () => {
    const [viaHelp, viaFlag] = await Promise.all([
      stagesign(['help', 'verify']),
      stagesign(['verify', '--help']),
    ]);
    expect(viaHelp).toEqual(viaFlag);
    expect(viaHelp.status).toBe(0);
    expect(viaHelp.stdout).toMatch(/^Verify the Notary Project signatures of an image/);
  });

  it('sign -m signs user metadata that verify -m requires', async () => {
    const image = await ws.image('metadata');
    const signed = await stagesign([
      'sign',
      '--oci-layout',
      image.byDigest,
      '--key',
      keyFile,
      '--cert',
      chainFile,
      '-m',
      'buildId=42',
      '-m',
      'team=core',
    ]);
    expect(signed.status).toBe(0);
    expect(signed.stderr).toBe('');
    const ok = await stagesign([
      'verify',
      '--oci-layout',
      image.byDigest,
      '--config-dir',
      configDir,
      '-m',
      'buildId=42',
    ]);
    expect(ok).toEqual({
      status: 0,
      stdout: [
        `Successfully verified signature for ${image.byDigest}`,
        '',
        'The artifact was signed with the following user metadata.',
        '',
        'KEY       VALUE',
        'buildId   42',
        'team      core',
        '',
      ].join('\n'),
      stderr: '',
    });
    const other = await stagesign([
      'verify',
      '--oci-layout',
      image.byDigest,
      '--config-dir',
      configDir,
      '-m',
      'buildId=43',
    ]);
    expect(other).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: signature verification failed for all the signatures associated with ${image.byDigest}\n`,
    });
  });

  it('sign --key reuses a valid signature of the same key; --force and other metadata sign anew', async () => {
    const image = await ws.image('reuse');
    const sign = (...extra: string[]) =>
      stagesign(['sign', '--oci-layout', image.byDigest, '--key', keyFile, '--cert', chainFile, ...extra]);
    const first = await sign();
    expect(first.status).toBe(0);
    const pushed = /^Pushed the signature to .*@(sha256:[0-9a-f]{64})$/m.exec(first.stdout)![1]!;
    const second = await sign();
    expect(second).toEqual({
      status: 0,
      stdout: `Successfully signed ${image.byDigest}\nReused the existing signature ${image.layout.repository}@${pushed} (it still verifies; use --force to sign again)\n`,
      stderr: '',
    });
    const forced = await sign('--force');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toMatch(/\nPushed the signature to /);
    expect(forced.stdout).not.toContain(pushed);
    const withMetadata = await sign('-m', 'buildId=7');
    expect(withMetadata.status).toBe(0);
    expect(withMetadata.stdout).toMatch(/\nPushed the signature to /);
  });
});

describe('installable command (npm pack)', () => {
  it('packs a tarball that installs into a prefix and runs stagesign --version from another folder', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'stagesign-pack-'));
    const run = (cmd: string, args: string[], cwd: string) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile(cmd, args, { cwd, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
          resolve({
            status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
            stdout,
            stderr,
          }),
        );
      });
    try {
      const packed = await run('npm', ['pack', '--pack-destination', work, '--silent'], REPO_ROOT);
      expect(packed.status).toBe(0);
      const tarball = path.join(work, lines(packed.stdout).at(-1)!);
      const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(path.basename(tarball)).toBe(`stagesign-${version}.tgz`);
      const prefix = path.join(work, 'prefix');
      const installed = await run(
        'npm',
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          tarball,
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
        ],
        work,
      );
      expect(installed.status).toBe(0);
      const elsewhere = await mkdtemp(path.join(work, 'elsewhere-'));
      const r = await run(path.join(prefix, 'bin', 'stagesign'), ['--version'], elsewhere);
      expect(r).toEqual({ status: 0, stdout: `stagesign ${version}\n`, stderr: '' });
      // The packed command runs the bundle, not the TypeScript sources.
      const files = await run('tar', ['-tzf', tarball], work);
      expect(lines(files.stdout).sort()).toEqual([
        'package/README.md',
        'package/cli/bin/dist/stagesign.mjs',
        'package/cli/bin/stagesign.mjs',
        'package/package.json',
      ]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 300_000);
});
