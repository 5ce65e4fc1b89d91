/** Wide operations over [key, value] pairs given as params, for end-to-end checks against plain JS. */
import { defineJob } from 'stratus';

export interface PairsParams {
  pairs: [string, number][];
  other: [string, number][];
  /** Partitions of the input (some may be empty). */
  slices: number;
  /** Partitions of every shuffle. */
  partitions: number;
}

export default defineJob((ctx, p: PairsParams) => {
  const left = ctx.parallelize(p.pairs, p.slices);
  const right = ctx.parallelize(p.other, p.slices);
  return {
    sums: left.reduceByKey((a, b) => a + b, p.partitions).collect(),
    groups: left
      .groupByKey(p.partitions)
      .mapValues((vs) => [...vs].sort((a, b) => a - b))
      .collect(),
    joined: left.join(right, p.partitions).collect(),
    leftOuter: left.leftOuterJoin(right, p.partitions).collect(),
    distinctKeys: left.keys().distinct(p.partitions).count(),
    sortedKeys: left.sortByKey(true, p.partitions).keys().collect(),
  };
});
