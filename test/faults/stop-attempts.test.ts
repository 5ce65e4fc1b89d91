/**
 * Attempts the driver no longer needs are stopped on their executors, as Spark kills them:
 * on real executor processes, a speculative loser that would spin forever and the running
 * tasks of a cancelled job have their task threads terminated soon after the driver decides,
 * their slots run the next tasks, their messages are settled (not retried), and the answers
 * stay exact.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { type CountedRequest, RequestCounter } from '../../storage/testing/request-counter.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { waitFor } from '../helpers/processes.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');
const SPIN = path.join(JOBS, 'spin-until-released.ts');
const BARRIER = path.join(JOBS, 'slot-barrier.ts');

/**
 * Driver decision → thread terminated → `task-killed` received. Executors re-read the lease at
 * most every 2 s and check running tasks every second, so this is ~3 s plus a lease write and
 * an event's round trip; the rest is slack for a loaded two-core machine. Without stopping,
 * the attempt would spin until the test releases it.
 */
const STOP_BOUND_MS = 8000;

/** How often executors re-read a lease at most (executor-function/lease-watch.ts, the default). */
const LEASE_CHECK_MS = 2000;

let e2e: E2EFabric;
let counter: RequestCounter;
const dirs: string[] = [];

async function freshDir(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `stratus-stop-${label}-`));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  // Driver and executors reach Azurite through a counting proxy, to measure what stopping costs.
  counter = await RequestCounter.startFor(suiteConnectionString());
  // 2 × 2 slots; speculation after 300 ms so the straggler's copy launches at once.
  e2e = await startE2E({
    label: 'stop',
    connectionString: counter.connectionString,
    driver: { speculation: { minTaskRuntimeMs: 300 } },
  });
});

afterAll(async () => {
  // Release anything still spinning (a failed test) before the executors stop.
  await Promise.all(dirs.map((dir) => writeFile(path.join(dir, 'release'), '')));
  await e2e?.close();
  await counter?.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Run the barrier job on every slot of the fabric: true for each task only if all slots were free. */
async function everySlotRunsAtOnce(): Promise<boolean[]> {
  const dir = await freshDir('barrier');
  return (await e2e.driver.run(BARRIER, {
    tasks: e2e.fabric.totalSlots,
    dir,
    timeoutMs: 10_000,
  })) as boolean[];
}

/** Lines the executors wrote to stderr (dropped and stopped attempts are logged there). */
function executorLog(): string {
  return e2e.fabric.executors.map((e) => e.stderrTail()).join('\n');
}

describe('stopping attempts on executors', () => {
  it('a speculative loser stops on its executor soon after the winner succeeds, and its slot runs the next task', async () => {
    e2e.events.clear();
    const dir = await freshDir('loser');
    const stoppedBefore = e2e.driver.killedAttemptsStopped;
    const writesBefore = e2e.driver.leaseWrites;
    const result = await e2e.driver.run(SPIN, { tasks: 8, spin: 'first', dir });
    expect(result).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    // The driver rewrote its lease for the loser and the stage's end (maybe in one write), and
    // perhaps renewed it once: no write per task.
    expect(e2e.driver.leaseWrites - writesBefore).toBeLessThanOrEqual(3);

    const ends = e2e.events.of('task-end').filter((e) => e.partition === 0);
    const winner = ends.find((e) => e.status === 'succeeded')!;
    const loser = ends.find((e) => e.status === 'killed')!;
    // The spinner is the attempt that reached the task's code first: the first attempt, unless its
    // thread was so slow to start that the speculative copy got there before it. Either way the
    // race is one original and one copy, and the one that spins loses.
    expect(ends).toHaveLength(2);
    expect(Boolean(winner.speculative)).toBe(!loser.speculative);
    expect(loser).toMatchObject({
      reason: 'another attempt of partition 0 succeeded (speculative loser)',
    });
    const stopped = await waitFor(
      'the loser to be stopped on its executor',
      () =>
        e2e.events
          .of('notice')
          .find((n) =>
            new RegExp(`partition 0 attempt ${loser.attempt}: executor \\S+ stopped it after \\d+ ms`).test(
              n.message,
            ),
          ),
      STOP_BOUND_MS + 5000,
    );
    expect(stopped.message).toContain(`executor ${loser.executorId} stopped it`);
    // The winner was the stage's last partition, so the lease may already say the stage ended.
    expect(stopped.message).toMatch(/\((another attempt of partition 0 succeeded|stage \d+ has ended)\)$/);
    expect(stopped.at - winner.at).toBeLessThan(STOP_BOUND_MS);
    expect(e2e.driver.killedAttemptsStopped).toBe(stoppedBefore + 1);

    // Its thread is gone: every slot — the loser's too — runs the next job at once, and the
    // loser's progress, which it wrote every 20 ms while it spun, never moves again.
    const progress = readFileSync(path.join(dir, 'progress-0'), 'utf8');
    e2e.events.clear();
    expect(await everySlotRunsAtOnce()).toEqual(Array(e2e.fabric.totalSlots).fill(true));
    expect(e2e.events.of('task-start')).toContainEqual(
      expect.objectContaining({ executorId: loser.executorId, slot: loser.slot }),
    );
    expect(readFileSync(path.join(dir, 'progress-0'), 'utf8')).toBe(progress);
    expect(existsSync(path.join(dir, 'release'))).toBe(false);
  }, 60_000);

  it('driver.cancel() stops the running tasks on their executors, not just the queued ones', async () => {
    e2e.events.clear();
    const dir = await freshDir('cancel');
    const slots = e2e.fabric.totalSlots;
    const stoppedBefore = e2e.driver.killedAttemptsStopped;
    const run = e2e.driver.run(SPIN, { tasks: slots, spin: 'all', dir }).catch((e: unknown) => e);
    await waitFor(`${slots} tasks spinning`, () =>
      Array.from({ length: slots }, (_, p) => existsSync(path.join(dir, `progress-${p}`))).every(Boolean),
    );
    // While they spin, executors read the lease once per LEASE_CHECK_MS each, not once per task.
    const leaseReads: CountedRequest[] = [];
    const stopCounting = counter.onRequest((r) => {
      if (r.kind === 'blob:read:app-lease') leaseReads.push(r);
    });
    const countFrom = Date.now();
    const spun = (p: number) => Number(readFileSync(path.join(dir, `progress-${p}`), 'utf8'));
    const spunAtStart = spun(0);
    await waitFor('4 s more of spinning', () => spun(0) - spunAtStart >= 200, 30_000);
    stopCounting();
    const window = Date.now() - countFrom;
    const executors = e2e.fabric.executors.length;
    expect(leaseReads.length).toBeLessThanOrEqual(executors * (Math.ceil(window / LEASE_CHECK_MS) + 1));
    expect(leaseReads.length).toBeGreaterThanOrEqual(executors);
    const cancelledAt = Date.now();
    await e2e.driver.cancel('by the test');
    expect(await run).toMatchObject({ code: 'JOB_CANCELLED' });

    await waitFor(
      `the ${slots} running attempts to be stopped on their executors`,
      () => e2e.driver.killedAttemptsStopped - stoppedBefore === slots,
      STOP_BOUND_MS + 5000,
    );
    expect(Date.now() - cancelledAt).toBeLessThan(STOP_BOUND_MS);
    const killed = e2e.events.of('task-end').filter((e) => e.status === 'killed');
    expect(killed).toHaveLength(slots);
    for (const end of killed) expect(end.reason).toMatch(/^job \d+ was cancelled: by the test$/);
    const stopLines = e2e.events
      .of('notice')
      .filter((n) => / stopped it after \d+ ms \(job \d+ was cancelled\)$/.test(n.message));
    expect(stopLines).toHaveLength(slots);

    // Every slot is free again and no spinning thread survives.
    const progress = Array.from({ length: slots }, (_, p) =>
      readFileSync(path.join(dir, `progress-${p}`), 'utf8'),
    );
    expect(await everySlotRunsAtOnce()).toEqual(Array(slots).fill(true));
    expect(
      Array.from({ length: slots }, (_, p) => readFileSync(path.join(dir, `progress-${p}`), 'utf8')),
    ).toEqual(progress);
    // A stopped attempt's message was settled as done: never delivered again (a redelivery
    // would have been dropped, and logged, as a task of a cancelled job), and the queue is empty.
    const stage = killed[0]!.stageId;
    expect(executorLog()).not.toMatch(new RegExp(`task j\\d+-s${stage}-p\\d+-a0 .*: dropped: `));
    expect(executorLog()).toMatch(
      new RegExp(`task j\\d+-s${stage}-p\\d+-a0 .*: stopped after \\d+ ms: job \\d+ was cancelled`),
    );
    const queue = new StorageQueue(
      connectStorage({ connectionString: e2e.fabric.connectionString }),
      e2e.fabric.queue,
    );
    await waitFor('the task queue to be empty', async () => (await queue.approximateLength()) === 0);
  }, 60_000);
});
