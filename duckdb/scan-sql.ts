/**
 * The DuckDB table functions that read a task's input files: read_parquet, read_csv and
 * read_json over local copies of its splits. With the bound columns given, every task reads
 * the same columns with the same types whatever its split holds (a CSV split without a header,
 * a JSON split missing a field, an empty split); without them (the driver's schema sample) DuckDB
 * detects them.
 */
import type { CsvReadOptions, ScanFormat } from '../engine/sql/fragment.js';
import { quoteIdent, quoteString, type StructField } from '../engine/sql/types.js';

/** One local input file of a task: the copy of one split, and whether its first line is a CSV header. */
export interface ScanFile {
  path: string;
  skipHeader: boolean;
  /** The user's name of the file (local path or az:// address), for errors. */
  name?: string;
  /** A Parquet split: the row groups to read (the copy is sparse: only their bytes are there). */
  rowGroups?: readonly { index: number; firstRow: number; numRows: number }[];
  /** Lower-case names of scan columns this Parquet file lacks (mergeSchema): read as nulls. */
  missingColumns?: readonly string[];
  /** Hive partition scans: the file's values of the partition columns (text from its folders; null for the default partition). */
  partitionValues?: (string | null)[];
}

/** Rows [from, to) of a file, merged where row groups follow each other. */
function rowRanges(groups: NonNullable<ScanFile['rowGroups']>): [number, number][] {
  const ranges: [number, number][] = [];
  for (const g of [...groups].sort((a, b) => a.firstRow - b.firstRow)) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === g.firstRow) last[1] = g.firstRow + g.numRows;
    else ranges.push([g.firstRow, g.firstRow + g.numRows]);
  }
  return ranges;
}

/**
 * One Parquet file read as the scan's columns: missing ones as typed nulls, and only the rows of
 * its split's row groups. DuckDB skips every row group whose file_row_number range the filter
 * rules out, so it never reads the holes of a sparse copy.
 */
export function parquetFileSql(file: ScanFile, columns: readonly StructField[]): string {
  const missing = new Set(file.missingColumns ?? []);
  const list = columns
    .map((c) =>
      missing.has(c.name.toLowerCase())
        ? `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`
        : `CAST(${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`,
    )
    .join(', ');
  if (!file.rowGroups)
    return `SELECT ${list} FROM read_parquet(${quoteString(file.path)}, hive_partitioning = false)`;
  const where = rowRanges(file.rowGroups)
    .map(([from, to]) => `(file_row_number >= ${from} AND file_row_number < ${to})`)
    .join(' OR ');
  return `SELECT ${list} FROM read_parquet(${quoteString(file.path)}, file_row_number = true, hive_partitioning = false) WHERE ${where || 'FALSE'}`;
}

/**
 * A scan of Hive-partitioned files: each file's rows with its partition values appended as
 * typed constants (`columns`: the files' own; `partitions`: names and types), one SELECT per file.
 */
export function partitionedScanSql(
  format: ScanFormat,
  files: readonly ScanFile[],
  columns: readonly StructField[],
  partitions: readonly { name: string; type: string }[],
  csv: CsvReadOptions | undefined,
): string {
  const selects = files.map((f) => {
    const constants = partitions.map((p, i) => {
      const v = f.partitionValues?.[i] ?? null;
      return `CAST(${v === null ? 'NULL' : quoteString(v)} AS ${p.type}) AS ${quoteIdent(p.name)}`;
    });
    return `SELECT *, ${constants.join(', ')} FROM ${scanRelationSql(format, [f], columns, csv)}`;
  });
  return `(${selects.join(' UNION ALL ')})`;
}

function columnsStruct(columns: readonly StructField[]): string {
  return `{${columns.map((c) => `${quoteString(c.name)}: ${quoteString(c.type)}`).join(', ')}}`;
}

function csvCall(file: ScanFile, columns: readonly StructField[] | undefined, csv: CsvReadOptions): string {
  const args = [
    quoteString(file.path),
    // Partition columns are the driver's to discover (write-spec.ts), never DuckDB's from a path.
    'hive_partitioning = false',
    `delim = ${quoteString(csv.sep)}`,
    `quote = ${quoteString(csv.quote)}`,
    `escape = ${quoteString(csv.escape)}`,
    `nullstr = ${quoteString(csv.nullValue)}`,
  ];
  if (columns) {
    args.push(
      'header = false',
      `skip = ${file.skipHeader ? 1 : 0}`,
      'auto_detect = false',
      `columns = ${columnsStruct(columns)}`,
    );
  } else {
    args.push(`header = ${csv.header}`, `all_varchar = ${!csv.inferSchema}`);
  }
  return `read_csv(${args.join(', ')})`;
}

/** A relation (table function call) reading `files`; with `columns`, exactly those columns and types. */
export function scanRelationSql(
  format: ScanFormat,
  files: readonly ScanFile[],
  columns: readonly StructField[] | undefined,
  csv: CsvReadOptions | undefined,
): string {
  const list = `[${files.map((f) => quoteString(f.path)).join(', ')}]`;
  if (format === 'parquet') {
    const read = `read_parquet(${list}, hive_partitioning = false)`;
    if (!columns) return read;
    if (files.some((f) => f.rowGroups || f.missingColumns))
      return `(${files.map((f) => parquetFileSql(f, columns)).join(' UNION ALL ')})`;
    return `(SELECT ${columns.map((c) => `CAST(${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ')} FROM ${read})`;
  }
  if (format === 'json') {
    const args = [list, "format = 'newline_delimited'", 'hive_partitioning = false'];
    if (columns) args.push(`columns = ${columnsStruct(columns)}`);
    return `read_json(${args.join(', ')})`;
  }
  const options = csv ?? {
    header: false,
    sep: ',',
    quote: '"',
    escape: '"',
    nullValue: '',
    inferSchema: false,
  };
  if (files.length === 1) return csvCall(files[0]!, columns, options);
  return `(${files.map((f) => `SELECT * FROM ${csvCall(f, columns, options)}`).join(' UNION ALL ')})`;
}
