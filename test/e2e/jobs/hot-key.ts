/** groupByKey over data where one key holds most records, with a small memory budget. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number; partitions: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.n }, (_, i) => i),
      4,
    )
    .map((i) => [i % 3 === 0 ? `k${i % 10}` : 'hot', i] as [string, number])
    .groupByKey(p.partitions)
    .mapValues((vs) => {
      let sum = 0;
      for (const v of vs) sum += v;
      return [vs.length, sum] as [number, number];
    })
    .collect(),
);
