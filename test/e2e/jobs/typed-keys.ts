/**
 * Date and bigint keys through a real shuffle: params carry the pairs (Dates and bigints in
 * the stage descriptor), a broadcast carries a Map, and the results come back inline and
 * through blobs.
 */
import { defineJob } from 'stratus';

export interface TypedKeysParams {
  /** [key, value] pairs whose keys are Dates, bigints or [Date, bigint] arrays. */
  pairs: [Date | bigint | [Date, bigint], number][];
  partitions: number;
  /** Copies of a record of every value type to collect (enough to need a result blob). */
  rich: number;
}

export default defineJob((ctx, p: TypedKeysParams) => {
  const weights = ctx.broadcast(new Map<string, bigint>([['w', 3n]]));
  const pairs = ctx.parallelize(p.pairs, 3);
  return {
    sums: pairs.reduceByKey((a, b) => a + b, p.partitions).collect(),
    sorted: pairs.sortByKey(true, p.partitions).collect(),
    descending: pairs.sortByKey(false, p.partitions).keys().collect(),
    rich: ctx
      .parallelize(
        Array.from({ length: p.rich }, (_, i) => i),
        2,
      )
      .map((i) => [i % 3, i] as [number, number])
      .partitionBy(2)
      .map(([, i]) => ({
        i,
        at: new Date(Date.UTC(2025, 0, 1) + i),
        big: BigInt(i) * (weights.value.get('w') ?? 0n),
        nan: Number.NaN,
        negZero: -0,
        bytes: Buffer.from([i & 255]),
        tags: new Set([i]),
      }))
      .collect(),
  };
});
