/** The cold-start bench's job: one small DataFrame aggregation, one task per stage. */
import { count, defineJob, sum } from 'stratus';

export default defineJob((ctx) => {
  ctx.conf.set('spark.sql.shuffle.partitions', 1);
  return ctx
    .createDataFrame(
      Array.from({ length: 100 }, (_, i) => ({ k: i % 3, v: i })),
      'k INT, v LONG',
      1,
    )
    .groupBy('k')
    .agg(sum('v').as('total'), count('*').as('n'))
    .collect();
});
