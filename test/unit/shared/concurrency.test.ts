import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../shared/concurrency';

describe('mapBounded', () => {
  it('keeps the input order whatever order the calls end in', async () => {
    const delays = [30, 0, 10, 0, 20];
    const results = await mapBounded(delays, 2, async (ms, index) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return `${index}:${ms}`;
    });
    expect(results).toEqual(['0:30', '1:0', '2:10', '3:0', '4:20']);
  });

  it.each([
    { width: 1, items: 5, most: 1 },
    { width: 3, items: 10, most: 3 },
    { width: 8, items: 2, most: 2 },
    { width: 0, items: 4, most: 1 },
  ])(
    'has at most $most calls in flight with width $width and $items items',
    async ({ width, items, most }) => {
      let inFlight = 0;
      let peak = 0;
      const calls: number[] = [];
      await mapBounded(
        Array.from({ length: items }, (_, i) => i),
        width,
        async (item) => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          calls.push(item);
          await Promise.resolve();
          await Promise.resolve();
          inFlight -= 1;
        },
      );
      expect(peak).toBe(most);
      expect(calls.sort((a, b) => a - b)).toEqual(Array.from({ length: items }, (_, i) => i));
    },
  );

  it('returns an empty array for no items without calling fn', async () => {
    let calls = 0;
    expect(
      await mapBounded([], 4, async () => {
        calls += 1;
      }),
    ).toEqual([]);
    expect(calls).toBe(0);
  });
});
