/**
 * Sales per store from a CSV with a header, typed by a schema: `types` converts the amount
 * column, the zod schema checks every row, and the dataset's element type is the schema's
 * output, `{ store: string; amount: number }`. Rows that fail (`n/a`, an empty amount) are
 * bad records: skipped and counted in `badRecords:<input>` by default, or failing the job,
 * naming file, byte offset, line and column, with `--param badRecords=fail`.
 *
 *   stratus run examples/sales.ts --param input=examples/data/sales.csv
 */
import { defineJob } from 'stratus';
import { z } from 'zod';

/** One sale, as each row must be once `types` has converted its amount. */
export const Sale = z.object({ store: z.string(), amount: z.number().nonnegative() });

export interface SalesParams {
  /** A CSV file, glob or az:// address with columns store and amount (and any others). */
  input: string;
  /** What to do with a row that fails the schema (default 'skip'). */
  badRecords?: 'fail' | 'skip';
}

export default defineJob((ctx, p: SalesParams) =>
  ctx
    .csv(p.input, {
      header: true,
      types: { amount: 'number' },
      schema: Sale,
      badRecords: p.badRecords ?? 'skip',
    })
    // Sum whole cents, so totals are exact whatever order partitions are combined in.
    .map((s) => [s.store, Math.round(s.amount * 100)] as [string, number])
    .reduceByKey((a, b) => a + b)
    .mapValues((cents) => cents / 100)
    .sortByKey(true, 1)
    .collect(),
);
