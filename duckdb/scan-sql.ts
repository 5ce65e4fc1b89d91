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
  /** Hive partition scans: the file's values of the partition columns (text from its folders; null for the default partition). */
  partitionValues?: (string | null)[];
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
