/**
 * A dataset marked cache() whose records are counted as they are computed (`computed`): the same
 * run (same params) made twice in one driver session computes them in the first run only.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number; slices: number; partitions: number }) => {
  const computed = ctx.accumulator('computed', 0);
  const squares = ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      p.slices,
    )
    .map((i) => {
      computed.add(1);
      return [i % 7, i * i] as [number, number];
    })
    .cache();
  return squares.reduceByKey((a, b) => a + b, p.partitions).collect();
});
