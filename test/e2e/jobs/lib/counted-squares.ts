/**
 * The cached dataset of the cache tests' job modules: [i % 7, i²] for i < n in `slices`
 * partitions, marked cache(), with the accumulator `computed` counting the records its map
 * computed — so a test sees which jobs read the cached partitions and which computed them.
 */
import type { Dataset, JobContext } from 'stratus';

export function countedSquares(ctx: JobContext, n: number, slices: number): Dataset<[number, number]> {
  const computed = ctx.accumulator('computed', 0);
  return ctx
    .parallelize(
      Array.from({ length: n }, (_, i) => i),
      slices,
    )
    .map((i) => {
      computed.add(1);
      return [i % 7, i * i] as [number, number];
    })
    .cache();
}
