/**
 * Makes two dataset handles: `plain`, records as they are (no partitioner), and `sums`, sums by key
 * hash-partitioned into `partitions` (its partitioner travels with the handle).
 */
import { defineJob } from 'stratus';

export interface HandleMakeParams {
  records: [string, number][];
  slices: number;
  partitions: number;
}

export default defineJob((ctx, p: HandleMakeParams) => {
  const records = ctx.parallelize(p.records, p.slices);
  return {
    plain: records.map(([k, v]) => ({ key: k, value: v, big: v > 50 })).handle(),
    sums: records.reduceByKey((a, b) => a + b, p.partitions).handle(),
  };
});
