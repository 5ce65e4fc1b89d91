/** Issue 13's actions in one run, for an end-to-end check against plain JS on real executors. */
import { defineJob } from 'stratus';

export interface RddActionsParams {
  numbers: number[];
  pairs: [string, number][];
  /** Partitions of the inputs (some may be empty). */
  slices: number;
  /** Partitions of the shuffles. */
  partitions: number;
}

export default defineJob((ctx, p: RddActionsParams) => {
  const numbers = ctx.parallelize(p.numbers, p.slices);
  const pairs = ctx.parallelize(p.pairs, p.slices);
  const seen = ctx.accumulator('seen', 0);
  return {
    stats: numbers.stats(),
    histogram: numbers.histogram(3),
    buckets: numbers.histogram([-10, 0, 10]),
    top: numbers.top(3),
    smallestPairs: pairs.takeOrdered(2, ([, v]) => v),
    indexed: numbers.zipWithIndex().collect(),
    uniqueIds: numbers.zipWithUniqueId().values().collect(),
    lookup: pairs.reduceByKey((a, b) => a + b, p.partitions).lookup('a'),
    asMap: pairs.collectAsMap(),
    counts: pairs.keys().countByValue(),
    treeSum: numbers.treeAggregate(
      0,
      (a, x) => a + x,
      (a, b) => a + b,
      2,
    ),
    sample: numbers.takeSample(false, 4, 11),
    foreach: numbers.foreach(() => {
      seen.add(1);
    }),
  };
});
