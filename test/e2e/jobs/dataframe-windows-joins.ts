/**
 * Window functions, a join on a condition and a broadcast join over generated TPC-H-style files,
 * for the end-to-end test: a per-order ranking and running total of line items (a hash exchange
 * on the order key, then the window), orders joined to their line items on a condition with a
 * residual (both sides shuffled), and line items joined to a small broadcast table of priorities
 * (the line items not exchanged), each with its explain.
 */
import { broadcast, col, defineJob, row_number, sum, Window } from 'stratus';

export default defineJob((ctx, p: { lineitem: string; orders: string; shufflePartitions: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', p.shufflePartitions);
  ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', -1); // only the hint broadcasts here
  const lineitem = ctx.read.parquet(p.lineitem);
  const orders = ctx.read.csv(p.orders, {
    header: true,
    schema:
      'o_orderkey LONG, o_custkey LONG, o_orderstatus STRING, o_totalprice DECIMAL(15,2), o_orderdate DATE, o_orderpriority STRING, o_shippriority INT',
    minPartitions: 3,
  });
  const byOrder = Window.partitionBy('l_orderkey').orderBy(col('l_extendedprice').desc(), 'l_linenumber');
  const ranked = lineitem.select(
    'l_orderkey',
    'l_linenumber',
    row_number().over(byOrder).as('rn'),
    sum('l_quantity')
      .over(byOrder.rowsBetween(Window.unboundedPreceding, Window.currentRow))
      .as('running_qty'),
  );
  const late = orders
    .alias('o')
    .join(
      lineitem.alias('l'),
      col('o.o_orderkey')
        .equalTo(col('l.l_orderkey'))
        .and(col('l.l_shipdate').gt(col('o.o_orderdate'))),
      'left',
    )
    .groupBy('o_orderstatus')
    .count();
  const flags = ctx.createDataFrame(
    [
      { l_returnflag: 'A', label: 'accepted' },
      { l_returnflag: 'R', label: 'returned' },
    ],
    'l_returnflag STRING, label STRING',
    2,
  );
  const labelled = lineitem
    .join(broadcast(flags), 'l_returnflag', 'left')
    .groupBy('label')
    .agg(sum('l_quantity').as('qty'));
  return {
    ranked: ranked.collect(),
    late: late.collect(),
    labelled: labelled.collect(),
    labelledPlan: labelled.explain(),
    rankedPlan: ranked.explain(),
  };
});
