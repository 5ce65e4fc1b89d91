/** A DataFrame job whose filter names a column that does not exist: the driver must refuse it before any task. */
import { col, defineJob } from 'stratus';

export default defineJob((ctx) =>
  ctx
    .createDataFrame([{ amount: 1 }], 'amount INT')
    .where(col('amout').gt(0))
    .count(),
);
