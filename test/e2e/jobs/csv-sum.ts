/** Sums the amount per city of a CSV with a header, skipping bad rows; saves the totals. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string; output?: string }) => {
  const totals = ctx
    .csv<{ city: string; amount: number }>(p.input, {
      header: true,
      types: { amount: 'number' },
      badRecords: 'skip',
      minPartitions: 3,
    })
    .map((row) => [row.city, row.amount] as [string, number])
    .reduceByKey((a, b) => a + b, 2)
    .sortByKey(true, 1);
  return p.output
    ? { saved: totals.map(([c, n]) => `${c},${n}`).saveAsTextFile(p.output), totals: totals.collect() }
    : { totals: totals.collect() };
});
