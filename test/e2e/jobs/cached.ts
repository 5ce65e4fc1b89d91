/** A cached dataset used by two actions, with an accumulator counting the records computed. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number; slices: number }) => {
  const seen = ctx.accumulator('computed', 0);
  const squares = ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      p.slices,
    )
    .map((i) => {
      seen.add(1);
      return [i % 7, i * i] as [number, number];
    })
    .reduceByKey((a, b) => a + b, 3)
    .cache();
  return { total: squares.values().reduce((a, b) => a + b), keys: squares.keys().collect() };
});
