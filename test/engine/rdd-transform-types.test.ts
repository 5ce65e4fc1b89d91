/**
 * The types of the issue-13 transformations, checked by `npm run typecheck` (tsc over test/):
 * what each returns, that keyBy on pairs keys the whole pair, and that the pair-only
 * sampleByKey exists only on [key, value] datasets with fractions of their key type.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Dataset } from '../../engine/dataset/dataset.js';
import { defineJob } from '../../engine/dataset/job.js';

describe('types of the issue-13 transformations', () => {
  it('each transformation returns the dataset type Spark gives', () => {
    const job = defineJob((ctx) => {
      const words = ctx.parallelize(['a', 'bb', 'cc']);
      const numbers = ctx.parallelize([1, 2, 3]);
      expectTypeOf(words.groupBy((w) => w.length)).toEqualTypeOf<Dataset<[number, string[]]>>();
      expectTypeOf(words.intersection(words)).toEqualTypeOf<Dataset<string>>();
      expectTypeOf(words.subtract(words, 2)).toEqualTypeOf<Dataset<string>>();
      expectTypeOf(words.cartesian(numbers)).toEqualTypeOf<Dataset<[string, number]>>();
      expectTypeOf(words.glom()).toEqualTypeOf<Dataset<string[]>>();
      const tagged = words.mapPartitionsWithIndex((index, records) => records.map((w) => ({ index, w })));
      expectTypeOf(tagged).toEqualTypeOf<Dataset<{ index: number; w: string }>>();
      expectTypeOf(words.randomSplit([0.7, 0.3], 1)).toEqualTypeOf<Dataset<string>[]>();
      // @ts-expect-error intersection needs the same record type on both sides
      words.intersection(numbers);
      return words.count();
    });
    expect(job.kind).toBe('stratus-job');
  });

  it('keyBy on a pair dataset keys the whole pair: Dataset<[K2, [K, V]]>', () => {
    defineJob((ctx) => {
      const pairs = ctx.parallelize([['a', 1] as [string, number]]);
      const rekeyed = pairs.keyBy(([k, v]) => `${k}${v}`.length);
      expectTypeOf(rekeyed).toEqualTypeOf<Dataset<[number, [string, number]]>>();
      // ... and the result is itself a pair dataset, so pair operations apply to it.
      expectTypeOf(rekeyed.groupByKey()).toEqualTypeOf<Dataset<[number, [string, number][]]>>();
      return rekeyed.count();
    });
  });

  it('sampleByKey exists only on pairs; an object of fractions only for string keys', () => {
    defineJob((ctx) => {
      const byName = ctx.parallelize([['a', 1] as [string, number]]);
      const byId = ctx.parallelize([[1, 'x'] as [number, string]]);
      expectTypeOf(byName.sampleByKey(false, { a: 0.5 })).toEqualTypeOf<Dataset<[string, number]>>();
      expectTypeOf(byId.sampleByKey(true, new Map([[1, 2]]), 7)).toEqualTypeOf<Dataset<[number, string]>>();
      // @ts-expect-error number keys take their fractions from a Map, not an object
      byId.sampleByKey(false, { 1: 0.5 });
      // @ts-expect-error sampleByKey needs [key, value] records
      ctx.parallelize([1, 2]).sampleByKey(false, new Map([[1, 0.5]]));
      return byId.count();
    });
  });
});
