/** Writes a filtered, projected DataFrame as Parquet part files (`mode` from params). */
import { col, defineJob } from 'stratus';

export default defineJob((ctx, p: { lineitem: string; output: string; mode: string }) =>
  ctx.read
    .parquet(p.lineitem)
    .where(col('l_quantity').gt(25))
    .select('l_orderkey', 'l_linenumber', 'l_quantity', 'l_shipdate')
    .write.mode(p.mode)
    .parquet(p.output),
);
