/** A builder whose graph depends on the clock: executors rebuild a different graph. */
import { defineJob } from 'stratus';

export default defineJob((ctx) => {
  let data = ctx.parallelize([1, 2, 3, 4], 2);
  const extra = process.env.STRATUS_EXECUTOR_ID === undefined ? 0 : 1;
  for (let i = 0; i < extra; i++) data = data.map((x) => x + 1);
  return data.collect();
});
