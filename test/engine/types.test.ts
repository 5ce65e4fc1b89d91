/**
 * The Dataset API's types, checked by `npm run typecheck` (tsc over test/): key-value
 * operations exist only on datasets of [key, value] pairs, and results are typed.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Dataset } from '../../engine/dataset/dataset.js';
import type { JobResults } from '../../engine/dataset/job.js';
import { defineJob } from '../../engine/dataset/job.js';
import type { StatCounter } from '../../engine/dataset/stat-counter.js';

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

  it('offers the numeric actions only on datasets of numbers and lookup only on pairs, with typed results', () => {
    const job = defineJob((ctx) => {
      const numbers = ctx.parallelize([1, 2, 3]);
      const words = ctx.parallelize(['a', 'b']);
      const pairs = words.map((w) => [w, w.length] as [string, number]);
      // @ts-expect-error sum needs numbers
      words.sum();
      // @ts-expect-error stats needs numbers
      pairs.stats();
      // @ts-expect-error lookup needs [key, value] records
      numbers.lookup(1);
      // @ts-expect-error collectAsMap needs [key, value] records
      words.collectAsMap();
      expectTypeOf(numbers.zipWithIndex()).toEqualTypeOf<Dataset<[number, number]>>();
      return {
        stats: numbers.stats(),
        even: numbers.histogram(2),
        given: numbers.histogram([0, 1, 2]),
        map: pairs.collectAsMap(),
        values: pairs.lookup('a'),
        counts: words.countByValue(),
        top: words.top(1, (w) => w.length),
        nothing: words.foreach(() => {}),
      };
    });
    type Results = JobResults<ReturnType<typeof job.builder>>;
    expectTypeOf<Results['stats']>().toEqualTypeOf<StatCounter>();
    expectTypeOf<Results['even']>().toEqualTypeOf<[number[], number[]]>();
    expectTypeOf<Results['given']>().toEqualTypeOf<number[]>();
    expectTypeOf<Results['map']>().toEqualTypeOf<Map<string, number>>();
    expectTypeOf<Results['values']>().toEqualTypeOf<number[]>();
    expectTypeOf<Results['counts']>().toEqualTypeOf<[string, number][]>();
    expectTypeOf<Results['top']>().toEqualTypeOf<string[]>();
    expectTypeOf<Results['nothing']>().toEqualTypeOf<void>();
  });
});
