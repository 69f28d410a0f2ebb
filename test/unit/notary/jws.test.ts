import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createJwsEnvelope, encodeProtectedHeader, parseJwsEnvelope } from '../../../shared/notary/jws';
import { checkSignedEnvelope } from '../../../shared/notary/fresh-envelope';
import { decodeStrictBase64Url } from '../../../shared/notary/strict-base64url';
import {
  AWS_FIXTURE,
  buildTestPayload,
  loadTestSigningAuthority,
  signLikeAwsSigner,
} from '../../helpers/test-signing-authority';

const fixture = (rel: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/notary/${rel}`, import.meta.url)));

function reencode(envelope: Uint8Array, edit: (e: Record<string, unknown>) => void): Uint8Array {
  const e = JSON.parse(Buffer.from(envelope).toString('utf8')) as Record<string, unknown>;
  edit(e);
  return Buffer.from(JSON.stringify(e));
}

describe('decodeStrictBase64Url', () => {
  it.each([
    ['abc=', 3],
    ['ab+c', 2],
    ['abcde', 4],
  ])('rejects %s at byte %i like Go', (text, offset) => {
    expect(() => decodeStrictBase64Url(text)).toThrow(`illegal base64 data at input byte ${offset}`);
  });
  it('decodes unpadded base64url', () => {
    expect(Buffer.from(decodeStrictBase64Url('aGk')).toString()).toBe('hi');
  });
});

describe('createJwsEnvelope', () => {
  const { chain, leafKey } = loadTestSigningAuthority();
  it('emits the protected header a Go signer emits: keys sorted, crit in notation-core-go order', () => {
    const env = signLikeAwsSigner(buildTestPayload(AWS_FIXTURE.target)).envelope;
    const parsed = parseJwsEnvelope(env);
    expect(Object.keys(parsed.rawProtectedHeaders)).toEqual(
      [...Object.keys(parsed.rawProtectedHeaders)].sort(),
    );
    expect(parsed.protectedHeaders).toMatchObject({
      alg: 'ES384',
      crit: [
        'io.cncf.notary.signingScheme',
        'io.cncf.notary.verificationPlugin',
        'io.cncf.notary.authenticSigningTime',
        'io.cncf.notary.expiry',
      ],
      verificationPlugin: 'com.amazonaws.signer.notation.plugin',
    });
    expect(parsed.certificateChain).toHaveLength(4);
  });

  it('reproduces the notation-core-go conformance protected header byte for byte', () => {
    const vectorPath = fileURLToPath(
      new URL(
        '../../../../shared/vectors/notation-core-go/signature/jws/testdata/conformance.json',
        import.meta.url,
      ),
    );
    let vector: { protected: string };
    try {
      vector = JSON.parse(readFileSync(vectorPath, 'utf8')) as { protected: string };
    } catch {
      if (process.env.STAGESIGN_REQUIRE_INTEGRATION === '1') throw new Error(`${vectorPath} is required`);
      console.warn('[jws] conformance.json not found; skipping the byte-exact header check');
      return;
    }
    const header = encodeProtectedHeader({
      alg: 'ES256',
      signingScheme: 'notary.x509',
      signingTime: new Date('2022-08-29T13:50:00Z'),
      expiry: new Date('2099-08-30T13:50:00Z'),
      extendedAttributes: [
        { key: 'signedCritKey1', value: 'signedCritValue1', critical: true },
        ...[1, 2, 3, 4].map((i) => ({ key: `signedKey${i}`, value: 'signedValue1', critical: false })),
      ],
    });
    expect(Buffer.from(header).toString('base64url')).toBe(vector.protected);
  });

  it("refuses to sign outside a certificate's validity", () => {
    expect(() =>
      createJwsEnvelope({
        payload: buildTestPayload(AWS_FIXTURE.target),
        signingScheme: 'notary.x509.signingAuthority',
        signingTime: new Date('2023-01-01T00:00:00Z'),
        certificateChain: chain,
        privateKey: leafKey,
      }),
    ).toThrow(/is not valid at the signing time/);
  });
});

describe('parseJwsEnvelope', () => {
  const valid = new Uint8Array(fixture('envelopes/aws_valid.jws.json'));
  it.each([
    [
      'no x5c',
      (e: Record<string, unknown>) => void (e.header = {}),
      'signature is invalid. Error: certificate chain is not present',
    ],
    [
      'an unknown alg',
      (e: Record<string, unknown>) => {
        const h = JSON.parse(Buffer.from(e.protected as string, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        e.protected = Buffer.from(JSON.stringify({ ...h, alg: 'RS256' })).toString('base64url');
      },
      'signature is invalid. Error: signing method RS256 is invalid',
    ],
    [
      'a padded protected header',
      (e: Record<string, unknown>) => void (e.protected = `${e.protected as string}=`),
      /^signature is invalid\. Error: illegal base64 data at input byte \d+$/,
    ],
    ['invalid JSON', () => undefined, undefined],
  ])('rejects an envelope with %s', (_name, edit, message) => {
    if (message === undefined) {
      expect(() => parseJwsEnvelope(Buffer.from('{'))).toThrow(/^signature envelope format is malformed/);
      return;
    }
    expect(() => parseJwsEnvelope(reencode(valid, edit))).toThrow(message);
  });
});

describe('checkSignedEnvelope', () => {
  const env = signLikeAwsSigner(buildTestPayload(AWS_FIXTURE.target)).envelope;
  it('returns the parsed envelope when it signs the requested descriptor', () => {
    expect(
      checkSignedEnvelope(env, 'application/jose+json', AWS_FIXTURE.target).payload.targetArtifact.digest,
    ).toBe(AWS_FIXTURE.target.digest);
  });
  it.each([
    ['digest', { ...AWS_FIXTURE.target, digest: `sha256:${'f'.repeat(64)}` }],
    ['size', { ...AWS_FIXTURE.target, size: 1 }],
    ['annotations', { ...AWS_FIXTURE.target, annotations: { a: 'b' } }],
  ])('rejects an envelope whose %s differs', (_what, target) => {
    expect(() => checkSignedEnvelope(env, 'application/jose+json', target)).toThrow(
      expect.objectContaining({ code: 'TARGET_MISMATCH' }),
    );
  });
  it('rejects COSE', () => {
    expect(() => checkSignedEnvelope(env, 'application/cose', AWS_FIXTURE.target)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_ENVELOPE' }),
    );
  });
});
