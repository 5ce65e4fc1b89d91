/**
 * How TaskSetManager judges task failures (no server; executor events handed to it directly, a
 * queue that only records): a failure whose error says a retry can help is retried until
 * maxFailures (Spark's 4) failures of the partition fail the job; one that says it cannot fails
 * the job on its first occurrence, quoting the error once and naming job, stage, partition,
 * attempt and the user's stack — as does an older executor's event marked only `fatal`.
 */
import { describe, expect, it } from 'vitest';
import { JobFailedError } from '../../contract/errors.js';
import {
  type ExecutorEventInput,
  PROTOCOL_VERSION,
  parseExecutorEvent,
  type TaskMessageInput,
} from '../../contract/protocol.js';
import { DEFAULT_TASK_SET_OPTIONS, TaskSetManager } from '../../driver/scheduler/task-set.js';
import type { StorageQueue } from '../../storage/queues.js';

const APP = 'app-taskset-failures';
const JOB = 3;
const STAGE = 7;
const USER_STACK = 'NonRetryableError: row 13 has no id\n    at parseRow (job.ts:4:11)';

/** A task set of `partitions` partitions whose queue only records what it was sent. */
function taskSet(partitions: number): { set: TaskSetManager; sent: string[] } {
  const sent: string[] = [];
  const queue = { send: async (text: string) => void sent.push(text) } as unknown as StorageQueue;
  const set = new TaskSetManager(
    JOB,
    STAGE,
    Array.from({ length: partitions }, (_, p) => p),
    queue,
    {
      makeMessage: (partition, attempt): TaskMessageInput => ({
        v: PROTOCOL_VERSION,
        type: 'task',
        appId: APP,
        jobId: JOB,
        stageId: STAGE,
        partition,
        attempt,
        eventsQueue: `stratus-events-${APP}`,
        sentAt: 0,
        work: { kind: 'noop' },
      }),
      onTaskSucceeded: () => undefined,
    },
    { ...DEFAULT_TASK_SET_OPTIONS, speculation: { ...DEFAULT_TASK_SET_OPTIONS.speculation, enabled: false } },
  );
  return { set, sent };
}

/** A task-failed event of `partition` as the driver parses it; `verdict` is what the executor said. */
function failed(
  partition: number,
  attempt: number,
  dequeueCount: number,
  verdict: { retryable?: boolean; fatal?: boolean },
  message = 'row 13 has no id',
) {
  return parseExecutorEvent({
    v: PROTOCOL_VERSION,
    type: 'task-failed',
    appId: APP,
    jobId: JOB,
    stageId: STAGE,
    partition,
    attempt,
    executorId: 'executor-2',
    slot: 0,
    at: 1000 + dequeueCount,
    dequeueCount,
    error: { name: 'UserCodeError', message: `map (node 1) threw: ${message}`, stack: USER_STACK },
    ...verdict,
  } as ExecutorEventInput);
}

/** How `set` ended: its JobFailedError, 'succeeded', or 'running' while it has not settled. */
function outcome(set: TaskSetManager): Promise<JobFailedError | 'succeeded' | 'running'> {
  // A settled completion's reaction runs before the one scheduled after it: no waiting involved.
  return Promise.race([
    set.completion.then(
      () => 'succeeded' as const,
      (error: unknown) => error as JobFailedError,
    ),
    Promise.resolve().then(() => 'running' as const),
  ]);
}

describe('task failures', () => {
  it('a failure whose error says a retry cannot help fails the job at once, its error said once', async () => {
    const { set } = taskSet(4);
    await set.launch();
    set.handle(failed(1, 0, 1, { retryable: false, fatal: true }));
    const error = await outcome(set);
    expect(error).toBeInstanceOf(JobFailedError);
    const failure = error as JobFailedError;
    expect(failure.message).toBe(
      `job ${JOB} aborted: stage ${STAGE}, partition 1 failed with an error that retrying cannot fix ` +
        '(on executor executor-2, attempt 0): UserCodeError: map (node 1) threw: row 13 has no id',
    );
    expect(failure.message.split('row 13 has no id')).toHaveLength(2);
    expect(failure.context).toEqual({
      jobId: JOB,
      stageId: STAGE,
      partition: 1,
      attempt: 0,
      userStack: USER_STACK,
    });
  });

  it('a retryable failure is retried: the job fails only at the 4th failure of the partition', async () => {
    const { set } = taskSet(4);
    await set.launch();
    for (let delivery = 1; delivery <= 3; delivery++) {
      set.handle(failed(2, 0, delivery, { retryable: true, fatal: false }, 'flaky service'));
      expect(await outcome(set)).toBe('running');
    }
    set.handle(failed(2, 0, 4, { retryable: true, fatal: false }, 'flaky service'));
    const error = (await outcome(set)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.message).toContain('partition 2 failed 4 times (last on executor executor-2, attempt 0)');
    expect(error.message.split('flaky service')).toHaveLength(2);
  });

  it('a non-retryable failure after retryable ones fails the job at once', async () => {
    const { set } = taskSet(2);
    await set.launch();
    set.handle(failed(0, 0, 1, { retryable: true }, 'flaky service'));
    expect(await outcome(set)).toBe('running');
    set.handle(failed(0, 0, 2, { retryable: false }));
    const error = (await outcome(set)) as JobFailedError;
    expect(error.message).toContain(
      'partition 0 failed with an error that retrying cannot fix (last on executor executor-2, attempt 0)',
    );
  });

  it("an older executor's event, marked only fatal, fails the job at once; unmarked, it is retried", async () => {
    const fatal = taskSet(2);
    await fatal.set.launch();
    fatal.set.handle(failed(0, 0, 1, { fatal: true }));
    expect(await outcome(fatal.set)).toBeInstanceOf(JobFailedError);

    const plain = taskSet(2);
    await plain.set.launch();
    plain.set.handle(failed(0, 0, 1, {}));
    expect(await outcome(plain.set)).toBe('running');
  });

  it('no failure sends a message: retrying a failed attempt is the queue’s job', async () => {
    const { set, sent } = taskSet(3);
    await set.launch();
    expect(sent).toHaveLength(3);
    set.handle(failed(0, 0, 1, { retryable: true }));
    set.handle(failed(1, 0, 1, { retryable: false }));
    expect(sent).toHaveLength(3);
  });
});
