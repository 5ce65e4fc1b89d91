/**
 * Persistence, checkpoints and whole-file sources on real executors against the suite's
 * Azurite: persist('blob') read back by a later job of the run (its stages not planned) and
 * released by unpersist (its blobs deleted); persist('memory' / 'disk') read from the
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
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import checkpointDriver from './jobs/checkpoint-driver.js';
import { checkpointedRoundsReference } from './jobs/checkpointed-rounds.js';
import { type Level, persistLevelsReference } from './jobs/persist-levels.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let pair: E2EFabric;
let single: E2EFabric;
let blobs: BlobStore;
let dir: string;

beforeAll(async () => {
  [pair, single] = await Promise.all([
    startE2E({ label: 'persist', executors: 2, slots: 2 }),
    startE2E({ label: 'persist1', executors: 1, slots: 2 }),
  ]);
  blobs = new BlobStore(connectStorage({ connectionString: pair.fabric.connectionString }));
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-whole-files-'));
});

afterAll(async () => {
  await Promise.all([pair?.close(), single?.close()]);
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
  it("persist('blob'): a later job reads the blobs and plans no stage above them; unpersist deletes them and the next job recomputes", async () => {
    pair.events.clear();
    const report = await runLevels(pair, 'blob');
    // Computed by the first job (7 keys), read by the second, recomputed after unpersist.
    expect(report.accumulators.computed).toBe(14);
    const jobs = pair.events.of('job-start');
    expect(jobs).toHaveLength(3); // unpersist runs no job
    expect(jobs.map((j) => j.stageIds.length)).toEqual([2, 1, 2]);
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
