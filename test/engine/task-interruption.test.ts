/**
 * A task told to stop (its executor shutting down) stops at the next record batch, as Spark's
 * InterruptibleIterator checks `TaskContext.killTaskIfInterrupted` on every record: the engine
 * asks TaskIO.throwIfInterrupted before each batch a node hands on, so a CPU-bound user function
 * runs at most the batch it is in, and the interruption reaches the caller unwrapped.
 */
import { describe, expect, it } from 'vitest';
import { StratusError } from '../../contract/errors.js';
import { defineJob } from '../../engine/dataset/job.js';
import { buildJobGraph } from '../../engine/plan/graph.js';
import { isSamplingRequest, planJob } from '../../engine/plan/stages.js';
import { BATCH_SIZE } from '../../engine/shuffle/spill.js';
import type { TaskIO } from '../../engine/task/task-io.js';
import { runTask } from '../../engine/task/task-runtime.js';
import { InMemorySpillStore } from '../../engine/testing/in-memory-spill.js';

const RECORDS = 20 * BATCH_SIZE;

/** Run the first stage's partition 0 of `job` with an interruption that `interrupted()` turns on. */
function runFirstStage(job: Parameters<typeof buildJobGraph>[0], interrupted: () => boolean) {
  const graph = buildJobGraph(job, undefined, { defaultParallelism: 1 });
  const plan = planJob(graph, 'result');
  if (isSamplingRequest(plan)) throw new Error('unexpected sampling');
  const interruption = new StratusError(
    'TASK_INTERRUPTED',
    'executor is shutting down',
    {},
    { retryable: true },
  );
  const io = {
    spill: new InMemorySpillStore(),
    memoryBudgetBytes: 64 << 20,
    broadcastValue: () => undefined,
    readCached: () => undefined,
    throwIfInterrupted: () => {
      if (interrupted()) throw interruption;
    },
  } as unknown as TaskIO;
  return { run: runTask(graph, plan.stages[0]!, 0, io), interruption };
}

describe('task interruption', () => {
  it('a result task stops after the batch its map was in when told to stop, with the error it was told', async () => {
    let calls = 0;
    // Told to stop in the middle of the third batch, as a shutdown arrives while user code runs.
    const job = defineJob((ctx) =>
      ctx
        .parallelize(
          Array.from({ length: RECORDS }, (_, i) => i),
          1,
        )
        .map((i) => {
          calls++;
          return i * 2;
        })
        .count(),
    );
    const { run, interruption } = runFirstStage(job, () => calls > 2 * BATCH_SIZE + 10);
    await expect(run).rejects.toBe(interruption);
    expect(calls).toBe(3 * BATCH_SIZE);
  });

  it('a shuffle-map task stops at the next batch too, before writing its map output', async () => {
    let calls = 0;
    const job = defineJob((ctx) =>
      ctx
        .parallelize(
          Array.from({ length: RECORDS }, (_, i) => i),
          1,
        )
        .map((i) => {
          calls++;
          return [i % 7, 1] as [number, number];
        })
        .reduceByKey((a, b) => a + b)
        .collect(),
    );
    const { run, interruption } = runFirstStage(job, () => calls >= BATCH_SIZE);
    await expect(run).rejects.toBe(interruption);
    expect(calls).toBe(BATCH_SIZE);
  });

  it('a task that is never told to stop runs every batch', async () => {
    let calls = 0;
    const job = defineJob((ctx) =>
      ctx
        .parallelize(
          Array.from({ length: RECORDS }, (_, i) => i),
          1,
        )
        .map((i) => {
          calls++;
          return i;
        })
        .count(),
    );
    const { run } = runFirstStage(job, () => false);
    await expect(run).resolves.toMatchObject({ kind: 'result', result: RECORDS });
    expect(calls).toBe(RECORDS);
  });
});
