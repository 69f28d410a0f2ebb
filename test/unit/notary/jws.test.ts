import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createJwsEnvelope,
  encodeProtectedHeader,
  MAX_JWS_ENVELOPE_BYTES,
  MAX_X5C_CERTIFICATE_BYTES,
  MAX_X5C_ENTRIES,
  parseJwsEnvelope,
} from '../../../shared/notary/jws';
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

// issue 9 item 3: `x5c` is unprotected, so anyone who can push a referrer can grow it at will.
describe('parseJwsEnvelope bounds (hostile x5c)', () => {
  const valid = signLikeAwsSigner(buildTestPayload(AWS_FIXTURE.target)).envelope;
  const withX5c = (x5c: unknown[]) =>
    reencode(valid, (e) => {
      (e.header as Record<string, unknown>).x5c = x5c;
    });

  it(`refuses more than ${MAX_X5C_ENTRIES} x5c entries before decoding any`, () => {
    // Not base64 at all: decoding any entry first would fail with "illegal base64" instead.
    const junk = Array.from({ length: MAX_X5C_ENTRIES + 1 }, () => '!not base64!');
    expect(() => parseJwsEnvelope(withX5c(junk))).toThrow(
      `signature is invalid. Error: x5c has ${MAX_X5C_ENTRIES + 1} certificates, more than the limit of ${MAX_X5C_ENTRIES} (MAX_X5C_ENTRIES)`,
    );
  });

  it(`refuses an x5c entry over ${MAX_X5C_CERTIFICATE_BYTES} bytes before decoding it`, () => {
    const chain = (JSON.parse(Buffer.from(valid).toString('utf8')) as { header: { x5c: string[] } }).header
      .x5c;
    const huge = Buffer.alloc(MAX_X5C_CERTIFICATE_BYTES + 1, 0x30).toString('base64');
    expect(() => parseJwsEnvelope(withX5c([chain[0], huge]))).toThrow(
      `x5c[1] is longer than the limit of ${MAX_X5C_CERTIFICATE_BYTES} bytes per certificate (MAX_X5C_CERTIFICATE_BYTES)`,
    );
  });

  it('accepts an x5c of exactly the limits (the bounds do not refuse real chains)', () => {
    const chain = (JSON.parse(Buffer.from(valid).toString('utf8')) as { header: { x5c: string[] } }).header
      .x5c;
    expect(parseJwsEnvelope(withX5c(chain)).certificateChain).toHaveLength(chain.length);
    // Ten entries: the bound passes and notation's chain rules then judge the chain.
    const ten = [...chain, ...Array.from({ length: MAX_X5C_ENTRIES - chain.length }, () => chain[1]!)];
    expect(() => parseJwsEnvelope(withX5c(ten))).toThrow(/certificate-chain is invalid/);
  });

  it(`refuses an envelope over ${MAX_JWS_ENVELOPE_BYTES} bytes without parsing it`, () => {
    const big = new Uint8Array(MAX_JWS_ENVELOPE_BYTES + 1).fill(0x20);
    expect(() => parseJwsEnvelope(big)).toThrow(
      `signature envelope format is malformed. error: envelope is ${MAX_JWS_ENVELOPE_BYTES + 1} bytes, more than the limit of ${MAX_JWS_ENVELOPE_BYTES} bytes (MAX_JWS_ENVELOPE_BYTES)`,
    );
  });
});
