/**
 * Faults with real executors: duplicate delivery cannot change an answer, poisoned task
 * messages and cancelled jobs end the job with a clear reason (and executors drop what is
 * left), bad params and unencodable records are named, stragglers get speculative copies.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StratusError } from '../../contract/errors.js';
import { eventsQueueName, poisonQueueName } from '../../contract/names.js';
import { encodeWire, PROTOCOL_VERSION } from '../../contract/protocol.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { waitFor } from '../helpers/processes.js';
import { sendTwice } from '../helpers/queue-faults.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');
const E2E_JOBS = path.resolve(import.meta.dirname, '../e2e/jobs');

let e2e: E2EFabric;
let dir: string;

beforeAll(async () => {
  e2e = await startE2E({ label: 'faults', executors: 2, slots: 2, driver: { poisonCheckMs: 300 } });
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-faults-'));
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A queue of the fabric's storage account. */
function fabricQueue(name: string): StorageQueue {
  return new StorageQueue(connectStorage({ connectionString: e2e.fabric.connectionString }), name);
}

/** Once a task of the job just started runs, the stage submitted last (the one running). */
async function runningStage() {
  await waitFor('a task to start', () => e2e.events.of('task-start').length > 0, 20_000);
  return e2e.events.of('stage-submitted').at(-1)!;
}

describe('faults', () => {
  it('every task message delivered twice gives the same answers, the duplicates ignored', async () => {
    const restore = sendTwice(e2e.fabric.queue);
    e2e.events.clear();
    try {
      const pairs: [string, number][] = Array.from({ length: 300 }, (_, i) => [`k${i % 17}`, i]);
      const result = (await e2e.driver.run(path.join(E2E_JOBS, 'pairs.ts'), {
        pairs,
        other: pairs.slice(0, 40),
        slices: 4,
        partitions: 3,
      })) as { sums: [string, number][]; distinctKeys: number; joined: unknown[] };
      const sums = new Map<string, number>();
      for (const [k, v] of pairs) sums.set(k, (sums.get(k) ?? 0) + v);
      expect(new Map(result.sums)).toEqual(sums);
      expect(result.distinctKeys).toBe(17);
      let joined = 0;
      for (const [k] of pairs) for (const [k2] of pairs.slice(0, 40)) if (k === k2) joined++;
      expect(result.joined).toHaveLength(joined);
    } finally {
      restore();
    }
    // Duplicates ran (or were at least delivered) and lost: ignored, never merged twice.
    await waitFor(
      'an ignored duplicate',
      () => e2e.events.of('task-end').some((t) => t.status === 'ignored'),
      10_000,
    );
  });

  it('a task message that reaches the poison queue fails its job with a clear reason', async () => {
    e2e.events.clear();
    const run = e2e.driver.run(path.join(JOBS, 'slow.ts'), { tasks: 4, ms: 4000 }).catch((e: unknown) => e);
    const stage = await runningStage();
    // What the Functions host does after maxDequeueCount failed deliveries.
    const poison = fabricQueue(poisonQueueName(e2e.fabric.queue));
    await poison.ensure();
    await poison.send(
      encodeWire({
        v: PROTOCOL_VERSION,
        type: 'task',
        appId: e2e.driver.appId,
        jobId: stage.jobId,
        stageId: stage.stageId,
        partition: 3,
        attempt: 0,
        eventsQueue: 'stratus-events-x',
        sentAt: Date.now(),
        work: { kind: 'noop' },
      }),
    );
    const error = (await run) as StratusError;
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toContain('poison queue');
    expect(error.message).toMatch(new RegExp(`stage ${stage.stageId}, partition 3`));
  });

  it('cancel stops a running job at once, and executors drop its queued tasks without running them', async () => {
    e2e.events.clear();
    const markers = await mkdtemp(path.join(dir, 'cancel-'));
    const tasks = 40; // 40 × 1.5 s on 4 slots: 15 s of work if it all ran
    const run = e2e.driver
      .run(path.join(JOBS, 'sleepy.ts'), { tasks, ms: 1500, markers })
      .catch((e: unknown) => e);
    await waitFor('a task to run', async () => (await readdir(markers)).length > 0, 20_000);
    const cancelledAt = Date.now();
    await e2e.driver.cancel('test');
    const error = (await run) as StratusError;
    expect(error.code).toBe('JOB_CANCELLED');
    expect(error.message).toContain('cancelled: test');
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect(e2e.events.of('job-end').at(-1)).toMatchObject({ status: 'cancelled' });
    // Executors drop the rest instead of running it: the queue drains far sooner than 15 s…
    const queue = fabricQueue(e2e.fabric.queue);
    await waitFor('the task queue to drain', async () => (await queue.approximateLength()) === 0, 10_000);
    // …and the dropped tasks never ran their code. Those already running, and those a task thread
    // started within its 2 s lease cache, did: at most two per slot.
    const ran = (await readdir(markers)).length;
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThanOrEqual(2 * e2e.fabric.totalSlots + 2);
  });

  it('a task message of another protocol version fails its job at once, naming the field and both versions', async () => {
    e2e.events.clear();
    const run = e2e.driver.run(path.join(JOBS, 'sleepy.ts'), { tasks: 2, ms: 8000 }).catch((e: unknown) => e);
    const stage = await runningStage();
    // What a driver of a newer release would send to executors of this one.
    const tasks = fabricQueue(e2e.fabric.queue);
    await tasks.send(
      encodeWire({
        v: PROTOCOL_VERSION + 1,
        type: 'task',
        appId: e2e.driver.appId,
        jobId: stage.jobId,
        stageId: stage.stageId,
        partition: 1,
        attempt: 5,
        eventsQueue: eventsQueueName(e2e.driver.appId),
        sentAt: Date.now(),
        work: { kind: 'stage', codeHash: 'f'.repeat(64), stageBlob: 'renamed-in-v2' },
      }),
    );
    const error = (await run) as StratusError;
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toContain(`stage ${stage.stageId}, partition 1 (attempt 5)`);
    expect(error.message).toContain(`field v: task message has protocol version ${PROTOCOL_VERSION + 1}`);
    expect(error.message).toContain(`expected version ${PROTOCOL_VERSION}`);
    expect(error.message).toContain('same stratus release');
    expect(error.context).toMatchObject({ field: 'v', partition: 1, attempt: 5 });
    // At its first delivery: the job's own 8-second tasks are still running, nothing was poisoned.
    expect(e2e.events.of('task-end').filter((t) => t.status === 'succeeded')).toHaveLength(0);
  });

  it('params the record encoding cannot carry are refused before anything runs, naming the value', async () => {
    const error = (await e2e.driver
      .run(path.join(JOBS, 'slow.ts'), { tasks: 1, ms: 0, when: () => 1 } as never)
      .catch((e: unknown) => e)) as StratusError;
    expect(error.code).toBe('PARAMS_INVALID');
    expect(error.message).toContain('params.when: a function (when)');
  });

  it("params that do not match the module's schema are refused before anything runs, naming each param", async () => {
    e2e.events.clear();
    const job = path.join(JOBS, 'typed-params.ts');
    const missing = (await e2e.driver.run(job, { step: 2 }).catch((e: unknown) => e)) as StratusError;
    expect(missing.code).toBe('PARAMS_INVALID');
    expect(missing.message).toContain('typed-params.ts');
    expect(missing.message).toMatch(/params\.records: .*expected number, received undefined/);
    const wrongType = (await e2e.driver
      .run(job, { records: '10', label: 3 })
      .catch((e: unknown) => e)) as StratusError;
    expect(wrongType.code).toBe('PARAMS_INVALID');
    expect(wrongType.message).toMatch(/params\.records: .*expected number, received string/);
    expect(wrongType.message).toMatch(/params\.label: .*expected string, received number/);
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });

  it("a module with a params schema runs with the schema's output on every executor (defaults applied)", async () => {
    const job = path.join(JOBS, 'typed-params.ts');
    const records = 50;
    const sum = (step: number) => Array.from({ length: records }, (_, i) => i * step).reduce((a, b) => a + b);
    expect(await e2e.driver.run(job, { records })).toBe(sum(1));
    expect(await e2e.driver.run(job, { records, step: 3 })).toBe(sum(3));
  });

  it('a record the codec cannot encode fails the job on its first attempt, naming the operator', async () => {
    e2e.events.clear();
    const error = (await e2e.driver
      .run(path.join(JOBS, 'unencodable.ts'), {})
      .catch((e: unknown) => e)) as StratusError;
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toMatch(/map .*cannot be encoded: record\[1\]\.get\("h"\): an instance of Handle/);
    expect(error.message).toMatch(
      /failed with an error that retrying cannot fix \(on executor [^,]+, attempt 0\)/,
    );
    const job = e2e.events.of('job-start').at(-1)!;
    const failed = e2e.events.of('task-end').filter((t) => t.jobId === job.jobId && t.status === 'failed');
    expect(failed).toHaveLength(1);
  });

  it('a straggler gets a speculative copy, the attempt that does not straggle wins; the answer is unchanged', async () => {
    e2e.events.clear();
    const marker = path.join(dir, 'straggler-marker');
    const tasks = 8;
    const started = Date.now();
    const result = await e2e.driver.run(path.join(JOBS, 'straggler.ts'), { tasks, slowMs: 15_000, marker });
    expect(result).toEqual(Array.from({ length: tasks }, (_, i) => i * 10));
    expect(existsSync(marker)).toBe(true);
    expect(Date.now() - started).toBeLessThan(12_000);
    const speculative = e2e.events.of('task-start').filter((t) => t.speculative);
    expect(speculative.length).toBeGreaterThanOrEqual(1);
    expect(speculative[0]!.partition).toBe(0);
    // Whichever of partition 0's two attempts reaches the map first straggles (on a cold thread the
    // copy can overtake the original), so the other one wins: one original, one copy, one success.
    const race = e2e.events.of('task-end').filter((t) => t.partition === 0);
    expect(race).toHaveLength(2);
    expect(race.filter((t) => t.speculative)).toHaveLength(1);
    expect(race.filter((t) => t.status === 'succeeded')).toHaveLength(1);
  }, 60_000);
});
