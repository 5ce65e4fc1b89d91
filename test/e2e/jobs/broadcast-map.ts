/** A broadcast of a Map, which the record codec cannot carry. */
import { defineJob } from 'stratus';

export default defineJob((ctx) => {
  const table = ctx.broadcast(new Map([['a', 1]]));
  return ctx
    .parallelize(['a'], 1)
    .map((k) => table.value.get(k) ?? 0)
    .collect();
});
