import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { suiteTitle } from './skip-notice';

/**
 * Launcher for Debian's `docker-registry` (distribution 2.8: no Referrers API, so it exercises
 * the referrers tag schema) on 127.0.0.1 with a free port and a temporary storage folder.
 *
 * Use `describeWithDockerRegistry(title, (registry) => { … })`: it starts one registry for the
 * block and stops it afterwards. Without the binary the block is skipped with a loud message
 * saying how to install it — unless STAGESIGN_REQUIRE_INTEGRATION=1 (CI), where a missing
 * binary or a failed start fails the suite.
 */
export const DOCKER_REGISTRY_BINARY = process.env.STAGESIGN_DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry';
export const DOCKER_REGISTRY_INSTALL_HINT =
  'install it with `sudo apt-get install -y docker-registry` (Debian/Ubuntu) or set STAGESIGN_DOCKER_REGISTRY_BIN';

/** `htpasswd` from apache2-utils, for registries with Basic auth. */
export const HTPASSWD_BINARY = process.env.STAGESIGN_HTPASSWD_BIN ?? '/usr/bin/htpasswd';

export interface DockerRegistryInstance {
  /** `127.0.0.1:<port>`: the registry host of references. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The temporary storage root (removed by `stop`). */
  storageDir: string;
  stop(): Promise<void>;
}

export function integrationRequired(): boolean {
  return process.env.STAGESIGN_REQUIRE_INTEGRATION === '1';
}

export function dockerRegistryAvailable(): boolean {
  return existsSync(DOCKER_REGISTRY_BINARY);
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a registry and waits until `GET /v2/` answers 200; throws with its output if it does not. */
export async function startDockerRegistry(
  options: {
    timeoutMs?: number;
    /** Require HTTP Basic auth (distribution's htpasswd) with this user; needs `htpasswd` (apache2-utils). */
    htpasswd?: { username: string; password: string };
  } = {},
): Promise<DockerRegistryInstance> {
  if (!dockerRegistryAvailable())
    throw new Error(`${DOCKER_REGISTRY_BINARY} not found; ${DOCKER_REGISTRY_INSTALL_HINT}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'stagesign-registry-'));
  const storageDir = path.join(dir, 'storage');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${host}`,
    '  secret: stagesign-test-secret',
    '',
  ].join('\n');
  let authConfig = '';
  if (options.htpasswd) {
    const htpasswdPath = path.join(dir, 'htpasswd');
    // bcrypt (-B), as distribution's htpasswd auth requires.
    const line = execFileSync(
      HTPASSWD_BINARY,
      ['-Bbn', options.htpasswd.username, options.htpasswd.password],
      {
        encoding: 'utf8',
      },
    );
    await writeFile(htpasswdPath, line);
    authConfig = [
      'auth:',
      '  htpasswd:',
      '    realm: stagesign-test',
      `    path: ${JSON.stringify(htpasswdPath)}`,
      '',
    ].join('\n');
  }
  const configPath = path.join(dir, 'config.yml');
  await writeFile(configPath, config + authConfig);
  const child = spawn(DOCKER_REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) break;
    try {
      const response = await fetch(`http://${host}/v2/`);
      await response.body?.cancel();
      if (response.status === 200 || (options.htpasswd && response.status === 401))
        return { host, url: `http://${host}`, storageDir, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(
    `docker-registry did not answer GET http://${host}/v2/ ${exitCode !== undefined ? `(it exited with ${exitCode})` : 'in time'}; its output:\n${output}`,
  );
}

async function kill(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A describe block with one real registry for its tests. `registry()` returns the running
 * instance inside tests and hooks.
 */
export function describeWithDockerRegistry(
  title: string,
  body: (registry: () => DockerRegistryInstance) => void,
  options: Parameters<typeof startDockerRegistry>[0] = {},
): void {
  const available = dockerRegistryAvailable();
  if (!available && !integrationRequired()) {
    process.stderr.write(
      `\n⚠️  SKIPPED "${title}": ${DOCKER_REGISTRY_BINARY} is missing; ${DOCKER_REGISTRY_INSTALL_HINT}. CI sets STAGESIGN_REQUIRE_INTEGRATION=1 and fails instead.\n`,
    );
    describe.skip(
      suiteTitle(title, false, `${DOCKER_REGISTRY_BINARY} is missing; ${DOCKER_REGISTRY_INSTALL_HINT}`),
      () =>
        body(() => {
          throw new Error('unreachable');
        }),
    );
    return;
  }
  describe(title, () => {
    let instance: DockerRegistryInstance | undefined;
    beforeAll(async () => {
      // With STAGESIGN_REQUIRE_INTEGRATION=1 a missing binary or a failed start fails here.
      instance = await startDockerRegistry(options);
    });
    afterAll(async () => {
      await instance?.stop();
    });
    body(() => {
      if (!instance) throw new Error('docker-registry is not running (see the beforeAll failure)');
      return instance;
    });
  });
}
