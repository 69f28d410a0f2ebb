import { describe, expect, it } from 'vitest';
import { describeAwsError, isRetryableAwsError } from '../../../shared/aws/aws-error';

function awsError(name: string, status: number | undefined, requestId = 'req-1'): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    ...(status !== undefined ? { $metadata: { httpStatusCode: status, requestId } } : {}),
  });
}

describe('describeAwsError', () => {
  it.each([
    [awsError('ThrottlingException', 429), 'throttling'],
    [awsError('TooManyRequestsException', 400), 'throttling'],
    [awsError('SlowDown', 503), 'throttling'],
    [awsError('InternalServiceErrorException', 500), 'server'],
    [awsError('ServiceUnavailable', 503), 'server'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'transient'],
    [awsError('AccessDeniedException', 403), 'access-denied'],
    [awsError('AccessDenied', undefined), 'access-denied'],
    [awsError('Forbidden', 403), 'access-denied'],
    [awsError('ExpiredTokenException', 403), 'credentials'],
    [awsError('UnrecognizedClientException', 400), 'credentials'],
    [awsError('NoSuchKey', undefined), 'not-found'],
    [awsError('ParameterNotFound', 400), 'not-found'],
    [awsError('ResourceNotFoundException', 404), 'not-found'],
    [awsError('ValidationException', 400), 'other'],
  ])('classifies %s as %s', (error, kind) => {
    expect(describeAwsError(error).kind).toBe(kind);
  });

  it('reads the code, message and request id of an SDK error', () => {
    expect(describeAwsError(awsError('AccessDeniedException', 403, 'abc'))).toEqual({
      code: 'AccessDeniedException',
      message: 'AccessDeniedException happened',
      requestId: 'abc',
      httpStatus: 403,
      kind: 'access-denied',
    });
  });

  it('describes a value that is not an error', () => {
    expect(describeAwsError('boom')).toMatchObject({ code: 'Error', message: 'boom', kind: 'other' });
  });
});

describe('isRetryableAwsError', () => {
  it.each([
    ['throttling', true],
    ['server', true],
    ['transient', true],
    ['access-denied', false],
    ['credentials', false],
    ['not-found', false],
    ['other', false],
  ] as const)('says %s is retryable: %s', (kind, retryable) => {
    expect(
      isRetryableAwsError({ code: 'X', message: '', requestId: undefined, httpStatus: undefined, kind }),
    ).toBe(retryable);
  });
});
