/**
 * DataFrame writes on executors: every format in every save mode, partitionBy into Hive-style
 * folders (Spark's escaping, `__HIVE_DEFAULT_PARTITION__` for null), az:// targets and a forced
 * retry. Every written output is read by single-process DuckDB (hive_partitioning) and compared
 * with the input rows in plain JS.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSummaryBuilder } from '../../driver/observe/run-summary.js';
import { BlobStore } from '../../storage/blob-store.js';
import { connectStorage } from '../../storage/connection.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { suiteConnectionString } from '../helpers/fabric.js';
import { waitFor } from '../helpers/processes.js';
import { sendTwice } from '../helpers/queue-faults.js';
import { referenceRows } from '../sql/tpch-data.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');
const WRITE = path.join(JOBS, 'dataframe-write-formats.ts');
const READ = path.join(JOBS, 'dataframe-read-back.ts');
const CONTAINER = 'df-write-outputs';

let e2e: E2EFabric;
let dir: string;
let blobs: BlobStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-dfw-'));
  e2e = await startE2E({ label: 'dfw' });
  blobs = new BlobStore(connectStorage({ connectionString: suiteConnectionString() }));
});

afterAll(async () => {
  await e2e?.close();
  await blobs?.deletePrefix(CONTAINER, '').catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const REGIONS = ['east', 'west', null, 'a/b=c', 'sp ace', '50%'];

/** 40 sales rows: ids, regions with nulls and characters Spark escapes, two days, amounts. */
function salesRows(): unknown[][] {
  return Array.from({ length: 40 }, (_, i) => [
    i,
    REGIONS[i % REGIONS.length],
    i % 2 === 0 ? '2024-03-01' : '2024-03-02',
    Math.round(i * 13.7) / 10,
  ]);
}

type Sale = { id: number; region: string | null; day: string; amount: number };

function asObjects(rows: unknown[][]): Sale[] {
  return rows.map(([id, region, day, amount]) => ({ id, region, day, amount }) as Sale);
}

function byId(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return [...rows].sort(
    (a, b) => Number(a.id) - Number(b.id) || JSON.stringify(a).localeCompare(JSON.stringify(b)),
  );
}

const COLUMNS = "{'id': 'BIGINT', 'amount': 'DOUBLE', 'day': 'DATE', 'region': 'VARCHAR'}";

/** Single-process DuckDB's reading of a written folder, partition columns from the folder names. */
async function duckdbRead(
  out: string,
  format: 'parquet' | 'csv' | 'json',
  partitioned: boolean,
  header = false,
): Promise<Sale[]> {
  const glob = `${out}/${partitioned ? '**/' : ''}part-*`;
  const hive = partitioned ? ", hive_partitioning = true, hive_types = {'region': VARCHAR}" : '';
  const scan =
    format === 'parquet'
      ? `read_parquet('${glob}'${hive})`
      : format === 'csv'
        ? `read_csv('${glob}', header = ${header}, columns = {${partitioned ? "'id': 'BIGINT', 'day': 'DATE', 'amount': 'DOUBLE'" : "'id': 'BIGINT', 'region': 'VARCHAR', 'day': 'DATE', 'amount': 'DOUBLE'"}}${hive})`
        : `read_json('${glob}', format = 'newline_delimited', columns = ${partitioned ? "{'id': 'BIGINT', 'day': 'DATE', 'amount': 'DOUBLE'}" : COLUMNS}${hive})`;
  return (await referenceRows(`SELECT id, region, day, amount FROM ${scan}`)) as Sale[];
}

/** Rows read and written per stage of the runs since the events were cleared, from the run summary. */
function stageRows(): { read: number; written: number }[] {
  const builder = new RunSummaryBuilder();
  for (const event of e2e.events.events) builder.onEvent(event);
  return builder.summary().stages.map((s) => ({ read: s.recordsRead, written: s.recordsWritten }));
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

describe('DataFrame writes on executors', () => {
  for (const format of ['parquet', 'csv', 'json'] as const) {
    it(`${format}: partitionBy writes col=value folders; errorifexists refuses, ignore skips, append adds, overwrite replaces`, async () => {
      const rows = salesRows();
      const input = asObjects(rows);
      const output = path.join(dir, `sales-${format}`);
      const params = {
        rows,
        output,
        format,
        mode: 'errorifexists',
        partitionBy: ['region'],
        header: format === 'csv' ? true : undefined,
      };
      e2e.events.clear();
      const saved = (await e2e.driver.run(WRITE, params)) as { partitions: number; records: number };
      expect(saved).toEqual({ path: output, partitions: 3, records: input.length });
      // Rows in and out of the write's one stage, as the run summary shows them.
      expect(stageRows()).toEqual([{ read: input.length, written: input.length }]);
      const files = await listTree(output);
      expect(files).toContain('_SUCCESS');
      // Spark's folder names: escaped characters, the default partition for null.
      const folders = [...new Set(files.filter((f) => f !== '_SUCCESS').map((f) => path.dirname(f)))].sort();
      expect(folders).toEqual([
        'region=50%25',
        'region=__HIVE_DEFAULT_PARTITION__',
        'region=a%2Fb%3Dc',
        'region=east',
        'region=sp ace',
        'region=west',
      ]);
      const ext = format === 'parquet' ? '.snappy.parquet' : `.${format}`;
      for (const f of files.filter((n) => n !== '_SUCCESS'))
        expect(path.basename(f)).toMatch(
          new RegExp(
            `^part-0000[0-2]-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.c000${ext.replace('.', '\\.')}$`,
          ),
        );
      const reference = await duckdbRead(output, format, true, true);
      expect(byId(reference)).toEqual(byId(input));
      // Read back by stratus: the partition column comes back from the folders, last, as Spark.
      e2e.events.clear();
      const back = (await e2e.driver.run(READ, {
        path: output,
        format,
        header: true,
        ...(format === 'parquet' ? {} : { schema: 'id LONG, day DATE, amount DOUBLE' }),
      })) as { rows: Sale[]; schema: { fields: { name: string; type: string }[] } };
      expect(back.schema.fields.map((f) => `${f.name} ${f.type}`)).toEqual([
        'id BIGINT',
        'day DATE',
        'amount DOUBLE',
        'region VARCHAR',
      ]);
      expect(byId(back.rows)).toEqual(byId(reference));
      // The scan's rows in (Parquet counted by DuckDB, CSV and JSON by their lines) and out.
      expect(stageRows()).toEqual([{ read: input.length, written: input.length }]);

      await expect(e2e.driver.run(WRITE, params)).rejects.toThrow(/already exists/);
      const ignored = (await e2e.driver.run(WRITE, { ...params, mode: 'ignore' })) as { records: number };
      expect(ignored.records).toBe(0);
      expect(await listTree(output)).toEqual(files);

      await e2e.driver.run(WRITE, { ...params, mode: 'append' });
      const appended = await listTree(output);
      expect(appended.length).toBe(files.length * 2 - 1);
      expect(byId(await duckdbRead(output, format, true, true))).toEqual(byId([...input, ...input]));

      const half = rows.slice(0, 20);
      await e2e.driver.run(WRITE, { ...params, rows: half, mode: 'overwrite' });
      expect(byId(await duckdbRead(output, format, true, true))).toEqual(byId(asObjects(half)));
    });
  }

  it('without partitionBy: one part per partition in every format, compressed as asked, modes as above', async () => {
    const rows = salesRows();
    for (const [format, compression, ext] of [
      ['parquet', 'zstd', '.zstd.parquet'],
      ['csv', 'gzip', '.csv.gz'],
      ['json', undefined, '.json'],
    ] as const) {
      const output = path.join(dir, `flat-${format}`);
      const params = { rows, output, format, mode: 'overwrite', partitionBy: [], compression, slices: 4 };
      await e2e.driver.run(WRITE, params);
      const files = await listTree(output);
      expect(files.filter((f) => f !== '_SUCCESS')).toHaveLength(4);
      for (const f of files.filter((n) => n !== '_SUCCESS')) expect(f.endsWith(ext)).toBe(true);
      expect(byId(await duckdbRead(output, format, false))).toEqual(byId(asObjects(rows)));
      await e2e.driver.run(WRITE, { ...params, mode: 'append' });
      expect(byId(await duckdbRead(output, format, false))).toEqual(byId(asObjects([...rows, ...rows])));
    }
  });

  it('partitionBy a column that does not exist fails on the driver before any job, naming it', async () => {
    e2e.events.clear();
    await expect(
      e2e.driver.run(WRITE, {
        rows: salesRows(),
        output: path.join(dir, 'bad'),
        format: 'parquet',
        mode: 'overwrite',
        partitionBy: ['regoin'],
      }),
    ).rejects.toThrow(/partitionBy: column "regoin" not found; the DataFrame has id, region, day, amount/);
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });

  it('partitionBy two columns to az:// under duplicate delivery: each file committed once, nothing else under the prefix, read back equal', async () => {
    e2e.events.clear();
    const rows = salesRows();
    const prefix = `dup-${process.pid}/sales/`;
    const output = `az://${CONTAINER}/${prefix}`;
    const restore = sendTwice(e2e.fabric.queue);
    try {
      const saved = await e2e.driver.run(WRITE, {
        rows,
        output,
        format: 'parquet',
        mode: 'errorifexists',
        partitionBy: ['day', 'region'],
        slices: 3,
      });
      expect(saved).toMatchObject({ partitions: 3, records: rows.length });
    } finally {
      restore();
    }
    await waitFor(
      'both executions of every write task',
      () => e2e.events.of('task-end').filter((t) => t.status === 'ignored').length >= 1,
      30_000,
    );
    const every = (await blobs.list(CONTAINER, prefix, { includeUncommitted: true }))
      .map((b) => b.name)
      .sort();
    const committed = (await blobs.list(CONTAINER, prefix)).map((b) => b.name).sort();
    expect(every).toEqual(committed);
    expect(committed).toContain(`${prefix}_SUCCESS`);
    for (const name of committed.filter((n) => !n.endsWith('_SUCCESS')))
      expect(name.slice(prefix.length)).toMatch(
        /^day=2024-03-0[12]\/region=[^/]+\/part-0000[0-2]-[-0-9a-f]{36}\.c000\.snappy\.parquet$/,
      );
    // Download the folder and let single-process DuckDB read it with hive_partitioning.
    const local = path.join(dir, 'from-blobs');
    for (const name of committed) {
      const file = path.join(local, name.slice(prefix.length));
      await mkdir(path.dirname(file), { recursive: true });
      await blobs.downloadToFile(CONTAINER, name, file);
    }
    const reference = await duckdbRead(local, 'parquet', true);
    expect(byId(reference)).toEqual(byId(asObjects(rows)));
    const back = (await e2e.driver.run(READ, { path: output, format: 'parquet' })) as { rows: Sale[] };
    expect(byId(back.rows)).toEqual(byId(reference));
  });

  it('a local write under duplicate delivery commits each task once', async () => {
    const rows = salesRows();
    const output = path.join(dir, 'dup-local');
    const restore = sendTwice(e2e.fabric.queue);
    try {
      await e2e.driver.run(WRITE, {
        rows,
        output,
        format: 'csv',
        mode: 'errorifexists',
        partitionBy: ['region'],
        header: true,
      });
    } finally {
      restore();
    }
    expect(byId(await duckdbRead(output, 'csv', true, true))).toEqual(byId(asObjects(rows)));
    const parts = (await listTree(output)).filter((f) => f !== '_SUCCESS');
    expect(new Set(parts).size).toBe(parts.length);
  });
});
