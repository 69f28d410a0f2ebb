/**
 * Bounded concurrency for the stages' per-item work (images to sign, verify or pin): at most
 * `width` calls in flight, results in input order. Pure: no clock, no I/O of its own.
 */

/**
 * `fn` over `items` with at most `width` calls in flight (at least one); the results keep the
 * input order. `fn` should not throw: a stage that reports every item gives each its own outcome
 * (a rejection here rejects the whole map, and the calls still in flight run on unobserved).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  return results;
}
