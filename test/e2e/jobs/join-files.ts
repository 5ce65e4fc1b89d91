/**
 * A join as a Spark user writes one over two CSV files: orders (order, customer, cents) with
 * customers (id, name). Totals per customer name through an inner join, and the orders whose
 * customer is unknown through a left outer join. Amounts are integer cents, so sums are exact.
 */
import { defineJob } from 'stratus';

interface Customer {
  id: number;
  name: string;
}
interface Order {
  order: number;
  customer: number;
  cents: number;
}

export default defineJob((ctx, p: { customers: string; orders: string; partitions?: number }) => {
  const customers = ctx
    .csv<Customer>(p.customers, { header: true, types: { id: 'number' } })
    .map((c) => [c.id, c.name] as [number, string]);
  const orders = ctx
    .csv<Order>(p.orders, { header: true, types: { order: 'number', customer: 'number', cents: 'number' } })
    .map((o) => [o.customer, o.cents] as [number, number]);
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
