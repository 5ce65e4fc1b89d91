/**
 * The pieces of Parquet row-group splits in one process: the footer as DuckDB reads it from a
 * sparse copy holding only the footer, a task's sparse copy holding only its row groups read as
 * DuckDB reads the whole file restricted to those row groups, packing row groups into splits,
 * and schema checks between files.
 */
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packRowGroups, rowGroupSplits, scanSchema, widerType } from '../../driver/data/parquet-inputs.js';
import { type ParquetFooter, readParquetFooter } from '../../duckdb/parquet-footer.js';
import { runRelationalTask } from '../../duckdb/runner.js';
import { parquetFileSql } from '../../duckdb/scan-sql.js';
import type { RelationalProgram } from '../../engine/sql/program.js';
import { parquetSplitRanges } from '../../executor-function/parquet-fetch.js';
import { referenceRows } from './tpch-data.js';

let dir: string;
let file: string;
let bytes: Buffer;
let footer: ParquetFooter;

/** A copy of `file` as long as it, holding only `ranges` of its bytes (zeros elsewhere). */
async function sparseCopy(target: string, ranges: readonly [number, number][]): Promise<void> {
  const handle = await open(target, 'w');
  await handle.truncate(bytes.length);
  for (const [start, end] of ranges) await handle.write(bytes, start, end - start, start);
  await handle.close();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stratus-parquet-unit-'));
  file = path.join(dir, 'data.parquet');
  await referenceRows(
    `COPY (SELECT range AS id, 'name' || range AS s, CASE WHEN range % 5 = 0 THEN NULL ELSE range END AS n FROM range(10000))
       TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
  );
  bytes = await readFile(file);
  const length = bytes.readUInt32LE(bytes.length - 8);
  const footerOnly = path.join(dir, 'footer.parquet');
  await sparseCopy(footerOnly, [[bytes.length - 8 - length, bytes.length]]);
  footer = await readParquetFooter(footerOnly, 'data.parquet');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Parquet footers and row-group reads', () => {
  it('reads row groups, chunk ranges and statistics from a copy holding only the footer', async () => {
    const reference = await referenceRows(
      `SELECT row_group_id AS g, min(row_group_num_rows) AS rows, min(stats_min_value) FILTER (WHERE column_id = 0) AS min_id,
         sum(stats_null_count) FILTER (WHERE column_id = 2) AS nulls FROM parquet_metadata('${file}') GROUP BY 1 ORDER BY 1`,
    );
    expect(footer.rowGroups.map((g) => g.numRows)).toEqual(reference.map((r) => Number(r.rows)));
    expect(footer.rowGroups.map((g) => g.chunks.find((c) => c.column === 'id')!.min)).toEqual(
      reference.map((r) => String(r.min_id)),
    );
    expect(footer.rowGroups.map((g) => g.chunks.find((c) => c.column === 'n')!.nullCount)).toEqual(
      reference.map((r) => Number(r.nulls)),
    );
    let first = 0;
    for (const g of footer.rowGroups) {
      expect(g.firstRow).toBe(first);
      first += g.numRows;
      for (const c of g.chunks) expect(c.end).toBeLessThanOrEqual(bytes.length - 8);
    }
    expect(footer.schema.fields.map((f) => `${f.name} ${f.type}`)).toEqual([
      'id BIGINT',
      's VARCHAR',
      'n BIGINT',
    ]);
  });

  it('a sparse copy of two row groups and the footer reads exactly their rows', async () => {
    const chosen = [footer.rowGroups[1]!, footer.rowGroups[3]!];
    const split = {
      footer: [bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8), bytes.length] as [number, number],
      rowGroups: chosen.map((g) => ({
        index: g.index,
        firstRow: g.firstRow,
        numRows: g.numRows,
        chunks: g.chunks.map((c) => ({ column: c.column, range: [c.start, c.end] as [number, number] })),
      })),
    };
    const ranges = parquetSplitRanges(split);
    const fetched = ranges.reduce((n, [s, e]) => n + (e - s), 0);
    expect(fetched).toBeLessThan(bytes.length / 2);
    const copy = path.join(dir, 'sparse.parquet');
    await sparseCopy(copy, ranges);
    const sql = parquetFileSql(
      { path: copy, skipHeader: false, rowGroups: split.rowGroups },
      footer.schema.fields,
    );
    const got = await referenceRows(`${sql} ORDER BY id`);
    const expected = await referenceRows(
      `SELECT id, s, n FROM read_parquet('${file}', file_row_number = true)
        WHERE file_row_number // 2048 IN (1, 3) ORDER BY id`,
    );
    expect(got).toEqual(expected);
    // Only id's chunks (and the footer): a query of id alone reads them, and fetches less.
    const idRanges = parquetSplitRanges(split, ['id']);
    expect(idRanges.reduce((n, [s, e]) => n + (e - s), 0)).toBeLessThan(fetched / 2);
    const idOnly = path.join(dir, 'sparse-id.parquet');
    await sparseCopy(idOnly, idRanges);
    const ids = parquetFileSql(
      { path: idOnly, skipHeader: false, rowGroups: split.rowGroups },
      footer.schema.fields,
    );
    expect(await referenceRows(`SELECT sum(id) AS total FROM (${ids})`)).toEqual(
      await referenceRows(`SELECT sum(id) AS total FROM (${sql})`),
    );
  });

  it('a sparse copy of the columns a query reads holds their bloom filters, which an equality filter reads', async () => {
    // DuckDB writes bloom filters for dictionary-encoded columns after the row groups, outside the
    // column chunks; an equality filter on the column reads it (a TPC-H customer scan found this).
    const bloomFile = path.join(dir, 'bloom.parquet');
    await referenceRows(
      `COPY (SELECT range AS id, ['AUTO', 'BUILDING', 'MACHINERY'][range % 3 + 1] AS seg, 'c' || range AS comment FROM range(3000))
         TO '${bloomFile}' (FORMAT parquet, ROW_GROUP_SIZE 1024)`,
    );
    const whole = await readFile(bloomFile);
    const length = whole.readUInt32LE(whole.length - 8);
    const footerCopy = path.join(dir, 'bloom-footer.parquet');
    const write = async (target: string, ranges: readonly [number, number][]) => {
      const handle = await open(target, 'w');
      await handle.truncate(whole.length);
      for (const [start, end] of ranges) await handle.write(whole, start, end - start, start);
      await handle.close();
    };
    await write(footerCopy, [[whole.length - 8 - length, whole.length]]);
    const bloomFooter = await readParquetFooter(footerCopy, 'bloom.parquet');
    expect(bloomFooter.rowGroups.some((g) => g.chunks.some((c) => c.column === 'seg' && c.bloom))).toBe(true);
    const chosen = bloomFooter.rowGroups.slice(1);
    const split = {
      footer: [whole.length - 8 - length, whole.length] as [number, number],
      rowGroups: rowGroupSplits(chosen),
    };
    const copy = path.join(dir, 'bloom-sparse.parquet');
    await write(copy, parquetSplitRanges(split, ['id', 'seg']));
    // The task runner's path: the split's file, the fragment's query filtering on seg.
    const columns = bloomFooter.schema.fields.map((f) => ({ ...f, nullable: true }));
    const program: RelationalProgram = {
      v: 1,
      input: { kind: 'scan', nodeId: 0, format: 'parquet', columns, readColumns: ['id', 'seg'] },
      sql: "SELECT id FROM __input WHERE seg = 'BUILDING'",
      output: [columns[0]!],
      sink: { kind: 'rows' },
    };
    const output = await runRelationalTask(
      program,
      0,
      {
        scanFiles: [
          { path: copy, skipHeader: false, rowGroups: split.rowGroups, missingColumns: ['comment'] },
        ],
      },
      { tempDir: await mkdtemp(path.join(dir, 'task-')), memoryBudgetBytes: 64 * 1024 * 1024 },
    );
    const firstRow = chosen[0]!.firstRow;
    const expected = Array.from({ length: 3000 }, (_, i) => i).filter((i) => i >= firstRow && i % 3 === 1);
    expect(output.rowsRead).toBe(3000 - firstRow);
    if (output.kind !== 'result') throw new Error(`expected rows, got ${output.kind}`);
    const ids = (output.result as { rows: unknown[][] }).rows.map((row) => Number(row[0]));
    expect(ids.sort((a, b) => a - b)).toEqual(expected);
  });

  it('packs row groups into splits of about the goal, never across files, each row group once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 6 }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 300 }),
        (files, goal) => {
          const splits = packRowGroups(files, goal);
          const seen = splits.flatMap((s) => s.groups.map((g) => `${s.file}:${g}`));
          expect(seen).toEqual(files.flatMap((sizes, f) => sizes.map((_, g) => `${f}:${g}`)));
          for (const s of splits) {
            const size = s.groups.reduce((n, g) => n + files[s.file]![g]!, 0);
            // Over the goal only when one row group alone is.
            if (s.groups.length > 1) expect(size).toBeLessThanOrEqual(goal);
          }
        },
      ),
    );
  });

  it('merges schemas as Spark widens, and names both files when they differ', () => {
    const a = { name: 'a.parquet', schema: { fields: [{ name: 'id', type: 'INTEGER', nullable: true }] } };
    const b = {
      name: 'b.parquet',
      schema: {
        fields: [
          { name: 'ID', type: 'BIGINT', nullable: true },
          { name: 'x', type: 'FLOAT', nullable: true },
        ],
      },
    };
    expect(() => scanSchema([a, b], false, 'in/*')).toThrow(
      /a\.parquet and b\.parquet have different schemas: id is INTEGER in a\.parquet but BIGINT in b\.parquet; x \(FLOAT\) only in b\.parquet/,
    );
    expect(scanSchema([a, b], true, 'in/*').fields.map((f) => `${f.name} ${f.type}`)).toEqual([
      'id BIGINT',
      'x FLOAT',
    ]);
    expect(widerType('FLOAT', 'DOUBLE')).toBe('DOUBLE');
    expect(widerType('DECIMAL(10,2)', 'DECIMAL(12,2)')).toBeUndefined();
    expect(widerType('BIGINT', 'VARCHAR')).toBeUndefined();
  });
});
