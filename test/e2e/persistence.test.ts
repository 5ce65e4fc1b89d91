/**
 * Persistence, checkpoints and whole-file sources on real executors against the suite's
 * Azurite (through a request counter): persist('blob') read back by a later job of the run (its
 * stages not planned) and released by unpersist (its blobs deleted); cache()d partitions read by
 * later jobs and runs of the session from the executor's memory copy, not Blob, when the task
 * lands where they were computed; persist('memory' / 'disk') read from the
 * executor's own store when the task lands there; checkpoints in a driver script of several
 * jobs, each later job starting from the checkpoint; wholeTextFiles and binaryFiles over local
 * files and blobs. Results are compared with plain JS.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_CONTAINER } from '../../contract/names.js';
import { RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { RequestCounter } from '../../storage/testing/request-counter.js';
import { connectDriver, type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import checkpointDriver from './jobs/checkpoint-driver.js';
import { checkpointedRoundsReference } from './jobs/checkpointed-rounds.js';
import { type MemoryCachedParams, memoryCachedReference } from './jobs/memory-cached.js';
import { type Level, persistLevelsReference } from './jobs/persist-levels.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let pair: E2EFabric;
let single: E2EFabric;
let blobs: BlobStore;
let dir: string;
/** Both fabrics reach Azurite through it: tests count the Blob reads of cached partitions. */
let counter: RequestCounter;

beforeAll(async () => {
  counter = await RequestCounter.startFor(suiteConnectionString());
  const connectionString = counter.connectionString;
  [pair, single] = await Promise.all([
    startE2E({ label: 'persist', executors: 2, slots: 2, connectionString }),
    startE2E({ label: 'persist1', executors: 1, slots: 2, connectionString }),
  ]);
  blobs = new BlobStore(connectStorage({ connectionString: pair.fabric.connectionString }));
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-whole-files-'));
});

afterAll(async () => {
  await Promise.all([pair?.close(), single?.close()]);
  await counter?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sorted = <T extends [number, unknown]>(pairs: T[]) => [...pairs].sort((a, b) => a[0] - b[0]);

async function runLevels(e2e: E2EFabric, level: Level) {
  const params = { n: 400, slices: 5, level };
  const report = await e2e.driver.runWithReport(path.join(JOBS, 'persist-levels.ts'), params);
  const reference = persistLevelsReference(params);
  const results = report.results as {
    total: number;
    pairs: [number, number][];
    free: boolean;
    again: number;
  };
  expect(results.total).toBe([...reference.values()].reduce((a, b) => a + b, 0));
  expect(sorted(results.pairs)).toEqual(sorted([...reference]));
  expect(results.again).toBe(reference.size);
  expect(results.free).toBe(true);
  return report;
}

describe('persist and unpersist on executors', () => {
  it("persist('blob'): a later job reads the blobs and lists the stage above them as skipped; unpersist deletes them and the next job recomputes", async () => {
    pair.events.clear();
    const report = await runLevels(pair, 'blob');
    // Computed by the first job (7 keys), read by the second, recomputed after unpersist.
    expect(report.accumulators.computed).toBe(14);
    const jobs = pair.events.of('job-start');
    expect(jobs).toHaveLength(3); // unpersist runs no job
    expect(jobs.map((j) => j.stageIds.length)).toEqual([2, 2, 2]);
    // The reading job lists the stage above the stored dataset, skipped (as Spark lists it); after
    // unpersist the shuffle the first job wrote is reused.
    expect(jobs.map((j) => (j.stages ?? []).map((s) => s.skipReason ?? 'runs'))).toEqual([
      ['runs', 'runs'],
      ['above-cached-dataset', 'runs'],
      ['shuffle-output-exists', 'runs'],
    ]);
    expect(jobs[1]!.plan).toMatch(/\[cached\]/);
    expect(jobs[2]!.plan).not.toMatch(/\[cached\]|caches/);
    const left = await blobs.list(DATA_CONTAINER, `apps/${pair.driver.appId}/`);
    expect(left.filter((b) => b.name.includes('/cache/'))).toEqual([]);
  });

  for (const level of ['memory', 'disk'] as const) {
    it(`persist('${level}'): one executor reads its own copies in the later job; results equal plain JS on two executors`, async () => {
      single.events.clear();
      const one = await runLevels(single, level);
      // One executor holds every partition: the second job reads them all.
      expect(one.accumulators.computed).toBe(14);
      const jobs = single.events.of('job-start');
      // The shuffle-map stage is planned but skipped (its shuffle exists); the lineage stays.
      expect(jobs[1]!.skippedStageIds).toHaveLength(1);
      expect(jobs[1]!.plan).toContain(`[persisted: ${level}]`);
      // Two executors: a task may land where its partition is not, and recompute it.
      const two = await runLevels(pair, level);
      expect(two.accumulators.computed as number).toBeGreaterThanOrEqual(14);
      expect(two.accumulators.computed as number).toBeLessThanOrEqual(21);
    });
  }
});

/** Blob GETs of application `appId`'s cached partitions while `body` runs. */
async function countingCacheReads<T>(
  appId: string,
  body: () => Promise<T>,
): Promise<{ value: T; gets: number }> {
  let gets = 0;
  const stop = counter.onRequest((request) => {
    if (
      request.kind.startsWith('blob:read') &&
      request.path.includes(`/apps/${appId}/`) &&
      request.path.includes('/cache/')
    )
      gets++;
  });
  try {
    return { value: await body(), gets };
  } finally {
    stop();
  }
}

interface JobCacheSources {
  memory: number;
  blob: number;
  computed: number;
}

/** Where each job's tasks got their cached partitions (task metrics of the events seen), in job order; `all` counts every attempt. */
function cacheSourcesByJob(e2e: E2EFabric, all = false): JobCacheSources[] {
  const jobs = e2e.events.of('job-start').map((j) => j.jobId);
  const sources = new Map<number, JobCacheSources>(
    jobs.map((id) => [id, { memory: 0, blob: 0, computed: 0 }]),
  );
  for (const t of e2e.events.of('task-end')) {
    if (!t.metrics || (!all && t.status !== 'succeeded')) continue;
    const s = sources.get(t.jobId);
    if (!s) continue;
    s.memory += t.metrics.cachedFromMemory ?? 0;
    s.blob += t.metrics.cachedFromBlob ?? 0;
    s.computed += t.metrics.cachedComputed ?? 0;
  }
  return jobs.map((id) => sources.get(id)!);
}

const memoryCachedModule = path.join(JOBS, 'memory-cached.ts');

/** The run summary of the events `e2e` recorded (as the event log would give it). */
function summaryOf(e2e: E2EFabric) {
  const builder = new RunSummaryBuilder();
  for (const event of e2e.events.events) builder.onEvent(event);
  return builder.summary();
}

/** Runs memory-cached.ts and checks its results against plain JS; returns the report. */
async function runMemoryCached(e2e: E2EFabric, params: MemoryCachedParams, driver = e2e.driver) {
  const report = await driver.runWithReport(memoryCachedModule, params);
  const records = memoryCachedReference(params.n);
  const sums = new Map<number, number>();
  for (const [k, v] of records) sums.set(k, (sums.get(k) ?? 0) + v);
  const results = report.results as {
    count: number;
    sums: [number, number][];
    total: number;
    again?: number;
  };
  expect(results.count).toBe(records.length);
  expect(sorted(results.sums)).toEqual(sorted([...sums]));
  expect(results.total).toBe(records.reduce((a, [, v]) => a + v, 0));
  if (params.release) expect(results.again).toBe(records.length);
  return report;
}

describe('cached partitions in executor memory across jobs and runs of one driver session', () => {
  it('one executor: later jobs and a later run read every cached partition from memory, never from Blob', async () => {
    const params = { n: 280, slices: 4, release: false };
    single.events.clear();
    const first = await countingCacheReads(single.driver.appId, () => runMemoryCached(single, params));
    expect(first.value.accumulators.computed).toBe(params.n);
    // Job 0 computes and stores the 4 partitions (blob + memory copy); jobs 1 and 2 read them.
    expect(cacheSourcesByJob(single)).toEqual([
      { memory: 0, blob: 0, computed: 4 },
      { memory: 4, blob: 0, computed: 0 },
      { memory: 4, blob: 0, computed: 0 },
    ]);
    single.events.clear();
    // The same graph and params in a later run of the session: the session cache names the same
    // blobs, and the executor still holds their copies.
    const second = await countingCacheReads(single.driver.appId, () => runMemoryCached(single, params));
    expect(second.value.accumulators.computed).toBe(0);
    expect(cacheSourcesByJob(single)).toEqual(Array(3).fill({ memory: 4, blob: 0, computed: 0 }));
    expect(first.gets + second.gets).toBe(0);
    // The run summary totals what the task metrics said.
    expect(summaryOf(single).totals).toMatchObject({
      cachedFromMemory: 12,
      cachedFromBlob: 0,
      cachedComputed: 0,
    });
  });

  it('one executor: after unpersist, and in another application, no copy is used: the partitions are computed', async () => {
    const params = { n: 210, slices: 3, release: true };
    single.events.clear();
    const report = await runMemoryCached(single, params);
    // Computed by job 0, read from memory by jobs 1 and 2, computed again (not stored) after unpersist.
    expect(report.accumulators.computed).toBe(2 * params.n);
    expect(cacheSourcesByJob(single)).toEqual([
      { memory: 0, blob: 0, computed: 3 },
      { memory: 3, blob: 0, computed: 0 },
      { memory: 3, blob: 0, computed: 0 },
      { memory: 0, blob: 0, computed: 0 },
    ]);
    // Another application on the same executor, same job and params: its own partitions.
    const other = await connectDriver(single.fabric, { listeners: [single.events] });
    try {
      single.events.clear();
      const theirs = await runMemoryCached(single, { ...params, release: false }, other);
      expect(theirs.accumulators.computed).toBe(params.n);
      expect(cacheSourcesByJob(single)[0]).toEqual({ memory: 0, blob: 0, computed: 3 });
    } finally {
      await other.close();
    }
  });

  it('two executors: each cached partition of a later job comes from memory or Blob, and only the Blob ones are read there', async () => {
    const params = { n: 360, slices: 6, release: false };
    pair.events.clear();
    const { value, gets } = await countingCacheReads(pair.driver.appId, () => runMemoryCached(pair, params));
    expect(value.accumulators.computed).toBe(params.n);
    const [computing, ...reading] = cacheSourcesByJob(pair);
    expect(computing).toEqual({ memory: 0, blob: 0, computed: 6 });
    for (const job of reading) expect(job.memory + job.blob).toBe(params.slices);
    // Every Blob GET of a cached partition is one an attempt reported as read from Blob.
    expect(gets).toBe(cacheSourcesByJob(pair, true).reduce((n, j) => n + j.blob, 0));
    const totals = summaryOf(pair).totals;
    expect(totals.cachedFromMemory + totals.cachedFromBlob).toBe(12);
    expect(totals.cachedComputed).toBe(6);
  });
});

describe('checkpoint', () => {
  it('a driver script of several jobs: each later job starts from the checkpoint, with no parent stage above it', async () => {
    pair.events.clear();
    const values = Array.from({ length: 60 }, (_, i) => (i * 37) % 101);
    const params = { values, every: 2, slices: 4, maxRounds: 6, step: 3 };
    const reports = await checkpointDriver.main(pair.driver, params);
    expect(reports).toHaveLength(2);
    for (const [r, report] of reports.entries()) {
      const rounds = 3 * (r + 1);
      const reference = checkpointedRoundsReference({ values, rounds });
      const results = report.results as Record<string, number | number[]>;
      for (let round = 2; round <= rounds; round += 2)
        expect(results[`round${round}`]).toBe(reference[round - 1]!.length);
      expect([...(results.final as number[])].sort((a, b) => a - b)).toEqual(
        [...reference[rounds - 1]!].sort((a, b) => a - b),
      );
      // The source is read by the first job only: later jobs start from a checkpoint.
      expect(report.accumulators.sourced).toBe(values.length);
    }
    const jobs = pair.events.of('job-start');
    // Run 1: round2, final; run 2: round2, round4, round6, final.
    expect(jobs).toHaveLength(6);
    for (const job of [jobs[1]!, ...jobs.slice(3)]) {
      expect(job.plan).toContain('[checkpoint]');
      expect(job.plan).toContain('(lineage truncated)');
      // The stage names that progress, the event log and the UI show say so too.
      expect(job.stages![0]!.name).toMatch(/^values at checkpointed-rounds\.ts:\d+ \[checkpoint\]/);
      expect(job.stages![0]!.parentStageIds).toEqual([]);
    }
    // Between two checkpoints two rounds remain: a map stage per round's shuffle and a result.
    expect(jobs[4]!.stageIds).toHaveLength(3);
    const checkpoints = (await blobs.list(DATA_CONTAINER, `apps/${pair.driver.appId}/`)).filter((b) =>
      b.name.includes('/checkpoint/'),
    );
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const blob of checkpoints)
      expect(blob.name).toMatch(new RegExp(`^apps/${pair.driver.appId}/run-\\d+/checkpoint/`));
  }, 180_000);
});

describe('whole-file sources', () => {
  const files = [
    { name: 'a.txt', text: 'first file\nwith two lines\n' },
    { name: 'b.txt', text: '' },
    { name: 'c.txt', text: 'naïve 日本 — no final newline' },
    { name: 'd.txt', text: `${'x'.repeat(5000)}\n` },
  ];

  it('wholeTextFiles and binaryFiles over several local files give one record per file, as plain JS reads them', async () => {
    for (const f of files) await writeFile(path.join(dir, f.name), f.text);
    await writeFile(path.join(dir, 'e.txt.gz'), gzipSync('zipped\n'));
    const input = path.join(dir, '*');
    for (const minPartitions of [1, 3]) {
      pair.events.clear();
      const result = (await pair.driver.run(path.join(JOBS, 'whole-files.ts'), { input, minPartitions })) as {
        text: [string, string][];
        bytes: [string, string, number[]][];
      };
      const names = [...files.map((f) => f.name), 'e.txt.gz'].map((n) => path.join(dir, n));
      // wholeTextFiles reads a .gz decompressed; binaryFiles gives the bytes as stored.
      expect(result.text).toEqual([...files.map((f) => f.text), 'zipped\n'].map((t, i) => [names[i], t]));
      expect(result.bytes).toEqual(
        [...files.map((f) => Buffer.from(f.text)), gzipSync('zipped\n')].map((b, i) => [
          names[i],
          'Uint8Array',
          Array.from(b),
        ]),
      );
      const stages = pair.events.of('job-start')[0]!.stages!;
      expect(stages[0]!.numPartitions).toBeGreaterThanOrEqual(minPartitions);
    }
  });

  it('wholeTextFiles reads az://container/prefix blobs in place', async () => {
    const container = `whole-${Date.now().toString(36)}`;
    await blobs.ensureContainers([container]);
    for (const f of files) await blobs.put(container, `texts/${f.name}`, f.text);
    const result = (await pair.driver.run(path.join(JOBS, 'whole-files.ts'), {
      input: `az://${container}/texts/`,
      minPartitions: 2,
    })) as { text: [string, string][] };
    expect(result.text).toEqual(files.map((f) => [`az://${container}/texts/${f.name}`, f.text]));
  });
});
