/**
 * The SQL text of the four TPC-H queries that examples/tpch.ts writes with the DataFrame API:
 * Q1 pricing summary, Q3 shipping priority, Q5 local supplier volume and Q6 forecasting revenue
 * change, with the spec's substitution parameters' validation values. Two changes from the spec
 * make the answer fully determined and Spark's: Q3 orders ties by `l_orderkey` too (the spec
 * leaves ties of revenue and date free, and LIMIT 10 would then keep either), and every ORDER BY
 * names Spark's null order (ascending nulls first, descending nulls last), so a single DuckDB
 * process running this text is the reference a distributed run is compared with, nulls included.
 */

/** The queries, by TPC-H number. */
export type TpchQuery = 'q1' | 'q3' | 'q5' | 'q6';

/** Every query, in TPC-H order. */
export const TPCH_QUERIES: readonly TpchQuery[] = ['q1', 'q3', 'q5', 'q6'];

/** The relations a query reads: a table name → SQL that scans it (e.g. `read_parquet('…')`). */
export type TpchRelations = Record<
  'region' | 'nation' | 'supplier' | 'customer' | 'orders' | 'lineitem',
  string
>;

/** The SQL text of `query` over `from` (each table's scan). */
export function tpchSql(query: TpchQuery, from: TpchRelations): string {
  switch (query) {
    case 'q1':
      return `SELECT l_returnflag, l_linestatus,
  sum(l_quantity) AS sum_qty,
  sum(l_extendedprice) AS sum_base_price,
  sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
  sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
  avg(l_quantity) AS avg_qty,
  avg(l_extendedprice) AS avg_price,
  avg(l_discount) AS avg_disc,
  count(*) AS count_order
FROM ${from.lineitem}
WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL 90 DAY
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag NULLS FIRST, l_linestatus NULLS FIRST`;
    case 'q3':
      return `SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue, o_orderdate, o_shippriority
FROM ${from.customer} c, ${from.orders} o, ${from.lineitem} l
WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
  AND o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
GROUP BY l_orderkey, o_orderdate, o_shippriority
ORDER BY revenue DESC NULLS LAST, o_orderdate NULLS FIRST, l_orderkey NULLS FIRST
LIMIT 10`;
    case 'q5':
      return `SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
FROM ${from.customer} c, ${from.orders} o, ${from.lineitem} l, ${from.supplier} s, ${from.nation} n, ${from.region} r
WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey
  AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey
  AND r_name = 'ASIA' AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1994-01-01' + INTERVAL 1 YEAR
GROUP BY n_name
ORDER BY revenue DESC NULLS LAST`;
    case 'q6':
      return `SELECT sum(l_extendedprice * l_discount) AS revenue
FROM ${from.lineitem}
WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1994-01-01' + INTERVAL 1 YEAR
  AND l_discount BETWEEN 0.06 - 0.01 AND 0.06 + 0.01 AND l_quantity < 24`;
  }
}
