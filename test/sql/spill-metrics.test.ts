/**
 * DuckDB's spills in a DataFrame task's figures: a sort far larger than the task's memory limit
 * must spill to the task's temp directory, and the runner reports the temp files' peak bytes and
 * their count; the same sort of a small input spills nothing and reports zero. The written part
 * is read back by a separate DuckDB: every row is there, in order. The small sort runs after the
 * big one in the same DuckDB: a database that has spilled once still runs (and measures) the next task.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelationalTask } from '../../duckdb/runner.js';
import { removeSpillDirectories, spillDirectory } from '../../duckdb/session.js';
import type { RelationalProgram } from '../../engine/sql/program.js';

let dir: string;
const BIG_ROWS = 1_200_000;
const SMALL_ROWS = 5_000;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-spill-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const columns = [
  { name: 'id', type: 'BIGINT', nullable: true },
  { name: 's', type: 'VARCHAR', nullable: true },
  { name: 't', type: 'VARCHAR', nullable: true },
];

/**
 * A task whose fragment makes `rows` rows (an id and two 32-character digests) and sorts them by
 * digest, written as one Parquet part; returns the part's row count and order, and the spill figures.
 * (DuckDB 1.5 runs out of memory instead of spilling when the sorted rows come from a file scan at
 * a 64 MiB limit, so the rows are generated in the query.)
 */
async function sortTask(rows: number) {
  const program: RelationalProgram = {
    v: 1,
    input: { kind: 'local', rows: [], numSlices: 1, columns },
    sql: `SELECT i AS id, md5(i::VARCHAR) AS s, md5((i + 7)::VARCHAR) AS t FROM range(${rows}) r(i) ORDER BY s, id`,
    output: columns,
    sink: { kind: 'write', format: 'parquet', partitionBy: [], options: {}, compression: 'snappy' },
  };
  const tempDir = await mkdtemp(path.join(dir, 'task-'));
  const out = await runRelationalTask(
    program,
    0,
    {},
    {
      tempDir,
      // DuckDB's memory_limit: the session's floor, 64 MiB.
      memoryBudgetBytes: 64 * 1024 * 1024,
    },
  );
  if (out.kind !== 'files') throw new Error(`expected a part file, got ${out.kind}`);
  const part = out.files[0]!.file;
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    const read = await connection.runAndReadAll(
      `SELECT count(*), count(*) FILTER (WHERE prev > s) FROM (SELECT s, lag(s) OVER (ORDER BY file_row_number) AS prev FROM read_parquet('${part}', file_row_number = true))`,
    );
    const [count, disorder] = read.getRowsJson()[0]!.map(Number);
    return { rows: count, disorder, spill: out.spill! };
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

describe('DuckDB spill in a DataFrame task’s metrics', () => {
  it('a sort far over the memory limit spills: its temp files and their bytes are reported', async () => {
    const r = await sortTask(BIG_ROWS);
    expect(r.rows).toBe(BIG_ROWS);
    expect(r.disorder).toBe(0);
    expect(r.spill.files).toBeGreaterThanOrEqual(1);
    // Over 1.2 M rows of two 32-character strings (~100 MB in memory) against a 64 MiB limit.
    expect(r.spill.bytes).toBeGreaterThan(4 * 1024 * 1024);
    // Not more than a few times the sorted data itself.
    expect(r.spill.bytes).toBeLessThan(2 * 1024 * 1024 * 1024);
  }, 120_000);

  it('the same sort of a small input spills nothing and reports zero', async () => {
    const r = await sortTask(SMALL_ROWS);
    expect(r.rows).toBe(SMALL_ROWS);
    expect(r.disorder).toBe(0);
    expect(r.spill).toEqual({ bytes: 0, files: 0 });
  });

  it("an executor's shutdown removes its threads' spill directories, and only its own", async () => {
    // After the sorts above this thread's directory exists (DuckDB made it); add another thread's,
    // and one of another process that must stay.
    const ours = [spillDirectory(), path.join(tmpdir(), `stratus-duckdb-${process.pid}-9999`)];
    const theirs = path.join(tmpdir(), `stratus-duckdb-${process.pid + 100000}-1`);
    for (const d of [...ours, theirs]) await mkdir(path.join(d, 'left'), { recursive: true });
    try {
      removeSpillDirectories();
      expect(ours.map(existsSync)).toEqual([false, false]);
      expect(existsSync(theirs)).toBe(true);
    } finally {
      await rm(theirs, { recursive: true, force: true });
    }
  });
});
