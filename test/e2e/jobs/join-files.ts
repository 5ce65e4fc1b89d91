/**
 * A join as a Spark user writes one over two CSV files: orders (order, customer, cents) with
 * customers (id, name). Totals per customer name through an inner join, and the orders whose
 * customer is unknown through a left outer join. Amounts are integer cents, so sums are exact.
 * The rows are typed by their column types: a number column's empty field is null, so the
 * keys may be null (a valid key) and an empty amount counts as 0.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { customers: string; orders: string; partitions?: number }) => {
  const customers = ctx
    .csv(p.customers, { header: true, types: { id: 'number', name: 'string' } })
    .map((c) => [c.id, c.name] as [number | null, string]);
  const orders = ctx
    .csv(p.orders, { header: true, types: { order: 'number', customer: 'number', cents: 'number' } })
    .map((o) => [o.customer, o.cents ?? 0] as [number | null, number]);
  return {
    totals: orders
      .join(customers, p.partitions)
      .map(([, [cents, name]]) => [name, cents] as [string, number])
      .reduceByKey((a, b) => a + b)
      .sortByKey(true, 1)
      .collect(),
    unknownCustomerOrders: orders
      .leftOuterJoin(customers, p.partitions)
      .filter(([, [, name]]) => name === null)
      .count(),
  };
});
