/** A ctx.sql query naming a view that does not exist, for the end-to-end test of driver-side SQL errors. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { lineitem: string }) => {
  ctx.read.parquet(p.lineitem).createOrReplaceTempView('lineitem');
  return ctx.sql('SELECT * FROM lineitems').count();
});
