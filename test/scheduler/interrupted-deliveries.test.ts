/**
 * Deliveries interrupted by their executor's shutdown (executor-function/executor-shutdown.ts):
 * the executor says `task-interrupted` and fails the invocation, and the queue gives the same
 * message to another executor. As Spark does not charge a decommissioned executor's lost task to
 * the task, the driver ends only that delivery — `killed`, labelled as an interruption, when the
 * event arrives, not as a speculative loser when the stage ends — and relaunches nothing: the
 * message is already back on the queue.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

const twoTasks = defineJob((ctx) => ctx.parallelize([1, 2, 3, 4], 2).count());

const INTERRUPTED = 'interrupted: executor is shutting down; its task message returns to the queue';

/** A harness whose two-task job has run partition 0 and has partition 1 running on executor-1. */
async function secondPartitionRunning() {
  const h = new SchedulerHarness();
  const job = h.runAction(h.runState(twoTasks));
  await h.settle();
  const [first, second] = h.queue.takeAll();
  h.start(first!);
  h.succeed(first!);
  h.start(second!, 'executor-1');
  return { h, job, second: second! };
}

const relaunched = (h: SchedulerHarness) =>
  h.queue.sent.filter((m) => m.attempt > 0).map((m) => [m.partition, m.attempt]);

describe('deliveries interrupted by an executor shutdown', () => {
  it('the interrupted delivery ends at once, labelled interrupted; the redelivery wins and nothing is relaunched', async () => {
    const { h, job, second } = await secondPartitionRunning();
    await h.advance(2000);
    h.interrupt(second, 'executor-1');
    const interruptedAt = h.clock.now();
    h.queue.release(second);

    const [end] = h.listener.of('task-end').filter((e) => e.partition === 1);
    expect(end).toMatchObject({
      attempt: 0,
      delivery: 1,
      executorId: 'executor-1',
      status: 'killed',
      reason: INTERRUPTED,
      at: interruptedAt,
    });
    // The message waits on the queue for an executor (none is free for a while): not silent, not vanished.
    await h.advance(30_000);
    expect(relaunched(h)).toEqual([]);
    expect(h.listener.of('notice').filter((n) => n.level === 'warn')).toEqual([]);

    const redelivery = h.queue.take({ partition: 1, attempt: 0 });
    h.start(redelivery, 'executor-2');
    h.succeed(redelivery, {}, 'executor-2');
    await expect(job).resolves.toMatchObject({ result: 2 });
    const ends = h.listener.of('task-end').filter((e) => e.partition === 1);
    expect(ends.map((e) => [e.attempt, e.delivery, e.status, e.executorId])).toEqual([
      [0, 1, 'killed', 'executor-1'],
      [1, 2, 'succeeded', 'executor-2'],
    ]);
    // Ended once, as an interruption: the stage's end finds no open attempt to call a loser.
    expect(ends.filter((e) => e.reason?.includes('loser'))).toEqual([]);
    h.scheduler.close();
  });

  it('an interruption arriving after the redelivery started ends only the interrupted delivery', async () => {
    const { h, job, second } = await secondPartitionRunning();
    await h.advance(1000);
    // Queue messages are not ordered: executor-2's task-started overtakes executor-1's event.
    h.start(second, 'executor-2');
    h.interrupt(second, 'executor-1', { dequeueCount: 1 });
    // executor-2 still runs the attempt: it keeps heartbeating and is never taken for lost.
    for (let t = 0; t < 10; t++) {
      await h.advance(3000);
      h.heartbeat(second, 'executor-2');
    }
    expect(relaunched(h)).toEqual([]);
    h.succeed(second, {}, 'executor-2');
    await expect(job).resolves.toMatchObject({ result: 2 });
    const ends = h.listener.of('task-end').filter((e) => e.partition === 1);
    expect(ends.map((e) => [e.attempt, e.status, e.executorId, e.reason])).toEqual([
      [0, 'killed', 'executor-1', INTERRUPTED],
      [1, 'succeeded', 'executor-2', undefined],
    ]);
    h.scheduler.close();
  });

  it('the message of an interrupted delivery that never comes back is relaunched once the queue is idle', async () => {
    const { h, job, second } = await secondPartitionRunning();
    h.interrupt(second, 'executor-1');
    // The host never released it (killed before it could): nothing waits on the queue.
    await h.advance(20_000);
    expect(relaunched(h)).toEqual([]);
    await h.advance(1000);
    expect(relaunched(h)).toEqual([[1, 1]]);
    const retry = h.queue.take({ partition: 1, attempt: 1 });
    h.start(retry, 'executor-2');
    h.succeed(retry, {}, 'executor-2');
    await expect(job).resolves.toMatchObject({ result: 2 });
    h.scheduler.close();
  });
});
