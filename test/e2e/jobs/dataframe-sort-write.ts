/**
 * Sorts Parquet (or headerless CSV) files by `key` into `partitions` range partitions and writes
 * them as Parquet; `filter` keeps rows with n % 3 = 0.
 */
import { defineJob, expr } from 'stratus';

export default defineJob(
  (ctx, p: { input: string; output: string; partitions: number; filter?: boolean; csv?: boolean }) => {
    ctx.conf.set('spark.sql.shuffle.partitions', p.partitions);
    let df = p.csv
      ? ctx.read.csv(p.input, { schema: 'key STRING, payload STRING, n LONG' })
      : ctx.read.parquet(p.input);
    if (p.filter) df = df.where(expr('n % 3 = 0'));
    return df.orderBy('key').write.mode('overwrite').parquet(p.output);
  },
);
