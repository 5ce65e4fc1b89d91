/**
 * The DAG scheduler's side of issue 13's actions, on fakes: hidden jobs (zipWithIndex's
 * partition counts, histogram's range) run as real jobs before the job that needs them, their
 * results reach the next job's stage descriptors; an action over some partitions (lookup on a
 * hash-partitioned dataset) sends one task per partition it picked; and a job whose merge fails
 * on the driver (max of nothing) still ends, failed, in the run's events.
 */
import { describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

describe('hidden jobs and partition subsets on the scheduler', () => {
  it('zipWithIndex runs a hidden job counting all partitions but the last, then ships its counts to the tasks', async () => {
    const h = new SchedulerHarness();
    const job = defineJob((ctx) => ctx.parallelize([1, 2, 3, 4, 5], 3).zipWithIndex().collect());
    const run = h.runAction(h.runState(job));
    await h.settle();
    // Job 0 is hidden: its result stage computes partitions 0 and 1 of 3.
    const counts = h.queue.takeAll({ stageId: 0 });
    expect(counts.map((m) => m.partition)).toEqual([0, 1]);
    const [started] = h.listener.of('job-start');
    expect(started).toMatchObject({ hidden: true, action: 'countPartitions' });
    expect(started!.reason).toMatch(
      /^counting the records of each partition for zipWithIndex at .*of "result"$/,
    );
    expect(h.listener.of('stage-submitted')[0]!.numTasks).toBe(2);
    for (const [m, n] of [
      [counts[0]!, 1],
      [counts[1]!, 2],
    ] as const) {
      h.start(m);
      h.succeed(m, { result: n });
    }
    await h.settle();
    const collect = h.queue.takeAll({ stageId: 1 });
    expect(collect).toHaveLength(3);
    const work = collect[0]!.work as { stageBlob: string };
    const descriptor = h.blobs.json(DATA_CONTAINER, work.stageBlob) as { plan: { hiddenResults?: unknown } };
    expect(descriptor.plan.hiddenResults).toEqual({ 0: [1, 2] });
    for (const m of collect) {
      h.start(m);
      h.succeed(m, { result: [] });
    }
    await expect(run).resolves.toMatchObject({ jobId: 1 });
    h.scheduler.close();
  });

  it('lookup on a hash-partitioned dataset sends one result task and merges its partial alone', async () => {
    const h = new SchedulerHarness();
    const job = defineJob((ctx) =>
      ctx
        .parallelize([['a', 1] as [string, number]], 2)
        .reduceByKey((a, b) => a + b, 4)
        .lookup('a'),
    );
    const run = h.runAction(h.runState(job));
    await h.settle();
    h.runWaitingTasks(0);
    await h.settle();
    const results = h.queue.takeAll({ stageId: 1 });
    expect(results).toHaveLength(1);
    expect(h.listener.of('stage-submitted')[1]!.numTasks).toBe(1);
    h.start(results[0]!);
    h.succeed(results[0]!, { result: [1] });
    await expect(run).resolves.toEqual({ jobId: 0, result: [1] });
    h.scheduler.close();
  });

  it('a merge that fails on the driver (max of an empty dataset) ends its job as failed', async () => {
    const h = new SchedulerHarness();
    const run = h.runAction(h.runState(defineJob((ctx) => ctx.parallelize([] as number[], 2).max())));
    await h.settle();
    h.runWaitingTasks(0, { result: [] });
    await expect(run).rejects.toMatchObject({ code: 'EMPTY_COLLECTION', message: 'max(): empty collection' });
    expect(h.listener.of('job-end')).toMatchObject([{ jobId: 0, status: 'failed' }]);
    h.scheduler.close();
  });
});
