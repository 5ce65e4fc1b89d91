/**
 * Sums the amount per city of a CSV with a header, skipping bad rows; saves the totals. The
 * rows are typed by a zod schema (after `types` converts amount): a row without a number
 * amount is a bad record, skipped and counted, never a string summed into the total.
 */
import { defineJob } from 'stratus';
import { z } from 'zod';

const Sale = z.object({ city: z.string(), amount: z.number() });

export default defineJob((ctx, p: { input: string; output?: string }) => {
  const totals = ctx
    .csv(p.input, {
      header: true,
      types: { amount: 'number' },
      schema: Sale,
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
