/**
 * Message leases: a task that outlives the lease keeps its message invisible (the host renews the
 * lease) and is never delivered twice; an executor killed mid-task loses its lease, and the
 * message is delivered to another executor once the lease expires.
 */
import { describe, expect, it } from 'vitest';
import { useHostFleet, waitFor } from './harness.js';

const env = useHostFleet();

const shortLease = { STRATUS_HOST_LEASE_SECONDS: '2', STRATUS_HEARTBEAT_MS: '1000' };

describe('message leases', () => {
  it('keeps the lease of a task that runs longer than it, so the task is delivered once', async () => {
    const c = await env.channels.open('lease');
    const a = env.fleet.start({ queue: c.name, slots: 1, env: shortLease });
    const b = env.fleet.start({ queue: c.name, slots: 1, env: shortLease });
    await Promise.all([a.ready(), b.ready()]);
    await c.sendNoop(0, { sleepMs: 7000 });
    const [done] = await c.waitForEvents('task-succeeded', 1, 30_000);
    expect(done?.dequeueCount).toBe(1);
    expect(c.eventsOf('task-started')).toHaveLength(1);
    // heartbeats every STRATUS_HEARTBEAT_MS while the task runs
    expect(c.eventsOf('task-heartbeat').length).toBeGreaterThanOrEqual(5);
    const invocations = a.linesOf('invocation-start').length + b.linesOf('invocation-start').length;
    expect(invocations).toBe(1);
    await waitFor('the task queue to be empty', async () => (await c.tasks.approximateLength()) === 0);
  });

  it('delivers the task of an executor killed mid-task to another executor after the lease expires', async () => {
    const c = await env.channels.open('kill');
    const victim = env.fleet.start({
      queue: c.name,
      slots: 1,
      executorId: `${c.name}-victim`,
      env: { STRATUS_HOST_LEASE_SECONDS: '3' },
    });
    await victim.ready();
    await c.sendNoop(0, { sleepMs: 6000 });
    const [started] = await c.waitForEvents('task-started', 1);
    expect(started?.executorId).toBe(`${c.name}-victim`);
    victim.signal('SIGKILL');
    await victim.exited();
    const survivor = env.fleet.start({ queue: c.name, slots: 1, executorId: `${c.name}-survivor` });
    await survivor.ready();
    // The message reappears when the victim's 3 s lease runs out, and the survivor runs it.
    const [done] = await waitFor(
      'the survivor to finish the task',
      () => {
        const succeeded = c.eventsOf('task-succeeded');
        return succeeded.length > 0 ? succeeded : undefined;
      },
      40_000,
    );
    expect(done?.executorId).toBe(`${c.name}-survivor`);
    expect(done?.dequeueCount).toBe(2);
  }, 60_000);
});
