/**
 * A 1-stage job over a small input for the job-latency bench: `records` numbers in `partitions`
 * partitions, doubled and summed — one result stage, no shuffle, next to no work per task, so
 * what the run costs is the machinery around it (bundle, descriptor, queue, pick-up, events).
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { records: number; partitions: number }) =>
  ctx
    .parallelize(
      Array.from({ length: p.records }, (_, i) => i),
      p.partitions,
    )
    .map((i) => i * 2)
    .reduce((a, b) => a + b),
);
