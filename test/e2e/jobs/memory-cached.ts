/**
 * A cache()d dataset read by several jobs of one run (and, with the same params, of later runs
 * of the same driver session); with `release`, it is unpersisted and counted once more. The
 * accumulator `computed` counts the records its map computed, so a test sees which jobs read
 * the cached partitions and which computed them.
 */
import { defineJob } from 'stratus';
import { countedSquares } from './lib/counted-squares.js';

export interface MemoryCachedParams {
  n: number;
  slices: number;
  release: boolean;
}

/** The cached records in plain JS: [i % 7, i²] for i < n. */
export function memoryCachedReference(n: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => [i % 7, i * i] as [number, number]);
}

export default defineJob((ctx, p: MemoryCachedParams) => {
  const squares = countedSquares(ctx, p.n, p.slices);
  return {
    count: squares.count(),
    sums: squares.reduceByKey((a, b) => a + b, 3).collect(),
    total: squares.values().fold(0, (a, b) => a + b),
    ...(p.release ? { free: squares.unpersist(), again: squares.count() } : {}),
  };
});
