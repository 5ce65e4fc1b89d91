/**
 * Executors vanish: a task whose executor is killed mid-run is relaunched after its
 * heartbeats stop (not after the 10-minute queue lease), and the fabric replaces the dead
 * executor. The chaos run: a global sort and a join while a random executor is killed every
 * few seconds and a quarter of the task messages are delivered twice — the same answers as plain
 * JS, compared in full: every sorted record in its global position, every joined customer. The
 * same chaos over DataFrames: TPC-H Q3 (two shuffled joins, an aggregation and a sort, each task in
 * the executors' DuckDB) gives the answer of one DuckDB process over the same Parquet files; Q5's
 * eleven stages run without chaos in test/e2e/tpch.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { customerTable } from '../../examples/join.js';
import { generateOrders, seededRandom } from '../../examples/lib/generate.js';
import { generateTpch } from '../../examples/lib/tpch-gen.js';
import { type OrderCheck, sortRecords } from '../../examples/sort.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { waitFor } from '../helpers/processes.js';
import { sendTwice } from '../helpers/queue-faults.js';
import { expectSameRows, tpchReference } from '../helpers/tpch.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric | undefined;
afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

/** sha256 of records joined by newlines: a checksum of content and order. */
function sha256(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Deliver a share of the task messages twice (seeded), as an at-least-once queue may. */
function duplicateSends(queueName: string, share: number, seed: number): () => void {
  const random = seededRandom(seed);
  return sendTwice(queueName, () => random() < share);
}

/**
 * Kill a random executor every 2.5 s or more — with `aimAtTasks`, only when one is running a task,
 * and then that one — as long as two are alive so the fabric can make progress while replacements
 * start, and at most `maxKills` times: on a loaded machine a replacement host takes longer to
 * start than the interval, and unbounded kills would outpace the work instead of testing its
 * recovery. Returns the kill count and the stop.
 */
function killEvery2500ms(
  fabric: E2EFabric,
  seed: number,
  { aimAtTasks = false, maxKills }: { aimAtTasks?: boolean; maxKills: number },
): { kills: () => number; stop: () => void } {
  const random = seededRandom(seed);
  let kills = 0;
  let lastKill = Date.now();
  const timer = setInterval(() => {
    const live = fabric.fabric.executors;
    if (kills >= maxKills || live.length < 2 || Date.now() - lastKill < 2500) return;
    type Attempt = { appId: string; stageId: number; partition: number; attempt: number; executorId: string };
    const id = (t: Attempt) => `${t.appId}/${t.stageId}/${t.partition}/${t.attempt}/${t.executorId}`;
    const ended = new Set(fabric.events.of('task-end').map(id));
    const busy = new Set(
      fabric.events
        .of('task-start')
        .filter((t) => !ended.has(id(t)))
        .map((t) => t.executorId),
    );
    const running = live.filter((e) => busy.has(e.executorId));
    if (aimAtTasks && running.length === 0) return;
    const pool = aimAtTasks ? running : live;
    const victim = pool[Math.floor(random() * pool.length)]!;
    try {
      fabric.fabric.killExecutor(victim.executorId);
      kills++;
      lastKill = Date.now();
    } catch {
      // it died on its own meanwhile
    }
  }, 100);
  return { kills: () => kills, stop: () => clearInterval(timer) };
}

describe('lost executors', () => {
  it('a task whose executor is killed is relaunched once its heartbeats stop, and the executor is replaced', async () => {
    const fabric = await startE2E({
      label: 'lost',
      executors: 2,
      slots: 1,
      driver: { heartbeatTimeoutMs: 3000 },
    });
    e2e = fabric;
    const started = Date.now();
    const run = fabric.driver.run(path.join(JOBS, 'slow.ts'), { tasks: 2, ms: 4000 });
    await waitFor('both tasks to start', () => fabric.events.of('task-start').length === 2, 20_000);
    const victim = fabric.events.of('task-start')[0]!;
    fabric.fabric.killExecutor(victim.executorId);
    expect(await run).toBe(1);
    // Well before the 10-minute queue lease would have given the message back.
    expect(Date.now() - started).toBeLessThan(30_000);
    const lost = fabric.events.of('task-end').filter((t) => t.status === 'lost');
    expect(lost.map((t) => [t.partition, t.executorId])).toEqual([[victim.partition, victim.executorId]]);
    const retried = fabric.events
      .of('task-end')
      .find((t) => t.status === 'succeeded' && t.partition === victim.partition);
    expect(retried!.attempt).toBeGreaterThan(victim.attempt);
    // Like Azure's scale controller bringing a new instance, the fabric replaces the dead executor.
    await waitFor(
      'a replacement executor',
      () =>
        fabric.fabric.executors.length === 2 &&
        fabric.fabric.executors.every((e) => e.executorId !== victim.executorId),
      20_000,
    );
  }, 60_000);
});

describe('chaos', () => {
  it('a sort and a join give the reference answers while executors are killed and messages duplicated', async () => {
    const fabric = await startE2E({
      label: 'chaos',
      executors: 3,
      slots: 2,
      driver: { heartbeatTimeoutMs: 3000 },
    });
    e2e = fabric;
    const storage = connectStorage({ connectionString: fabric.fabric.connectionString });
    const blobs = new BlobStore(storage);
    const container = `chaos-${Date.now().toString(36)}`;
    await blobs.ensureContainers([container]);
    const restore = duplicateSends(fabric.fabric.queue, 0.25, 99);
    const killer = killEvery2500ms(fabric, 5, { maxKills: 12 });
    try {
      // The sort, saved: every record of the output, in the order of its part files.
      const records = 20_000;
      const sorted = (await fabric.driver.run(path.join(EXAMPLES, 'sort.ts'), {
        records,
        partitions: 6,
        output: `az://${container}/sorted`,
      })) as { saved: { records: number; partitions: number }; ordered: OrderCheck };
      const expected = [...sortRecords(records, 42)].sort((a, b) => {
        const ka = a.slice(0, 10);
        const kb = b.slice(0, 10);
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
      // Distinct keys (62^10 of them to draw from), so the global order is fully determined.
      expect(new Set(expected.map((r) => r.slice(0, 10))).size).toBe(records);
      const parts = (await blobs.list(container, 'sorted/'))
        .map((b) => b.name)
        .filter((n) => /\/part-\d{5}$/.test(n))
        .sort();
      expect(parts).toHaveLength(6);
      const output: string[] = [];
      for (const part of parts) {
        const text = (await blobs.get(container, part)).toString('utf8');
        if (text.length > 0) output.push(...text.replace(/\n$/, '').split('\n'));
      }
      const firstDifference = output.findIndex((line, i) => line !== expected[i]);
      expect(
        firstDifference,
        `output line ${firstDifference}: ${output[firstDifference]} instead of ${expected[firstDifference]}`,
      ).toBe(-1);
      expect(output).toHaveLength(records);
      expect(sha256(output)).toBe(sha256(expected));
      expect(sorted.saved).toMatchObject({ records, partitions: 6 });
      // The job's own order check agrees.
      expect(sorted.ordered).toEqual({
        sorted: true,
        records,
        firstKey: expected[0]!.slice(0, 10),
        lastKey: expected.at(-1)!.slice(0, 10),
      });

      // The join, every customer: [name, total spent], biggest first, ties by name.
      const orders = 1500;
      const joined = (await fabric.driver.run(path.join(EXAMPLES, 'join.ts'), {
        orders,
        seed: 3,
        top: 100_000,
      })) as { top: [string, number][]; customers: number };
      const data = generateOrders(orders, 3);
      const totals = new Map<number, number>();
      for (const li of data.lineItems)
        totals.set(li.orderKey, (totals.get(li.orderKey) ?? 0) + li.extendedPrice);
      const byCustomer = new Map<number, number>();
      for (const o of data.orders)
        byCustomer.set(o.customerKey, (byCustomer.get(o.customerKey) ?? 0) + totals.get(o.orderKey)!);
      const names = new Map(customerTable(data.orders, 3));
      const reference = [...byCustomer]
        .map(([key, spent]) => [names.get(key)!, spent] as [string, number])
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      expect(joined.customers).toBe(reference.length);
      expect(joined.top).toEqual(reference);
    } finally {
      killer.stop();
      restore();
      await storage.blobService.getContainerClient(container).deleteIfExists();
    }
    expect(killer.kills()).toBeGreaterThan(0);
    // 50 s on a quiet 2-core machine; over 180 s at load 10, when kills every 2.5 s outpace
    // the slowed tasks. The bound is there to catch a hang, not to time the run.
  }, 400_000);

  it("a DataFrame join and aggregation (TPC-H Q3) gives single-process DuckDB's answer while executors are killed and messages duplicated", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-chaos-tpch-'));
    const fabric = await startE2E({
      label: 'chaos-df',
      executors: 3,
      slots: 2,
      driver: { heartbeatTimeoutMs: 3000 },
    });
    e2e = fabric;
    const data = await generateTpch({ dir, scale: 0.01, files: 3 });
    const restore = duplicateSends(fabric.fabric.queue, 0.25, 17);
    const killer = killEvery2500ms(fabric, 11, { aimAtTasks: true, maxKills: 4 });
    try {
      const results = (await fabric.driver.run(path.join(EXAMPLES, 'tpch.ts'), {
        dir,
        queries: 'q3',
        shufflePartitions: 4,
      })) as Record<string, Record<string, unknown>[]>;
      killer.stop();
      for (const q of ['q3'] as const) {
        const expected = await tpchReference(q, data);
        expect(expected.length).toBeGreaterThan(0);
        expectSameRows(`${q} under chaos`, results[q], expected);
      }
    } finally {
      killer.stop();
      restore();
      await rm(dir, { recursive: true, force: true });
    }
    expect(killer.kills()).toBeGreaterThan(0);
    // The killer aims at executors running a task: some DataFrame attempts were lost and redone.
    const ends = fabric.events.of('task-end');
    expect(ends.filter((t) => t.status === 'lost').length).toBeGreaterThan(0);
    // A hang is caught by the bound; under a minute on a quiet 2-core machine.
  }, 400_000);
});
