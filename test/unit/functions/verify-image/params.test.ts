import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../../shared/errors';
import {
  parseVerifyImageEnvironment,
  parseVerifyImageParams,
  SIGNED_IMAGES_FORM,
} from '../../../../functions/verify-image/params';
import type { SignedImage } from '../../../../shared/pipeline/handoff';
import { AWS_FIXTURE, fixturePolicy, fixtureRootPem } from './signed-images';

const APP = '123456789012.dkr.ecr.us-east-1.amazonaws.com/app';
const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseVerifyImageEnvironment', () => {
  it('parses a complete environment', () => {
    const env = parseVerifyImageEnvironment({
      TRUST_POLICY: JSON.stringify(fixturePolicy()),
      TRUST_POLICY_PARAMETER: '/stagesign/policy',
      TRUST_STORES: JSON.stringify({ 'signingAuthority:test-signer-ts': fixtureRootPem() }),
      TRUST_STORES_PARAMETER: '/stagesign/stores',
      SIGNING_PROFILE_ARN: AWS_FIXTURE.profileArn,
      VERIFY_CONCURRENCY: '3',
      ALLOW_ARTIFACT_TRUST_POLICY_SKIP: 'TRUE',
    });
    expect(env.error).toBeUndefined();
    expect(env.trustPolicy?.trustPolicies[0]?.name).toBe('fixture');
    expect(env.trustStores.map((s) => `${s.type}:${s.name}`)).toEqual(['signingAuthority:test-signer-ts']);
    expect(env).toMatchObject({
      trustPolicyParameter: '/stagesign/policy',
      trustStoresParameter: '/stagesign/stores',
      signingProfileArn: AWS_FIXTURE.profileArn,
      concurrency: 3,
      allowArtifactTrustPolicySkip: true,
    });
  });

  it('treats empty variables (as the template sets them) as unset', () => {
    const env = parseVerifyImageEnvironment({
      TRUST_POLICY: '',
      TRUST_POLICY_PARAMETER: '',
      TRUST_STORES: '',
      TRUST_STORES_PARAMETER: '',
    });
    expect(env).toEqual({ trustStores: [], concurrency: 4, allowArtifactTrustPolicySkip: false });
  });

  it.each([
    {
      variable: 'TRUST_POLICY',
      value: '{"version":"2.0","trustPolicies":[]}',
      says: /TRUST_POLICY is invalid: .*2\.0/,
    },
    { variable: 'TRUST_POLICY', value: 'not json', says: /TRUST_POLICY is invalid: malformed trust policy/ },
    {
      variable: 'TRUST_STORES',
      value: '{"signingAuthority:x":"not a pem"}',
      says: /TRUST_STORES is invalid: .*signingAuthority:x/,
    },
    {
      variable: 'TRUST_STORES',
      value: '{"codeSigning:x":"-----BEGIN CERTIFICATE-----"}',
      says: /TRUST_STORES is invalid: .*"codeSigning:x" must be "<type>:<name>"/,
    },
    {
      variable: 'SIGNING_PROFILE_ARN',
      value: 'arn:aws:s3:::bucket',
      says: /SIGNING_PROFILE_ARN is invalid: .* is not an AWS Signer signing profile ARN/,
    },
    { variable: 'TRUST_POLICY_PARAMETER', value: 'has spaces', says: /TRUST_POLICY_PARAMETER is invalid/ },
    { variable: 'VERIFY_CONCURRENCY', value: '0', says: /VERIFY_CONCURRENCY is invalid/ },
    {
      variable: 'ALLOW_ARTIFACT_TRUST_POLICY_SKIP',
      value: 'yes',
      says: /ALLOW_ARTIFACT_TRUST_POLICY_SKIP is invalid: "yes" is not "true" or "false"/,
    },
    {
      variable: 'TRUST_STORES',
      value: JSON.stringify({ 'signingAuthority:aws-signer-ts': fixtureRootPem() }),
      says: /TRUST_STORES is invalid: TRUST_STORES key "signingAuthority:aws-signer-ts" is the name of a built-in AWS Signer root, which configured stores may not replace\. Choose another name/,
    },
    {
      variable: 'TRUST_STORES',
      value: JSON.stringify({ 'signingAuthority:aws-us-gov-signer-ts': fixtureRootPem() }),
      says: /"signingAuthority:aws-us-gov-signer-ts" is the name of a built-in AWS Signer root/,
    },
  ])('keeps (never throws) the error of an invalid $variable, naming it', ({ variable, value, says }) => {
    const env = parseVerifyImageEnvironment({ [variable]: value });
    expect(env.error).toBeInstanceOf(ConfigurationError);
    expect(env.error?.code).toBe('VERIFY_ENVIRONMENT_INVALID');
    expect(env.error?.message).toMatch(says);
    // …and every job then reports it.
    expect(() => parseVerifyImageParams({ image: `${APP}@${DIGEST}` }, env)).toThrow(env.error!);
  });
});

describe('parseVerifyImageParams', () => {
  const env = parseVerifyImageEnvironment({});

  it('reads images, the policy path, limits and user metadata', () => {
    const params = parseVerifyImageParams(
      {
        images: [`${APP}@${DIGEST}`, `${APP}:v2`],
        trustPolicyPath: './notation/trustpolicy.json',
        maxSignatures: 5,
        userMetadata: { buildId: '7' },
      },
      env,
    );
    expect(params.imageSources.images.map((i) => i.text)).toEqual([`${APP}@${DIGEST}`, `${APP}:v2`]);
    expect(params).toMatchObject({
      trustPolicyPath: 'notation/trustpolicy.json',
      maxSignatures: 5,
      userMetadata: { buildId: '7' },
    });
  });

  it.each([
    {
      what: 'an array of references',
      value: [`${APP}@${DIGEST}`],
      expected: `${APP}@${DIGEST}`,
    },
    {
      what: 'an array of {image, digest} objects',
      value: [{ image: `${APP}:v1`, digest: DIGEST }],
      expected: `${APP}@${DIGEST}`,
    },
    {
      what: "the sign stage's SIGNED_IMAGES entries",
      value: [
        {
          source: `${APP}:v1`,
          imageUri: `${APP}@${DIGEST}`,
          digest: DIGEST,
          signatureDigest: DIGEST,
          reused: false,
          signedAt: '2026-01-15T09:59:00Z',
        },
      ],
      expected: `${APP}@${DIGEST}`,
    },
    {
      what: 'an array of {imageUri} objects',
      value: [{ imageUri: `${APP}@${DIGEST}` }],
      expected: `${APP}@${DIGEST}`,
    },
    {
      what: 'a registry with a port',
      value: [{ image: 'localhost:5000/app:v1', digest: DIGEST }],
      expected: `localhost:5000/app@${DIGEST}`,
    },
  ])('accepts signedImages as $what, pinned to the signed digest', ({ value, expected }) => {
    const params = parseVerifyImageParams({ signedImages: value }, env);
    expect(params.imageSources.images.map((i) => i.text)).toEqual([expected]);
    expect(params.imageSources.images[0]!.origin).toBe('UserParameters.signedImages[0]');
  });

  it.each([
    { params: { imags: [] }, says: /UserParameters\.imags is not a parameter of verify-image/ },
    {
      params: { signedImages: { image: APP } },
      says: /UserParameters\.signedImages must be a JSON array of image references .*#\{SignVariables\.SIGNED_IMAGES\}/,
    },
    {
      params: { signedImages: [{ name: 'x' }] },
      says: /signedImages\[0\] must be an image reference or an object/,
    },
    {
      params: { signedImages: ['not a reference'] },
      says: /UserParameters\.signedImages\[0\] is not a valid image reference/,
    },
    { params: { trustPolicyPath: '../etc/policy.json' }, says: /trustPolicyPath must be a relative path/ },
    { params: { maxSignatures: 0 }, says: /maxSignatures must be an integer from 1 to 1000/ },
    { params: { userMetadata: { a: 1 } }, says: /userMetadata must be an object of string values/ },
  ])('rejects $params naming the field', ({ params, says }) => {
    expect(() => parseVerifyImageParams(params, env)).toThrow(says);
  });

  describe("when UserParameters takes the sign stage's SIGNED_IMAGES variable", () => {
    const summaries: SignedImage[] = [
      {
        source: `${APP}:v1`,
        imageUri: `${APP}@${DIGEST}`,
        digest: DIGEST,
        signatureDigest: DIGEST,
        reused: false,
        signingProfileVersionArn: AWS_FIXTURE.profileVersionArn,
        signedAt: '2026-01-15T09:59:00Z',
      },
    ];
    /** CodePipeline substitutes a variable's raw text where the placeholder stands. */
    const substitute = (userParameters: string) =>
      userParameters.replace('#{SignVariables.SIGNED_IMAGES}', JSON.stringify(summaries));

    it('accepts the documented unquoted form once CodePipeline has substituted it', () => {
      expect(SIGNED_IMAGES_FORM).toBe('{"signedImages": #{SignVariables.SIGNED_IMAGES}}');
      const userParameters = JSON.parse(substitute(SIGNED_IMAGES_FORM)) as Record<string, unknown>;
      const params = parseVerifyImageParams(userParameters, env);
      expect(params.imageSources.images.map((i) => i.text)).toEqual([`${APP}@${DIGEST}`]);
    });

    it('shows why the quoted form cannot work: the substituted text is no longer JSON', () => {
      expect(() => JSON.parse(substitute('{"signedImages": "#{SignVariables.SIGNED_IMAGES}"}'))).toThrow(
        SyntaxError,
      );
    });

    it.each([
      { what: 'a string holding the JSON array', value: JSON.stringify(summaries) },
      { what: 'a string that is not JSON', value: '[not json' },
    ])('refuses $what, naming the field and the unquoted form', ({ value }) => {
      expect(() => parseVerifyImageParams({ signedImages: value }, env)).toThrow(
        'UserParameters.signedImages must be a JSON array, not a string: write the sign stage\'s variable without quotes, {"signedImages": #{SignVariables.SIGNED_IMAGES}}',
      );
    });
  });
});
