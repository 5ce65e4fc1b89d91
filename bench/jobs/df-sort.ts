/** The DataFrame sort bench's job: every record of the Parquet input ordered by its key, written as Parquet. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { input: string; output: string; partitions: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', p.partitions);
  return ctx.read.parquet(p.input).orderBy('key').write.mode('overwrite').parquet(p.output);
});
