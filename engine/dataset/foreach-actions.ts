/**
 * foreach and foreachPartition, as Spark's: run the user's side effect on the executors, in the
 * task of each partition, and return nothing to the driver (accumulators are how a side effect
 * reports back). A function that returns a promise is awaited before the task goes on, so an
 * asynchronous write to another system finishes inside its task (and a failure fails the task,
 * which is retried like any other). Side effects run once per task attempt: a retried or
 * speculative attempt runs them again, as in Spark; accumulator updates count once.
 *
 * Partial: null.
 */
import type { ActionImpl } from './actions.js';

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** foreach(f): `f` on every record, in partition order within a task. */
export function foreachImpl(f: (record: unknown) => unknown): ActionImpl {
  return {
    async partial(batches) {
      for await (const batch of batches) {
        for (const record of batch) {
          const done = f(record);
          if (isPromiseLike(done)) await done;
        }
      }
      return null;
    },
    merge: () => undefined,
  };
}

/** foreachPartition(f): `f` once per partition with its records (materialised, as mapPartitions). */
export function foreachPartitionImpl(f: (records: unknown[], partition: number) => unknown): ActionImpl {
  return {
    async partial(batches, partition) {
      const records: unknown[] = [];
      for await (const batch of batches) for (const record of batch) records.push(record);
      const done = f(records, partition);
      if (isPromiseLike(done)) await done;
      return null;
    },
    merge: () => undefined,
  };
}
