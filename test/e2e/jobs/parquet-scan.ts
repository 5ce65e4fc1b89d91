/**
 * Reads Parquet files with the filter `p.filter` names (pushed down to the driver's row-group
 * statistics) and returns the matching rows, their count and the plan; `minPartitions` sets the
 * split size, `mergeSchema` Spark's option.
 */
import { type Column, col, defineJob, expr, lit } from 'stratus';

const FILTERS: Record<string, () => Column | undefined> = {
  none: () => undefined,
  // One row group of many: ids are written in order.
  oneGroup: () => col('id').geq(4100).and(col('id').lt(4200)),
  range: () => col('id').between(15000, 21000).or(col('id').isin(3, 29999)),
  date: () => col('d').geq(expr("DATE '2021-06-01'")),
  isNull: () => col('n').isNull(),
  notNull: () => col('n').isNotNull().and(col('s').equalTo('s7777')),
  // NaN is greater than every number: a float max never rules it out.
  nan: () => col('v').gt(1e9),
  floatMin: () => col('v').lt(100),
  negated: () => col('id').lt(25000).not(),
  nothing: () => col('id').lt(lit(-1)),
};

export default defineJob(
  (ctx, p: { input: string; filter: string; minPartitions?: number; mergeSchema?: boolean }) => {
    let df = ctx.read.parquet(p.input, {
      ...(p.minPartitions !== undefined ? { minPartitions: p.minPartitions } : {}),
      ...(p.mergeSchema ? { mergeSchema: true } : {}),
    });
    const filter = FILTERS[p.filter]?.();
    if (filter) df = df.where(filter);
    // ids reads one column: its tasks fetch only that column's chunks.
    return { rows: df.collect(), count: df.count(), ids: df.select('id').count(), plan: df.explain() };
  },
);
