/**
 * Dataset handles and caches across the runs of one driver session, on real executors against
 * the suite's Azurite: a handle read back equals the plain-JS records; a hash-partitioned
 * handle joins without a shuffle of its side; a handle of another application and one whose
 * blobs are gone are refused by name; a cached dataset of the same graph and params is computed
 * by the first run only.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import type { Driver } from '../../driver/app/driver.js';
import type { DatasetHandle } from '../../engine/dataset/handles.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { connectDriver, type E2EFabric, startE2E } from '../helpers/e2e.js';
import handleMake from './jobs/handle-make.js';
import handleRead from './jobs/handle-read.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;
let blobs: BlobStore;

beforeAll(async () => {
  e2e = await startE2E({ label: 'handles', executors: 2, slots: 2 });
  blobs = new BlobStore(connectStorage({ connectionString: e2e.fabric.connectionString }));
});

afterAll(async () => {
  await e2e?.close();
});

const records: [string, number][] = Array.from({ length: 300 }, (_, i) => [`k${(i * 13) % 29}`, i % 97]);
const labels: [string, string][] = Array.from({ length: 20 }, (_, i) => [`k${i * 2}`, `label-${i}`]);
const byJson = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

async function makeHandles(driver: Driver) {
  return driver.run(handleMake, { records, slices: 3, partitions: 4 });
}

describe('dataset handles between runs', () => {
  it('round trip: a later run reads the handle as the records the first run made, typed as they were', async () => {
    const made = await makeHandles(e2e.driver);
    expect(made.plain.records).toBe(records.length);
    expect(made.plain.appId).toBe(e2e.driver.appId);
    expect(made.plain.hashPartitions).toBeNull();
    expect(made.sums.hashPartitions).toBe(4);
    // The typed flow: the reading job's params accept exactly these handle types.
    const plain: DatasetHandle<{ key: string; value: number; big: boolean }> = made.plain;
    const result = await e2e.driver.run(handleRead, { plain, sums: made.sums, labels, partitions: 4 });
    expect(byJson(result.plain)).toEqual(
      byJson(records.map(([k, v]) => ({ key: k, value: v, big: v > 50 }))),
    );
    const sums = new Map<string, number>();
    for (const [k, v] of records) sums.set(k, (sums.get(k) ?? 0) + v);
    const expected = labels.flatMap(([k, l]) => (sums.has(k) ? [[k, [sums.get(k)!, l]]] : []));
    expect(byJson(result.joined)).toEqual(byJson(expected));
  });

  it('a hash-partitioned handle joins in place: the job shuffles only the other side', async () => {
    const made = await makeHandles(e2e.driver);
    e2e.events.clear();
    await e2e.driver.run(handleRead, { plain: made.plain, sums: made.sums, labels, partitions: 4 });
    const [, joined] = e2e.events.of('job-start');
    // The other side's map stage and the result stage; none computes or shuffles the handle.
    expect(joined!.stageIds).toHaveLength(2);
    expect(joined!.plan).toContain('fromHandle');
    expect(joined!.plan).toContain('[handle]');
    expect(joined!.plan!.match(/writes shuffle/g)).toHaveLength(1);
    expect(joined!.plan).toMatch(/writes shuffle \d+ → 4 partitions[^\n]*\n(?![\s\S]*writes shuffle)/);
    expect(joined!.plan).toMatch(
      /Stage 1 \(result, 4 partitions\) after stage 0\n\s+fromHandle[^\n]*\[handle\]/,
    );
  });

  it('a handle of another application is refused with HANDLE_FOREIGN_APP', async () => {
    const other = await connectDriver(e2e.fabric);
    try {
      const made = await makeHandles(other);
      await expect(
        e2e.driver.run(handleRead, { plain: made.plain, sums: made.sums, labels, partitions: 4 }),
      ).rejects.toMatchObject({
        code: 'HANDLE_FOREIGN_APP',
        message: expect.stringContaining(`made by application ${other.appId}`),
      });
    } finally {
      await other.close();
    }
  });

  it('a handle whose blobs are gone is refused with HANDLE_MISSING naming the blob', async () => {
    const made = await makeHandles(e2e.driver);
    const gone = made.sums.blobs[2]!;
    await blobs.delete(DATA_CONTAINER, gone);
    await expect(
      e2e.driver.run(handleRead, { plain: made.plain, sums: made.sums, labels, partitions: 4 }),
    ).rejects.toMatchObject({
      code: 'HANDLE_MISSING',
      message: expect.stringContaining(`partition 2 of it (blob ${gone}) is gone`),
    });
  });
});

describe('caches across the runs of one driver session', () => {
  it('a cached dataset of the same graph and params is computed by the first run only', async () => {
    const module = path.join(JOBS, 'session-cached.ts');
    const params = { n: 210, slices: 3, partitions: 2 };
    const sums = new Map<number, number>();
    for (let i = 0; i < params.n; i++) sums.set(i % 7, (sums.get(i % 7) ?? 0) + i * i);
    const expected = [...sums].sort((a, b) => a[0] - b[0]);
    e2e.events.clear();
    const first = await e2e.driver.runWithReport(module, params);
    const second = await e2e.driver.runWithReport(module, params);
    const other = await e2e.driver.runWithReport(module, { ...params, n: 140 });
    for (const r of [first, second])
      expect([...(r.results as [number, number][])].sort((a, b) => a[0] - b[0])).toEqual(expected);
    expect(first.accumulators.computed).toBe(params.n);
    expect(second.accumulators.computed).toBe(0);
    // Other params are another dataset: computed again.
    expect(other.accumulators.computed).toBe(140);
    const jobs = e2e.events.of('job-start');
    expect(jobs[0]!.plan).toContain('caches');
    expect(jobs[1]!.plan).toContain('[cached]');
    // Task runs of the stage that computes the cached dataset (its pipeline starts at the
    // parallelize), counted in the event log over both runs: one per partition, all in the first.
    const computing = jobs
      .slice(0, 2)
      .flatMap((job) => job.stages ?? [])
      .filter((stage) => stage.name.includes('parallelize'))
      .map((stage) => stage.stageId);
    expect(computing).toHaveLength(1);
    expect(jobs[1]!.stages!.map((stage) => stage.name).join(' | ')).toMatch(/\[cached\]/);
    const runs = e2e.events
      .of('task-end')
      .filter((t) => computing.includes(t.stageId) && t.status === 'succeeded');
    expect(runs).toHaveLength(params.slices);
  });
});
