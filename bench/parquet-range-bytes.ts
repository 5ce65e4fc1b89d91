/**
 * What a Parquet task fetches of a blob: the footer and the column chunks of its row groups
 * (executor-function/parquet-fetch.ts), against the file's size. One file of 10,000 rows in five
 * row groups of 2,048 rows (the layout of test/e2e/parquet-splits.test.ts); prints one JSON line.
 * Run: npm run build && node --import ./bench/register.mjs bench/parquet-range-bytes.ts
 */
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readParquetFooter } from '../duckdb/parquet-footer.js';
import { withSession } from '../duckdb/session.js';
import { parquetSplitRanges } from '../executor-function/parquet-fetch.js';

const dir = await mkdtemp(path.join(tmpdir(), 'stratus-parquet-bytes-'));
try {
  const file = path.join(dir, 'data.parquet');
  await withSession({ memoryLimitBytes: 256 * 1024 * 1024 }, (c) =>
    c.run(
      `COPY (SELECT id, (id * 0.5)::DOUBLE AS v, 's' || id AS s, id::INTEGER AS n, DATE '2020-01-01' + (id // 20)::INTEGER AS d
         FROM range(10000) t(id)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
    ),
  );
  const bytes = await readFile(file);
  const length = bytes.readUInt32LE(bytes.length - 8);
  const footerOnly = path.join(dir, 'footer.parquet');
  const handle = await open(footerOnly, 'w');
  await handle.truncate(bytes.length);
  await handle.write(bytes, bytes.length - 8 - length, length + 8, bytes.length - 8 - length);
  await handle.close();
  const footer = await readParquetFooter(footerOnly, 'data.parquet');
  const group = footer.rowGroups[2]!;
  const split = {
    footer: [bytes.length - 8 - length, bytes.length] as [number, number],
    rowGroups: [
      {
        index: group.index,
        firstRow: group.firstRow,
        numRows: group.numRows,
        chunks: group.chunks.map((c) => ({ column: c.column, range: [c.start, c.end] as [number, number] })),
      },
    ],
  };
  const total = (ranges: [number, number][]) => ranges.reduce((n, [s, e]) => n + (e - s), 0);
  const all = total(parquetSplitRanges(split));
  const idOnly = total(parquetSplitRanges(split, ['id']));
  console.log(
    JSON.stringify({
      fileBytes: bytes.length,
      footerBytes: length + 8,
      rowGroups: footer.rowGroups.length,
      oneRowGroupAllColumns: all,
      oneRowGroupOneColumn: idOnly,
      fractionAllColumns: Number((all / bytes.length).toFixed(3)),
      fractionOneColumn: Number((idOnly / bytes.length).toFixed(3)),
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
