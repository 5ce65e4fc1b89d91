/**
 * Four TPC-H queries written with the DataFrame API — Q1 pricing summary, Q3 shipping priority,
 * Q5 local supplier volume, Q6 forecasting revenue change — over Parquet tables such as
 * examples/lib/tpch-gen.ts writes. examples/lib/tpch-sql.ts has the same queries as SQL text.
 * Each query becomes jobs of stages whose tasks run their part of the query in DuckDB; joins are
 * shuffled hash joins through Blob Storage, aggregations partial in the map tasks.
 *
 * Joins take same-named columns (`df.join(other, 'key')`), so a join of `o_custkey` with
 * `c_custkey` first renames both to `custkey` with `withColumnRenamed`; a join condition would
 * say it directly (docs/dataframes.md lists condition joins as not supported yet).
 *
 *   stratus run examples/tpch-driver.ts --param scale=0.05          (generates the tables first)
 *   stratus run examples/tpch.ts --param dir=/path/to/tables --param queries=q3,q5
 */
import { avg, col, count, type DataFrame, defineJob, expr, sum } from 'stratus';

/** Params of the TPC-H job. */
export interface TpchParams {
  /** Folder with one sub-folder of Parquet files per table (`<dir>/lineitem/*.parquet`, …). */
  dir: string;
  /** Which queries to run, comma-separated (default all: `q1,q3,q5,q6`). */
  queries?: string;
  /** `spark.sql.shuffle.partitions` (default: the total slots). */
  shufflePartitions?: number;
  /** `spark.sql.autoBroadcastJoinThreshold` (default 10 MB; -1: every join shuffled). */
  autoBroadcastJoinThreshold?: number | string;
}

const discounted = 'l_extendedprice * (1 - l_discount)';

export default defineJob((ctx, p: TpchParams) => {
  if (p.shufflePartitions !== undefined) ctx.conf.set('spark.sql.shuffle.partitions', p.shufflePartitions);
  if (p.autoBroadcastJoinThreshold !== undefined)
    ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', p.autoBroadcastJoinThreshold);
  const table = (name: string): DataFrame => ctx.read.parquet(`${p.dir}/${name}/*.parquet`);
  const wanted = new Set((p.queries ?? 'q1,q3,q5,q6').split(',').map((q) => q.trim()));

  // Q1: pricing summary report.
  const q1 = () =>
    table('lineitem')
      .where(col('l_shipdate').leq(expr("DATE '1998-12-01' - INTERVAL 90 DAY")))
      .groupBy('l_returnflag', 'l_linestatus')
      .agg(
        sum('l_quantity').as('sum_qty'),
        sum('l_extendedprice').as('sum_base_price'),
        sum(expr(discounted)).as('sum_disc_price'),
        sum(expr(`${discounted} * (1 + l_tax)`)).as('sum_charge'),
        avg('l_quantity').as('avg_qty'),
        avg('l_extendedprice').as('avg_price'),
        avg('l_discount').as('avg_disc'),
        count('*').as('count_order'),
      )
      .orderBy('l_returnflag', 'l_linestatus');

  // Q3: shipping priority — customer ⋈ orders on the customer key, ⋈ lineitem on the order key.
  const q3 = () => {
    const customers = table('customer')
      .where(col('c_mktsegment').equalTo('BUILDING'))
      .select(col('c_custkey').as('custkey'));
    const orders = table('orders')
      .where(col('o_orderdate').lt(expr("DATE '1995-03-15'")))
      .select(
        col('o_custkey').as('custkey'),
        col('o_orderkey').as('l_orderkey'),
        col('o_orderdate'),
        col('o_shippriority'),
      );
    const lines = table('lineitem')
      .where(col('l_shipdate').gt(expr("DATE '1995-03-15'")))
      .select('l_orderkey', 'l_extendedprice', 'l_discount');
    return customers
      .join(orders, 'custkey')
      .join(lines, 'l_orderkey')
      .groupBy('l_orderkey', 'o_orderdate', 'o_shippriority')
      .agg(sum(expr(discounted)).as('revenue'))
      .select('l_orderkey', 'revenue', 'o_orderdate', 'o_shippriority')
      .orderBy(col('revenue').desc(), 'o_orderdate', 'l_orderkey')
      .limit(10);
  };

  // Q5: local supplier volume — customers and suppliers of the same nation, in Asia, in 1994.
  const q5 = () => {
    const asia = table('region')
      .where(col('r_name').equalTo('ASIA'))
      .select(col('r_regionkey').as('regionkey'));
    const nations = table('nation')
      .withColumnRenamed('n_regionkey', 'regionkey')
      .join(asia, 'regionkey')
      .select(col('n_nationkey').as('nationkey'), col('n_name'));
    const customers = table('customer').select(
      col('c_custkey').as('custkey'),
      col('c_nationkey').as('nationkey'),
    );
    const orders = table('orders')
      .where("o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1994-01-01' + INTERVAL 1 YEAR")
      .select(col('o_custkey').as('custkey'), col('o_orderkey').as('orderkey'));
    const lines = table('lineitem').select(
      col('l_orderkey').as('orderkey'),
      col('l_suppkey').as('suppkey'),
      'l_extendedprice',
      'l_discount',
    );
    const suppliers = table('supplier').select(
      col('s_suppkey').as('suppkey'),
      col('s_nationkey').as('nationkey'),
    );
    return customers
      .join(orders, 'custkey')
      .join(lines, 'orderkey')
      .join(suppliers, ['suppkey', 'nationkey']) // c_nationkey = s_nationkey
      .join(nations, 'nationkey')
      .groupBy('n_name')
      .agg(sum(expr(discounted)).as('revenue'))
      .orderBy(col('revenue').desc());
  };

  // Q6: forecasting revenue change.
  const q6 = () =>
    table('lineitem')
      .where("l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1994-01-01' + INTERVAL 1 YEAR")
      .where(
        col('l_discount').between(expr('0.06 - 0.01'), expr('0.06 + 0.01')).and(col('l_quantity').lt(24)),
      )
      .agg(sum(col('l_extendedprice').multiply(col('l_discount'))).as('revenue'));

  const queries = { q1, q3, q5, q6 };
  const results: Partial<Record<keyof typeof queries, ReturnType<DataFrame['collect']>>> = {};
  for (const [name, query] of Object.entries(queries) as [keyof typeof queries, () => DataFrame][]) {
    if (wanted.has(name)) results[name] = query().collect();
  }
  return results;
});
