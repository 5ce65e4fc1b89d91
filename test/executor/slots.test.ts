/**
 * Slots: an executor runs at most batchSize + newBatchThreshold tasks at once, reaches that
 * concurrency under load, and runs CPU-bound task bodies in parallel on separate cores.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutorEvent } from '../../contract/protocol.js';
import { useHostFleet } from './harness.js';

const env = useHostFleet();

/** The largest number of tasks running at once, from started/succeeded timestamps (executor clock). */
function maxConcurrency(events: ExecutorEvent[]): number {
  const edges = events
    .filter((e) => e.type === 'task-started' || e.type === 'task-succeeded')
    .map((e) => ({ at: e.at, delta: e.type === 'task-started' ? 1 : -1 }))
    // at equal timestamps count ends first, so back-to-back tasks do not look concurrent
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let max = 0;
  for (const edge of edges) {
    running += edge.delta;
    max = Math.max(max, running);
  }
  return max;
}

describe('executor slots', () => {
  it('runs at most S tasks at once and reaches S under load', async () => {
    const c = await env.channels.open('slots');
    const slots = 3;
    for (let p = 0; p < 9; p++) await c.sendNoop(p, { sleepMs: 1200 });
    const host = env.fleet.start({ queue: c.name, slots });
    await host.ready();
    const done = await c.waitForEvents('task-succeeded', 9, 40_000);
    expect(new Set(done.map((e) => e.partition)).size).toBe(9);
    expect(maxConcurrency(c.events)).toBe(slots);
    // slot indexes stay within 0 … S-1
    expect(Math.max(...c.eventsOf('task-started').map((e) => e.slot))).toBeLessThan(slots);
    // the host's own view agrees: never more than S invocations in flight
    const starts = host.linesOf('invocation-start').length;
    expect(starts).toBe(9);
  });

  it('runs two CPU-bound tasks on two slots in parallel, not one after the other', async () => {
    const c = await env.channels.open('cpu');
    const busyMs = 2000;
    const host = env.fleet.start({ queue: c.name, slots: 2 });
    await host.ready();
    await c.sendNoop(0, { busyMs });
    await c.sendNoop(1, { busyMs });
    const done = await c.waitForEvents('task-succeeded', 2, 30_000);
    const started = c.eventsOf('task-started');
    const span = Math.max(...done.map((e) => e.at)) - Math.min(...started.map((e) => e.at));
    const overlap = Math.min(...done.map((e) => e.at)) - Math.max(...started.map((e) => e.at));
    // Each task spins for busyMs of wall time. Serialized on one thread the second would start
    // after the first ended (overlap ≤ 0); in parallel they overlap for most of busyMs. The span is
    // only logged: on a loaded machine the second task's pick-up delay stretches it, not the
    // overlap, which is what proves the two threads ran at once.
    expect(overlap).toBeGreaterThan(busyMs / 2);
    console.log(`two ${busyMs} ms busy tasks on 2 slots: span ${span} ms, overlap ${overlap} ms`);
  });
});
