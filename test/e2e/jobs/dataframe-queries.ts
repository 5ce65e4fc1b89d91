/**
 * DataFrame queries over generated TPC-H-style Parquet and CSV files, for the end-to-end test:
 * the pricing summary (filter, groupBy with every split aggregate, orderBy), the revenue
 * forecast (a global aggregate), the shipping priority (a join of both inputs, then groupBy,
 * orderBy and limit), the top orders (orderBy + limit), an orderBy over a range exchange, and the
 * schema answered on the driver.
 */
import { avg, col, count, defineJob, expr, sum } from 'stratus';

export default defineJob((ctx, p: { lineitem: string; orders: string; shufflePartitions: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', p.shufflePartitions);
  const lineitem = ctx.read.parquet(p.lineitem);
  const orders = ctx.read.csv(p.orders, {
    header: true,
    schema:
      'o_orderkey LONG, o_custkey LONG, o_orderstatus STRING, o_totalprice DECIMAL(15,2), o_orderdate DATE, o_orderpriority STRING, o_shippriority INT',
    minPartitions: 3,
  });
  const pricing = lineitem
    .where("l_shipdate <= DATE '1998-09-02'")
    .withColumn('disc_price', expr('l_extendedprice * (1 - l_discount)'))
    .groupBy('l_returnflag', 'l_linestatus')
    .agg(
      sum('l_quantity').as('sum_qty'),
      sum('l_extendedprice').as('sum_base_price'),
      sum('disc_price').as('sum_disc_price'),
      avg('l_quantity').as('avg_qty'),
      avg('l_discount').as('avg_disc'),
      count('*').as('count_order'),
    )
    .orderBy('l_returnflag', 'l_linestatus');
  const revenue = lineitem
    .where(
      col('l_shipdate')
        .geq(expr("DATE '1994-01-01'"))
        .and(col('l_shipdate').lt(expr("DATE '1995-01-01'"))),
    )
    .where(col('l_discount').between(0.05, 0.07).and(col('l_quantity').lt(24)))
    .agg(sum(col('l_extendedprice').multiply(col('l_discount'))).as('revenue'));
  // Shipping priority (TPC-H Q3 without its customer table): a join of both inputs on the order key.
  const shipping = orders
    .where("o_orderdate < DATE '1995-03-15'")
    .withColumnRenamed('o_orderkey', 'orderkey')
    .join(
      lineitem.where("l_shipdate > DATE '1995-03-15'").withColumnRenamed('l_orderkey', 'orderkey'),
      'orderkey',
    )
    .groupBy('orderkey', 'o_orderdate', 'o_shippriority')
    .agg(sum(expr('l_extendedprice * (1 - l_discount)')).as('revenue'))
    .orderBy(col('revenue').desc(), 'o_orderdate', 'orderkey')
    .limit(10);
  return {
    shipping: shipping.collect(),
    pricing: pricing.collect(),
    revenue: revenue.collect(),
    topOrders: orders
      .orderBy(col('o_totalprice').desc(), 'o_orderkey')
      .limit(5)
      .select('o_orderkey', 'o_totalprice')
      .collect(),
    byDate: orders
      .select('o_orderkey', 'o_orderdate')
      .orderBy(col('o_orderdate').desc(), 'o_orderkey')
      .collect(),
    priorities: orders.groupBy('o_orderpriority').count().collect(),
    schema: pricing.printSchema(),
  };
});
