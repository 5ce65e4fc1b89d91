/**
 * An aggregation over generated order / line-item data, in the spirit of TPC-H Q1 and Q13:
 * a pricing summary per return flag (map-side combined reduceByKey), and revenue per order
 * status through a join of line items with their orders.
 *
 *   stratus run examples/orders.ts --param orders=20000
 */
import { defineJob } from 'stratus';
import { generateOrders } from './lib/generate.js';

export interface OrdersParams {
  /** Number of orders to generate (line items: 1–7 per order). */
  orders: number;
  seed?: number;
  /** Partitions of the generated data and of every shuffle (default: the total slots). */
  partitions?: number;
}

/** Per return flag: [count, sum quantity, sum price, sum discounted price (cents × 100)]. */
export type PricingRow = [string, [number, number, number, number]];

export default defineJob((ctx, p: OrdersParams) => {
  const { orders, lineItems } = generateOrders(p.orders, p.seed ?? 1);
  const items = ctx.parallelize(lineItems, p.partitions);
  const pricing = items
    .map(
      (li) =>
        [
          li.returnFlag,
          [1, li.quantity, li.extendedPrice, li.extendedPrice * (100 - li.discount)],
        ] as PricingRow,
    )
    .reduceByKey((a, b): PricingRow[1] => [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]], p.partitions)
    .sortByKey(true, 1);
  const orderStatus = ctx
    .parallelize(orders, p.partitions)
    .map((o) => [o.orderKey, o.status] as [number, string]);
  const revenueByStatus = items
    .map((li) => [li.orderKey, li.extendedPrice * (100 - li.discount)] as [number, number])
    .join(orderStatus, p.partitions)
    .map(([, [revenue, status]]) => [status, revenue] as [string, number])
    .reduceByKey((a, b) => a + b)
    .sortByKey(true, 1);
  return { pricing: pricing.collect(), revenueByStatus: revenueByStatus.collect(), lineItems: items.count() };
});
