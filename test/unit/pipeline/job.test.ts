import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/errors';
import { parseJob, parseUserParameters, peekJobId } from '../../../shared/pipeline/job';
import { jobEvent, loadEvent } from '../../helpers/codepipeline-events';

function configurationError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parseJob', () => {
  it('parses the KMS + input artifact sample event into a typed job', () => {
    const job = parseJob(loadEvent('sign-image', 'input-artifact-kms'));
    expect(job.id).toBe('5a1e5000-aaaa-4bbb-8ccc-1234567890ab');
    expect(job.accountId).toBe('123456789012');
    expect(job.userParameters).toEqual({ image: expect.stringContaining('@sha256:') });
    expect(job.inputArtifacts).toEqual([
      {
        name: 'BuildOutput',
        revision: '3f8a1c2b9d0e',
        location: {
          bucketName: 'codepipeline-us-east-1-123456789012',
          objectKey: 'stagesign-demo/BuildOutpu/Kx7Qp2a',
        },
      },
    ]);
    expect(job.encryptionKey).toEqual({ id: expect.stringMatching(/^arn:aws:kms:/), type: 'KMS' });
    expect(job.artifactCredentials.expirationTime).toEqual(new Date(1893456000000));
    expect(job.continuationToken).toBeUndefined();
  });

  it.each(['happy-path', 'continuation', 'missing-user-parameters', 'input-artifact-kms'])(
    'accepts every valid sample event (%s) of both stages',
    (name) => {
      expect(() => parseJob(loadEvent('sign-image', name))).not.toThrow();
      expect(() => parseJob(loadEvent('verify-image', name))).not.toThrow();
    },
  );

  it('leaves userParameters undefined when the action sets none', () => {
    expect(parseJob(loadEvent('verify-image', 'missing-user-parameters')).userParameters).toBeUndefined();
  });

  it.each([
    ['a job id that is not a UUID', { id: 'not-a-uuid' }, 'CodePipeline.job.id'],
    ['a short account id', { accountId: '42' }, 'CodePipeline.job.accountId'],
    [
      'no artifact credentials',
      { data: { artifactCredentials: undefined } },
      'CodePipeline.job.data.artifactCredentials',
    ],
    [
      'a non-S3 artifact location',
      {
        data: {
          inputArtifacts: [
            {
              name: 'x',
              revision: null,
              location: { type: 'GitHub', s3Location: { bucketName: 'b', objectKey: 'k' } },
            },
          ],
        },
      },
      'CodePipeline.job.data.inputArtifacts.0.location.type',
    ],
    [
      'a non-KMS encryption key',
      { data: { encryptionKey: { id: 'k', type: 'AES' } } },
      'CodePipeline.job.data.encryptionKey.type',
    ],
  ])('rejects %s with a ConfigurationError naming the field', (_label, patch, field) => {
    const base = jobEvent('{}')['CodePipeline.job'];
    const job = { ...base, ...patch, data: { ...base.data, ...((patch as { data?: object }).data ?? {}) } };
    const error = configurationError(() => parseJob({ 'CodePipeline.job': job }));
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.message).toContain(field);
  });

  it('never quotes credential values in its error messages', () => {
    const event = jobEvent('{}');
    const creds = event['CodePipeline.job'].data.artifactCredentials as Record<string, unknown>;
    creds.sessionToken = 12345;
    const error = configurationError(() => parseJob(event));
    expect(error.message).toContain('artifactCredentials.sessionToken');
    expect(error.message).not.toContain(String(creds.secretAccessKey));
  });

  it('rejects an event that is not a CodePipeline job', () => {
    expect(configurationError(() => parseJob({ Records: [] })).code).toBe('EVENT_INVALID');
  });
});

describe('parseUserParameters', () => {
  it('parses a JSON object', () => {
    expect(parseUserParameters('{"image":"x"}')).toEqual({ image: 'x' });
  });

  it('names the field and the fix for text that is not JSON', () => {
    const error = configurationError(() => parseUserParameters('{not json'));
    expect(error.code).toBe('USER_PARAMETERS_INVALID');
    expect(error.message).toMatch(
      /^UserParameters is not valid JSON: .+ Fix the action configuration so UserParameters is a JSON object, e\.g\. \{"image":/,
    );
  });

  it.each([
    ['an array', '[1,2]'],
    ['a string', '"hello"'],
    ['null', 'null'],
    ['a number', '7'],
  ])('rejects JSON that is %s', (what, text) => {
    expect(configurationError(() => parseUserParameters(text)).message).toContain(
      `must be a JSON object but is ${what}`,
    );
  });
});

describe('peekJobId', () => {
  it.each([
    [undefined, undefined],
    [{}, undefined],
    [{ 'CodePipeline.job': { id: 42 } }, undefined],
    [
      { 'CodePipeline.job': { id: '11111111-abcd-1111-abcd-111111abcdef' } },
      '11111111-abcd-1111-abcd-111111abcdef',
    ],
  ])('finds the job id of %j only when it is well-formed', (event, id) => {
    expect(peekJobId(event)).toBe(id);
  });
});
