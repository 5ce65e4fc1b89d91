/**
 * ctx.sql over temp views of TPC-H-style Parquet and CSV files, for the end-to-end test: a
 * filtered aggregation with HAVING and ORDER BY, a join of both inputs with a CTE, a view
 * defined from a SQL result and used by a DataFrame call — and a Dataset action in the same
 * job, whose executors rebuild the graph (ctx.sql included) from the driver's parses.
 */
import { col, defineJob } from 'stratus';

export default defineJob((ctx, p: { lineitem: string; orders: string; shufflePartitions: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', p.shufflePartitions);
  ctx.read.parquet(p.lineitem).createOrReplaceTempView('lineitem');
  ctx.read
    .csv(p.orders, {
      header: true,
      schema:
        'o_orderkey LONG, o_custkey LONG, o_orderstatus STRING, o_totalprice DECIMAL(15,2), o_orderdate DATE, o_orderpriority STRING, o_shippriority INT',
    })
    .createOrReplaceTempView('orders');
  const flags = ctx.sql(`
    SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, avg(l_discount) AS avg_disc, count(*) AS n
    FROM lineitem
    WHERE l_shipdate <= DATE '1998-09-02' AND l_shipmode IN ('AIR', 'MAIL', 'SHIP')
    GROUP BY l_returnflag, l_linestatus
    HAVING count(*) > 10
    ORDER BY l_returnflag, l_linestatus`);
  const shipping = ctx.sql(`
    WITH open_orders AS (SELECT * FROM orders WHERE o_orderdate < DATE '1995-03-15')
    SELECT l.l_orderkey, o.o_orderdate, sum(l.l_extendedprice * (1 - l.l_discount)) AS revenue
    FROM open_orders o JOIN lineitem l ON o.o_orderkey = l.l_orderkey
    WHERE l.l_shipdate > DATE '1995-03-15'
    GROUP BY l.l_orderkey, o.o_orderdate
    ORDER BY revenue DESC, l_orderkey
    LIMIT 10`);
  ctx
    .sql('SELECT o_orderpriority, o_totalprice FROM orders WHERE o_totalprice > 100000')
    .createOrReplaceTempView('big');
  const priorities = ctx
    .sql('SELECT * FROM big')
    .groupBy('o_orderpriority')
    .count()
    .orderBy(col('o_orderpriority'));
  return {
    flags: flags.collect(),
    shipping: shipping.collect(),
    priorities: priorities.collect(),
    doubled: ctx
      .parallelize([1, 2, 3, 4], 2)
      .map((x) => x * 2)
      .collect(),
  };
});
