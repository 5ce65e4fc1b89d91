/**
 * Graceful shutdown of an executor host (a Functions instance drained for scale-in, a deployment,
 * SIGTERM): it stops fetching, its running tasks are told through TaskContext.signal, it exits
 * promptly, and the interrupted task's message returns to the queue and completes elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_ENV } from '../../contract/local-host-process.js';
import { WORKER_TERMINATE_GRACE_MS } from '../../executor-function/executor-shutdown.js';
import { HostFleet, TaskChannels, TestStorage, waitFor } from './harness.js';

let storage: TestStorage;
let fleet: HostFleet;
let channels: TaskChannels;

beforeAll(async () => {
  storage = await TestStorage.open();
  fleet = new HostFleet(storage);
  channels = new TaskChannels(storage);
});

afterAll(async () => {
  await fleet?.killAll();
  await channels?.closeAll();
  await storage?.close();
});

describe('executor shutdown', () => {
  it('SIGTERM tells a long task to stop, the host exits promptly, and the task completes on another host', async () => {
    const c = await channels.open('drain');
    const first = fleet.start({ queue: c.name, slots: 1, executorId: 'drained' });
    await first.ready();
    // Longer than the host may take to exit, so only an interrupted task lets it go in time.
    await c.sendNoop(0, { sleepMs: 20_000 });
    await c.waitForEvents('task-started', 1);
    first.signal('SIGTERM');
    // The 20 s task did not hold the host: its signal aborted its sleep (the bound is loose for
    // a busy machine, and still short of the task's length).
    expect(await first.exited(15_000)).toBe(0);
    expect(first.stderr).toMatch(
      /task j0-s0-p0-a0 .*interrupted after \d+ ms by the executor's shutdown \(executor is shutting down\)/,
    );
    // Not the task's failure: no task-failed event counts against it, and the host deleted nothing.
    expect(c.eventsOf('task-failed')).toHaveLength(0);
    expect(first.linesOf('invocation-end').map((e) => e.ok)).toEqual([false]);

    const second = fleet.start({ queue: c.name, slots: 1, executorId: 'successor' });
    const [done] = await c.waitForEvents('task-succeeded', 1, 60_000);
    expect(done).toMatchObject({ partition: 0, executorId: 'successor', dequeueCount: 2 });
    await waitFor('the message to be deleted', async () => (await c.tasks.approximateLength()) === 0);
    second.signal('SIGTERM');
    expect(await second.exited()).toBe(0);
  });

  it('a task that ignores its signal has its thread terminated after the shutdown grace', async () => {
    const c = await channels.open('grace');
    const host = fleet.start({
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
    const c = await channels.open('kill');
    // A grace the host's 5 s terminate grace cannot hold: the executor says so, and is killed.
    const host = fleet.start({
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
