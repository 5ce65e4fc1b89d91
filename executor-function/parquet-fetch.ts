/**
 * A task's read of a Parquet split (some row groups of one file, as the driver planned them
 * from the file's footer): a sparse local copy of the file, as long as the blob, holding only the
 * footer and the column chunks of the split's row groups — only the columns its fragment reads —
 * each fetched by one range read (adjacent chunks in one request). DuckDB then reads the copy restricted to those row groups'
 * rows (duckdb/scan-sql.ts), so the holes are never read. The bytes fetched are the task's
 * bytesRead: for one row group of many, a small part of the blob.
 */
import { open } from 'node:fs/promises';
import type { ScanFile } from '../duckdb/scan-sql.js';
import type { InputSplit } from '../engine/plan/stage-descriptor.js';
import type { BlobStore } from '../storage/blob-store.js';

/** The byte ranges a split needs, sorted and merged where they touch. */
export function parquetSplitRanges(
  parquet: NonNullable<InputSplit['parquet']>,
  /** Lower-case names of the columns the fragment reads; every column when undefined. */
  readColumns?: readonly string[],
): [number, number][] {
  const wanted = readColumns ? new Set(readColumns) : undefined;
  const ranges: [number, number][] = [parquet.footer];
  for (const group of parquet.rowGroups)
    for (const chunk of group.chunks) {
      if (wanted && !wanted.has(chunk.column)) continue;
      ranges.push(chunk.range);
      // DuckDB reads a column's bloom filter for an equality filter on it.
      if (chunk.bloom) ranges.push(chunk.bloom);
    }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

const MAGIC = Buffer.from('PAR1');

/**
 * Fetch a Parquet split into `file` (sparse); returns the scan file (undefined when the split
 * reads no row group) and the bytes fetched. `columns` are the scan's columns.
 */
export async function fetchParquetSplit(
  blobs: BlobStore,
  split: InputSplit & { parquet: NonNullable<InputSplit['parquet']> },
  file: string,
  columns: readonly { name: string }[],
  readColumns?: readonly string[],
): Promise<{ scanFile?: ScanFile; bytes: number }> {
  const { parquet } = split;
  if (parquet.rowGroups.length === 0) return { bytes: 0 };
  const size = split.fileSize ?? parquet.footer[1];
  const handle = await open(file, 'w');
  let bytes = 0;
  try {
    await handle.truncate(size);
    await handle.write(MAGIC, 0, MAGIC.length, 0);
    for (const [start, end] of parquetSplitRanges(parquet, readColumns)) {
      const data = await blobs.getRange(split.container, split.blob, start, end - start);
      await handle.write(data, 0, data.length, start);
      bytes += data.length;
    }
  } finally {
    await handle.close();
  }
  const present = parquet.fileColumns ? new Set(parquet.fileColumns) : undefined;
  // Columns the file lacks (mergeSchema), and columns whose chunks were not fetched (the query does
  // not read them), are read as typed nulls: reading the holes of the sparse copy would fail.
  const fetched = readColumns ? new Set(readColumns) : undefined;
  const missing = columns
    .map((c) => c.name.toLowerCase())
    .filter((c) => (present !== undefined && !present.has(c)) || (fetched !== undefined && !fetched.has(c)));
  return {
    scanFile: {
      path: file,
      skipHeader: false,
      name: split.source ?? split.blob,
      rowGroups: parquet.rowGroups.map(({ index, firstRow, numRows }) => ({ index, firstRow, numRows })),
      ...(missing.length > 0 ? { missingColumns: missing } : {}),
    },
    bytes,
  };
}
