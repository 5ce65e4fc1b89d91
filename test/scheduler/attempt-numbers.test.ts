/**
 * Attempt numbers that agree: the Functions host redelivers a failed task message, so one
 * message can run several times under the same driver-assigned attempt. Each delivery is its
 * own attempt in the run events — numbered 0, 1, 2… per partition, with its own executor, start,
 * end and error — and the progress line, the run summary and the UI's stage page, all built from
 * those events, count the same attempts.
 */
import { describe, expect, it } from 'vitest';
import type { TaskMessage } from '../../contract/protocol.js';
import { ConsoleProgress } from '../../driver/observe/progress.js';
import { RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { stageQuantiles } from '../../driver/observe/ui/server.js';
import { AttemptNumbers } from '../../driver/scheduler/attempt-numbers.js';
import { defineJob } from '../../engine/dataset/job.js';
import { TextSink } from '../observability/text-sink.js';
import { SchedulerHarness } from './harness.js';

const twoTasks = defineJob((ctx) => ctx.parallelize([1, 2, 3, 4], 2).count());

const userError = {
  name: 'TypeError',
  message: 'x.split is not a function',
  stack: 'TypeError: x.split is not a function\n    at map (sales.ts:8:20)',
};

/** The host delivering `message` `n` times, each delivery failing with the user's error. */
function failDeliveries(h: SchedulerHarness, message: TaskMessage, n: number, executors: string[]) {
  for (let i = 0; i < n; i++) {
    const executor = executors[i % executors.length]!;
    h.start(message, executor);
    h.clock.advance(10);
    h.fail(message, userError, {}, executor);
  }
}

describe('attempt numbers', () => {
  it('each delivery of a failing task message is its own attempt, numbered 0, 1, 2, 3 with its own start and end', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [first, second] = h.queue.takeAll();
    h.start(first!);
    h.succeed(first!);
    failDeliveries(h, second!, 4, ['executor-0', 'executor-1']);
    // The job's error names the last attempt as the run events number it.
    await expect(job).rejects.toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringContaining('(last on executor executor-1, attempt 3)'),
      context: { partition: 1, attempt: 3 },
    });

    const starts = h.listener.of('task-start').filter((e) => e.partition === 1);
    const ends = h.listener.of('task-end').filter((e) => e.partition === 1);
    expect(starts.map((e) => e.attempt)).toEqual([0, 1, 2, 3]);
    expect(ends.map((e) => [e.attempt, e.status, e.executorId])).toEqual([
      [0, 'failed', 'executor-0'],
      [1, 'failed', 'executor-1'],
      [2, 'failed', 'executor-0'],
      [3, 'failed', 'executor-1'],
    ]);
    // The message's own attempt and the delivery travel beside the number.
    expect(ends.map((e) => [e.messageAttempt, e.delivery])).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
    ]);
    expect(ends.every((e) => e.startedAt !== undefined && e.error?.stack === userError.stack)).toBe(true);
    h.scheduler.close();
  });

  it('the progress line, the run summary and the stage page count the same attempts of a failing partition', async () => {
    const h = new SchedulerHarness();
    const job = h.runAction(h.runState(twoTasks));
    await h.settle();
    const [first, second] = h.queue.takeAll();
    h.start(first!);
    h.succeed(first!);
    failDeliveries(h, second!, 4, ['executor-0']);
    await job.catch(() => undefined);
    h.scheduler.close();

    const sink = new TextSink();
    const progress = new ConsoleProgress({ stream: sink, tty: false });
    const summary = new RunSummaryBuilder();
    for (const e of h.listener.events) {
      progress.onEvent(e);
      summary.onEvent(e);
    }
    await progress.close?.();
    expect(sink.text).toContain('5 attempts (4 failed');
    const stage = summary.summary().stages.find((s) => s.stageId === 0)!;
    expect([stage.attempts, stage.failed, stage.succeeded]).toEqual([5, 4, 1]);
    const rows = summary.stageAttempts(0).filter((a) => a.partition === 1);
    expect(rows.map((a) => [a.attempt, a.status])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(stageQuantiles(summary.stageAttempts(0)).durationMs?.max).toBeDefined();
  });

  it('a speculative copy and a redelivery of the original get the next numbers, in the order seen', () => {
    const numbers = new AttemptNumbers();
    const task = { jobId: 0, stageId: 2, partition: 5 };
    expect(numbers.of({ ...task, attempt: 0, dequeueCount: 1 })).toBe(0);
    expect(numbers.of({ ...task, attempt: 1, dequeueCount: 1 })).toBe(1);
    expect(numbers.of({ ...task, attempt: 0, dequeueCount: 2 })).toBe(2);
    // The same delivery seen again (its heartbeat, its end) keeps its number.
    expect(numbers.of({ ...task, attempt: 0, dequeueCount: 1 })).toBe(0);
    expect(numbers.latest({ ...task, attempt: 0 })).toBe(2);
    // Another partition counts from 0.
    expect(numbers.of({ ...task, partition: 6, attempt: 0, dequeueCount: 3 })).toBe(0);
  });
});
