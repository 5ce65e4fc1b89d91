/** A broadcast holding a class instance, which the record codec cannot carry. */
import { defineJob } from 'stratus';

class Table {
  rows = new Map([['a', 1]]);
}

export default defineJob((ctx) => {
  const table = ctx.broadcast({ table: new Table() });
  return ctx
    .parallelize(['a'], 1)
    .map((k) => table.value.table.rows.get(k) ?? 0)
    .collect();
});
