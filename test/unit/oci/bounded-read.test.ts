/**
 * issue 9 item 4: every body `shared/oci` reads from a registry or a token service is read with a
 * byte limit. The source check proves no other read exists; the hostile token service proves the
 * token answer (the one body that used `response.json()`) is now bounded, gzip bombs included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../../../shared/oci/distribution-registry';
import { parseReference } from '../../../shared/oci/reference';
import { MAX_TOKEN_RESPONSE_BYTES } from '../../../shared/oci/registry-auth';
import { HostileRegistry } from '../../helpers/hostile-registry';

const OCI_DIR = fileURLToPath(new URL('../../../shared/oci/', import.meta.url));
/** The only module allowed to consume a Response body. */
const BOUNDED_READER = 'bounded-read.ts';
/** Every way a fetch Response body can be consumed without a limit. */
const UNBOUNDED_READS = [
  /\.json\(\)/,
  /\.text\(\)/,
  /\.arrayBuffer\(\)/,
  /\.blob\(\)/,
  /\.bytes\(\)/,
  /\.formData\(\)/,
  // Reading `body` of a response (a request's `spec.body` / `init.body` is what we send).
  /\b(?!spec\.|init\.)\w+\.body\b/,
];

describe('every fetch body in shared/oci goes through the bounded reader', () => {
  const sources = readdirSync(OCI_DIR).filter((f) => f.endsWith('.ts') && f !== BOUNDED_READER);

  it('finds the modules that call fetch (the check is not vacuous)', () => {
    const fetching = sources.filter((f) => /\bfetch(?:Fn)?\(/.test(readFileSync(OCI_DIR + f, 'utf8')));
    expect(fetching).toEqual(expect.arrayContaining(['distribution-registry.ts', 'registry-auth.ts']));
  });

  it.each(sources)('%s consumes no body except through bounded-read.ts', (file) => {
    const code = readFileSync(OCI_DIR + file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    const offending = code
      .split('\n')
      .map((line, i) => ({ line: i + 1, text: line.trim() }))
      .filter(({ text }) => UNBOUNDED_READS.some((re) => re.test(text)));
    expect(offending).toEqual([]);
  });

  it('bounded-read.ts itself reads with a limit (its reader stops past `limit`)', () => {
    const code = readFileSync(OCI_DIR + BOUNDED_READER, 'utf8');
    expect(code).toMatch(/total > limit/);
    expect(code).not.toMatch(/\.json\(\)|\.text\(\)|\.arrayBuffer\(\)/);
  });
});

describe('a hostile token service (realm on the registry itself)', () => {
  let hostile: HostileRegistry | undefined;
  afterEach(async () => {
    await hostile?.close();
    hostile = undefined;
  });

  it.each([
    ['a gzip bomb (small on the wire, huge inflated)', true],
    ['an endless plain body', false],
  ])('%s ends in CONTENT_TOO_LARGE naming the token service', async (_what, gzip) => {
    const inflatedBytes = 256 * 1024 * 1024;
    hostile = await HostileRegistry.start({ kind: 'token-bomb', inflatedBytes, gzip });
    const registry = new DistributionRegistry({ plainHttp: true, retry: { sleep: async () => {} } });
    await expect(registry.resolve(parseReference(hostile.image))).rejects.toMatchObject({
      code: 'CONTENT_TOO_LARGE',
      message: expect.stringContaining(
        `token service ${hostile.host} for registry ${hostile.host}: the registry sent more than the ${MAX_TOKEN_RESPONSE_BYTES} bytes expected`,
      ),
    });
    expect(hostile.requests.token).toBe(1);
    // The transfer was cancelled: the server could not push the whole body.
    expect(hostile.bytesSent).toBeLessThan(inflatedBytes);
  });
});
