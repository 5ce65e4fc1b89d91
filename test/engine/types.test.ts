/**
 * The Dataset API's types, checked by `npm run typecheck` (tsc over test/): key-value
 * operations exist only on datasets of [key, value] pairs, and results are typed.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Dataset } from '../../engine/dataset/dataset.js';
import type { JobResults } from '../../engine/dataset/job.js';
import { defineJob } from '../../engine/dataset/job.js';

describe('Dataset types', () => {
  it('offers reduceByKey, join and sortByKey only on pair datasets', () => {
    const job = defineJob((ctx) => {
      const numbers = ctx.parallelize([1, 2, 3]);
      const pairs = numbers.map((n) => [String(n), n] as [string, number]);
      // @ts-expect-error reduceByKey needs [key, value] records
      numbers.reduceByKey((a: number, b: number) => a + b);
      // @ts-expect-error join needs [key, value] records on both sides
      numbers.join(pairs);
      const summed = pairs.reduceByKey((a, b) => a + b);
      expectTypeOf(summed).toEqualTypeOf<Dataset<[string, number]>>();
      const joined = pairs.join(pairs.mapValues((n) => n > 1));
      expectTypeOf(joined).toEqualTypeOf<Dataset<[string, [number, boolean]]>>();
      return { total: numbers.reduce((a, b) => a + b), keys: summed.keys().collect() };
    });
    expectTypeOf<JobResults<ReturnType<typeof job.builder>>>().toEqualTypeOf<{
      total: number;
      keys: string[];
    }>();
    expect(job.kind).toBe('stratus-job');
  });
});
