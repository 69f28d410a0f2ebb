/**
 * The one way `shared/oci` reads a response body: with a byte limit and within the request's
 * time limit. A registry or token service named by whoever writes UserParameters or
 * imagedefinitions.json may answer anything: an endless stream, or a small gzip body that
 * inflates to gigabytes. fetch inflates `Content-Encoding` bodies before they reach the
 * reader, so the limit counts inflated bytes. No other code here may call `json()`, `text()`,
 * `arrayBuffer()` or read `body` (test/unit/oci/bounded-read.test.ts checks the sources).
 */
import { abortedError } from '../abort';
import { DependencyError, InputError } from '../errors';
import { OciErrorCode } from './error-codes';
import { describeNetworkError } from './network-errors';

/** Discards an unread body (cancelling the transfer) so the connection is released. */
export async function drain(response: Response): Promise<void> {
  if (response.body !== null && !response.bodyUsed) await response.body.cancel().catch(() => undefined);
}

/**
 * Reads at most `limit` bytes; more is CONTENT_TOO_LARGE or SIZE_MISMATCH (`overflowCode`).
 * The transfer is cancelled as soon as the limit is passed (a `Content-Length` over it is
 * refused before reading).
 */
export async function readLimited(
  response: Response,
  limit: number,
  what: string,
  overflowCode: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const announced = Number(response.headers.get('content-length') ?? NaN);
  const tooMuch = () =>
    new InputError(overflowCode, `${what}: the registry sent more than the ${limit} bytes expected`);
  if (Number.isFinite(announced) && announced > limit) {
    await drain(response);
    throw tooMuch();
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (cause) {
      if (signal?.aborted) throw abortedError(`reading ${what}`, signal, cause);
      // The attempt's time limit also ends a body that stops flowing.
      throw new DependencyError(
        OciErrorCode.RegistryUnavailable,
        `${what}: the registry stopped sending (${describeNetworkError(cause)})`,
        { cause },
      );
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooMuch();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
