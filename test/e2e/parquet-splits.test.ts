/**
 * Parquet inputs split by row groups on real executors (Azurite): the driver plans splits from
 * the footers (read by range), skips row groups by their statistics, checks the files' schemas;
 * tasks fetch only their row groups. Every result equals single-process DuckDB over the same files;
 * skipped row groups are checked against the row groups DuckDB finds without a matching row.
 */
import { mkdir, mkdtemp, open, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { normalised, referenceRows } from '../sql/tpch-data.js';

const JOB = path.resolve(import.meta.dirname, 'jobs', 'parquet-scan.ts');
const ROWS_PER_FILE = 10_000;
/** DuckDB writes row groups of exactly this many rows (the last one of a file is shorter). */
const GROUP_ROWS = 2048;

/** The SQL of each filter of the job (parquet-scan.ts), for the reference. */
const FILTER_SQL: Record<string, string> = {
  none: 'TRUE',
  oneGroup: 'id >= 4100 AND id < 4200',
  range: '(id BETWEEN 15000 AND 21000) OR id IN (3, 29999)',
  date: "d >= DATE '2021-06-01'",
  isNull: 'n IS NULL',
  notNull: "n IS NOT NULL AND s = 's7777'",
  nan: 'v > 1e9',
  floatMin: 'v < 100',
  negated: 'NOT (id < 25000)',
  nothing: 'id < -1',
};

let e2e: E2EFabric;
let dir: string;
let glob: string;

async function duck<T>(fn: (run: (sql: string) => Promise<void>) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  try {
    return await fn(async (sql) => {
      await connection.run(sql);
    });
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

/** Three files of 10,000 rows, five row groups each, ids in order; NaN only in file 1; nulls in n. */
async function writeFiles(target: string): Promise<string> {
  await mkdir(target, { recursive: true });
  await duck(async (run) => {
    for (let f = 0; f < 3; f++) {
      const v =
        f === 1
          ? "CASE WHEN id % 1000 = 999 THEN 'NaN'::DOUBLE ELSE (id * 0.5)::DOUBLE END"
          : '(id * 0.5)::DOUBLE';
      await run(`COPY (SELECT id, ${v} AS v, 's' || id AS s,
          CASE WHEN id BETWEEN 20000 AND 22047 THEN NULL WHEN id >= 10000 AND id % 3 = 0 THEN NULL ELSE id::INTEGER END AS n,
          DATE '2020-01-01' + (id // 20)::INTEGER AS d
        FROM range(${f * ROWS_PER_FILE}, ${(f + 1) * ROWS_PER_FILE}) t(id))
        TO '${path.join(target, `part-${f}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE ${GROUP_ROWS})`);
    }
  });
  return path.join(target, 'part-*.parquet');
}

/** Row groups (of every file) with no row matching `where`: at most these can be skipped. */
async function emptyRowGroups(where: string): Promise<number> {
  const rows = await referenceRows(
    `SELECT count(*) AS empty FROM (SELECT filename, file_row_number // ${GROUP_ROWS} AS g, count(*) FILTER (WHERE ${where}) AS m
       FROM read_parquet('${glob}', filename = true, file_row_number = true) GROUP BY ALL) WHERE m = 0`,
  );
  return Number(rows[0]!.empty);
}

interface ScanResult {
  rows: Record<string, unknown>[];
  count: number;
  plan: string;
}

function planNumbers(plan: string): { groups: number; skipped: number; splits: number } {
  const m = /(\d+) row groups, (\d+) skipped by statistics, (\d+) splits?/.exec(plan);
  if (!m) throw new Error(`no Parquet scan line in the plan:\n${plan}`);
  return { groups: Number(m[1]), skipped: Number(m[2]), splits: Number(m[3]) };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-parquet-'));
  glob = await writeFiles(path.join(dir, 'data'));
  e2e = await startE2E({ label: 'parquet' });
});

afterAll(async () => {
  await e2e?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Parquet splits by row groups', () => {
  it.each([1, 4, 15])(
    'with minPartitions %i every row group is read once: results equal DuckDB, splits follow the size',
    async (minPartitions) => {
      const r = (await e2e.driver.run(JOB, { input: glob, filter: 'range', minPartitions })) as ScanResult;
      const expected = await referenceRows(
        `SELECT * FROM read_parquet('${glob}') WHERE ${FILTER_SQL.range} ORDER BY id`,
      );
      const got = [...r.rows].sort((a, b) => Number(a.id) - Number(b.id));
      expect(normalised(got)).toEqual(normalised(expected));
      expect(r.count).toBe(expected.length);
      const plan = planNumbers(r.plan);
      expect(plan.groups).toBe(15);
      expect(plan.skipped).toBe(await emptyRowGroups(FILTER_SQL.range!));
      // Splits never span files; at least one per file with a kept row group, at most one per kept row group.
      expect(plan.splits).toBeGreaterThanOrEqual(Math.min(minPartitions, 15 - plan.skipped) > 3 ? 4 : 3);
      expect(plan.splits).toBeLessThanOrEqual(15 - plan.skipped);
    },
  );

  it.each(Object.keys(FILTER_SQL))(
    'filter %s: skipped row groups hold no matching row, and the rows equal DuckDB (nulls, NaN, dates)',
    async (filter) => {
      e2e.events.clear();
      const r = (await e2e.driver.run(JOB, { input: glob, filter, minPartitions: 15 })) as ScanResult;
      const where = FILTER_SQL[filter]!;
      const expected = await referenceRows(`SELECT * FROM read_parquet('${glob}') WHERE ${where}`);
      const key = (row: Record<string, unknown>) => Number(row.id);
      expect(normalised([...r.rows].sort((a, b) => key(a) - key(b)))).toEqual(
        normalised([...expected].sort((a, b) => key(a) - key(b))),
      );
      expect(r.count).toBe(expected.length);
      const plan = planNumbers(r.plan);
      const empty = await emptyRowGroups(where);
      expect(plan.skipped).toBeLessThanOrEqual(empty);
      // Filters on the ordered id (and dates), and null counts, are exact: every empty row group goes.
      if (['oneGroup', 'range', 'date', 'isNull', 'negated', 'nothing'].includes(filter))
        expect(plan.skipped).toBe(empty);
      // A float's max is never trusted (writers leave NaN, the greatest value, out of it): nothing
      // goes for v > 1e9 though NaN rows are its only matches; its min is: v < 100 drops every row
      // group but the first of files 0 and 2 (file 1 has NaN, so DuckDB wrote no statistics for v).
      if (filter === 'nan') expect(plan.skipped).toBe(0);
      if (filter === 'floatMin') expect(plan.skipped).toBe(9);
      const notices = e2e.events.of('notice').map((n) => n.message);
      expect(notices.some((m) => m.includes(`15 row groups, ${plan.skipped} skipped by statistics`))).toBe(
        true,
      );
    },
  );

  it('a task reading 1 of 15 row groups fetches a small part of the blobs: its row group and the footer', async () => {
    const blobs = new BlobStore(connectStorage({ connectionString: e2e.fabric.connectionString }));
    const container = `pq-${Math.random().toString(36).slice(2, 8)}`;
    await blobs.ensureContainers([container]);
    let total = 0;
    for (let f = 0; f < 3; f++) {
      const bytes = await readFile(path.join(dir, 'data', `part-${f}.parquet`));
      total += bytes.length;
      await blobs.put(container, `t/part-${f}.parquet`, bytes);
    }
    const fileBytes = total / 3;
    e2e.events.clear();
    const r = (await e2e.driver.run(JOB, {
      input: `az://${container}/t/`,
      filter: 'oneGroup',
    })) as ScanResult;
    expect(r.count).toBe(100);
    expect(planNumbers(r.plan)).toMatchObject({ groups: 15, skipped: 14, splits: 1 });
    const ends = e2e.events.of('task-end').filter((t) => t.status === 'succeeded');
    expect(ends.length).toBe(3); // one task for each of collect, count and the ids' count
    for (const t of ends) {
      expect(t.metrics!.bytesRead).toBeGreaterThan(0);
      // One row group of five of one file, plus the footer: far less than the blob.
      expect(t.metrics!.bytesRead).toBeLessThan(fileBytes / 3);
    }
    // select('id') reads one column of five: its task fetches less than half of what collect()'s does.
    const read = ends.map((t) => t.metrics!.bytesRead).sort((x, y) => x - y);
    expect(read[0]!).toBeLessThan(read[2]! / 2);
    const unfiltered = (await e2e.driver.run(JOB, {
      input: `az://${container}/t/`,
      filter: 'none',
      minPartitions: 15,
    })) as ScanResult;
    expect(unfiltered.count).toBe(3 * ROWS_PER_FILE);
  });

  it('a truncated file fails on the driver naming it and its footer, before any job', async () => {
    const bad = path.join(dir, 'truncated');
    const files = await writeFiles(bad);
    const victim = path.join(bad, 'part-1.parquet');
    await truncate(victim, (await stat(victim)).size - 100);
    e2e.events.clear();
    await expect(e2e.driver.run(JOB, { input: files, filter: 'none' })).rejects.toThrow(
      new RegExp(`Parquet file ${victim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has a corrupt footer`),
    );
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });

  it('overwritten bytes in a row group fail its task once (DATAFRAME_TASK), naming the file and the row group', async () => {
    const bad = path.join(dir, 'overwritten');
    const files = await writeFiles(bad);
    const victim = path.join(bad, 'part-2.parquet');
    // The first bytes of row group 3's first column chunk: its page header.
    const meta = await referenceRows(
      `SELECT data_page_offset AS at FROM parquet_metadata('${victim}') WHERE row_group_id = 3 AND column_id = 0`,
    );
    const handle = await open(victim, 'r+');
    await handle.write(Buffer.alloc(64, 0xff), 0, 64, Number(meta[0]!.at));
    await handle.close();
    e2e.events.clear();
    const run = e2e.driver.run(JOB, { input: files, filter: 'none', minPartitions: 15 });
    await expect(run).rejects.toThrow(/part-2\.parquet, row group 3/);
    const failed = e2e.events.of('task-end').filter((t) => t.status === 'failed');
    expect(failed.length).toBe(1);
    expect(failed[0]!.error?.message).toMatch(/DataFrame task failed reading .*part-2\.parquet, row group 3/);
  });
});

describe('Parquet schema drift', () => {
  let a: string;
  let b: string;
  let c: string;
  beforeAll(async () => {
    const drift = path.join(dir, 'drift');
    a = path.join(drift, 'a.parquet');
    b = path.join(drift, 'b.parquet');
    c = path.join(dir, 'drift-bad');
    await mkdir(drift, { recursive: true });
    await mkdir(c, { recursive: true });
    await duck(async (run) => {
      await run(`COPY (SELECT range AS id, 'a' || range AS s FROM range(0, 50)) TO '${a}' (FORMAT parquet)`);
      await run(
        `COPY (SELECT range::INTEGER AS id, (range * 1.5)::DOUBLE AS x FROM range(50, 80)) TO '${b}' (FORMAT parquet)`,
      );
      await run(
        `COPY (SELECT range AS id FROM range(0, 5)) TO '${path.join(c, 'a.parquet')}' (FORMAT parquet)`,
      );
      await run(
        `COPY (SELECT 'k' || range AS id FROM range(0, 5)) TO '${path.join(c, 'b.parquet')}' (FORMAT parquet)`,
      );
    });
  });

  it('files with different columns fail before any task, naming both files and the differing columns', async () => {
    e2e.events.clear();
    const run = e2e.driver.run(JOB, { input: path.join(path.dirname(a), '*.parquet'), filter: 'none' });
    await expect(run).rejects.toThrow(
      /a\.parquet and .*b\.parquet have different schemas: id is BIGINT in .*a\.parquet but INTEGER in .*b\.parquet; s \(VARCHAR\) only in .*a\.parquet; x \(DOUBLE\) only in .*b\.parquet/,
    );
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });

  it('mergeSchema reads the union of the columns (missing ones null, INTEGER widened to BIGINT) as DuckDB does', async () => {
    const r = (await e2e.driver.run(JOB, {
      input: path.join(path.dirname(a), '*.parquet'),
      filter: 'none',
      mergeSchema: true,
    })) as ScanResult;
    const expected = await referenceRows(
      `SELECT id, s, x FROM read_parquet(['${a}', '${b}'], union_by_name = true) ORDER BY id`,
    );
    expect(normalised([...r.rows].sort((p, q) => Number(p.id) - Number(q.id)))).toEqual(normalised(expected));
    expect(r.plan).toContain('2 Parquet files');
  });

  it('mergeSchema refuses types that do not widen, naming the column and both files', async () => {
    await expect(
      e2e.driver.run(JOB, { input: path.join(c, '*.parquet'), filter: 'none', mergeSchema: true }),
    ).rejects.toThrow(/column id is BIGINT in .*a\.parquet but VARCHAR in .*b\.parquet, which do not merge/);
  });
});
