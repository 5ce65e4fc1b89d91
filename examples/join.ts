/**
 * Join: total spent per customer name, joining orders (by customer key) with customers —
 * a shuffle on both sides, then a reduce, then a global sort by amount.
 *
 *   stratus run examples/join.ts --param orders=5000
 */
import { defineJob } from 'stratus';
import { generateOrders, type Order, seededRandom } from './lib/generate.js';

export interface JoinParams {
  orders: number;
  seed?: number;
  /** How many of the biggest customers to return (default 10). */
  top?: number;
}

/** The customers table of the data set for `seed`: [customer key, name] of every customer with an order. */
export function customerTable(orders: readonly Order[], seed: number): [number, string][] {
  const random = seededRandom(seed + 1);
  const customerKeys = [...new Set(orders.map((o) => o.customerKey))].sort((a, b) => a - b);
  return customerKeys.map((key) => [key, `customer-${key}-${Math.floor(random() * 1000)}`]);
}

export default defineJob((ctx, p: JoinParams) => {
  const seed = p.seed ?? 7;
  const { orders, lineItems } = generateOrders(p.orders, seed);
  const customers = ctx.parallelize(customerTable(orders, seed));
  const orderTotals = ctx
    .parallelize(lineItems)
    .map((li) => [li.orderKey, li.extendedPrice] as [number, number])
    .reduceByKey((a, b) => a + b);
  const spentByCustomer = ctx
    .parallelize(orders)
    .map((o) => [o.orderKey, o.customerKey] as [number, number])
    .join(orderTotals)
    .map(([, [customer, total]]) => [customer, total] as [number, number])
    .reduceByKey((a, b) => a + b)
    .join(customers)
    .map(([, [spent, name]]) => [name, spent] as [string, number]);
  return {
    top: spentByCustomer.sortBy(([name, spent]) => [-spent, name]).take(p.top ?? 10),
    customers: spentByCustomer.count(),
  };
});
