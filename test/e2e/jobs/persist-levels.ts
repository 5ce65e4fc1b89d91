/**
 * A dataset persisted at `level`, used by two actions, released, then used again. The
 * accumulator `computed` counts the records its map computed, so a test sees which jobs read
 * the stored partitions and which recomputed them. The reduceByKey upstream gives the
 * persisted dataset a shuffle-map stage to skip.
 */
import { defineJob } from 'stratus';

export type Level = 'memory' | 'disk' | 'blob';

export interface PersistLevelsParams {
  n: number;
  slices: number;
  level: Level;
}

/** The persisted dataset's records, in plain JS: sums of i² by i % 7, then + 1. */
export function persistLevelsReference(p: Pick<PersistLevelsParams, 'n'>): Map<number, number> {
  const sums = new Map<number, number>();
  for (let i = 0; i < p.n; i++) sums.set(i % 7, (sums.get(i % 7) ?? 0) + i * i);
  return new Map([...sums].map(([k, v]) => [k, v + 1]));
}

export default defineJob((ctx, p: PersistLevelsParams) => {
  const computed = ctx.accumulator('computed', 0);
  const sums = ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => [i % 7, i * i] as [number, number]),
      p.slices,
    )
    .reduceByKey((a, b) => a + b, 3)
    .mapValues((v) => {
      computed.add(1);
      return v + 1;
    })
    .persist(p.level);
  return {
    total: sums.values().fold(0, (a, b) => a + b),
    pairs: sums.collect(),
    free: sums.unpersist(),
    again: sums.count(),
  };
});
