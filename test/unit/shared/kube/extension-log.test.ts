import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  parseExtensionLog,
  parseImageDump,
  recordConcerns,
  sameImageReference,
} from '../../../../shared/kube/extension-log';
import type { ExtensionRecord, ImageKey } from '../../../../shared/kube/extension-log';
import {
  DEPLOY_START,
  OTHER,
  REGISTRY,
  SIGNATURE,
  SIGNED,
  TOKEN_IN_DUMP,
  UNSIGNED,
  pinned,
} from '../../../fixtures/kyverno-logs/names';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/kyverno-logs');
export const fixture = (name: string): string => readFileSync(path.join(dir, name), 'utf8');
const since = new Date(DEPLOY_START);
const parse = (name: string, options: { since?: Date } = { since }): ExtensionRecord[] =>
  parseExtensionLog(fixture(name), { source: name, ...options });

const signedImage: ImageKey = { reference: pinned(SIGNED), digest: SIGNED };
const unsignedImage: ImageKey = { reference: pinned(UNSIGNED), digest: UNSIGNED };
const about = (records: ExtensionRecord[], image: ImageKey): ExtensionRecord[] =>
  records.filter((r) => recordConcerns(r, image));
const kinds = (records: ExtensionRecord[]): string[] => records.map((r) => r.kind);

describe('parseExtensionLog', () => {
  describe('when a signed image misses the cache (`ERROR … Entry not found`)', () => {
    const records = about(parse('cache-miss-error-for-signed-image.log'), signedImage);
    it('reads the ERROR line as a cache miss, never as a failure', () => {
      const miss = records.find((r) => r.level === 'ERROR');
      expect(miss?.kind).toBe('cache-miss');
      expect(records.some((r) => r.kind === 'verification-failed')).toBe(false);
    });
    it('finds the success line with its reference and digest', () => {
      expect(records.filter((r) => r.kind === 'verified')).toEqual([
        expect.objectContaining({ kind: 'verified', reference: pinned(SIGNED), digest: SIGNED }),
      ]);
    });
  });

  describe('when the success response is the last, multi-line JSON', () => {
    const records = parse('success-json-last-lines.log');
    it('joins the indented JSON into the `Sending response` record', () => {
      const last = records.at(-1)!;
      expect(last.caller).toBe('verifier/client.go:232');
      expect(last.message.split('\n').at(-1)).toBe('}');
      expect(JSON.parse(last.message.slice('Sending response '.length))).toMatchObject({ verified: true });
    });
    it('makes no record out of a continuation line', () => {
      expect(records.every((r) => /^[A-Za-z]/.test(r.message))).toBe(true);
      expect(about(records, signedImage).map((r) => r.kind)).toContain('verified');
    });
  });

  describe("when notation's error spans two lines", () => {
    const failures = about(parse('multi-line-notation-failure.log'), signedImage).filter(
      (r) => r.kind === 'verification-failed',
    );
    it('keeps both lines of the error in each failure record that names the image', () => {
      // verify.go:373, verify.go:116 and response.go:79; the INFO `Verfication failed` names no image.
      expect(failures.map((f) => f.caller)).toEqual([
        'verifier/verify.go:373',
        'verifier/verify.go:116',
        'verifier/response.go:79',
      ]);
      for (const f of failures) {
        if (f.kind !== 'verification-failed') throw new Error('unreachable');
        expect(f.error).toContain('signature verification failed\nfailed to verify signature with digest');
        expect(f.error).toContain('revocation check by verification plugin');
      }
    });
    it('joins by the image digest from the dump, not the signature digest in the text', () => {
      const f = failures.find((r) => r.caller === 'verifier/verify.go:373');
      expect(f).toMatchObject({
        digests: [SIGNED],
        image: { registry: REGISTRY, name: 'app', digest: SIGNED },
      });
      expect(
        about(parse('multi-line-notation-failure.log'), { reference: pinned(SIGNATURE), digest: SIGNATURE }),
      ).toEqual([]);
    });
  });

  describe('when the verdict is on the second replica only', () => {
    it('finds the rejection in replica 1 and nothing about the image in replica 0', () => {
      expect(about(parse('verdict-on-second-replica.replica-0.log'), unsignedImage)).toEqual([]);
      const failures = about(parse('verdict-on-second-replica.replica-1.log'), unsignedImage).filter(
        (r) => r.kind === 'verification-failed',
      );
      expect(failures.length).toBeGreaterThan(0);
      expect(failures[0]).toMatchObject({
        source: 'verdict-on-second-replica.replica-1.log',
        unsignedReference: pinned(UNSIGNED),
        digests: [UNSIGNED],
      });
    });
  });

  describe('when the extension Pod restarted after the deploy began', () => {
    it('finds the verdict in the previous container instance only', () => {
      expect(about(parse('restarted-extension-pod.current.log'), signedImage)).toEqual([]);
      expect(kinds(about(parse('restarted-extension-pod.previous.log'), signedImage))).toContain('verified');
    });
    it("drops the previous instance's start-up lines from before the deploy", () => {
      expect(
        parse('restarted-extension-pod.previous.log').some((r) => r.message.startsWith('initialized')),
      ).toBe(false);
      expect(
        parse('restarted-extension-pod.previous.log', {}).some((r) => r.message.startsWith('initialized')),
      ).toBe(true);
    });
  });

  describe('when an earlier run of the same digest left lines', () => {
    it('drops the stale rejection (before the deploy start) and keeps the fresh success', () => {
      const records = about(parse('stale-lines-from-earlier-run.log'), signedImage);
      expect(records.some((r) => r.kind === 'verification-failed')).toBe(false);
      expect(kinds(records)).toContain('verified');
    });
    it('would see the stale rejection without the time filter', () => {
      expect(kinds(about(parse('stale-lines-from-earlier-run.log', {}), signedImage))).toContain(
        'verification-failed',
      );
    });
  });

  describe('when requests of other namespaces interleave', () => {
    const records = parse('interleaved-other-namespaces.log');
    it("attributes the other image's rejection to that image only", () => {
      expect(kinds(about(records, signedImage))).not.toContain('verification-failed');
      expect(kinds(about(records, signedImage))).toContain('verified');
      expect(kinds(about(records, { reference: pinned(OTHER, 'billing'), digest: OTHER }))).toContain(
        'verification-failed',
      );
    });
    it('does not count the same digest in another repository', () => {
      expect(about(records, { reference: pinned(SIGNED, 'billing'), digest: SIGNED })).toEqual([]);
    });
  });

  describe('when only `app:v1-unsigned` was logged', () => {
    const records = parse('tag-v1-vs-v1-unsigned.log');
    it('counts nothing for `app:v1`', () => {
      expect(about(records, { reference: `${REGISTRY}/app:v1@${SIGNED}`, digest: SIGNED })).toEqual([]);
      expect(about(records, { reference: `${REGISTRY}/app:v1`, digest: SIGNED })).toEqual([]);
    });
    it('counts the failure for the unsigned digest', () => {
      expect(
        kinds(about(records, { reference: `${REGISTRY}/app:v1-unsigned@${UNSIGNED}`, digest: UNSIGNED })),
      ).toContain('verification-failed');
    });
    it('keeps the tag in the dumped image', () => {
      const f = records.find((r) => r.caller === 'verifier/verify.go:373');
      expect(f).toMatchObject({ image: { tag: 'v1-unsigned', digest: UNSIGNED } });
    });
  });

  describe('when the image was found in the cache', () => {
    it('reads a cache hit for the exact pinned reference, with no success line', () => {
      const records = about(parse('cache-hit-without-success-line.log'), signedImage);
      expect(kinds(records)).toEqual(['cache-hit']);
      expect(records[0]).toMatchObject({ reference: pinned(SIGNED), trustPolicy: 'aws-signer-trust-policy' });
    });
  });

  describe('when the caller is not in --allowedUsers', () => {
    const records = parse('token-not-authorized.log');
    it('reads `Token is not authorized` and keeps only the user name', () => {
      expect(records).toEqual([
        expect.objectContaining({
          kind: 'token-not-authorized',
          username: 'system:serviceaccount:kyverno-system:kyverno-admission-controller',
        }),
      ]);
      const { message: _message, ...typed } = records[0]!;
      expect(JSON.stringify(typed)).not.toContain(TOKEN_IN_DUMP);
    });
  });

  describe('when the extension runs with --logLevel=error', () => {
    it('sees cache misses but no success (the evidence has to come from elsewhere)', () => {
      const records = about(parse('log-level-error.log'), signedImage);
      expect(kinds(records)).toEqual(['cache-miss', 'cache-miss']);
    });
  });

  it('parses a log read without timestamps=true as well', () => {
    const text = fixture('success-json-last-lines.log').replace(/^\S+ /gm, '');
    const records = parseExtensionLog(text, { source: 'p', since });
    expect(kinds(about(records, signedImage))).toContain('verified');
    expect(records.at(-1)!.message.endsWith('}')).toBe(true);
  });

  it('drops lines before the first record start (a log cut mid-record)', () => {
    const text = ['  "verified": true,', '}', fixture('cache-hit-without-success-line.log')].join('\n');
    const records = parseExtensionLog(text, { source: 'p' });
    expect(records[0]!.message.startsWith('Token is authorized')).toBe(true);
  });

  it('reads zap times with a numeric offset', () => {
    const [r] = parseExtensionLog(
      `2026-12-07T22:40:01.000+0100\tINFO\tverifier/verify.go:436\tsuccessfully verified image ${pinned(SIGNED)} digest ${SIGNED}\n`,
      { source: 'p' },
    );
    expect(r?.time.toISOString()).toBe('2026-12-07T21:40:01.000Z');
  });
});

describe('parseImageDump', () => {
  it.each([
    [
      'seven fields, digest form',
      `{{{r.io app app  ${SIGNED} r.io/app@${SIGNED} r.io/app}} /spec/containers/0/image}: x`,
      { registry: 'r.io', name: 'app', path: 'app', digest: SIGNED, jsonPointer: '/spec/containers/0/image' },
    ],
    [
      'five fields, tag form (older Kyverno)',
      '{{r.io kyverno-demo kyverno-demo v1-unsigned } /spec/containers/0/image}: x',
      {
        registry: 'r.io',
        name: 'kyverno-demo',
        path: 'kyverno-demo',
        tag: 'v1-unsigned',
        jsonPointer: '/spec/containers/0/image',
      },
    ],
  ])('parses %s', (_what, text, expected) => {
    expect(parseImageDump(text)?.image).toEqual(expected);
    expect(parseImageDump(text)?.rest).toBe(': x');
  });
  it('refuses text that is not a dump', () => {
    expect(parseImageDump('r.io/app:v1')).toBeUndefined();
  });
});

describe('sameImageReference', () => {
  it.each([
    ['r.io/app:v1', 'r.io/app:v1', true],
    ['r.io/app:v1', 'r.io/app:v1-unsigned', false],
    ['r.io/app:v1', 'r.io/app:v10', false],
    ['r.io/app:v1', 'r.io/team-app:v1', false],
    [`r.io/app@${SIGNED}`, `r.io/app@${SIGNED}`, true],
    [`r.io/app@${SIGNED}`, `r.io/app:v1@${SIGNED}`, false],
    ['nginx:1.27', 'docker.io/library/nginx:1.27', true],
    ['localhost:5000/app:v1', 'localhost:5000/app:v1', true],
  ])('%s vs %s → %s', (a, b, same) => {
    expect(sameImageReference(a, b)).toBe(same);
  });
});
