/** One shuffle of M map tasks into R reduce tasks, every segment non-empty (request counting). */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { maps: number; reduces: number; records: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.records }, (_, i) => i),
      p.maps,
    )
    .map((i) => [i % 4096, 1] as [number, number])
    .reduceByKey((a, b) => a + b, p.reduces)
    .count(),
);
