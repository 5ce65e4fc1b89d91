/**
 * A DataFrame sort's sampling job on real executors (Azurite): over Parquet it fetches only the
 * columns its sort keys need (and those a filter before the sort reads), a small part of what the
 * sort's map stage reads; the bounds it finds still cut the rows into balanced range partitions,
 * and the written parts, read in order by single-process DuckDB, equal DuckDB's own ORDER BY.
 * Over CSV it reads only the first SAMPLE_TEXT_BYTES of each split.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_TEXT_BYTES } from '../../executor-function/relational-task.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { referenceRows } from '../sql/tpch-data.js';

const JOB = path.resolve(import.meta.dirname, 'jobs', 'dataframe-sort-write.ts');
const FILES = 4;
const ROWS_PER_FILE = 25_000;
const PARTITIONS = 8;

let e2e: E2EFabric;
let dir: string;
let glob: string;

/** Four files: a random 32-character key, a 192-character random payload, and n; row groups of 5,000 rows. */
async function writeFiles(target: string): Promise<string> {
  await mkdir(target, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    for (let f = 0; f < FILES; f++) {
      await connection.run(`COPY (SELECT md5(i::VARCHAR) AS key,
          md5((i + 1000000)::VARCHAR) || md5((i + 2000000)::VARCHAR) || md5((i + 3000000)::VARCHAR)
          || md5((i + 4000000)::VARCHAR) || md5((i + 5000000)::VARCHAR) || md5((i + 6000000)::VARCHAR) AS payload, i AS n
        FROM range(${f * ROWS_PER_FILE}, ${(f + 1) * ROWS_PER_FILE}) t(i))
        TO '${path.join(target, `part-${f}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE 5000)`);
      // The same rows as CSV without a header: about 5.8 MiB a file.
      await connection.run(`COPY (SELECT * FROM '${path.join(target, `part-${f}.parquet`)}')
        TO '${path.join(target, `text-${f}.csv`)}' (FORMAT csv, HEADER false)`);
    }
  } finally {
    connection.closeSync();
    db.closeSync();
  }
  return path.join(target, 'part-*.parquet');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-dfsort-'));
  glob = await writeFiles(path.join(dir, 'data'));
  e2e = await startE2E({ label: 'dfsort' });
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Bytes read by the succeeded tasks of the sampling job and of the sort's map stage, from the events. */
function bytesReadByJob(): { sampling: number; mapStage: number } {
  const starts = e2e.events.of('job-start');
  const hidden = starts.filter((j) => j.hidden).map((j) => j.jobId);
  const sort = starts.filter((j) => !j.hidden).map((j) => j.jobId);
  expect(hidden).toHaveLength(1);
  expect(sort).toHaveLength(1);
  const mapStages = e2e.events
    .of('stage-submitted')
    .filter((s) => s.jobId === sort[0] && s.kind === 'shuffle-map')
    .map((s) => s.stageId);
  expect(mapStages).toHaveLength(1);
  const ends = e2e.events.of('task-end').filter((t) => t.status === 'succeeded');
  const sum = (list: typeof ends) => list.reduce((n, t) => n + (t.metrics?.bytesRead ?? 0), 0);
  return {
    sampling: sum(ends.filter((t) => t.jobId === hidden[0])),
    mapStage: sum(ends.filter((t) => t.stageId === mapStages[0])),
  };
}

/** The written parts in partition order: each part's keys, read by a DuckDB of the test's own. */
async function partsInOrder(output: string): Promise<string[][]> {
  const names = (await readdir(output)).filter((n) => n.startsWith('part-')).sort();
  const parts: string[][] = [];
  for (const name of names) {
    const rows = await referenceRows(
      `SELECT key FROM read_parquet('${path.join(output, name)}', file_row_number = true) ORDER BY file_row_number`,
    );
    parts.push(rows.map((r) => String(r.key)));
  }
  return parts;
}

/**
 * Globally ordered: the parts in order, concatenated, are DuckDB's ORDER BY. Balanced: every one
 * of the range partitions holds between half and 1.5 times its share.
 */
function expectOrderedAndBalanced(parts: string[][], expected: string[]): void {
  expect(parts.flat()).toEqual(expected);
  expect(parts).toHaveLength(PARTITIONS);
  const share = expected.length / PARTITIONS;
  for (const part of parts) {
    expect(part.length).toBeGreaterThan(0.5 * share);
    expect(part.length).toBeLessThan(1.5 * share);
  }
}
describe('the sampling job of a DataFrame sort', () => {
  it.each([
    ['no filter', false, 'TRUE'],
    ['a filter on another column before the sort', true, 'n % 3 = 0'],
  ])(
    '%s: reads only the key columns, balances the partitions, and the result is globally ordered',
    async (_, filter, where) => {
      const output = path.join(dir, `out-${filter ? 'filtered' : 'all'}`);
      e2e.events.clear();
      await e2e.driver.run(JOB, { input: glob, output, partitions: PARTITIONS, filter });
      const expected = (
        await referenceRows(`SELECT key FROM read_parquet('${glob}') WHERE ${where} ORDER BY key`)
      ).map((r) => String(r.key));
      expectOrderedAndBalanced(await partsInOrder(output), expected);
      // The key (and n for the filter) is about a sixth of the bytes: the sample fetches only those
      // columns' chunks, where the map stage fetches every column.
      const read = bytesReadByJob();
      expect(read.mapStage).toBeGreaterThan(0);
      expect(read.sampling).toBeGreaterThan(0);
      expect(read.sampling).toBeLessThan(0.3 * read.mapStage);
    },
  );

  it('over CSV: reads the first bytes of each split, balances the partitions, and the result is globally ordered', async () => {
    const output = path.join(dir, 'out-csv');
    const csv = path.join(dir, 'data', 'text-*.csv');
    e2e.events.clear();
    await e2e.driver.run(JOB, { input: csv, output, partitions: PARTITIONS, csv: true });
    const expected = (
      await referenceRows(`SELECT column0 AS key FROM read_csv('${csv}', header = false) ORDER BY key`)
    ).map((r) => String(r.key));
    expect(expected).toHaveLength(FILES * ROWS_PER_FILE);
    expectOrderedAndBalanced(await partsInOrder(output), expected);
    // A sampling task reads SAMPLE_TEXT_BYTES of each split longer than that (plus the rest of its
    // last line); the map stage reads every byte of the ~5.8 MiB files.
    const read = bytesReadByJob();
    expect(read.mapStage).toBeGreaterThan(FILES * 5 * SAMPLE_TEXT_BYTES);
    expect(read.sampling).toBeLessThan(0.5 * read.mapStage);
  });
});
