/**
 * Speculative execution with Spark's defaults (task-set.ts DEFAULT_TASK_SET_OPTIONS): once 90 %
 * of a stage's tasks finished, a task running longer than 3 × their median run time (and at
 * least 1 s) gets a second attempt; the first attempt to succeed wins and the other is reported
 * killed. The scheduler checks for stragglers every 100 ms of its clock, here a manual one.
 */
import { describe, expect, it } from 'vitest';
import type { TaskMessage } from '../../contract/protocol.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

/** One stage of ten tasks. */
const tenTasks = defineJob((ctx) => ctx.parallelize([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10).count());

/** Start the job's tasks now and return their messages by partition. */
async function startTasks(h: SchedulerHarness, job = tenTasks): Promise<TaskMessage[]> {
  h.runAction(h.runState(job));
  await h.settle();
  const tasks = h.queue.takeAll();
  for (const m of tasks) h.start(m);
  return tasks;
}

const copies = (h: SchedulerHarness) => h.queue.sent.filter((m) => m.attempt > 0);

describe('speculation', () => {
  it('a straggler gets a copy once it has run longer than 3 × the median, not before', async () => {
    const h = new SchedulerHarness();
    const tasks = await startTasks(h);
    await h.advance(2000);
    for (const m of tasks.slice(0, 9)) h.succeed(m); // nine tasks of 2 s: the threshold is 6 s

    await h.advance(4000); // the straggler has run exactly 6 s
    expect(copies(h)).toEqual([]);

    await h.advance(100);
    expect(copies(h).map((m) => [m.partition, m.attempt])).toEqual([[9, 1]]);
    const notice = h.listener.of('notice').at(-1)!;
    expect(notice.message).toContain(
      'partition 9: running 6100 ms (> 6000 ms), launching a speculative copy (task message attempt 1)',
    );
    h.scheduler.close();
  });

  it('no copy is launched before 90 % of the tasks finished, however long a task runs', async () => {
    const h = new SchedulerHarness();
    const tasks = await startTasks(h);
    await h.advance(2000);
    for (const m of tasks.slice(0, 8)) h.succeed(m); // 8 of 10 finished
    await h.advance(10_000); // two stragglers, running 12 s: far past 3 × the median
    expect(copies(h)).toEqual([]);

    h.succeed(tasks[8]!); // the ninth finishes: 90 %
    await h.advance(100);
    expect(copies(h).map((m) => [m.partition, m.attempt])).toEqual([[9, 1]]);
    h.scheduler.close();
  });

  it('a copy is never launched for a task that ran less than the 1 s minimum', async () => {
    const h = new SchedulerHarness();
    const tasks = await startTasks(h);
    await h.advance(100);
    for (const m of tasks.slice(0, 9)) h.succeed(m); // median 100 ms: 3 × is 300 ms, the floor 1 s
    await h.advance(900);
    expect(copies(h)).toEqual([]);
    await h.advance(200);
    expect(copies(h).map((m) => m.partition)).toEqual([9]);
    h.scheduler.close();
  });

  it('a stage with fewer than 4 tasks is never speculated on', async () => {
    const h = new SchedulerHarness();
    h.runAction(h.runState(defineJob((ctx) => ctx.parallelize([1, 2, 3], 3).count())));
    await h.settle();
    const tasks = h.queue.takeAll();
    for (const m of tasks) h.start(m);
    await h.advance(1000);
    for (const m of tasks.slice(0, 2)) h.succeed(m);
    await h.advance(15_000);
    expect(copies(h)).toEqual([]);
    h.scheduler.close();
  });

  it('the copy that succeeds first wins: the original is reported killed, its late success dropped', async () => {
    const h = new SchedulerHarness();
    const tasks = await startTasks(h);
    await h.advance(2000);
    for (const m of tasks.slice(0, 9)) h.succeed(m);
    await h.advance(4100);
    const copy = h.queue.take({ partition: 9, attempt: 1 });
    h.start(copy, 'executor-1');
    await h.advance(500);
    h.succeed(copy, {}, 'executor-1');

    const ends = h.listener.of('task-end').filter((e) => e.partition === 9);
    expect(ends.map((e) => [e.attempt, e.status, e.speculative])).toEqual([
      [1, 'succeeded', true],
      [0, 'killed', false],
    ]);
    expect(ends[1]!.reason).toBe('another attempt of partition 9 succeeded (speculative loser)');
    await h.settle();
    expect(h.listener.of('job-end').map((e) => e.status)).toEqual(['succeeded']);
    // The original's late success is dropped from the run events, and counted.
    h.succeed(tasks[9]!);
    expect(h.scheduler.lateOutcomesOfKilledAttempts).toBe(1);
    h.scheduler.close();
  });

  it('the loser of a race is listed in the lease for executors to stop while its stage runs', async () => {
    const twentyTasks = defineJob((ctx) => ctx.parallelize([...Array(20).keys()], 20).count());
    const h = new SchedulerHarness();
    const tasks = await startTasks(h, twentyTasks);
    await h.advance(2000);
    for (const m of tasks.slice(0, 18)) h.succeed(m); // 90 %: partitions 18 and 19 straggle
    await h.advance(4100);
    expect(copies(h).map((m) => m.partition)).toEqual([18, 19]);
    const copy = h.queue.take({ partition: 19, attempt: 1 });
    h.start(copy, 'executor-1');
    h.succeed(copy, {}, 'executor-1');
    expect(h.scheduler.leaseStages()).toEqual([{ jobId: 0, stageId: 0, killed: [[19, 0]] }]);

    h.succeed(tasks[18]!);
    await h.settle();
    expect(h.scheduler.leaseStages()).toEqual([]);
    h.scheduler.close();
  });

  it('a straggler gets no copy while other stages hold every slot, and gets one as soon as a slot frees', async () => {
    // A join's two map stages run at once on 4 slots: stage 0 (4 tasks, one a straggler) and
    // stage 1 (3 long tasks). The free slots are counted over the whole application.
    const join = defineJob((ctx) => {
      const a = ctx.parallelize([[1, 'a']] as [number, string][], 4);
      const b = ctx.parallelize([[1, 'b']] as [number, string][], 3);
      return a.join(b, 2).count();
    });
    const h = new SchedulerHarness({ totalSlots: 4 });
    h.runAction(h.runState(join));
    await h.settle();
    const straggling = h.queue.takeAll({ stageId: 0 });
    for (const m of straggling) h.start(m);
    await h.advance(100);
    for (const m of straggling.slice(0, 3)) h.succeed(m);
    const other = h.queue.takeAll({ stageId: 1 });
    for (const m of other) h.start(m);

    // Long past 3 × the median and the 1 s minimum, but 1 + 3 attempts run on 4 slots: no copy.
    await h.advance(10_000);
    expect(copies(h)).toEqual([]);

    h.succeed(other[0]!);
    await h.advance(100);
    expect(copies(h).map((m) => [m.stageId, m.partition, m.attempt])).toEqual([[0, 3, 1]]);
    h.scheduler.close();
  });
});
