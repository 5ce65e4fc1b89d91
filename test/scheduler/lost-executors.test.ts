/**
 * Lost executors, as Spark's driver notices an executor whose heartbeats stopped: an attempt
 * whose executor has been silent longer than the heartbeat timeout (20 s) is reported lost and
 * relaunched without waiting for the queue lease (10 minutes); heartbeats keep an attempt
 * alive. A message taken by an executor that died before it could say `task-started` is
 * relaunched too, once the stage has been silent that long and nothing waits on the queue.
 * The scheduler checks every second of its clock, here a manual one.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

const twoTasks = defineJob((ctx) => ctx.parallelize([1, 2, 3, 4], 2).count());

/** A harness whose two-task job has run partition 0; partition 1's message waits on the queue. */
async function firstPartitionDone(): Promise<SchedulerHarness> {
  const h = new SchedulerHarness();
  h.runAction(h.runState(twoTasks));
  await h.settle();
  const [first] = h.queue.takeAll({ partition: 0 });
  h.start(first!);
  h.succeed(first!);
  return h;
}

const relaunched = (h: SchedulerHarness) =>
  h.queue.sent.filter((m) => m.attempt > 0).map((m) => [m.partition, m.attempt]);

describe('lost executors', () => {
  it('an attempt whose executor stops heartbeating is relaunched after the 20 s timeout, not before', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [first, second] = h.queue.takeAll();
    h.start(first!);
    h.start(second!, 'executor-1');
    h.succeed(first!);
    // executor-1 heartbeats for 9 s, then dies.
    for (let t = 0; t < 3; t++) {
      await h.advance(3000);
      h.heartbeat(second!, 'executor-1');
    }
    await h.advance(20_000); // silent exactly 20 s
    expect(relaunched(h)).toEqual([]);

    await h.advance(1000);
    expect(relaunched(h)).toEqual([[1, 1]]);
    const lost = h.listener.of('task-end').filter((e) => e.status === 'lost');
    expect(lost.map((e) => [e.partition, e.attempt, e.executorId])).toEqual([[1, 0, 'executor-1']]);
    expect(h.listener.of('notice').map((e) => e.message)).toContain(
      'stage 0 partition 1 attempt 0: executor executor-1 went silent; launching a new attempt',
    );

    const retry = h.queue.take({ partition: 1, attempt: 1 });
    h.start(retry, 'executor-2');
    h.succeed(retry, {}, 'executor-2');
    await expect(job).resolves.toMatchObject({ result: 2 });
    h.scheduler.close();
  });

  it('an attempt that keeps heartbeating is never relaunched, however long it runs', async () => {
    const h = new SchedulerHarness();
    h.runAction(h.runState(twoTasks));
    await h.settle();
    const [first] = h.queue.takeAll();
    h.start(first!);
    for (let t = 0; t < 12; t++) {
      await h.advance(3000);
      h.heartbeat(first!);
    }
    expect(relaunched(h)).toEqual([]);
    h.scheduler.close();
  });

  it('a message taken by an executor that died before starting it is relaunched once the queue is idle', async () => {
    const h = await firstPartitionDone();
    // Partition 1's message still waits on the queue: queued, not lost.
    await h.advance(30_000);
    expect(relaunched(h)).toEqual([]);

    h.queue.take({ partition: 1 }); // an executor takes it and dies without a word
    await h.advance(21_000);
    expect(relaunched(h)).toEqual([[1, 1]]);
    expect(h.listener.of('notice').at(-1)!.message).toContain(
      'stage 0 partition 1: its task message vanished',
    );
    h.scheduler.close();
  });

  it('messages that waited long for an executor are not taken for vanished when one finally takes them', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    await h.advance(10 * 60_000); // no executor for 10 minutes: both messages wait
    const [first, second] = h.queue.takeAll(); // an executor starts and takes both
    await h.advance(5000); // its cold start: nothing reported yet
    expect(relaunched(h)).toEqual([]);
    h.start(first!);
    h.start(second!);
    h.succeed(first!);
    h.succeed(second!);
    await expect(job).resolves.toMatchObject({ result: 2 });
    expect(h.listener.of('notice').map((e) => e.message)).not.toContainEqual(
      expect.stringContaining('vanished'),
    );
    h.scheduler.close();
  });

  it('a vanished partition is relaunched once even when a queue peek outlasts the 1 s check', async () => {
    const h = await firstPartitionDone();
    h.queue.take({ partition: 1 }); // taken by an executor that dies without a word
    await h.advance(20_000);
    // From now on the queue answers slower than the check's 1 s period.
    let answer!: () => void;
    h.queue.peekGate = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const peeksBefore = h.queue.peeks;
    await h.advance(5000);
    expect(h.queue.peeks - peeksBefore).toBe(1); // later ticks skipped the task set while it waited
    h.queue.peekGate = undefined;
    answer();
    await h.advance(5000);
    expect(relaunched(h)).toEqual([[1, 1]]);
    h.scheduler.close();
  });

  it('closing the scheduler cancels its periodic checks', () => {
    const h = new SchedulerHarness();
    expect(h.clock.pendingTimers).toBe(2); // lost tasks every 1 s, stragglers every 100 ms
    h.scheduler.close();
    expect(h.clock.pendingTimers).toBe(0);
  });
});
