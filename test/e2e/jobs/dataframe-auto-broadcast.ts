/**
 * A join of a small Parquet dimension to a larger fact table with no hint, for the end-to-end
 * test: the driver lists both scans, finds the dimension under spark.sql.autoBroadcastJoinThreshold
 * (the default 10 MB) and broadcasts it, so the line items are not exchanged for the join.
 */
import { defineJob, sum } from 'stratus';

export default defineJob((ctx, p: { lineitem: string; flags: string; shufflePartitions: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', p.shufflePartitions);
  const lineitem = ctx.read.parquet(p.lineitem);
  const flags = ctx.read.parquet(p.flags);
  const labelled = lineitem
    .join(flags, 'l_returnflag', 'left')
    .groupBy('label')
    .agg(sum('l_quantity').as('qty'));
  return { labelled: labelled.collect(), plan: labelled.explain() };
});
