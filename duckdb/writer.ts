/**
 * The sink of a DataFrame write task: the fragment's rows as local part files in the format
 * asked for (DuckDB's COPY: Parquet, CSV, JSON Lines), either one file for the partition or,
 * with partition columns, one file per value tuple. DuckDB's own PARTITION_BY names folders its
 * way, so the task numbers the value tuples itself (dense_rank over the partition columns),
 * lets DuckDB write one folder per number, and reads each number's values back to give the
 * folder Spark's name (`col=value/`, escaped) — the caller stores the files under those names.
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ProgramSink } from '../engine/sql/program.js';
import { quoteIdent, quoteString } from '../engine/sql/types.js';
import { partitionFolder } from '../engine/sql/write-spec.js';

type WriteSink = Extract<ProgramSink, { kind: 'write' }>;

/** One local file a write task produced. */
export interface WrittenFile {
  /** `col=value/…/` below the output (empty without partition columns). */
  folder: string;
  /** The file's number within its folder for this task (Spark's `c000`). */
  index: number;
  /** The local file. */
  file: string;
  /** Rows in the file. */
  rows: number;
}

const TUPLE_COLUMN = '__stratus_partition_tuple';

/** DuckDB's COPY options for a write sink's format and codec. */
export function copyOptions(sink: WriteSink): string {
  const o = sink.options;
  const options: string[] = [];
  if (sink.format === 'parquet') {
    options.push(
      'FORMAT parquet',
      `COMPRESSION ${sink.compression === 'none' ? 'uncompressed' : sink.compression}`,
    );
  } else if (sink.format === 'csv') {
    options.push(
      'FORMAT csv',
      `HEADER ${o.header === true}`,
      `DELIMITER ${quoteString(o.sep ?? ',')}`,
      `QUOTE ${quoteString(o.quote ?? '"')}`,
      `ESCAPE ${quoteString(o.escape ?? '"')}`,
      `NULLSTR ${quoteString(o.nullValue ?? '')}`,
      `COMPRESSION ${sink.compression}`,
    );
  } else if (o.ignoreNullFields === false) {
    options.push('FORMAT json', `COMPRESSION ${sink.compression}`);
  } else {
    // Each row is one JSON text made by jsonLineSql: written as it is, one per line.
    options.push('FORMAT csv', 'HEADER false', "QUOTE ''", "ESCAPE ''", `COMPRESSION ${sink.compression}`);
  }
  return options.join(', ');
}

/**
 * The query whose rows a COPY writes for the sink: `sql` itself, or for JSON without null fields
 * (Spark's default, ignoreNullFields) each row as one JSON text with its null fields left out, in
 * nested structs too (array elements stay, as Spark's). DuckDB's JSON writer has no such option;
 * an RFC 7396 merge patch of the row's JSON onto `{}` drops exactly the null members, keeping the
 * order of the others, and to_json formats values as DuckDB's JSON writer does. to_json escapes
 * line breaks, so the line is written raw (copyOptions: CSV without quotes).
 */
export function copySql(sink: WriteSink, sql: string): string {
  if (sink.format !== 'json' || sink.options.ignoreNullFields === false) return sql;
  return `SELECT json_merge_patch('{}', to_json(${ROW_ALIAS})) AS line FROM (${sql}) AS ${ROW_ALIAS}`;
}

const ROW_ALIAS = '__stratus_row';

/** Write the rows of `sql` into `dir` as the sink asks; returns the files written (none for no rows with partition columns). */
export async function writeParts(
  connection: DuckDBConnection,
  sql: string,
  sink: WriteSink,
  dir: string,
): Promise<WrittenFile[]> {
  const extension = sink.format === 'parquet' ? 'parquet' : sink.format;
  if (sink.partitionBy.length === 0) {
    // One file, even for no rows: a reader of the output finds the schema in it (as Spark writes one).
    const file = path.join(dir, `part.${extension}`);
    const copied = await connection.runAndReadAll(
      `COPY (${copySql(sink, sql)}) TO ${quoteString(file)} (${copyOptions(sink)})`,
    );
    return [{ folder: '', index: 0, file, rows: Number(copied.getRowsJson()[0]?.[0] ?? 0) }];
  }
  const keys = sink.partitionBy.map(quoteIdent);
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE __write AS SELECT *, CAST(dense_rank() OVER (ORDER BY ${keys.join(', ')}) AS INTEGER) AS ${TUPLE_COLUMN} FROM (${sql})`,
  );
  const tuples = await connection.runAndReadAll(
    `SELECT ${TUPLE_COLUMN}, count(*), ${keys.map((k) => `CAST(${k} AS VARCHAR)`).join(', ')} FROM __write GROUP BY ALL ORDER BY 1`,
  );
  const folderDir = path.join(dir, 'partitioned');
  const written: WrittenFile[] = [];
  const rows = tuples.getRowsJson() as (string | null)[][];
  if (sink.format === 'json') {
    // DuckDB's JSON COPY has no PARTITION_BY: one COPY per value tuple over the materialised rows.
    await mkdir(folderDir, { recursive: true });
    for (const [tuple, count, ...values] of rows) {
      const file = path.join(folderDir, `tuple-${tuple}.json`);
      await connection.run(
        `COPY (${copySql(sink, `SELECT * EXCLUDE (${keys.join(', ')}, ${TUPLE_COLUMN}) FROM __write WHERE ${TUPLE_COLUMN} = ${Number(tuple)}`)}) TO ${quoteString(file)} (${copyOptions(sink)})`,
      );
      written.push({
        folder: partitionFolder(sink.partitionBy, values),
        index: 0,
        file,
        rows: Number(count),
      });
    }
    await connection.run('DROP TABLE __write');
    return written;
  }
  await connection.run(
    `COPY (SELECT * EXCLUDE (${keys.join(', ')}) FROM __write) TO ${quoteString(folderDir)} (${copyOptions(sink)}, PARTITION_BY (${TUPLE_COLUMN}), OVERWRITE_OR_IGNORE)`,
  );
  for (const row of rows) {
    const [tuple, count, ...values] = row;
    const local = path.join(folderDir, `${TUPLE_COLUMN}=${tuple}`);
    const files = (await readdir(local)).sort();
    const folder = partitionFolder(sink.partitionBy, values);
    // DuckDB may split a folder's rows over several files; each becomes its own part (c000, c001…).
    files.forEach((name, index) => {
      written.push({
        folder,
        index,
        file: path.join(local, name),
        rows: files.length === 1 ? Number(count) : -1,
      });
    });
  }
  // Several files in a folder: count each one's rows (rare; one thread per task writes one file).
  for (const w of written) {
    if (w.rows >= 0) continue;
    const counted = await connection.runAndReadAll(`SELECT count(*) FROM ${readCall(sink, w.file)}`);
    w.rows = Number(counted.getRowsJson()[0]?.[0] ?? 0);
  }
  await connection.run('DROP TABLE __write');
  return written;
}

function readCall(sink: WriteSink, file: string): string {
  const f = quoteString(file);
  if (sink.format === 'parquet') return `read_parquet(${f})`;
  if (sink.format === 'json') return `read_json(${f}, format = 'newline_delimited')`;
  return `read_csv(${f}, header = ${sink.options.header === true}, delim = ${quoteString(sink.options.sep ?? ',')}, all_varchar = true)`;
}
