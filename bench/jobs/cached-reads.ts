/**
 * A cache()d dataset of `records` records (~130 bytes of JSON each) in `partitions` partitions,
 * computed by the first job and read by `reads` more jobs, each a count: the later jobs do
 * little but read the cached partitions, so their time shows what a read costs.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { records: number; partitions: number; reads: number }) => {
  const rows = ctx
    .parallelize(
      Array.from({ length: p.records }, (_, i) => i),
      p.partitions,
    )
    .map((i) => ({ id: i, text: `${'x'.repeat(96)}-${i}`, bucket: i % 97 }))
    .cache();
  const actions: Record<string, ReturnType<typeof rows.count>> = { compute: rows.count() };
  for (let r = 0; r < p.reads; r++) actions[`read${r}`] = rows.count();
  return actions;
});
