/**
 * DataFrames over Parquet: TPC-H's pricing summary report (query 1) and its revenue forecast
 * (query 6) over a `lineitem` table, with the schema, the plan and Spark's table printout.
 * Each groupBy is a partial aggregation in the map tasks, a hash exchange through Blob Storage
 * and a final aggregation; the orderBy is a range exchange whose bounds a sampling job finds.
 * Every task runs its piece of the query in DuckDB.
 *
 *   stratus run examples/pricing-summary-driver.ts            (generates the Parquet file first)
 *   stratus run examples/pricing-summary.ts --param lineitem=path/to/lineitem*.parquet
 */
import { avg, col, count, defineJob, expr, sum } from 'stratus';

export interface PricingSummaryParams {
  /** Parquet files of a lineitem table (a path, folder, glob or az:// address). */
  lineitem: string;
  /** Ship date cut-off of the pricing summary (default TPC-H's 1998-09-02). */
  shippedBy?: string;
}

export default defineJob((ctx, p: PricingSummaryParams) => {
  const lineitem = ctx.read.parquet(p.lineitem);
  const summary = lineitem
    .where(col('l_shipdate').leq(expr(`DATE '${p.shippedBy ?? '1998-09-02'}'`)))
    .withColumn('disc_price', expr('l_extendedprice * (1 - l_discount)'))
    .withColumn('charge', expr('l_extendedprice * (1 - l_discount) * (1 + l_tax)'))
    .groupBy('l_returnflag', 'l_linestatus')
    .agg(
      sum('l_quantity').as('sum_qty'),
      sum('l_extendedprice').as('sum_base_price'),
      sum('disc_price').as('sum_disc_price'),
      sum('charge').as('sum_charge'),
      avg('l_quantity').as('avg_qty'),
      avg('l_extendedprice').as('avg_price'),
      avg('l_discount').as('avg_disc'),
      count('*').as('count_order'),
    )
    .orderBy('l_returnflag', 'l_linestatus');
  const revenue = lineitem
    .where("l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'")
    .where(col('l_discount').between(0.05, 0.07).and(col('l_quantity').lt(24)))
    .agg(sum(col('l_extendedprice').multiply(col('l_discount'))).as('revenue'));
  return {
    schema: lineitem.printSchema(),
    plan: summary.explain(),
    pricingSummary: summary.show(),
    revenue: revenue.first(),
    lineItems: lineitem.count(),
  };
});
