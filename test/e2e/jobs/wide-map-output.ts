/**
 * A repartition whose map outputs are far larger than a small memory budget: n padded
 * strings through an unkeyed shuffle (nothing to combine), then their count and their sum.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number; partitions: number }) => {
  const numbers = ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      2,
    )
    .map((i) => `${i}:${'p'.repeat(100 + (i % 50))}`)
    .repartition(p.partitions)
    .map((s) => Number(s.slice(0, s.indexOf(':'))));
  return { count: numbers.count(), sum: numbers.reduce((a, b) => a + b) };
});
