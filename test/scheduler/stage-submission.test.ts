/**
 * Stage submission order, as DAGSchedulerSuite checks it: a stage is submitted only once its
 * parents are done, independent parents run at once, and a shuffle computed by an earlier job
 * of the run is reused. No server: the DAG scheduler runs on a fake queue and in-memory blobs.
 */
import { describe, expect, it } from 'vitest';
import { DATA_CONTAINER, mapOutputTableBlobName } from '../../contract/names.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

/** Stage 0: 2 map tasks; stage 1: 3 reduce tasks. */
const shuffleCount = defineJob((ctx) =>
  ctx
    .parallelize([1, 2, 3, 4], 2)
    .map((x) => [x % 2, x] as [number, number])
    .reduceByKey((a, b) => a + b, 3)
    .count(),
);

/** Stages 0 and 1: one map stage per side (2 and 3 tasks); stage 2: the join's 2 result tasks. */
const joinCount = defineJob((ctx) => {
  const a = ctx.parallelize([[1, 'a']] as [number, string][], 2);
  const b = ctx.parallelize([[1, 'b']] as [number, string][], 3);
  return a.join(b, 2).count();
});

describe('stage submission', () => {
  it('a job with a shuffle submits only its map stage first', async () => {
    const h = new SchedulerHarness();
    h.runAction(h.runState(shuffleCount));
    await h.settle();
    expect(h.queue.sent.map((m) => [m.stageId, m.partition, m.attempt])).toEqual([
      [0, 0, 0],
      [0, 1, 0],
    ]);
    expect(h.listener.of('stage-submitted').map((e) => [e.stageId, e.kind])).toEqual([[0, 'shuffle-map']]);
    h.scheduler.close();
  });

  it('the result stage is submitted only after every map task succeeded', async () => {
    const h = new SchedulerHarness();
    const state = h.runState(shuffleCount);
    h.runAction(state);
    await h.settle();
    const [first, second] = h.queue.takeAll({ stageId: 0 });
    h.start(first!);
    h.succeed(first!);
    h.start(second!);
    await h.settle();
    expect(h.sentStageIds()).toEqual([0, 0]);

    h.succeed(second!);
    await h.settle();
    expect(h.sentStageIds()).toEqual([0, 0, 1, 1, 1]);
    // The map-output table the reduce tasks read was written before they were sent.
    expect(h.blobs.has(DATA_CONTAINER, mapOutputTableBlobName(state.scope, 0))).toBe(true);
    const order = h.listener.events
      .filter((e) => e.type === 'stage-submitted' || e.type === 'stage-completed')
      .map((e) => `${e.type} ${e.stageId}`);
    expect(order).toEqual(['stage-submitted 0', 'stage-completed 0', 'stage-submitted 1']);
    h.scheduler.close();
  });

  it('the job ends with the result partials merged, once every result task succeeded', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(shuffleCount));
    await h.settle();
    h.runWaitingTasks(0);
    await h.settle();
    const reduces = h.queue.takeAll({ stageId: 1 });
    // Out of partition order: the merge does not depend on the order successes arrive in.
    for (const [m, n] of [
      [reduces[2]!, 1],
      [reduces[0]!, 2],
      [reduces[1]!, 4],
    ] as const) {
      h.start(m);
      h.succeed(m, { result: n });
    }
    await expect(job).resolves.toEqual({ jobId: 0, result: 7 });
    expect(h.listener.of('job-end').map((e) => e.status)).toEqual(['succeeded']);
    h.scheduler.close();
  });

  it("a join's two map stages run at once, and its result stage waits for both", async () => {
    const h = new SchedulerHarness();
    h.runAction(h.runState(joinCount));
    await h.settle();
    expect(h.sentStageIds()).toEqual([0, 0, 1, 1, 1]);

    h.runWaitingTasks(1);
    await h.settle();
    expect(h.sentStageIds().filter((s) => s === 2)).toEqual([]);

    h.runWaitingTasks(0);
    await h.settle();
    expect(h.sentStageIds().filter((s) => s === 2)).toEqual([2, 2]);
    const submitted = h.listener.of('stage-submitted');
    expect(submitted.map((e) => [e.stageId, e.parentStageIds])).toEqual([
      [0, []],
      [1, []],
      [2, [0, 1]],
    ]);
    h.scheduler.close();
  });

  it('a later job of the run skips a map stage whose shuffle an earlier job computed', async () => {
    const twoActions = defineJob((ctx) => {
      const sums = ctx
        .parallelize([1, 2, 3, 4], 2)
        .map((x) => [x % 2, x] as [number, number])
        .reduceByKey((a, b) => a + b, 2);
      return { n: sums.count(), all: sums.collect() };
    });
    const h = new SchedulerHarness();
    const state = h.runState(twoActions);
    const first = h.runAction(state, 'n');
    await h.settle();
    h.runWaitingTasks(0);
    await h.settle();
    h.runWaitingTasks(1);
    await first;

    const second = h.runAction(state, 'all');
    await h.settle();
    // Job 1's stages get ids 2 (the map stage, skipped) and 3: only stage 3 is sent.
    expect(h.sentStageIds().slice(4)).toEqual([3, 3]);
    const start = h.listener.of('job-start').at(-1)!;
    expect([start.jobId, start.skippedStageIds]).toEqual([1, [2]]);
    h.runWaitingTasks(3, { result: [['k', 1]] });
    await expect(second).resolves.toMatchObject({ jobId: 1 });
    h.scheduler.close();
  });
});
