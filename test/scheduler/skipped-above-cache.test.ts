/**
 * The DAG scheduler's side of stages listed above a cached dataset (issue 15), on fakes: a run
 * whose cached node after a shuffle is already stored (as a driver session hands it on from an
 * earlier run) lists the shuffle-map stage above it in job-start as skipped, with its reason,
 * sends no task for it and writes no descriptor for it; only the reading stage runs.
 */
import { describe, expect, it } from 'vitest';
import type { RunState } from '../../driver/scheduler/run-state.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

/** parallelize (2) → map → reduceByKey (3) → mapValues, cached; the action counts it. */
const cachedAfterShuffle = defineJob((ctx) =>
  ctx
    .parallelize([1, 2, 3, 4, 5], 2)
    .map((x) => [x % 3, x] as [number, number])
    .reduceByKey((a, b) => a + b, 3)
    .mapValues((v) => v * 10)
    .cache()
    .count(),
);

/** Enter node `nodeId` as stored, as SessionCache.restore does for a later run of the same graph. */
function storeNode(state: RunState, nodeId: number, partitions: number): void {
  const blobs = Array.from(
    { length: partitions },
    (_, p) => `apps/${state.scope}/cache/${nodeId}/part-${p}-x.bin`,
  );
  state.cached.set(nodeId, blobs);
  state.cachedNodes.add(nodeId);
}

/** A cached reduceByKey (shuffle 0) unioned with another (shuffle 1): the result stage reads both. */
const cachedUnion = defineJob((ctx) => {
  const cached = ctx
    .parallelize([1, 2, 3, 4], 2)
    .map((x) => [x % 2, x] as [number, number])
    .reduceByKey((a, b) => a + b, 2)
    .cache();
  const other = ctx
    .parallelize([5, 6, 7], 2)
    .map((x) => [x % 2, x] as [number, number])
    .reduceByKey((a, b) => a + b, 2);
  return cached.union(other).count();
});

describe('stages above a cached dataset on the scheduler', () => {
  it('a fetch failure that names no shuffle resubmits the map stage the reader reads, never the one listed above its cache', async () => {
    const h = new SchedulerHarness();
    const state = h.runState(cachedUnion);
    const cachedNode = state.graph.nodes.find((n) => n.storageLevel === 'blob')!.id;
    storeNode(state, cachedNode, 2);
    const job = h.runAction(state);
    await h.settle();
    const [start] = h.listener.of('job-start');
    const listed = start!.stages!.find((s) => s.skipReason === 'above-cached-dataset')!;
    expect(listed).toMatchObject({ kind: 'shuffle-map', shuffleId: 0 });
    const mapStage = start!.stages!.find((s) => s.kind === 'shuffle-map' && s.shuffleId === 1)!;
    const reader = start!.stages!.find((s) => s.kind === 'result')!;
    expect(reader.parentStageIds).toEqual([listed.stageId, mapStage.stageId]);

    h.runWaitingTasks(mapStage.stageId);
    await h.settle();
    const [task] = h.queue.takeAll({ stageId: reader.stageId });
    h.start(task!);
    h.fail(
      task!,
      { name: 'ShuffleOutputMissingError', message: 'a map output is gone', code: 'SHUFFLE_OUTPUT_MISSING' },
      { retryable: false },
    );
    await h.settle();
    const resubmitted = h.listener.of('stage-submitted').at(-1)!;
    expect(resubmitted).toMatchObject({ kind: 'shuffle-map', shuffleId: 1 });
    expect(h.listener.of('stage-submitted').filter((e) => e.shuffleId === 0)).toEqual([]);

    h.runWaitingTasks(resubmitted.stageId);
    await h.settle();
    const rerun = h.listener.of('stage-submitted').at(-1)!;
    expect(rerun).toMatchObject({ kind: 'result', parentStageIds: [listed.stageId, resubmitted.stageId] });
    h.runWaitingTasks(rerun.stageId, { result: 1 });
    await expect(job).resolves.toMatchObject({ result: 4 });
    h.scheduler.close();
  });

  it('job-start lists the stage above the stored node as skipped (above a cached dataset); no task or descriptor is sent for it', async () => {
    const h = new SchedulerHarness();
    const state = h.runState(cachedAfterShuffle);
    const cachedNode = state.graph.nodes.find((n) => n.op === 'mapValues')!.id;
    storeNode(state, cachedNode, 3);
    const blobsBefore = h.blobs.names().length;
    const job = h.runAction(state);
    await h.settle();

    const [start] = h.listener.of('job-start');
    expect(start!.stageIds).toEqual([0, 1]);
    expect(start!.skippedStageIds).toEqual([0]);
    expect(start!.stages).toMatchObject([
      { stageId: 0, kind: 'shuffle-map', numPartitions: 2, shuffleId: 0, skipReason: 'above-cached-dataset' },
      { stageId: 1, kind: 'result', numPartitions: 3, parentStageIds: [0] },
    ]);
    expect(start!.stages![1]!.skipReason).toBeUndefined();
    expect(start!.plan).toContain('skipped: above the cached mapValues');

    // Only the reading stage is submitted: one task per stored partition.
    expect(h.sentStageIds()).toEqual([1, 1, 1]);
    expect(h.listener.of('stage-submitted').map((e) => e.stageId)).toEqual([1]);
    // One blob written: the reading stage's descriptor (none for stage 0, no map-output table).
    expect(h.blobs.names().length).toBe(blobsBefore + 1);
    h.runWaitingTasks(1, { result: 1 });
    await expect(job).resolves.toEqual({ jobId: 0, result: 3 });
    h.scheduler.close();
  });

  it('without the stored node the same job runs both stages, and nothing is skipped', async () => {
    const h = new SchedulerHarness();
    const state = h.runState(cachedAfterShuffle);
    const job = h.runAction(state);
    await h.settle();
    const [start] = h.listener.of('job-start');
    expect(start!.skippedStageIds).toEqual([]);
    expect(start!.stages!.map((s) => s.skipReason)).toEqual([undefined, undefined]);
    h.runWaitingTasks(0);
    await h.settle();
    h.runWaitingTasks(1, { result: 1 });
    await expect(job).resolves.toEqual({ jobId: 0, result: 3 });
    expect(h.listener.of('stage-submitted').map((e) => e.stageId)).toEqual([0, 1]);
    h.scheduler.close();
  });
});
