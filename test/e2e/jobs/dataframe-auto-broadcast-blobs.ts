/**
 * A small Parquet dimension joined to a larger fact table, both in Blob Storage, for the test that
 * counts storage requests: `threshold` is spark.sql.autoBroadcastJoinThreshold (-1: shuffled);
 * `dimFormat` 'json' reads the dimension as JSON Lines (its schema sampled from its first split).
 */
import { defineJob } from 'stratus';

export default defineJob(
  (ctx, p: { fact: string; dim: string; threshold: number; dimFormat?: 'parquet' | 'json' }) => {
    ctx.conf.set('spark.sql.shuffle.partitions', 2);
    ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', p.threshold);
    const dim = p.dimFormat === 'json' ? ctx.read.json(p.dim) : ctx.read.parquet(p.dim);
    const joined = ctx.read.parquet(p.fact).join(dim, 'dim', 'left');
    return { count: joined.count(), plan: joined.explain() };
  },
);
