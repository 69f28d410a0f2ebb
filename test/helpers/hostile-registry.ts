/**
 * A hostile OCI registry on 127.0.0.1 (node:http), for the denial-of-service attacks of issue 9:
 * everything a registry named in UserParameters or imagedefinitions.json could send to make a
 * verification run out of memory or time instead of ending in one clear failure.
 *
 * It serves one image `app` (a small manifest, by digest and as `latest`) and one attack:
 *
 * - `junk-x5c`: one signature whose envelope is a genuinely signed JWS (the fixture signing
 *   authority) with `certificates` extra distinct, parseable certificates in its unprotected `x5c`;
 * - `token-bomb`: every registry request is challenged with a Bearer realm on this server, whose
 *   token answer streams `inflatedBytes` of zeros, gzip-encoded when `gzip` is set;
 * - `referrer-pages`: a Referrers API that never ends: pages of about `pageBytes` of descriptors,
 *   each with a `Link` to the next page (descriptors of `artifactType`, with `OCI-Filters-Applied`
 *   claimed so the client cannot drop them while listing);
 * - `many-signatures`: `signatures` signature manifests, each padded to about `manifestBytes`
 *   with an annotation, each pointing at a small envelope that does not verify.
 *
 * Bodies are generated while streaming, so the server's own memory stays small. Every request is
 * counted ({@link HostileRegistry.requests}); `bytesSent` counts body bytes written.
 *
 * Run it standalone for the measurements of the closing note (bench/hostile-registry.ts).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip } from 'node:zlib';
import { buildTestPayload, signLikeAwsSigner } from './test-signing-authority';

export type HostileAttack =
  | { kind: 'junk-x5c'; certificates: number }
  | { kind: 'token-bomb'; inflatedBytes: number; gzip: boolean }
  | { kind: 'referrer-pages'; pageBytes: number; artifactType?: string }
  | { kind: 'many-signatures'; signatures: number; manifestBytes: number };

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const SIGNATURE = 'application/vnd.cncf.notary.signature';
const JOSE = 'application/jose+json';
const EMPTY = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};
const REPOSITORY = 'app';

function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface Blob {
  bytes: Buffer;
  mediaType: string;
}

export class HostileRegistry {
  /** Requests received, by path kind. */
  readonly requests = { manifests: 0, blobs: 0, referrers: 0, token: 0, other: 0 };
  /** Body bytes written to clients (before gzip for the token bomb: what the client inflates). */
  bytesSent = 0;
  private readonly manifests = new Map<string, Blob>();
  private readonly blobs = new Map<string, Blob>();
  /** many-signatures: digest → index of a padded manifest, generated on request. */
  private readonly padded = new Map<string, number>();
  private readonly paddedDigests: string[] = [];
  readonly subject: { mediaType: string; digest: string; size: number };
  private smallEnvelope?: { digest: string; size: number };

  private constructor(
    private readonly server: Server,
    readonly attack: HostileAttack,
  ) {
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    this.blobs.set(sha256(config), { bytes: config, mediaType: 'application/vnd.oci.image.config.v1+json' });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256(config),
          size: config.length,
        },
        layers: [],
      }),
    );
    this.subject = { mediaType: MANIFEST, digest: sha256(manifest), size: manifest.length };
    this.manifests.set(this.subject.digest, { bytes: manifest, mediaType: MANIFEST });
    this.manifests.set('latest', { bytes: manifest, mediaType: MANIFEST });
    this.prepare();
  }

  /** Starts on 127.0.0.1 with a free port (or `port`). */
  static async start(attack: HostileAttack, port = 0): Promise<HostileRegistry> {
    const holder: { instance?: HostileRegistry } = {};
    const server = createServer((req, res) => {
      try {
        holder.instance!.handle(req, res);
      } catch (error) {
        res.statusCode = 500;
        res.end(String(error));
      }
    });
    const instance = new HostileRegistry(server, attack);
    holder.instance = instance;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return instance;
  }

  /** `127.0.0.1:<port>`. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The image, pinned by digest: what a verify-image job names. */
  get image(): string {
    return `${this.host}/${REPOSITORY}@${this.subject.digest}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A signed envelope for the subject (fixture authority: its root is not an AWS Signer root). */
  private envelopeObject(
    target: { mediaType: string; digest: string; size: number } = this.subject,
  ): Record<string, unknown> & { header: { x5c: string[] } } {
    const { envelope } = signLikeAwsSigner(buildTestPayload(target));
    return JSON.parse(Buffer.from(envelope).toString('utf8')) as Record<string, unknown> & {
      header: { x5c: string[] };
    };
  }

  private addSignature(envelope: Buffer, annotations?: Record<string, string>): string {
    const envelopeDigest = sha256(envelope);
    this.blobs.set(envelopeDigest, { bytes: envelope, mediaType: JOSE });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        artifactType: SIGNATURE,
        config: EMPTY,
        layers: [{ mediaType: JOSE, digest: envelopeDigest, size: envelope.length }],
        subject: this.subject,
        ...(annotations ? { annotations } : {}),
      }),
    );
    const digest = sha256(manifest);
    this.manifests.set(digest, { bytes: manifest, mediaType: MANIFEST });
    return digest;
  }

  private prepare(): void {
    const attack = this.attack;
    this.blobs.set(EMPTY.digest, { bytes: Buffer.from('{}'), mediaType: EMPTY.mediaType });
    if (attack.kind === 'junk-x5c') {
      const envelope = this.envelopeObject();
      // Distinct certificates (a parse cache must not help): the regional CA's DER with the last
      // bytes of its signature value replaced by a counter, so each still parses.
      const der = Buffer.from(envelope.header.x5c[1]!, 'base64');
      const junk = Array.from({ length: attack.certificates }, (_, i) => {
        const copy = Buffer.from(der);
        copy.writeUInt32BE(i, copy.length - 4);
        return copy.toString('base64');
      });
      envelope.header.x5c = [...envelope.header.x5c, ...junk];
      this.addSignature(Buffer.from(JSON.stringify(envelope)));
    }
    if (attack.kind === 'many-signatures') {
      // Signed for another artifact: it never verifies for the subject, whatever the trust store.
      const other = { ...this.subject, digest: sha256('another artifact') };
      const envelope = Buffer.from(JSON.stringify(this.envelopeObject(other)));
      const envelopeDigest = sha256(envelope);
      this.blobs.set(envelopeDigest, { bytes: envelope, mediaType: JOSE });
      this.smallEnvelope = { digest: envelopeDigest, size: envelope.length };
      for (let i = 0; i < attack.signatures; i++) {
        const digest = sha256(this.paddedManifest(i));
        this.padded.set(digest, i);
        this.paddedDigests.push(digest);
      }
    }
  }

  /** many-signatures: manifest `i`, padded with an annotation to about `manifestBytes`. */
  private paddedManifest(i: number): Buffer {
    const attack = this.attack as Extract<HostileAttack, { kind: 'many-signatures' }>;
    const head = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: SIGNATURE,
      config: EMPTY,
      layers: [{ mediaType: JOSE, digest: this.smallEnvelope!.digest, size: this.smallEnvelope!.size }],
      subject: this.subject,
      annotations: { index: String(i), padding: '' },
    });
    const padding = Math.max(0, attack.manifestBytes - head.length);
    return Buffer.from(`${head.slice(0, -3)}${'x'.repeat(padding)}"}}`);
  }

  private send(res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer): void {
    res.writeHead(status, { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) });
    if (body) this.bytesSent += body.length;
    res.end(body);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const path = url.pathname;
    const attack = this.attack;
    if (path === '/token') {
      this.requests.token++;
      this.streamToken(res);
      return;
    }
    if (attack.kind === 'token-bomb' && !(req.headers.authorization ?? '').startsWith('Bearer ')) {
      this.requests.other++;
      this.send(
        res,
        401,
        {
          'www-authenticate': `Bearer realm="http://${this.host}/token",service="hostile"`,
          'content-type': 'application/json',
        },
        Buffer.from('{"errors":[{"code":"UNAUTHORIZED"}]}'),
      );
      return;
    }
    const prefix = `/v2/${REPOSITORY}/`;
    if (path === '/v2/' || !path.startsWith(prefix)) {
      this.requests.other++;
      this.send(res, path === '/v2/' ? 200 : 404, { 'content-type': 'application/json' }, Buffer.from('{}'));
      return;
    }
    const rest = path.slice(prefix.length);
    if (rest.startsWith('manifests/')) {
      this.requests.manifests++;
      const key = decodeURIComponent(rest.slice('manifests/'.length));
      const index = this.padded.get(key);
      const found =
        index !== undefined
          ? { bytes: this.paddedManifest(index), mediaType: MANIFEST }
          : this.manifests.get(key);
      if (!found) {
        this.send(
          res,
          404,
          { 'content-type': 'application/json' },
          Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'),
        );
        return;
      }
      const headers = {
        'content-type': found.mediaType,
        'docker-content-digest': key.startsWith('sha256:') ? key : sha256(found.bytes),
      };
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...headers, 'content-length': String(found.bytes.length) });
        res.end();
        return;
      }
      this.send(res, 200, headers, found.bytes);
      return;
    }
    if (rest.startsWith('blobs/')) {
      this.requests.blobs++;
      const blob = this.blobs.get(rest.slice('blobs/'.length));
      if (!blob) {
        this.send(
          res,
          404,
          { 'content-type': 'application/json' },
          Buffer.from('{"errors":[{"code":"BLOB_UNKNOWN"}]}'),
        );
        return;
      }
      this.send(res, 200, { 'content-type': 'application/octet-stream' }, blob.bytes);
      return;
    }
    if (rest.startsWith('referrers/')) {
      this.requests.referrers++;
      this.referrers(url, res);
      return;
    }
    this.requests.other++;
    this.send(res, 404, { 'content-type': 'application/json' }, Buffer.from('{}'));
  }

  private referrers(url: URL, res: ServerResponse): void {
    const attack = this.attack;
    const headers: Record<string, string> = { 'content-type': INDEX, 'oci-filters-applied': 'artifactType' };
    if (attack.kind === 'referrer-pages') {
      const page = Number(url.searchParams.get('page') ?? '0');
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      res.writeHead(200, headers);
      const artifactType = attack.artifactType ?? SIGNATURE;
      let written = 0;
      const parts: string[] = [`{"schemaVersion":2,"mediaType":"${INDEX}","manifests":[`];
      for (let i = 0; written < attack.pageBytes; i++) {
        const hex = (page * 1_000_000 + i).toString(16).padStart(64, '0');
        const d = `${i === 0 ? '' : ','}{"mediaType":"${MANIFEST}","digest":"sha256:${hex}","size":1000,"artifactType":"${artifactType}"}`;
        parts.push(d);
        written += d.length;
      }
      parts.push(']}');
      const body = Buffer.from(parts.join(''));
      this.bytesSent += body.length;
      res.end(body);
      return;
    }
    const descriptors: object[] = [];
    if (attack.kind === 'many-signatures') {
      for (const digest of this.paddedDigests) {
        descriptors.push({
          mediaType: MANIFEST,
          digest,
          size: this.paddedManifest(0).length,
          artifactType: SIGNATURE,
        });
      }
    } else {
      for (const [digest, m] of this.manifests) {
        if (digest.startsWith('sha256:') && digest !== this.subject.digest) {
          descriptors.push({ mediaType: MANIFEST, digest, size: m.bytes.length, artifactType: SIGNATURE });
        }
      }
    }
    this.send(
      res,
      200,
      headers,
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: descriptors })),
    );
  }

  /** token-bomb: `inflatedBytes` of zeros, generated while streaming (gzip-encoded if asked). */
  private streamToken(res: ServerResponse): void {
    const attack = this.attack;
    if (attack.kind !== 'token-bomb') {
      this.send(res, 200, { 'content-type': 'application/json' }, Buffer.from('{"token":"t"}'));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(attack.gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const sink = attack.gzip ? createGzip({ level: 1 }) : undefined;
    if (sink) sink.pipe(res);
    const out = sink ?? res;
    let remaining = attack.inflatedBytes;
    const pump = (): void => {
      while (remaining > 0) {
        const piece = remaining >= chunk.length ? chunk : chunk.subarray(0, remaining);
        remaining -= piece.length;
        this.bytesSent += piece.length;
        if (!out.write(piece)) {
          out.once('drain', pump);
          return;
        }
      }
      out.end();
    };
    res.on('close', () => {
      remaining = 0;
      sink?.destroy();
    });
    pump();
  }
}
