/** The RDD transformations of issue 13 over two lists of numbers, for an end-to-end check against plain JS. */
import { defineJob } from 'stratus';

export interface TransformsParams {
  a: number[];
  b: number[];
  /** Partitions of each input (some may be empty). */
  slices: number;
  /** Partitions of every shuffle. */
  partitions: number;
}

export default defineJob((ctx, p: TransformsParams) => {
  const a = ctx.parallelize(p.a, p.slices);
  const b = ctx.parallelize(p.b, p.slices);
  const sums = a.map((x) => [x % 3, x] as [number, number]).reduceByKey((x, y) => x + y, p.partitions);
  const [small, large] = a.randomSplit([1, 2], 7);
  return {
    cartesian: a.cartesian(b).glom().collect(),
    shuffledCartesian: sums.cartesian(b).glom().collect(),
    sums: sums.glom().collect(),
    groups: a
      .groupBy((x) => x % 3, p.partitions)
      .mapValues((xs) => [...xs].sort((x, y) => x - y))
      .collect(),
    intersection: a.intersection(b, p.partitions).collect(),
    subtract: a.subtract(b, p.partitions).glom().collect(),
    splits: small!
      .union(large!)
      .mapPartitionsWithIndex((i, xs) => [[i, xs.length]])
      .collect(),
  };
});
