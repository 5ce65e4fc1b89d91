/**
 * A fact table joined to a few columns of a wide Parquet dimension, both in Blob Storage, for the
 * test that the dimension is estimated by the columns it reads: `threshold` is
 * spark.sql.autoBroadcastJoinThreshold (-1: shuffled).
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { fact: string; wide: string; columns: string[]; threshold: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', 2);
  ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', p.threshold);
  const dimension = ctx.read.parquet(p.wide).select(...p.columns);
  const joined = ctx.read.parquet(p.fact).join(dimension, 'k', 'left');
  return { rows: joined.collect(), plan: joined.explain() };
});
