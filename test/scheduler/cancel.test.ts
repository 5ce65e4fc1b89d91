/**
 * Cancelling jobs (`driver.cancel()`), as Spark's cancelJob: the running task sets stop, their
 * started attempts are reported killed (each attempt ends once in the run events), the job ends
 * `cancelled` with JOB_CANCELLED, the lease lists no stage any more (so executors stop them),
 * and nothing is relaunched afterwards. Closing the scheduler (the application ending) does
 * the same to every running job.
 */
import { describe, expect, it } from 'vitest';
import type { StratusError } from '../../contract/errors.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

const threeTasks = defineJob((ctx) => ctx.parallelize([1, 2, 3], 3).count());

describe('cancelling a job', () => {
  it('stops its task set and reports its started attempts killed', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(threeTasks));
    await h.settle();
    const [first, second] = h.queue.takeAll();
    h.start(first!);
    h.start(second!);
    h.succeed(first!);
    expect(h.scheduler.leaseStages()).toEqual([{ jobId: 0, stageId: 0, killed: [] }]);

    expect(h.scheduler.cancelRunningJobs('the user pressed Ctrl-C')).toEqual([0]);
    const error = (await job.catch((e: unknown) => e)) as StratusError;
    expect(error.code).toBe('JOB_CANCELLED');
    expect(error.message).toBe('job 0 was cancelled: the user pressed Ctrl-C');
    const ends = h.listener.of('task-end');
    expect(ends.map((e) => [e.partition, e.attempt, e.status, e.reason])).toEqual([
      [0, 0, 'succeeded', undefined],
      [1, 0, 'killed', 'job 0 was cancelled: the user pressed Ctrl-C'],
    ]);
    expect(h.listener.of('stage-completed').map((e) => e.status)).toEqual(['failed']);
    expect(h.listener.of('job-end').map((e) => e.status)).toEqual(['cancelled']);
    expect(h.scheduler.leaseStages()).toEqual([]);
    expect(h.scheduler.hasRunningJobs).toBe(false);
    h.scheduler.close();
  });

  it('relaunches nothing afterwards, and drops the late outcome of a killed attempt', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(threeTasks));
    await h.settle();
    const [first] = h.queue.takeAll({ partition: 0 });
    h.start(first!);
    h.scheduler.cancelRunningJobs('enough');
    await job.catch(() => undefined);
    await h.advance(30_000); // past the 20 s heartbeat timeout
    expect(h.queue.sent).toHaveLength(3);

    const endsBefore = h.listener.of('task-end').length;
    h.succeed(first!);
    expect(h.listener.of('task-end')).toHaveLength(endsBefore);
    expect(h.scheduler.lateOutcomesOfKilledAttempts).toBe(1);
    h.scheduler.close();
  });

  it('closing the scheduler ends the running attempts killed and fails their job with the reason', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(threeTasks));
    await h.settle();
    const [first] = h.queue.takeAll({ partition: 0 });
    h.start(first!);
    h.scheduler.close(new Error('the driver is closing'));
    await expect(job).rejects.toThrow('the driver is closing');
    const ends = h.listener.of('task-end');
    expect(ends.map((e) => [e.partition, e.status, e.reason])).toEqual([
      [0, 'killed', 'the application ended'],
    ]);
  });

  it('a job submitted after the scheduler closed fails with the closing reason', async () => {
    const h = new SchedulerHarness();
    h.scheduler.close(new Error('the driver is closing'));
    await expect(h.runAction(h.runState(threeTasks))).rejects.toThrow('the driver is closing');
    expect(h.queue.sent).toEqual([]);
  });
});
