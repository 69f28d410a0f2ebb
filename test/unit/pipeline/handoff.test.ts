import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import {
  readSignedImages,
  readVerifiedImages,
  SIGNED_IMAGES,
  VERIFIED_IMAGES,
  writeSignedImages,
  writeVerifiedImages,
} from '../../../shared/pipeline/handoff';
import type { SignedImage, VerifiedImage } from '../../../shared/pipeline/handoff';

const APP = '123456789012.dkr.ecr.us-east-1.amazonaws.com/app';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const signedWhere = {
  field: 'UserParameters.signedImages',
  form: '{"signedImages": #{SignVariables.SIGNED_IMAGES}}',
  code: 'VERIFY_PARAMETERS_INVALID',
};
const verifiedWhere = {
  field: 'UserParameters.verifiedImages',
  form: '{"verifiedImages": #{VerifyVariables.VERIFIED_IMAGES}}',
  code: 'DEPLOY_PARAMETERS_INVALID',
};

/** What CodePipeline hands the next stage: the variable's text, substituted unquoted into UserParameters. */
const handOver = (variable: string, key: string): unknown =>
  (JSON.parse(`{"${key}": ${variable}}`) as Record<string, unknown>)[key];

describe('the stage hand-off variables', () => {
  it('are named SIGNED_IMAGES and VERIFIED_IMAGES', () => {
    expect([SIGNED_IMAGES, VERIFIED_IMAGES]).toEqual(['SIGNED_IMAGES', 'VERIFIED_IMAGES']);
  });
});

/** The fields one image keeps from stage to stage: container name, pinned reference, signature. */
const web = { name: 'web', imageUri: `${APP}@${DIGEST}`, digest: DIGEST, signatureDigest: OTHER } as const;

describe('SIGNED_IMAGES', () => {
  const signed: SignedImage = {
    ...web,
    source: `${APP}:v1`,
    reused: false,
    signedAt: '2026-01-15T09:59:00Z',
  };

  it('reads back the signed digest and the container name it writes', () => {
    const read = readSignedImages(handOver(writeSignedImages([signed]), 'signedImages'), signedWhere);
    expect(read).toEqual([{ reference: `${APP}@${DIGEST}`, name: 'web', index: 0 }]);
  });

  it('pins a tag reference to the entry digest and accepts plain references', () => {
    expect(
      readSignedImages([{ image: `${APP}:v1`, digest: DIGEST }, `${APP}@${OTHER}`], signedWhere).map(
        (e) => e.reference,
      ),
    ).toEqual([`${APP}@${DIGEST}`, `${APP}@${OTHER}`]);
  });

  it('refuses the quoted form with the unquoted form to write', () => {
    expect(() => readSignedImages(writeSignedImages([signed]), signedWhere)).toThrow(
      new ConfigurationError(
        'VERIFY_PARAMETERS_INVALID',
        'UserParameters.signedImages must be a JSON array, not a string: write the sign stage\'s variable without quotes, {"signedImages": #{SignVariables.SIGNED_IMAGES}}, so that CodePipeline substitutes the array itself',
      ),
    );
  });
});

describe('VERIFIED_IMAGES', () => {
  const verified: VerifiedImage = { ...web, image: `${APP}:v1`, signingTime: '2026-01-15T09:59:00Z' };

  it('reads back exactly what it writes, the skipped mark included', () => {
    const skipped: VerifiedImage = {
      image: `${APP}@${OTHER}`,
      imageUri: `${APP}@${OTHER}`,
      digest: OTHER,
      skipped: true,
    };
    expect(
      readVerifiedImages(handOver(writeVerifiedImages([verified, skipped]), 'verifiedImages'), verifiedWhere),
    ).toEqual([verified, skipped]);
  });

  it.each([
    {
      what: 'a string',
      value: writeVerifiedImages([]),
      says: /must be a JSON array, not a string: write the verify stage's variable without quotes/,
    },
    { what: 'an object', value: {}, says: /^UserParameters\.verifiedImages must be a JSON array/ },
    {
      what: 'a plain reference',
      value: [`${APP}@${DIGEST}`],
      says: /^UserParameters\.verifiedImages\[0\] must be an object/,
    },
    {
      what: 'an entry without digest',
      value: [{ imageUri: `${APP}@${DIGEST}` }],
      says: /\[0\]\.digest must be a non-empty string/,
    },
    {
      what: 'a tag',
      value: [{ imageUri: `${APP}:v1`, digest: DIGEST }],
      says: /\[0\]\.imageUri must be pinned to its digest/,
    },
    {
      what: 'another digest',
      value: [{ imageUri: `${APP}@${OTHER}`, digest: DIGEST }],
      says: /\[0\]\.imageUri must be pinned to its digest/,
    },
    {
      what: 'a bad digest',
      value: [{ imageUri: `${APP}@sha256:abc`, digest: 'sha256:abc' }],
      says: /\.digest must be a sha256 digest/,
    },
    {
      what: 'skipped false',
      value: [{ ...verified, skipped: false }],
      says: /\.skipped must be true or absent/,
    },
  ])('refuses $what, naming the field and the form', ({ value, says }) => {
    let error: unknown;
    try {
      readVerifiedImages(value, verifiedWhere);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'DEPLOY_PARAMETERS_INVALID', message: expect.stringMatching(says) });
  });
});
