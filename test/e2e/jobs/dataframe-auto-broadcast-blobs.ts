/**
 * A small Parquet dimension joined to a larger fact table, both in Blob Storage, for the test that
 * counts storage requests: `threshold` is spark.sql.autoBroadcastJoinThreshold (-1: shuffled).
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { fact: string; dim: string; threshold: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', 2);
  ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', p.threshold);
  const joined = ctx.read.parquet(p.fact).join(ctx.read.parquet(p.dim), 'dim', 'left');
  return { count: joined.count(), plan: joined.explain() };
});
