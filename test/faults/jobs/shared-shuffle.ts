// Two actions over one shuffle: the second job reuses the first one's map outputs (its map stage
// is skipped), which is where a map output that vanished in between is found missing.
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number }) => {
  const sums = ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      4,
    )
    .map((x) => [x % 7, x] as [number, number])
    .reduceByKey((a, b) => a + b, 3);
  return { a: sums.count(), b: sums.collect() };
});
