/**
 * A broadcast (map-side) join: the orders' statuses are broadcast as a lookup table and each
 * line item is mapped to [status, revenue] with it, then summed by status — no shuffle of orders.
 */
import { defineJob } from 'stratus';
import { generateOrders } from '../../../examples/lib/generate.js';

export default defineJob((ctx, p: { orders: number; seed: number; partitions: number }) => {
  const data = generateOrders(p.orders, p.seed);
  const statusOf = ctx.broadcast(Object.fromEntries(data.orders.map((o) => [String(o.orderKey), o.status])));
  return ctx
    .parallelize(data.lineItems, p.partitions)
    .map(
      (li) =>
        [statusOf.value[String(li.orderKey)]!, li.extendedPrice * (100 - li.discount)] as [string, number],
    )
    .reduceByKey((a, b) => a + b, 2)
    .collect();
});
