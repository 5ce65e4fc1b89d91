/**
 * Graceful shutdown of an executor host (a Functions instance drained for scale-in, a deployment,
 * SIGTERM): it stops fetching, its running tasks are told through TaskContext.signal (a stage
 * task at its next record batch), it exits promptly, and the interrupted task's message returns
 * to the queue and completes elsewhere. A worker still running 5 s after the signal is killed, as
 * the Functions host kills it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_ENV } from '../../contract/local-host-process.js';
import { Driver } from '../../driver/app/driver.js';
import { RecordingListener } from '../../driver/testing/recording-listener.js';
import { WORKER_TERMINATE_GRACE_MS } from '../../executor-function/executor-shutdown.js';
import { uniqueQueueName, useHostFleet, waitFor } from './harness.js';

const BUSY_MAP = path.resolve(import.meta.dirname, 'jobs', 'busy-map.ts');

const env = useHostFleet();

describe('executor shutdown', () => {
  it('SIGTERM tells a long task to stop, the host exits promptly, and the task completes on another host', async () => {
    const c = await env.channels.open('drain');
    const first = env.fleet.start({ queue: c.name, slots: 1, executorId: 'drained' });
    await first.ready();
    // A first task starts the slot's thread, so the signal, not a thread still loading (seconds
    // on a loaded machine, longer than the grace), is what this test measures.
    await c.sendNoop(1);
    await c.waitForEvents('task-succeeded', 1);
    // Longer than the host may take to exit, so only an interrupted task lets it go in time.
    await c.sendNoop(0, { sleepMs: 20_000 });
    await waitFor('the long task to start', () => c.eventsOf('task-started').find((e) => e.partition === 0));
    first.signal('SIGTERM');
    // The 20 s task did not hold the host: its signal aborted its sleep (the bound is loose for
    // a busy machine, and still short of the task's length).
    expect(await first.exited(15_000)).toBe(0);
    expect(first.stderr).toMatch(
      /task j0-s0-p0-a0 .*interrupted after \d+ ms by the executor's shutdown \(executor is shutting down\)/,
    );
    // Not the task's failure: no task-failed event counts against it, and the host deleted nothing.
    expect(c.eventsOf('task-failed')).toHaveLength(0);
    expect(first.linesOf('invocation-end').map((e) => e.ok)).toEqual([true, false]);
    // …and the driver is told that this delivery ended, so it does not show it running.
    const [interrupted] = await c.waitForEvents('task-interrupted', 1);
    expect(interrupted).toMatchObject({
      partition: 0,
      executorId: 'drained',
      dequeueCount: 1,
      reason: 'executor is shutting down',
    });

    const second = env.fleet.start({ queue: c.name, slots: 1, executorId: 'successor' });
    const [, done] = await c.waitForEvents('task-succeeded', 2, 60_000);
    expect(done).toMatchObject({ partition: 0, executorId: 'successor', dequeueCount: 2 });
    await waitFor('the message to be deleted', async () => (await c.tasks.approximateLength()) === 0);
    second.signal('SIGTERM');
    expect(await second.exited()).toBe(0);
  });

  it('a stage task whose map is CPU-bound stops at its next record batch on SIGTERM, and its job completes on another host', async () => {
    const queue = uniqueQueueName('stagedrain');
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-stage-drain-'));
    const events = new RecordingListener();
    const driver = await Driver.connect({
      connectionString: env.storage.connectionString,
      taskQueue: queue,
      totalSlots: 1,
      listeners: [events],
      speculation: { enabled: false },
    });
    try {
      // Default grace (3 s): stopping at a batch boundary (~1 s) must beat the thread's termination.
      const first = env.fleet.start({ queue, slots: 1, executorId: 'drained-stage' });
      await first.ready();
      const records = 20 * 1024; // ~20 s of spinning at 1 ms per record, batches of ~1 s
      const answer = driver.run(BUSY_MAP, { records, spinMs: 1, dir });
      answer.catch(() => undefined); // awaited below
      await waitFor('the map to be running', () => existsSync(path.join(dir, 'mapping')), 60_000);
      first.signal('SIGTERM');
      expect(await first.exited(WORKER_TERMINATE_GRACE_MS + 10_000)).toBe(0);
      // Told by its signal and stopped between batches, not terminated after the grace.
      expect(first.stderr).toMatch(
        /task j\d+-s\d+-p0-a0 .*interrupted after \d+ ms by the executor's shutdown \(executor is shutting down\); the message returns to the queue/,
      );
      expect(first.stderr).not.toContain('its thread was terminated');
      expect(first.linesOf('invocation-end').map((e) => e.ok)).toEqual([false]);

      const second = env.fleet.start({ queue, slots: 1, executorId: 'successor-stage' });
      expect(await answer).toBe(records * (records - 1));
      const ends = events.of('task-end').filter((e) => e.partition === 0);
      expect(ends.map((e) => [e.delivery, e.status, e.executorId, e.reason])).toEqual([
        [
          1,
          'killed',
          'drained-stage',
          'interrupted: executor is shutting down; its task message returns to the queue',
        ],
        [2, 'succeeded', 'successor-stage', undefined],
      ]);
      second.signal('SIGTERM');
      expect(await second.exited()).toBe(0);
    } finally {
      await driver.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('a task that ignores its signal has its thread terminated after the shutdown grace', async () => {
    const c = await env.channels.open('grace');
    const host = env.fleet.start({
      queue: c.name,
      slots: 1,
      env: { [HOST_ENV.shutdownGraceMs]: '300' },
    });
    await host.ready();
    await c.sendNoop(0, { busyMs: 20_000 });
    await c.waitForEvents('task-started', 1);
    const signalledAt = Date.now();
    host.signal('SIGTERM');
    expect(await host.exited(10_000)).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(8_000);
    expect(host.stderr).toMatch(
      /interrupted after \d+ ms by the executor's shutdown \(its thread was terminated\)/,
    );
    await waitFor('the message to be visible again', async () => (await c.tasks.approximateLength()) === 1);
  });

  it('as the Functions host, the local host kills a worker still running 5 s after SIGTERM and releases its messages', async () => {
    const c = await env.channels.open('kill');
    // A grace the host's 5 s terminate grace cannot hold: the executor says so, and is killed.
    const host = env.fleet.start({
      queue: c.name,
      slots: 1,
      env: { [HOST_ENV.shutdownGraceMs]: '20000' },
    });
    await host.ready();
    await c.sendNoop(0, { busyMs: 60_000 });
    await c.waitForEvents('task-started', 1);
    const signalledAt = Date.now();
    host.signal('SIGTERM');
    expect(await host.exited(20_000)).toBe(1);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(WORKER_TERMINATE_GRACE_MS);
    expect(host.stderr).toContain(
      "STRATUS_SHUTDOWN_GRACE_MS=20000 is not under the Functions host's 5000 ms terminate grace",
    );
    expect(host.stderr).toMatch(
      /the worker did not exit within the host's 5000 ms terminate grace after SIGTERM: killing it, as the Functions host does; 1 in-flight invocation\(s\) failed, their messages released/,
    );
    // Failed by the host, not by the task: no task-failed event, and the message is back.
    expect(c.eventsOf('task-failed')).toHaveLength(0);
    await waitFor('the message to be visible again', async () => (await c.tasks.approximateLength()) === 1);
  });
});
