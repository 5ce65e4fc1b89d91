/** A builder whose parallelize data differs on executors while keeping its length. */
import { defineJob } from 'stratus';

export default defineJob((ctx) => {
  const onExecutor = process.env.STRATUS_EXECUTOR_ID !== undefined;
  return ctx.parallelize(onExecutor ? [10, 20, 30, 40] : [1, 2, 3, 4], 2).collect();
});
