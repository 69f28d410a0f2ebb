import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import { checkSignedEnvelope } from '../../../shared/notary/fresh-envelope';
import { parseJwsEnvelope } from '../../../shared/notary/jws';
import { buildPayload } from '../../../shared/notary/payload';
import { LocalKeySigner } from '../../../shared/signer/local-key-signer';
import { makeChain } from './test-chain';
import type { TestChain } from './test-chain';

const TARGET = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333',
  size: 16724,
};
const NOW = new Date('2025-03-04T05:06:07.890Z');

function expectConfigurationError(fn: () => unknown, code: string): ConfigurationError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigurationError);
  expect(caught).toMatchObject({ code });
  return caught as ConfigurationError;
}

let rsa: TestChain;
let ec: TestChain;
let other: TestChain;

beforeAll(async () => {
  [rsa, ec, other] = await Promise.all([
    makeChain(),
    makeChain({ leafKey: { kind: 'ec', curve: 'P-384' } }),
    makeChain({ leafKey: { kind: 'ec', curve: 'P-256' } }),
  ]);
});

describe('LocalKeySigner', () => {
  describe('with an RSA-3072 key and its chain', () => {
    it('produces a notary.x509 JWS that parses with integrity, signing the payload at the given time', async () => {
      const payload = buildPayload(TARGET);
      const signer = new LocalKeySigner({
        privateKeyPem: rsa.leafKeyPem,
        certificateChainPem: rsa.chainPem,
        now: () => NOW,
      });

      const signed = await signer.sign(payload);
      const parsed = parseJwsEnvelope(signed.envelope);

      expect(signed.envelopeMediaType).toBe('application/jose+json');
      expect(signed.annotations).toEqual({});
      expect(parsed.protectedHeaders.signingScheme).toBe('notary.x509');
      expect(parsed.protectedHeaders.alg).toBe('PS384');
      expect(parsed.signingTime.toISOString()).toBe('2025-03-04T05:06:07.000Z');
      expect(parsed.protectedHeaders.expiry).toBeUndefined();
      expect(Buffer.from(parsed.payloadBytes).equals(Buffer.from(payload))).toBe(true);
      expect(parsed.certificateChain.map((der) => Buffer.from(der).toString('base64'))).toEqual([
        Buffer.from(new X509Certificate(rsa.leafPem).raw).toString('base64'),
        Buffer.from(new X509Certificate(rsa.rootPem).raw).toString('base64'),
      ]);
      expect(parsed.signingAgent).toBe('stagesign');
    });

    it('passes the sign stage check of a fresh envelope against the requested target', async () => {
      const signer = new LocalKeySigner({
        privateKeyPem: rsa.leafKeyPem,
        certificateChainPem: rsa.chainPem,
        now: () => NOW,
      });

      const signed = await signer.sign(buildPayload(TARGET));

      expect(
        checkSignedEnvelope(signed.envelope, signed.envelopeMediaType, TARGET).payload.targetArtifact,
      ).toEqual(TARGET);
    });

    it('sets a critical expiry when a validity is configured', async () => {
      const signer = new LocalKeySigner({
        privateKeyPem: rsa.leafKeyPem,
        certificateChainPem: rsa.chainPem,
        now: () => NOW,
        expirySeconds: 86_400,
      });

      const parsed = parseJwsEnvelope((await signer.sign(buildPayload(TARGET))).envelope);

      expect(parsed.protectedHeaders.expiry?.toISOString()).toBe('2025-03-05T05:06:07.000Z');
      expect(parsed.protectedHeaders.crit).toContain('io.cncf.notary.expiry');
    });
  });

  it('signs with ES384 for an EC P-384 key', async () => {
    const signer = new LocalKeySigner({
      privateKeyPem: ec.leafKeyPem,
      certificateChainPem: ec.chainPem,
      now: () => NOW,
    });

    const parsed = parseJwsEnvelope((await signer.sign(buildPayload(TARGET))).envelope);

    expect(parsed.protectedHeaders.alg).toBe('ES384');
  });

  describe('rejects misconfiguration when built', () => {
    it('rejects a key that does not belong to the leaf certificate, naming the leaf', () => {
      const error = expectConfigurationError(
        () => new LocalKeySigner({ privateKeyPem: other.leafKeyPem, certificateChainPem: rsa.chainPem }),
        'LOCAL_SIGNING_KEY_MISMATCH',
      );
      expect(error.message).toContain('CN=Stagesign Test Signer');
    });

    it('rejects a chain whose leaf is not issued by the root that follows it', () => {
      expectConfigurationError(
        () =>
          new LocalKeySigner({
            privateKeyPem: rsa.leafKeyPem,
            certificateChainPem: `${rsa.leafPem}\n${other.rootPem}`,
          }),
        'LOCAL_SIGNING_CHAIN_INVALID',
      );
    });

    it('rejects a chain without any PEM certificate', () => {
      expectConfigurationError(
        () => new LocalKeySigner({ privateKeyPem: rsa.leafKeyPem, certificateChainPem: 'not a certificate' }),
        'LOCAL_SIGNING_CHAIN_INVALID',
      );
    });

    it.each([
      ['garbage', 'not a key'],
      [
        'an encrypted key',
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n',
      ],
    ])('rejects %s as the private key', (_name, pem) => {
      expectConfigurationError(
        () => new LocalKeySigner({ privateKeyPem: pem, certificateChainPem: rsa.chainPem }),
        'LOCAL_SIGNING_KEY_INVALID',
      );
    });

    it.each([0, -5, 1.5])('rejects an expiry of %s seconds', (expirySeconds) => {
      expectConfigurationError(
        () =>
          new LocalKeySigner({
            privateKeyPem: rsa.leafKeyPem,
            certificateChainPem: rsa.chainPem,
            expirySeconds,
          }),
        'LOCAL_SIGNING_EXPIRY_INVALID',
      );
    });
  });

  it('rejects a leaf without the codeSigning EKU', async () => {
    const serverCert = await makeChain({
      leafKey: { kind: 'ec', curve: 'P-256' },
      leafEku: ['1.3.6.1.5.5.7.3.1'],
    });
    expectConfigurationError(
      () =>
        new LocalKeySigner({
          privateKeyPem: serverCert.leafKeyPem,
          certificateChainPem: serverCert.chainPem,
        }),
      'LOCAL_SIGNING_CHAIN_INVALID',
    );
  });

  it('rejects an RSA key size notation cannot sign with', async () => {
    const weak = await makeChain({ leafKey: { kind: 'rsa', bits: 1024 } });
    expectConfigurationError(
      () => new LocalKeySigner({ privateKeyPem: weak.leafKeyPem, certificateChainPem: weak.chainPem }),
      'LOCAL_SIGNING_KEY_UNSUPPORTED',
    );
  });

  it('fails with a ConfigurationError when the certificate is not valid at the signing time', async () => {
    const signer = new LocalKeySigner({
      privateKeyPem: rsa.leafKeyPem,
      certificateChainPem: rsa.chainPem,
      now: () => new Date('2040-01-01T00:00:00Z'),
    });

    await expect(signer.sign(buildPayload(TARGET))).rejects.toMatchObject({
      code: 'LOCAL_SIGNING_FAILED',
      kind: 'configuration',
      message: expect.stringContaining('not valid at the signing time'),
    });
  });
});
