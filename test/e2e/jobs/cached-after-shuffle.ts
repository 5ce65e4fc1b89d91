/**
 * A dataset stored in blobs right after a shuffle — cache() or, as the baseline that lists no
 * stage above it, checkpoint() — used by two actions. The accumulator `computed` counts the
 * records the map above the shuffle computed, so a test sees which jobs ran the stage above.
 */
import { defineJob } from 'stratus';

export interface CachedAfterShuffleParams {
  n: number;
  slices: number;
  mode: 'cache' | 'checkpoint';
}

/** The stored dataset's records, in plain JS: sums of i² by i % 7, then + 1. */
export function cachedAfterShuffleReference(n: number): Map<number, number> {
  const sums = new Map<number, number>();
  for (let i = 0; i < n; i++) sums.set(i % 7, (sums.get(i % 7) ?? 0) + i * i);
  return new Map([...sums].map(([k, v]) => [k, v + 1]));
}

export default defineJob((ctx, p: CachedAfterShuffleParams) => {
  const computed = ctx.accumulator('computed', 0);
  const sums = ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      p.slices,
    )
    .map((i) => {
      computed.add(1);
      return [i % 7, i * i] as [number, number];
    })
    .reduceByKey((a, b) => a + b, 3)
    .mapValues((v) => v + 1);
  const stored = p.mode === 'cache' ? sums.cache() : sums.checkpoint();
  return { total: stored.values().fold(0, (a, b) => a + b), pairs: stored.collect() };
});
