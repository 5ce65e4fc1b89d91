/**
 * The Dataset ⇄ DataFrame bridge on a partition far larger than its task's memory, on executors:
 * one Parquet split of ROWS rows goes through `df.rdd()` (DuckDB's result streamed into the
 * segment), a Dataset map, and `toDF` (the segment decoded as it arrives) into SQL. Tasks get a
 * 1 MiB memory budget, and the one executor's V8 heap is capped at HEAP_MB: the partition's rows as
 * objects take several times that, so a task holding them fails with a heap out of memory. The
 * result is compared with plain JS over the rows the file was generated from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { E2EFabric } from '../helpers/e2e.js';
import { startE2E } from '../helpers/e2e.js';
import { referenceRows } from '../sql/tpch-data.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');
const ROWS = 1_000_000;
const HEAP_MB = 128;
const BUDGET_BYTES = 1024 * 1024;

let e2e: E2EFabric;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-bridge-large-'));
  file = path.join(dir, 'rows.parquet');
  // One row group: one split, so one task holds the whole partition on each side of the bridge.
  await referenceRows(
    `COPY (SELECT i AS id, 'name-' || i AS name, i / 8 AS amount FROM range(${ROWS}) t(i))
     TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE ${ROWS * 2})`,
  );
  e2e = await startE2E({
    label: 'bridge-large',
    executors: 1,
    slots: 1,
    driver: { memoryBudgetBytes: BUDGET_BYTES },
    hostEnv: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim() },
  });
}, 120_000);

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the bridge on a partition larger than its task memory', () => {
  it('moves it through rdd() and toDF on a heap-capped executor, equal to plain JS', async () => {
    e2e.events.clear();
    const out = (await e2e.driver.run(path.join(JOBS, 'dataframe-bridge-large.ts'), { file })) as {
      bucket: number;
      n: number;
      ids: number;
      lens: number;
      amount: number;
      last: number;
    }[];
    // Plain JS over the generating rule: id i, name `name-${i}`, amount i / 8 (doubled by the map).
    const expected = Array.from({ length: 7 }, (_, bucket) => ({
      bucket,
      n: 0,
      ids: 0,
      lens: 0,
      amount: 0,
      last: 0,
    }));
    for (let i = 0; i < ROWS; i++) {
      const g = expected[i % 7]!;
      g.n += 1;
      g.ids += i;
      g.lens += `name-${i}`.length;
      g.amount += (i / 8) * 2;
      g.last = i;
    }
    expect(out.map(({ amount, ...rest }) => rest)).toEqual(expected.map(({ amount, ...rest }) => rest));
    for (const [b, g] of expected.entries()) expect(out[b]!.amount).toBeCloseTo(g.amount, 3);
    // Each side of the bridge moved the whole partition in one task, many times its budget.
    const ends = e2e.events.of('task-end').filter((t) => t.status === 'succeeded');
    const stages = e2e.events.of('stage-submitted');
    // The Dataset stage reads the rdd() exchange and writes toDF's; its parent DataFrame stage writes rdd()'s.
    const toDFWriter = stages.find((s) => s.kind === 'shuffle-map' && /^rdd at .* → toDF at /.test(s.name));
    const rddWriter = stages.find(
      (s) => s.jobId === toDFWriter?.jobId && toDFWriter.parentStageIds.includes(s.stageId),
    );
    for (const stage of [rddWriter, toDFWriter]) {
      expect(stage).toBeDefined();
      const tasks = ends.filter((t) => t.jobId === stage!.jobId && t.stageId === stage!.stageId);
      expect(tasks.length).toBe(1);
      expect(tasks[0]!.metrics!.recordsWritten).toBe(ROWS);
      expect(tasks[0]!.metrics!.shuffleWriteBytes).toBeGreaterThan(16 * BUDGET_BYTES);
    }
    // The toDF task streamed exactly the segment the Dataset task wrote.
    const toDFReader = stages.find(
      (s) => s.jobId === toDFWriter!.jobId && s.parentStageIds.includes(toDFWriter!.stageId),
    )!;
    const written = ends.find((t) => t.jobId === toDFWriter!.jobId && t.stageId === toDFWriter!.stageId)!;
    const read = ends.filter((t) => t.jobId === toDFReader.jobId && t.stageId === toDFReader.stageId);
    expect(read.reduce((n, t) => n + t.metrics!.shuffleReadBytes, 0)).toBe(
      written.metrics!.shuffleWriteBytes,
    );
  }, 600_000);
});
