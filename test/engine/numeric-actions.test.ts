/**
 * Spark's DoubleRDDFunctions and tree aggregation on stratus — sum, mean, stats (StatCounter),
 * histogram in both forms, treeAggregate, treeReduce — through the in-memory runner against
 * plain-JS references, across partition counts with empty partitions, and the errors Spark
 * raises on empty datasets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { StatCounter } from '../../engine/dataset/stat-counter.js';
import { treeLevels } from '../../engine/dataset/tree-aggregate.js';
import { runJobInMemory } from '../../engine/testing/in-memory-runner.js';
import { intsArb, jobRuns, partitionsArb, runAction } from './run-helpers.js';

/** Plain JS: population and sample variance by the two-pass formula. */
function varianceRef(xs: readonly number[]): { mean: number; variance: number; sampleVariance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const squares = xs.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, variance: squares / xs.length, sampleVariance: squares / (xs.length - 1) };
}

/** Plain JS: counts per bucket, bucket i = [b[i], b[i+1]) and the last one closed. */
function histogramRef(xs: readonly number[], buckets: readonly number[]): number[] {
  const counts = new Array<number>(buckets.length - 1).fill(0);
  const last = buckets.length - 1;
  for (const x of xs) {
    if (x < buckets[0]! || x > buckets[last]!) continue;
    let i = 0;
    while (i < last - 1 && x >= buckets[i + 1]!) i++;
    counts[i]! += 1;
  }
  return counts;
}

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

describe('sum, mean and stats', () => {
  it('sum, mean and stats agree with plain JS for any partitioning', async () => {
    await fc.assert(
      fc.asyncProperty(
        intsArb.filter((xs) => xs.length > 0),
        partitionsArb,
        async (data, n) => {
          const job = defineJob((ctx) => {
            const ds = ctx.parallelize(data, n);
            return { sum: ds.sum(), mean: ds.mean(), stats: ds.stats() };
          });
          const { results } = await runJobInMemory(job, undefined);
          const ref = varianceRef(data);
          expect(results.sum).toBe(data.reduce((a, b) => a + b, 0));
          expect(results.mean).toBeCloseTo(ref.mean, 10);
          const stats = results.stats;
          expect(stats).toBeInstanceOf(StatCounter);
          expect(stats.count).toBe(data.length);
          expect(stats.mean).toBeCloseTo(ref.mean, 10);
          expect(stats.sum).toBeCloseTo(results.sum, 8);
          expect(stats.variance).toBeCloseTo(ref.variance, 8);
          expect(stats.stdev).toBeCloseTo(Math.sqrt(ref.variance), 8);
          expect(stats.max).toBe(Math.max(...data));
          expect(stats.min).toBe(Math.min(...data));
          if (data.length > 1) {
            expect(stats.sampleVariance).toBeCloseTo(ref.sampleVariance, 8);
            expect(stats.sampleStdev).toBeCloseTo(Math.sqrt(ref.sampleVariance), 8);
          } else expect(stats.sampleStdev).toBeNaN();
        },
      ),
      jobRuns,
    );
  });

  it('merging counters in parallel keeps precision where sums of squares would not', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 10));
    const halves = [xs.slice(0, 300), xs.slice(300)].map((h) =>
      h.reduce((c, x) => c.add(x), new StatCounter()),
    );
    const merged = halves[0]!.copy().merge(halves[1]!);
    expect(merged.count).toBe(1000);
    expect(merged.variance).toBeCloseTo(varianceRef(xs).variance, 6);
    expect(JSON.parse(JSON.stringify(merged))).toMatchObject({ count: 1000, max: 1e9 + 9, min: 1e9 });
  });

  it('an empty dataset: sum 0, mean NaN, stats of count 0 with NaN statistics (as Spark)', async () => {
    const job = defineJob((ctx) => {
      const ds = ctx.parallelize([] as number[], 3);
      return { sum: ds.sum(), mean: ds.mean(), stats: ds.stats() };
    });
    const { results } = await runJobInMemory(job, undefined);
    expect(results.sum).toBe(0);
    expect(results.mean).toBeNaN();
    expect(results.stats.count).toBe(0);
    for (const v of [results.stats.mean, results.stats.stdev, results.stats.max, results.stats.min]) {
      expect(v).toBeNaN();
    }
  });

  it('records that are not finite numbers fail with NOT_A_NUMBER naming the action', async () => {
    const run = runAction((ctx) =>
      (
        ctx.parallelize(['1', 2] as unknown[], 1) as unknown as ReturnType<typeof ctx.parallelize<number>>
      ).sum(),
    );
    await expect(run).rejects.toMatchObject({
      code: 'NOT_A_NUMBER',
      message: expect.stringContaining('sum()'),
    });
  });
});

describe('histogram', () => {
  const bucketsArb = fc
    .uniqueArray(fc.integer({ min: -25, max: 25 }), { minLength: 2, maxLength: 6 })
    .map((b) => sorted(b));

  it('with explicit boundaries: counts per bucket, the last one closed, values outside ignored', async () => {
    await fc.assert(
      fc.asyncProperty(intsArb, partitionsArb, bucketsArb, async (data, n, buckets) => {
        const got = await runAction((ctx) => ctx.parallelize(data, n).histogram(buckets));
        expect(got).toEqual(histogramRef(data, buckets));
      }),
      jobRuns,
    );
    expect(await runAction((ctx) => ctx.parallelize([0, 5, 10, 11], 2).histogram([0, 5, 10]))).toEqual([
      1, 2,
    ]);
  });

  it('with a bucket count: evenly spaced boundaries from the range (a hidden job), then the counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        intsArb.filter((xs) => xs.length > 0),
        partitionsArb,
        fc.integer({ min: 1, max: 6 }),
        async (data, n, count) => {
          const run = await runJobInMemory(
            defineJob((ctx) => ctx.parallelize(data, n).histogram(count)),
            undefined,
          );
          const min = Math.min(...data);
          const max = Math.max(...data);
          const boundaries =
            min === max
              ? [min, min]
              : [...Array.from({ length: count }, (_, i) => min + (i * (max - min)) / count), max];
          const counts =
            min === max
              ? [data.length]
              : histogramRef(data, boundaries).map(
                  (_, i) =>
                    // Spark's constant-time bucket: ⌊(x − min) / (max − min) · count⌋, the max in the last.
                    data.filter(
                      (x) => Math.min(Math.floor(((x - min) / (max - min)) * count), count - 1) === i,
                    ).length,
                );
          expect(run.results).toEqual([boundaries, counts]);
          expect(run.jobs.map((j) => [j.plan.actionOp, 'hiddenJob' in j.action])).toEqual([
            ['histogramRange', true],
            ['histogram', false],
          ]);
        },
      ),
      jobRuns,
    );
  });

  it('with a bucket count on an empty dataset it fails with EMPTY_COLLECTION, as Spark', async () => {
    await expect(runAction((ctx) => ctx.parallelize([] as number[], 2).histogram(3))).rejects.toMatchObject({
      code: 'EMPTY_COLLECTION',
      message: 'histogram(3): empty collection',
    });
  });

  it('unsorted or too few boundaries and a bucket count below 1 are refused in the builder', async () => {
    for (const bad of [[1], [2, 1], [0, 0, 1]]) {
      await expect(runAction((ctx) => ctx.parallelize([1]).histogram(bad))).rejects.toMatchObject({
        code: 'CONFIG',
      });
    }
    await expect(runAction((ctx) => ctx.parallelize([1]).histogram(0))).rejects.toMatchObject({
      code: 'CONFIG',
    });
  });
});

describe('treeAggregate and treeReduce', () => {
  it("Spark's level sizes: a level while it saves time, none for depth 1 or few partitions", () => {
    expect(treeLevels(100, 2)).toEqual([10]);
    expect(treeLevels(1000, 3)).toEqual([100, 10]);
    expect(treeLevels(8, 2)).toEqual([2]);
    expect(treeLevels(4, 2)).toEqual([]);
    expect(treeLevels(1000, 1)).toEqual([]);
  });

  it('treeAggregate and treeReduce equal aggregate and reduce for any partitioning and depth', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 4 }),
        async (data, n, depth) => {
          const job = defineJob((ctx) => {
            const ds = ctx.parallelize(data, n);
            const sum = (a: number, b: number) => a + b;
            const gather = (acc: number[], x: number) => [...acc, x];
            return {
              sum: ds.treeAggregate(0, sum, sum, depth),
              all: ds.treeAggregate([] as number[], gather, (a, b) => [...a, ...b], depth),
              aggregate: ds.aggregate(0, sum, sum),
              ...(data.length > 0 ? { max: ds.treeReduce((a, b) => Math.max(a, b), depth) } : {}),
            };
          });
          const { results } = await runJobInMemory(job, undefined);
          expect(results.sum).toBe(results.aggregate);
          expect(sorted(results.all as number[])).toEqual(sorted(data));
          if (data.length > 0) expect(results.max).toBe(Math.max(...data));
        },
      ),
      jobRuns,
    );
  });

  it('its levels are shuffle stages: 16 partitions at depth 2 merge in 4 before the driver', async () => {
    const run = await runJobInMemory(
      defineJob((ctx) =>
        ctx
          .parallelize(
            Array.from({ length: 100 }, (_, i) => i),
            16,
          )
          .treeAggregate(
            0,
            (a, x) => a + x,
            (a, b) => a + b,
            2,
          ),
      ),
      undefined,
    );
    expect(run.results).toBe(4950);
    const stages = run.jobs[0]!.plan.stages;
    expect(stages.map((s) => [s.kind, s.numPartitions])).toEqual([
      ['shuffle-map', 16],
      ['result', 4],
    ]);
    expect(stages[0]!.shuffle).toMatchObject({ numReducePartitions: 4, mapSideCombine: true });
  });

  it('treeReduce of an empty dataset fails with EMPTY_COLLECTION; treeAggregate gives zero; depth must be ≥ 1', async () => {
    await expect(
      runAction((ctx) => ctx.parallelize([] as number[], 16).treeReduce((a, b) => a + b)),
    ).rejects.toMatchObject({ code: 'EMPTY_COLLECTION', message: 'treeReduce(): empty collection' });
    expect(
      await runAction((ctx) =>
        ctx.parallelize([] as number[], 16).treeAggregate(
          0,
          (a, x) => a + x,
          (a, b) => a + b,
        ),
      ),
    ).toBe(0);
    await expect(
      runAction((ctx) => ctx.parallelize([1]).treeReduce((a, b) => a + b, 0)),
    ).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
