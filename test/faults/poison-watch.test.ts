/**
 * The poison watch sees this application's poisoned task messages however many messages of
 * other applications sit in front of them in the poison queue (which nothing empties), and it
 * leaves those messages there.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StratusError } from '../../contract/errors.js';
import { eventsQueueName, poisonQueueName } from '../../contract/names.js';
import { encodeWire, PROTOCOL_VERSION } from '../../contract/protocol.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { connectDriver, type E2EFabric, RecordingListener, startE2E } from '../helpers/e2e.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');
const E2E_JOBS = path.resolve(import.meta.dirname, '../e2e/jobs');
/** More than one peek (32 messages) can show. */
const STALE = 40;

let e2e: E2EFabric;
let poison: StorageQueue;

beforeAll(async () => {
  e2e = await startE2E({ label: 'pwatch', executors: 1, slots: 2 });
  poison = new StorageQueue(
    connectStorage({ connectionString: e2e.fabric.connectionString }),
    poisonQueueName(e2e.fabric.queue),
  );
  await poison.ensure();
});

afterAll(async () => {
  await e2e?.close();
  await poison?.destroy();
});

/** Poisoned messages of applications that ended long ago, and bodies that are no task message at all. */
async function addStaleMessages(label: string): Promise<void> {
  const texts: string[] = [];
  for (let i = 0; i < STALE; i++) {
    texts.push(
      i % 8 === 7
        ? encodeWire({ not: 'a task message', i })
        : encodeWire({
            v: PROTOCOL_VERSION,
            type: 'task',
            appId: `app-stale-${label}-${i}`,
            jobId: 0,
            stageId: 0,
            partition: i,
            attempt: 0,
            eventsQueue: eventsQueueName(`app-stale-${label}-${i}`),
            sentAt: Date.now() - 86_400_000,
            work: { kind: 'noop' },
          }),
    );
  }
  for (const text of texts) await poison.send(text);
}

/** Reject when `promise` takes longer than `ms`: a watch that went blind makes the job hang. */
function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('the poison watch', () => {
  it('sees a message the host poisoned after maxDequeueCount behind 40 stale ones, and fails the job with its error', async () => {
    await addStaleMessages('a');
    // maxFailures above maxDequeueCount (5): only the poison queue can end this job. No
    // speculative copy or heartbeat relaunch either: on a loaded machine the host's retries are
    // slow enough for partition 1 to look like a straggler, and a second attempt message would
    // fail 5 more times before the watch is needed.
    const events = new RecordingListener();
    const driver = await connectDriver(e2e.fabric, {
      totalSlots: 2,
      maxFailures: 10,
      speculation: { enabled: false },
      heartbeatTimeoutMs: 120_000,
      poisonCheckMs: 300,
      listeners: [events],
    });
    try {
      const error = (await withinMs(
        driver.run(path.join(E2E_JOBS, 'throws.ts'), {}).catch((e: unknown) => e),
        45_000,
        'the job failing',
      )) as StratusError;
      expect(error.code).toBe('JOB_FAILED');
      expect(error.message).toContain('unlucky record 13');
      expect(error.message).toMatch(/partition 1 failed 5 times/);
      expect(events.of('task-end').filter((t) => t.status === 'failed' && t.partition === 1)).toHaveLength(5);
    } finally {
      await driver.close();
    }
    // The stale messages are still there for whoever drains the queue.
    expect(await poison.approximateLength()).toBeGreaterThanOrEqual(STALE + 1);
  }, 90_000);

  it('sees a poisoned message of a running job behind 40 stale ones (no executor involved)', async () => {
    await addStaleMessages('b');
    e2e.events.clear();
    const run = e2e.driver.run(path.join(JOBS, 'sleepy.ts'), { tasks: 2, ms: 8000 }).catch((e: unknown) => e);
    const stage = await withinMs(
      (async () => {
        for (;;) {
          const submitted = e2e.events.of('stage-submitted').at(-1);
          if (submitted && e2e.events.of('task-start').length > 0) return submitted;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      20_000,
      'a task starting',
    );
    // What the Functions host does, on its own, after maxDequeueCount failed deliveries.
    const text = encodeWire({
      v: PROTOCOL_VERSION,
      type: 'task',
      appId: e2e.driver.appId,
      jobId: stage.jobId,
      stageId: stage.stageId,
      partition: 1,
      attempt: 0,
      eventsQueue: eventsQueueName(e2e.driver.appId),
      sentAt: Date.now(),
      work: { kind: 'noop' },
    });
    await poison.send(text);
    // Well before the job's own 8-second tasks end.
    const error = (await withinMs(run, 7000, 'the job failing')) as StratusError;
    expect(error.code).toBe('JOB_FAILED');
    expect(error.message).toContain('poison queue');
    expect(error.message).toContain(`stage ${stage.stageId}, partition 1`);
    expect(await poison.approximateLength()).toBeGreaterThanOrEqual(2 * STALE + 2);
  }, 60_000);
});
