/**
 * A broadcast whose value depends on where the builder runs (executors have
 * STRATUS_EXECUTOR_ID, the driver does not): tasks must see the driver's value.
 */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number }) => {
  const onExecutor = process.env.STRATUS_EXECUTOR_ID !== undefined;
  const origin = ctx.broadcast({ builtOn: onExecutor ? 'executor' : 'driver', factor: onExecutor ? -1 : 3 });
  const numbers = ctx.parallelize(
    Array.from({ length: p.n }, (_, i) => i),
    3,
  );
  return {
    scaled: numbers.map((i) => i * origin.value.factor).collect(),
    seenBy: numbers
      .map(() => origin.value.builtOn)
      .distinct(2)
      .collect(),
  };
});
