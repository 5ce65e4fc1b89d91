/**
 * What the driver learns from a Parquet file's footer, read by DuckDB: the file's columns (as
 * read_parquet types them, so the binder and the tasks agree), and for every row group its rows,
 * the byte range of each column chunk and the chunk's min/max/null-count statistics. The footer
 * is all DuckDB reads here: the caller hands it a sparse local file holding only the footer at
 * its place at the end (parquet_metadata() and DESCRIBE read nothing else), so a blob is never
 * downloaded to plan it.
 */
import { StratusError } from '../contract/errors.js';
import type { StructType } from '../engine/sql/types.js';
import { quoteString } from '../engine/sql/types.js';
import { withSession } from './session.js';

/** One column chunk of a row group: its top-level column (lower case), bytes and statistics. */
export interface ParquetChunk {
  column: string;
  start: number;
  end: number;
  min?: string;
  max?: string;
  nullCount?: number;
  /** A leaf of a nested column: its statistics do not describe the top-level value. */
  nested: boolean;
  /**
   * The chunk's bloom filter, [start, end): writers put them after the row groups, and a reader
   * with an equality filter on the column reads it, so a task fetching the chunk fetches it too.
   */
  bloom?: [number, number];
}

/** One row group of a file, in file order. */
export interface ParquetRowGroup {
  index: number;
  /** The file row number of its first row. */
  firstRow: number;
  numRows: number;
  chunks: ParquetChunk[];
}

/** A file's footer as the driver uses it. */
export interface ParquetFooter {
  schema: StructType;
  rowGroups: ParquetRowGroup[];
}

/**
 * A Parquet file or row group that cannot be read: names the file as the user gave it, and
 * the row group when the fault is in one. Not retryable: the same bytes fail the same way.
 */
export class ParquetCorruptError extends StratusError {
  constructor(message: string) {
    super('PARQUET_CORRUPT', message);
    this.name = 'ParquetCorruptError';
  }
}

interface MetadataRow {
  row_group_id: string;
  row_group_num_rows: string;
  column_id: string;
  path_in_schema: string;
  dictionary_page_offset: string | null;
  data_page_offset: string | null;
  total_compressed_size: string | null;
  bloom_filter_offset: string | null;
  bloom_filter_length: string | null;
  stats_null_count: string | null;
  stats_min_value: string | null;
  stats_max_value: string | null;
}

const num = (v: string | null): number | undefined => (v === null ? undefined : Number(v));

/**
 * Read the footer of `localPath` (a sparse copy holding the footer); `fileName` is the user's name
 * of the file for errors. Throws ParquetCorruptError when DuckDB cannot decode it.
 */
export async function readParquetFooter(localPath: string, fileName: string): Promise<ParquetFooter> {
  return withSession({ memoryLimitBytes: 256 * 1024 * 1024 }, async (connection) => {
    let schema: StructType;
    let rows: MetadataRow[];
    try {
      const described = await connection.runAndReadAll(
        `DESCRIBE SELECT * FROM read_parquet(${quoteString(localPath)})`,
      );
      const fields = described.getRowObjectsJson() as { column_name: string; column_type: string }[];
      schema = { fields: fields.map((f) => ({ name: f.column_name, type: f.column_type, nullable: true })) };
      const meta = await connection.runAndReadAll(
        `SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, dictionary_page_offset, data_page_offset, total_compressed_size, stats_null_count, stats_min_value, stats_max_value, bloom_filter_offset, bloom_filter_length FROM parquet_metadata(${quoteString(localPath)}) ORDER BY row_group_id, column_id`,
      );
      rows = meta.getRowObjectsJson() as unknown as MetadataRow[];
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new ParquetCorruptError(`Parquet file ${fileName} has a corrupt footer: ${detail.trim()}`);
    }
    const names = new Map(schema.fields.map((f) => [f.name.toLowerCase(), f.name]));
    const groups = new Map<number, ParquetRowGroup>();
    for (const r of rows) {
      const index = Number(r.row_group_id);
      let group = groups.get(index);
      if (!group) {
        group = { index, firstRow: 0, numRows: Number(r.row_group_num_rows), chunks: [] };
        groups.set(index, group);
      }
      const path = r.path_in_schema;
      const whole = names.has(path.toLowerCase());
      const top = whole ? path.toLowerCase() : path.split('.')[0]!.toLowerCase();
      const data = num(r.data_page_offset) ?? 0;
      const dictionary = num(r.dictionary_page_offset);
      // A chunk starts at its dictionary page when it has one (some writers put 0 there for none).
      const start = dictionary !== undefined && dictionary > 0 && dictionary < data ? dictionary : data;
      const chunk: ParquetChunk = {
        column: top,
        start,
        end: start + (num(r.total_compressed_size) ?? 0),
        nested: !whole,
      };
      const bloomStart = num(r.bloom_filter_offset);
      const bloomLength = num(r.bloom_filter_length);
      if (bloomStart !== undefined && bloomLength !== undefined && bloomLength > 0)
        chunk.bloom = [bloomStart, bloomStart + bloomLength];
      if (r.stats_min_value !== null) chunk.min = r.stats_min_value;
      if (r.stats_max_value !== null) chunk.max = r.stats_max_value;
      const nulls = num(r.stats_null_count);
      if (nulls !== undefined) chunk.nullCount = nulls;
      group.chunks.push(chunk);
    }
    const rowGroups = [...groups.values()].sort((a, b) => a.index - b.index);
    let firstRow = 0;
    for (const g of rowGroups) {
      g.firstRow = firstRow;
      firstRow += g.numRows;
    }
    return { schema, rowGroups };
  });
}
