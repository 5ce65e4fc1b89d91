/**
 * No attempt stays "running" in the run events: on real executors, an attempt still running
 * when another attempt of its partition wins (a speculative loser), when its job is cancelled
 * or fails, or when the application ends, gets a task-end `killed` with the reason; its late
 * outcome is dropped, so every attempt ends exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../driver/observe/run-events.js';
import { RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { connectDriver, type E2EFabric, RecordingListener, startE2E } from '../helpers/e2e.js';
import { waitFor } from '../helpers/processes.js';

const JOB = path.resolve(import.meta.dirname, 'fixtures/jobs/busy-tasks.ts');

let e2e: E2EFabric;
let dir: string;

beforeAll(async () => {
  e2e = await startE2E({
    label: 'killed',
    driver: { speculation: { minTaskRuntimeMs: 300 } },
  });
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-killed-'));
});
afterAll(async () => {
  await e2e?.close();
  await rm(dir, { recursive: true, force: true });
});

type TaskEnd = Extract<RunEvent, { type: 'task-end' }>;
const attempt = (e: { stageId: number; partition: number; attempt: number }) =>
  `${e.stageId}/${e.partition}/${e.attempt}`;

/** Every started attempt has exactly one task-end; returns the ends by attempt. */
function endsOnce(events: RecordingListener): Map<string, TaskEnd> {
  const ends = new Map<string, TaskEnd[]>();
  for (const e of events.of('task-end')) ends.set(attempt(e), [...(ends.get(attempt(e)) ?? []), e]);
  for (const s of events.of('task-start')) expect(ends.get(attempt(s))?.length, attempt(s)).toBe(1);
  return new Map([...ends].map(([k, v]) => [k, v[0]!]));
}

describe('killed task attempts', () => {
  it('the loser of a speculative race ends killed, once, whatever its executor reports later', async () => {
    e2e.events.clear();
    const summary = new RunSummaryBuilder();
    e2e.driver.addListener(summary);
    const result = await e2e.driver.run(JOB, {
      tasks: 8,
      ms: 20,
      straggler: 0,
      stragglerMs: 20_000,
      marker: path.join(dir, 'straggler'),
    });
    expect(result).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const ends = endsOnce(e2e.events);
    const stageId = e2e.events.of('stage-submitted').at(-1)!.stageId;
    // The straggler is the attempt of partition 0 that reached the task's code first: the first
    // attempt, unless its thread was so slow to start that the copy got there before it. Either
    // way one attempt of the race is the copy, the other wins, and the straggler ends killed.
    const race = [...ends.values()].filter((e) => e.stageId === stageId && e.partition === 0);
    expect(race).toHaveLength(2);
    expect(race.filter((e) => e.speculative)).toHaveLength(1);
    expect(race.filter((e) => e.status === 'succeeded')).toHaveLength(1);
    const loser = race.find((e) => e.status !== 'succeeded')!;
    expect(loser).toMatchObject({
      status: 'killed',
      reason: 'another attempt of partition 0 succeeded (speculative loser)',
    });
    // The executor stops the loser, or it returns once the copy has won; either way the driver
    // drops what it reports, and the attempt stays ended once.
    await waitFor(
      'the executor to report the killed attempt',
      () => e2e.driver.lateOutcomesOfKilledAttempts + e2e.driver.killedAttemptsStopped >= 1,
    );
    expect(endsOnce(e2e.events).get(attempt(loser))?.status).toBe('killed');
    const stage = summary.summary().stages.find((s) => s.stageId === stageId)!;
    expect(stage).toMatchObject({ killed: 1, succeeded: 8 });
  }, 60_000);

  it('a cancelled job ends its running attempts killed, naming the cancellation', async () => {
    e2e.events.clear();
    const run = e2e.driver.run(JOB, { tasks: 4, ms: 2500 }).catch((e: unknown) => e);
    await waitFor('4 attempts running', () => e2e.events.of('task-start').length === 4);
    await e2e.driver.cancel('by the test');
    expect(await run).toMatchObject({ code: 'JOB_CANCELLED' });
    const ends = [...endsOnce(e2e.events).values()];
    expect(ends).toHaveLength(4);
    for (const end of ends) {
      expect(end).toMatchObject({
        status: 'killed',
        reason: expect.stringMatching(/^job \d+ was cancelled: by the test$/),
      });
    }
    const completed = e2e.events.events.findIndex((e) => e.type === 'stage-completed');
    expect(e2e.events.events.findLastIndex((e) => e.type === 'task-end')).toBeLessThan(completed);
  }, 60_000);

  it('a failed job ends the attempts still running killed', async () => {
    e2e.events.clear();
    const stoppedBefore = e2e.driver.killedAttemptsStopped;
    // Partition 0 fails once the other three have started; they hold their slots up to 40 s, far
    // longer than partition 0's four attempts take, so they are running when the job fails.
    const error = await e2e.driver
      .run(JOB, { tasks: 4, ms: 40_000, fails: 0, marker: path.join(dir, 'fails') })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JOB_FAILED' });
    const killed = e2e.events.of('task-end').filter((e) => e.status === 'killed');
    // Partitions 1–3 were holding their slots; an attempt of partition 0 may be killed too (the
    // host's redelivery of a failed message can run beside the driver's relaunch of it).
    expect(new Set(killed.map((e) => e.partition).filter((p) => p !== 0))).toEqual(new Set([1, 2, 3]));
    for (const end of killed) expect(end.reason).toMatch(/^stage \d+ failed$/);
    const open = e2e.events
      .of('task-start')
      .filter((s) => !e2e.events.of('task-end').some((e) => attempt(e) === attempt(s)));
    expect(open).toEqual([]);
    // Their executors stop the three holders (the failed job's stage left the lease), freeing the slots.
    await waitFor(
      'the executors to stop the killed attempts',
      () => e2e.driver.killedAttemptsStopped - stoppedBefore >= 3,
      30_000,
    );
  }, 90_000);

  it('an application that ends while tasks run ends them killed before app-end', async () => {
    const events = new RecordingListener();
    const driver = await connectDriver(e2e.fabric, { listeners: [events] });
    // Each holds its slot long enough for both to be running at once even when one executor picks
    // its task up late (listener back-off on a loaded machine); close() kills them, so the test
    // never waits this long.
    const run = driver.run(JOB, { tasks: 2, ms: 15_000 }).catch((e: unknown) => e);
    await waitFor('2 attempts running', () => events.of('task-start').length === 2);
    await driver.close('cancelled');
    await run;
    const ends = [...endsOnce(events).values()];
    expect(ends.map((e) => [e.status, e.reason])).toEqual([
      ['killed', 'the application ended'],
      ['killed', 'the application ended'],
    ]);
    const appEnd = events.events.findIndex((e) => e.type === 'app-end');
    expect(events.events.findLastIndex((e) => e.type === 'task-end')).toBeLessThan(appEnd);
  }, 60_000);
});
