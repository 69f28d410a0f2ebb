import { describe, expect, it } from 'vitest';
import { callWithRetry, RetriesExhausted } from '../../../shared/signer/signer-call';

function awsError(name: string, status: number, requestId = 'req-1'): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status, requestId },
  });
}

describe('callWithRetry', () => {
  const noWait = { sleep: async () => undefined };

  it('does not retry an error that is not transient', async () => {
    let calls = 0;
    const error = awsError('AccessDeniedException', 403);
    await expect(
      callWithRetry(async () => {
        calls += 1;
        throw error;
      }, noWait),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('stops after maxAttempts and reports the last error', async () => {
    let calls = 0;
    const result = await callWithRetry(
      async () => {
        calls += 1;
        throw awsError('ThrottlingException', 429, `req-${calls}`);
      },
      { maxAttempts: 3, ...noWait },
    ).catch((e: unknown) => e);
    expect(result).toBeInstanceOf(RetriesExhausted);
    expect(result).toMatchObject({ attempts: 3, last: { requestId: 'req-3', kind: 'throttling' } });
    expect(calls).toBe(3);
  });

  it('waits with full jitter under an exponentially growing, capped ceiling', async () => {
    const waits: number[] = [];
    await callWithRetry(
      async () => {
        throw awsError('ThrottlingException', 429);
      },
      {
        maxAttempts: 6,
        baseDelayMs: 100,
        maxDelayMs: 500,
        random: () => 0.5,
        sleep: async (ms) => void waits.push(ms),
      },
    ).catch(() => undefined);
    expect(waits).toEqual([50, 100, 200, 250, 250]);
  });

  it('defaults to five attempts', async () => {
    let calls = 0;
    await callWithRetry(async () => {
      calls += 1;
      throw awsError('InternalServiceErrorException', 500);
    }, noWait).catch(() => undefined);
    expect(calls).toBe(5);
  });
});

describe('callWithRetry with a call signal', () => {
  it('stops in the backoff when the signal aborts, with ABORTED and no further attempt', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const call = callWithRetry(
      () => {
        attempts++;
        return Promise.reject(awsError('ThrottlingException', 429));
      },
      {
        maxAttempts: 5,
        // A backoff that never ends by itself: only the abort can end it.
        sleep: () => {
          controller.abort(new Error('deadline while signing'));
          return new Promise<void>(() => undefined);
        },
      },
      { signal: controller.signal, what: 'AWS Signer signer:SignPayload' },
    );
    await expect(call).rejects.toMatchObject({
      code: 'ABORTED',
      kind: 'dependency',
      message: expect.stringContaining('AWS Signer signer:SignPayload'),
    });
    expect(attempts).toBe(1);
  });

  it('reports the error of an aborted attempt as ABORTED, not as the SDK error, and does not retry it', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const call = callWithRetry(
      () => {
        attempts++;
        controller.abort();
        return Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
      { maxAttempts: 5, sleep: async () => undefined },
      { signal: controller.signal, what: 'AWS Signer signer:GetRevocationStatus' },
    );
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect(attempts).toBe(1);
  });

  it('makes no attempt when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let attempts = 0;
    await expect(
      callWithRetry(
        () => {
          attempts++;
          return Promise.resolve('signed');
        },
        {},
        { signal: controller.signal, what: 'AWS Signer signer:SignPayload' },
      ),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(attempts).toBe(0);
  });
});
