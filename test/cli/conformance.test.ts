/**
 * `stagesign verify` against notation's conformance vectors (`../shared/vectors`, verdicts in
 * `expected-verdicts.json`), through the real command and the real Distribution client.
 *
 * The vectors sign a target descriptor (`sha256:60043c…`, 528 bytes) whose manifest bytes are not
 * published, so no OCI layout can hold it (a layout verifies blobs by digest). A registry resolves
 * a digest reference with a HEAD answer, which is all `notation verify` needs of the target; so a
 * loopback registry answers HEAD for the descriptor and serves, byte for byte, the vector's envelope
 * as the one signature in the Referrers API. The trust policy is the vectors' own, scoped to the
 * loopback registry instead of `registry.acme-rockets.io` (the envelopes do not name a registry).
 */
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignatureManifest } from '../../shared/notary/signature-manifest';
import { descriptorFor } from '../../shared/oci/digest';
import { MediaType } from '../../shared/oci/types';
import type { Descriptor } from '../../shared/oci/types';
import { suiteTitle } from '../helpers/skip-notice';
import { lines, REPO_ROOT, stagesign } from './cli-harness';

const VECTORS = path.resolve(REPO_ROOT, '../shared/vectors');
const required = process.env['STAGESIGN_REQUIRE_INTEGRATION'] === '1';

interface Vector {
  file: string;
  context: string;
  override?: { trustStores?: string[] };
  levels?: Record<string, 'pass' | 'fail' | 'pass-with-warning'>;
  check?: string;
  error?: string;
}
interface Context {
  targetDescriptor: Descriptor;
  trustPolicy: {
    version: string;
    trustPolicies: Array<
      Record<string, unknown> & { registryScopes: string[]; signatureVerification: Record<string, unknown> }
    >;
  };
  trustStoreRoot: string;
  mediaType: string;
}

const present = existsSync(path.join(VECTORS, 'expected-verdicts.json'));

/** A read-only registry for one repository: HEAD of the target, Referrers API, manifests and blobs by digest. */
async function startVectorRegistry(
  repository: string,
  target: Descriptor,
  envelope: Uint8Array,
  envelopeMediaType: string,
): Promise<{ server: Server; host: string }> {
  const envelopeDesc = descriptorFor(envelope, envelopeMediaType);
  const signature = buildSignatureManifest({ subject: target, envelope: envelopeDesc, annotations: {} });
  const referrers = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ImageIndex,
    manifests: [{ ...signature.descriptor, artifactType: MediaType.NotarySignature }],
  });
  const blobs = new Map<string, { type: string; body: Uint8Array }>([
    [envelopeDesc.digest, { type: envelopeMediaType, body: envelope }],
    [signature.config.descriptor.digest, { type: 'application/json', body: signature.config.bytes }],
  ]);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const prefix = `/v2/${repository}/`;
    const notFound = () => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'not found' }] }));
    };
    if (!url.pathname.startsWith(prefix)) return notFound();
    const rest = url.pathname.slice(prefix.length);
    if (rest === `manifests/${target.digest}` && req.method === 'HEAD') {
      res.writeHead(200, {
        'content-type': target.mediaType,
        'docker-content-digest': target.digest,
        'content-length': String(target.size),
      });
      return res.end();
    }
    if (rest === `referrers/${target.digest}` && req.method === 'GET') {
      res.writeHead(200, { 'content-type': MediaType.ImageIndex });
      return res.end(referrers);
    }
    if (rest === `manifests/${signature.descriptor.digest}` && req.method === 'GET') {
      res.writeHead(200, {
        'content-type': MediaType.ImageManifest,
        'docker-content-digest': signature.descriptor.digest,
      });
      return res.end(signature.bytes);
    }
    const blob = rest.startsWith('blobs/') ? blobs.get(rest.slice('blobs/'.length)) : undefined;
    if (blob && req.method === 'GET') {
      res.writeHead(200, { 'content-type': blob.type, 'content-length': String(blob.body.length) });
      return res.end(blob.body);
    }
    return notFound();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!present && !required)(
  suiteTitle(
    'stagesign verify agrees with notation on the conformance vectors',
    present || required,
    `conformance vectors not found at ${VECTORS} (they ship next to the repository in ../shared/vectors)`,
  ),
  () => {
    let expected: { contexts: Record<string, Context>; vectors: Vector[] };
    let work: string;
    beforeAll(async () => {
      expected = JSON.parse(
        await readFile(path.join(VECTORS, 'expected-verdicts.json'), 'utf8'),
      ) as typeof expected;
      work = await mkdtemp(path.join(os.tmpdir(), 'stagesign-conformance-'));
    });
    afterAll(async () => rm(work, { recursive: true, force: true }));

    it('has the vectors (CI requires them)', () => {
      expect(present).toBe(true);
    });

    const cases: Array<[string, string, Vector]> = [];
    if (present) {
      // Read synchronously at collection time so each vector and level is its own named test.
      const doc = JSON.parse(readFileSync(path.join(VECTORS, 'expected-verdicts.json'), 'utf8')) as {
        vectors: Vector[];
      };
      for (const vector of doc.vectors) {
        for (const level of Object.keys(vector.levels ?? {})) {
          cases.push([
            `${vector.file}${vector.override ? ' (trust stores ' + vector.override.trustStores?.join(', ') + ')' : ''}`,
            level,
            vector,
          ]);
        }
      }
    }

    it.each(cases)("%s at %s gives notation's verdict", async (_name, level, vector) => {
      const context = expected.contexts[vector.context]!;
      const envelope = new Uint8Array(await readFile(path.join(VECTORS, vector.file)));
      const repository = 'software/net-monitor';
      const { server, host } = await startVectorRegistry(
        repository,
        context.targetDescriptor,
        envelope,
        context.mediaType,
      );
      try {
        const configDir = await mkdtemp(path.join(work, 'config-'));
        await cp(path.join(VECTORS, context.trustStoreRoot), path.join(configDir, 'truststore', 'x509'), {
          recursive: true,
        });
        const policy = structuredClone(context.trustPolicy);
        for (const statement of policy.trustPolicies) {
          statement.registryScopes = [`${host}/${repository}`];
          statement.signatureVerification = { ...statement.signatureVerification, level };
          if (vector.override?.trustStores) statement['trustStores'] = vector.override.trustStores;
        }
        await writeFile(path.join(configDir, 'trustpolicy.oci.json'), JSON.stringify(policy));
        const reference = `${host}/${repository}@${context.targetDescriptor.digest}`;
        const r = await stagesign(['verify', '-v', '--plain-http', reference, '--config-dir', configDir]);
        const verdict = vector.levels![level];
        if (verdict === 'fail') {
          expect(r.status).toBe(1);
          expect(r.stdout).toBe('');
          expect(lines(r.stderr).at(-1)).toMatch(/^Error: signature verification failed/);
          if (vector.error) expect(r.stderr).toContain(vector.error);
        } else {
          expect(r.stderr.includes('Error:') ? r.stderr : '').toBe('');
          expect(r.status).toBe(0);
          expect(lines(r.stdout)).toEqual([`Successfully verified signature for ${reference}`]);
          if (verdict === 'pass-with-warning') {
            expect(r.stderr).toMatch(
              // -v first names the configuration directory and policy file used.
              new RegExp(`^Warning: ${vector.check} was set to "log" and failed with error: `, 'm'),
            );
            if (vector.error) expect(r.stderr).toContain(vector.error);
          } else {
            // -v only names the configuration directory and policy file used.
            expect(lines(r.stderr)).toEqual([
              `Using notation configuration directory ${configDir} (from --config-dir)`,
              `Using trust policy ${configDir}/trustpolicy.oci.json`,
            ]);
          }
        }
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  },
);
