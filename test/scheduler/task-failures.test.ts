/**
 * Task failures, as Spark's TaskSetManager counts them: a partition may fail `maxFailures` (4)
 * times before its job fails with the user's error, partition and stack; a failure that
 * retrying cannot fix fails the job at once. Retrying is the queue's job (the host makes a
 * failed message visible again), so the driver sends no new message for a failure. A reduce
 * task's missing map output is not a task failure but a fetch failure: see fetch-failures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { JobFailedError } from '../../contract/errors.js';
import { defineJob } from '../../engine/dataset/job.js';
import { SchedulerHarness } from './harness.js';

const twoTasks = defineJob((ctx) => ctx.parallelize([1, 2, 3, 4], 2).count());

const userError = {
  name: 'TypeError',
  message: 'x.split is not a function',
  stack: 'TypeError: x.split is not a function\n    at map (wordcount.ts:7:20)',
};

/** Start `n` deliveries of the same attempt, each ending in `error` (the host retrying the message). */
function failDeliveries(h: SchedulerHarness, message: Parameters<SchedulerHarness['fail']>[0], n: number) {
  for (let i = 0; i < n; i++) {
    h.start(message);
    h.fail(message, userError);
  }
}

describe('task failures', () => {
  it('a partition that fails fewer than maxFailures times keeps its job running, with no new message sent', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [, second] = h.queue.takeAll();
    failDeliveries(h, second!, 3);
    await h.settle();
    expect(h.queue.sent).toHaveLength(2);
    expect(h.listener.of('job-end')).toEqual([]);

    h.start(second!);
    h.succeed(second!);
    const first = h.queue.sent[0]!;
    h.start(first);
    h.succeed(first);
    await expect(job).resolves.toMatchObject({ result: 2 });
    h.scheduler.close();
  });

  it("the maxFailures-th failure of a partition fails the job with the user's error, partition and stack", async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [, second] = h.queue.takeAll();
    failDeliveries(h, second!, 4);
    const error = (await job.catch((e: unknown) => e)) as JobFailedError;
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toContain('partition 1 failed 4 times');
    expect(error.message).toContain('TypeError: x.split is not a function');
    expect(error.context).toMatchObject({ jobId: 0, stageId: 0, partition: 1, userStack: userError.stack });
    const end = h.listener.of('job-end');
    expect(end.map((e) => [e.status, e.error?.message])).toEqual([['failed', error.message]]);
    expect(h.listener.of('stage-completed').map((e) => e.status)).toEqual(['failed']);
    h.scheduler.close();
  });

  it('maxFailures is an option: with 2, the second failure fails the job', async () => {
    const h = new SchedulerHarness({ maxFailures: 2 });
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [first] = h.queue.takeAll();
    failDeliveries(h, first!, 2);
    await expect(job).rejects.toMatchObject({ code: 'JOB_FAILED', context: { partition: 0 } });
    h.scheduler.close();
  });

  it('a failure that retrying cannot fix (fatal) fails the job on its first attempt', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [first] = h.queue.takeAll();
    h.start(first!);
    h.fail(first!, { name: 'StratusError', message: 'the job module is invalid' }, { fatal: true });
    const error = (await job.catch((e: unknown) => e)) as JobFailedError;
    expect(error.message).toContain('failed with an error that retrying cannot fix');
    expect(error.context.partition).toBe(0);
    h.scheduler.close();
  });

  it('a failed job ends the attempts still running killed, naming the failed stage', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [first, second] = h.queue.takeAll();
    h.start(first!);
    failDeliveries(h, second!, 4);
    await job.catch(() => undefined);
    const ends = h.listener.of('task-end');
    expect(ends.map((e) => [e.partition, e.status])).toEqual([
      [1, 'failed'],
      [1, 'failed'],
      [1, 'failed'],
      [1, 'failed'],
      [0, 'killed'],
    ]);
    expect(ends.at(-1)!.reason).toBe('stage 0 failed');
    h.scheduler.close();
  });
});
