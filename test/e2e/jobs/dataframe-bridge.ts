/**
 * The Dataset ⇄ DataFrame bridge on executors: Parquet reaches the RDD API through `df.rdd()`,
 * a reduceByKey counts lines and sums quantities per order, `toDF` makes a DataFrame of that, and
 * SQL joins it with the Parquet scan again.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { lineitem: string; shufflePartitions: number }) => {
  ctx.conf.set('spark.sql.shuffle.partitions', p.shufflePartitions);
  // Every join shuffled: the stage reading toDF's rows then reads nothing else (the test counts its
  // bytes against what the Dataset side wrote), where a broadcast side would be read there too.
  ctx.conf.set('spark.sql.autoBroadcastJoinThreshold', -1);
  const lineitem = ctx.read.parquet(p.lineitem);
  lineitem.createOrReplaceTempView('lineitem');
  const rows = lineitem.rdd();
  rows
    .map((r) => [r.l_orderkey as number, [1, r.l_quantity as number]] as [number, [number, number]])
    .reduceByKey(([n, q], [m, r]): [number, number] => [n + m, q + r], p.shufflePartitions)
    .map(([orderkey, [lines, quantity]]) => ({ orderkey, lines, quantity: Number(quantity.toFixed(2)) }))
    .toDF('orderkey LONG, lines INT, quantity DECIMAL(15,2)')
    .createOrReplaceTempView('per_order');
  const joined = ctx.sql(`
    SELECT l.l_returnflag, count(*) AS n, sum(q.lines) AS lines, sum(q.quantity) AS quantity
    FROM (SELECT DISTINCT l_orderkey, l_returnflag FROM lineitem) l
    JOIN per_order q ON l.l_orderkey = q.orderkey
    GROUP BY l.l_returnflag ORDER BY l.l_returnflag`);
  return {
    joined: joined.collect(),
    partitions: rows
      .glom()
      .map((part) => part.length)
      .collect(),
    plan: joined.explain(),
  };
});
