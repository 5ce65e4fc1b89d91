/**
 * What a user sees when their job goes wrong: a throwing user function fails the run with
 * its message, stack (source-mapped to the .ts files), stage and partition — after 4 attempts,
 * or after the first when it threw NonRetryableError; a builder that throws fails before any
 * task; a non-deterministic builder is detected; a partition larger than its memory budget
 * spills, on the reduce side and on the map side.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StratusError } from '../../contract/errors.js';
import { poisonQueueName } from '../../contract/names.js';
import { decodeWire } from '../../contract/protocol.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { connectDriver, type E2EFabric, RecordingListener, startE2E } from '../helpers/e2e.js';
import { waitFor } from '../helpers/processes.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;

beforeAll(async () => {
  e2e = await startE2E({ label: 'fail', driver: { memoryBudgetBytes: 256 * 1024 } });
});

afterAll(async () => {
  await e2e?.close();
});

describe('failing jobs', () => {
  it('a user function that throws fails the job with its message, stack, stage and partition', async () => {
    e2e.events.clear();
    const error = (await e2e.driver
      .run(path.join(JOBS, 'throws.ts'), {})
      .catch((e: unknown) => e)) as StratusError;
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toContain('unlucky record 13');
    expect(error.message).toMatch(/stage \d+, partition 1 failed 4 times/);
    expect(error.context).toMatchObject({ partition: 1 });
    expect(error.context.userStack).toContain('checkRecord');
    // Spark's spark.task.maxFailures: 4 failed attempts, then the job fails.
    const failed = e2e.events.of('task-end').filter((t) => t.status === 'failed' && t.partition === 1);
    expect(failed.length).toBeGreaterThanOrEqual(4);
    expect(e2e.events.of('job-end').at(-1)).toMatchObject({ status: 'failed' });
  });

  it("a failing task's stack names the user's .ts file and line, and the engine's and executor's own .ts files", async () => {
    const markers = await mkdtemp(path.join(tmpdir(), 'stratus-mapped-stack-'));
    try {
      const error = (await e2e.driver
        .run(path.join(JOBS, 'non-retryable.ts'), { markers })
        .catch((e: unknown) => e)) as StratusError;
      const stack = error.context.userStack ?? '';
      // Line 14 of the job module is its `throw new NonRetryableError(…)`.
      expect(stack).toMatch(/at rejectRecord \(.*test\/e2e\/jobs\/non-retryable\.ts:14:\d+\)/);
      expect(stack).toMatch(/\(stratus:(?:engine|executor-function)\/[\w/-]+\.ts:\d+:\d+\)/);
      expect(stack).not.toMatch(/function-app\/task-thread\.js:\d+/);
    } finally {
      await rm(markers, { recursive: true, force: true });
    }
  });

  it('a user function that throws NonRetryableError fails the job after exactly one attempt, its error said once', async () => {
    e2e.events.clear();
    const markers = await mkdtemp(path.join(tmpdir(), 'stratus-non-retryable-'));
    try {
      const error = (await e2e.driver
        .run(path.join(JOBS, 'non-retryable.ts'), { markers })
        .catch((e: unknown) => e)) as StratusError;
      const job = e2e.events.of('job-start').at(-1)!;
      const stage = e2e.events.of('stage-submitted').at(-1)!;
      expect(error.code).toBe('JOB_FAILED');
      expect(error.message).toMatch(
        new RegExp(
          `^job ${job.jobId} aborted: stage ${stage.stageId}, partition 1 failed with an error that retrying ` +
            'cannot fix \\(on executor [^,]+, attempt 0\\): UserCodeError: map \\(node \\d+\\) threw: ' +
            'record 13 cannot be processed$',
        ),
      );
      expect(error.context).toMatchObject({
        jobId: job.jobId,
        stageId: stage.stageId,
        partition: 1,
        attempt: 0,
      });
      expect(error.context.userStack).toMatch(/^NonRetryableError: record 13 cannot be processed\n/);
      expect(error.context.userStack).toContain('rejectRecord');
      // The executor parks the message in the poison queue at its first failure (the host would
      // only after maxDequeueCount deliveries) and settles it, so no delivery runs it again.
      const poison = new StorageQueue(
        connectStorage({ connectionString: e2e.fabric.connectionString }),
        poisonQueueName(e2e.fabric.queue),
      );
      const parked = await waitFor('the task message in the poison queue', async () => {
        if (!(await poison.exists())) return undefined;
        const messages = (await poison.peek(32)).map(
          (m) => decodeWire(m.text) as { jobId: number; partition: number },
        );
        return messages.find((m) => m.jobId === job.jobId && m.partition === 1);
      });
      expect(parked).toMatchObject({ stageId: stage.stageId, attempt: 0 });
      expect(await readdir(markers)).toHaveLength(1);
      // (A late failure of an earlier test's job may arrive meanwhile: count this job's only.)
      const failed = e2e.events.of('task-end').filter((t) => t.jobId === job.jobId && t.status === 'failed');
      expect(failed.map((t) => [t.partition, t.attempt])).toEqual([[1, 0]]);
    } finally {
      await rm(markers, { recursive: true, force: true });
    }
  });

  it('a builder that throws fails before any task is enqueued', async () => {
    e2e.events.clear();
    const error = (await e2e.driver
      .run(path.join(JOBS, 'builder-throws.ts'), {})
      .catch((e: unknown) => e)) as StratusError;
    expect(error.code).toBe('BUILDER_FAILED');
    expect(error.message).toContain('params.input is required');
    expect(error.message).toContain('builder-throws.ts');
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });

  it('a builder that builds a different graph on executors is reported as non-deterministic', async () => {
    const error = (await e2e.driver
      .run(path.join(JOBS, 'nondeterministic.ts'), {})
      .catch((e: unknown) => e)) as StratusError;
    expect(error.message).toMatch(/deterministic/);
    expect(error.message).toContain('retrying cannot fix');
  });

  it('a builder whose parallelize data differs on executors at the same length is reported as non-deterministic', async () => {
    const error = (await e2e.driver
      .run(path.join(JOBS, 'nondeterministic-data.ts'), {})
      .catch((e: unknown) => e)) as StratusError;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/deterministic/);
    expect(error.message).toContain('the data given to parallelize (node 0) differs');
    expect(error.message).toContain('retrying cannot fix');
  });

  it('results larger than maxResultBytes fail the job naming the limit, the job and the stage', async () => {
    const events = new RecordingListener();
    const driver = await connectDriver(e2e.fabric, {
      totalSlots: 4,
      maxResultBytes: 20_000,
      listeners: [events],
    });
    try {
      // 3 partitions of ~1,000 records of ~33 bytes each: one partition's result alone exceeds 20,000 bytes.
      const error = (await driver
        .run(path.join(JOBS, 'big-collect.ts'), { n: 3000 })
        .catch((e: unknown) => e)) as StratusError;
      const job = events.of('job-start').at(-1)!;
      const stage = events.of('stage-submitted').at(-1)!;
      expect(error.code).toBe('RESULT_TOO_LARGE');
      expect(error.message).toContain('maxResultBytes');
      expect(error.message).toContain("driver's limit of 20000 bytes");
      expect(error.message).toContain(`job ${job.jobId} (action "result", collect)`);
      expect(error.message).toContain(`the results of stage ${stage.stageId}`);
      expect(error.context).toMatchObject({ jobId: job.jobId, stageId: stage.stageId });
      expect(events.of('job-end').at(-1)).toMatchObject({ jobId: job.jobId, status: 'failed' });
      // Under the limit, the same job returns every record.
      const fits = await driver.run(path.join(JOBS, 'big-collect.ts'), { n: 30 });
      expect(fits).toEqual(Array.from({ length: 30 }, (_, i) => `record-${i}-${'z'.repeat(20)}`));
    } finally {
      await driver.close();
    }
  });

  it('groupByKey with a hot key larger than the task memory budget spills and stays correct', async () => {
    e2e.events.clear();
    const n = 60_000;
    const result = (await e2e.driver.run(path.join(JOBS, 'hot-key.ts'), { n, partitions: 2 })) as [
      string,
      [number, number],
    ][];
    const expected = new Map<string, [number, number]>();
    for (let i = 0; i < n; i++) {
      const k = i % 3 === 0 ? `k${i % 10}` : 'hot';
      const [c, s] = expected.get(k) ?? [0, 0];
      expected.set(k, [c + 1, s + i]);
    }
    expect(new Map(result)).toEqual(expected);
    const spills = e2e.events
      .of('task-end')
      .filter((t) => t.status === 'succeeded')
      .reduce((n, t) => n + (t.metrics?.spillCount ?? 0), 0);
    expect(spills).toBeGreaterThan(0);
  });

  it('a map task whose output is larger than its memory budget spills it and the answers stay exact', async () => {
    e2e.events.clear();
    const n = 24_000; // about 1.7 MB of map output per map task against a 256 KiB budget
    const result = await e2e.driver.run(path.join(JOBS, 'wide-map-output.ts'), { n, partitions: 3 });
    expect(result).toEqual({ count: n, sum: (n * (n - 1)) / 2 });
    const mapStages = new Set(
      e2e.events
        .of('stage-submitted')
        .filter((s) => s.kind === 'shuffle-map')
        .map((s) => s.stageId),
    );
    const mapTasks = e2e.events
      .of('task-end')
      .filter((t) => t.status === 'succeeded' && mapStages.has(t.stageId));
    expect(mapTasks).toHaveLength(2);
    for (const task of mapTasks) {
      expect(task.metrics?.spillCount).toBeGreaterThan(1);
      expect(task.metrics?.shuffleWriteBytes).toBeGreaterThan(4 * 256 * 1024);
    }
  });
});
