/**
 * Fetch failures, as Spark's DAGScheduler handles FetchFailed: a reduce task that finds a map
 * output of its shuffle gone stops its stage at once (retrying it would meet the same missing
 * blob); the map stage that writes the shuffle runs again, then the stage that read it, each
 * under a new stage id. After spark.stage.maxConsecutiveAttempts (4) runs of the same stage the
 * job fails, naming the shuffle.
 */
import { describe, expect, it } from 'vitest';
import { DATA_CONTAINER, mapOutputTableBlobName } from '../../contract/names.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

const shuffleCount = defineJob((ctx) =>
  ctx
    .parallelize([1, 2, 3, 4], 2)
    .map((x) => [x % 2, x] as [number, number])
    .reduceByKey((a, b) => a + b, 2)
    .count(),
);

/** What executor-function/stage-task.ts reports when a map output blob of shuffle 0 is gone. */
const missingOutput = {
  name: 'ShuffleOutputMissingError',
  message: 'shuffle 0: blob stratus-data/apps/x/shuffle/0/map-1-a0.bin does not exist',
  code: 'SHUFFLE_OUTPUT_MISSING',
  shuffleId: 0,
};

/** Take one waiting reduce task of `stageId` and fail it as a reduce task whose input is gone. */
function failFetch(h: SchedulerHarness, stageId: number): void {
  const [reduce] = h.queue.takeAll({ stageId });
  h.start(reduce!);
  h.fail(reduce!, missingOutput, { retryable: false });
}

describe('fetch failures', () => {
  it('a reduce task that cannot read a map output resubmits the map stage, then the reduce stage, and the job completes', async () => {
    const h = new SchedulerHarness();
    const state = h.runState(shuffleCount);
    const job = h.runAction(state);
    await h.settle();
    h.runWaitingTasks(0);
    await h.settle();
    failFetch(h, 1);
    await h.settle();

    // The map stage runs again as stage 2: both of its partitions, nothing of stage 1 yet.
    expect(h.listener.of('stage-submitted').map((e) => [e.stageId, e.kind])).toEqual([
      [0, 'shuffle-map'],
      [1, 'result'],
      [2, 'shuffle-map'],
    ]);
    expect(h.queue.sentWhere({ stageId: 2 }).map((m) => m.partition)).toEqual([0, 1]);
    expect(h.listener.of('notice').map((e) => e.message)).toContainEqual(
      expect.stringContaining('could not read a map output of shuffle 0'),
    );
    const stage1 = h.listener.of('stage-completed').find((e) => e.stageId === 1);
    expect(stage1?.status).toBe('failed');

    h.runWaitingTasks(2);
    await h.settle();
    // The new outputs get a table of their own; the first one is never overwritten.
    const firstTable = JSON.stringify(h.blobs.json(DATA_CONTAINER, mapOutputTableBlobName(state.scope, 0)));
    const secondTable = JSON.stringify(
      h.blobs.json(DATA_CONTAINER, mapOutputTableBlobName(state.scope, 0, 1)),
    );
    expect(firstTable).toContain('map-0-a0-s0.bin');
    expect(secondTable).toContain('map-0-a0-s2.bin');
    expect(secondTable).not.toContain('-s0.bin');
    // Then the reduce stage, as stage 3, reading the new map outputs.
    expect(h.listener.of('stage-submitted').at(-1)).toMatchObject({
      stageId: 3,
      kind: 'result',
      parentStageIds: [2],
    });
    h.runWaitingTasks(3, { result: 1 });
    await expect(job).resolves.toMatchObject({ result: 2 });
    h.scheduler.close();
  });

  it('a failure with no missing map output does not resubmit anything', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(shuffleCount));
    await h.settle();
    h.runWaitingTasks(0);
    await h.settle();
    const [reduce] = h.queue.takeAll({ stageId: 1 });
    h.start(reduce!);
    h.fail(
      reduce!,
      { name: 'NonRetryableError', message: 'bad row', code: 'NON_RETRYABLE' },
      { retryable: false },
    );
    await expect(job).rejects.toMatchObject({ code: 'JOB_FAILED', context: { stageId: 1 } });
    expect(h.listener.of('stage-submitted').map((e) => e.stageId)).toEqual([0, 1]);
    h.scheduler.close();
  });

  it('a stage that keeps losing its map output fails the job on its 4th run, naming the shuffle', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(shuffleCount));
    await h.settle();
    for (let run = 0; run < 4; run++) {
      h.runWaitingTasks(2 * run); // the map stage: 0, 2, 4, 6
      await h.settle();
      failFetch(h, 2 * run + 1); // the reduce stage: 1, 3, 5, 7
      await h.settle();
    }
    await expect(job).rejects.toMatchObject({
      name: 'FetchFailedError',
      context: { stageId: 7 },
      message: expect.stringContaining('could not read a map output of shuffle 0'),
    });
    expect(h.listener.of('stage-submitted').map((e) => e.stageId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    h.scheduler.close();
  });
});
