/**
 * The sum of issue 12 done right: a sales CSV whose amount column is typed by `types` and
 * checked by a zod schema, summed per store. A row without a number amount fails the job
 * (badRecords 'fail'), naming the file, the byte offset and the column.
 */
import { defineJob } from 'stratus';
import { z } from 'zod';

const Sale = z.object({ store: z.string(), amount: z.number() });

export default defineJob((ctx, p: { input: string }) =>
  ctx
    .csv(p.input, { header: true, types: { amount: 'number' }, schema: Sale, minPartitions: 2 })
    .map((s) => [s.store, s.amount] as [string, number])
    .reduceByKey((a, b) => a + b, 2)
    .collect(),
);
