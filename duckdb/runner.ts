/**
 * Runs one task of a DataFrame stage: its relational program (engine/sql/program.ts) over
 * local files the caller fetched — the partition's input splits, or this reduce partition's
 * segments of every map output. The fragment's SQL runs in the task's DuckDB session; the sink
 * then either writes the exchange — every row tagged with its reduce partition and written with
 * one `COPY … (FORMAT parquet, PARTITION_BY …)`, giving one Parquet file per non-empty reduce
 * partition, which the caller stores back to back as the map output's R segments — or computes
 * the action's partial (rows, a count, a reservoir sample of sort keys).
 */
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { StratusError } from '../contract/errors.js';
import { getCodec } from '../engine/records/codec.js';
import { BATCH_SIZE } from '../engine/shuffle/spill.js';
import {
  PARTITION_COLUMN,
  type RelationalProgram,
  roundRobinSql,
  taskInputPartitions,
} from '../engine/sql/program.js';
import { INPUT_RELATION, LEFT_RELATION, RIGHT_RELATION } from '../engine/sql/sql-gen.js';
import { quoteIdent, quoteString } from '../engine/sql/types.js';
import { type RecordSegment, writeBridgeRows } from './bridge-rows.js';
import { parquetFileSql, partitionedScanSql, type ScanFile, scanRelationSql } from './scan-sql.js';
import { spillDirectory, withSession } from './session.js';
import { rowConverter, rowsOf } from './values.js';
import { type WrittenFile, writeParts } from './writer.js';

/** The local inputs of one relational task. */
export interface RelationalTaskInputs {
  /** A scan: the local copies of the partition's splits. */
  scanFiles?: readonly ScanFile[];
  /** An exchange (a join's left side): this reduce partition's segment of each map output (Parquet files), in map order. */
  segmentFiles?: readonly string[];
  /** A join's right side: its segments, in map order. */
  rightSegmentFiles?: readonly string[];
  /** Broadcast join sides: by relation name, the one reduce partition's segments of every map output. */
  broadcastFiles?: Readonly<Record<string, readonly string[]>>;
  /**
   * ds.toDF: this partition's segments of the bridge exchange (record codec bytes, in map order),
   * each whole or streamed; read one after the other, each decoded as its bytes arrive.
   */
  recordSegments?: Iterable<RecordSegment> | AsyncIterable<RecordSegment>;
  /** ds.toDF: the segments' rows already written by writeBridgeRows (the executor does, outside the session). */
  recordRowsFile?: string;
}

/**
 * What a relational task produced, and the rows it read: counted by DuckDB for Parquet inputs
 * (file metadata, no data read), local rows and exchange segments; undefined for CSV and JSON
 * Lines scans, whose rows the caller counts as it fetches their lines (a second parse would
 * double the scan's cost).
 */
export type RelationalTaskOutput = { rowsRead?: number; spill?: SpillFigures } & RelationalTaskWork;

/** What DuckDB spilled to the task's temp directory: the peak bytes of its temp files, and the files seen. */
export interface SpillFigures {
  bytes: number;
  files: number;
}

/** How often the spill watch looks at DuckDB's temp directory while a task's queries run (ms). */
const SPILL_WATCH_MS = 25;

/**
 * Watches DuckDB's temp directory while a task runs: DuckDB deletes or truncates its temp files
 * as soon as it frees the blocks, so after the query nothing is left to measure. The watch lists
 * the directory every SPILL_WATCH_MS and keeps the highest total size (the spill's high-water mark)
 * and the names of the files seen. A spill shorter than the interval can be missed (a few MiB
 * written and freed within 25 ms); the figures are a lower bound.
 */
class SpillWatch {
  private peak = 0;
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped: Promise<SpillFigures> | undefined;

  constructor(private readonly dir: string) {}

  start(): void {
    const tick = () => {
      this.running = this.sample().finally(() => {
        this.running = undefined;
        if (this.timer !== undefined) this.timer = setTimeout(tick, SPILL_WATCH_MS);
      });
    };
    this.timer = setTimeout(tick, SPILL_WATCH_MS);
  }

  /** Stop watching, after one last look; returns the figures. */
  stop(): Promise<SpillFigures> {
    this.stopped ??= (async () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.running;
      await this.sample();
      return { bytes: this.peak, files: this.seen.size };
    })();
    return this.stopped;
  }

  private async sample(): Promise<void> {
    let total = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const size = await stat(path.join(this.dir, name)).then(
        (s) => (s.isFile() ? s.size : 0),
        () => 0,
      );
      if (size > 0) this.seen.add(name);
      total += size;
    }
    this.peak = Math.max(this.peak, total);
  }
}

/** What a relational task's sink produced. */
type RelationalTaskWork =
  | {
      kind: 'exchange';
      /** Per reduce partition: the Parquet file of its segment, or undefined when no row went there. */
      segments: (string | undefined)[];
      rowsWritten: number;
    }
  | { kind: 'result'; result: unknown; rowsWritten: number }
  /**
   * df.rdd: the task's rows as row objects in the record codec, all for reduce partition
   * `partition`: a local file of `segmentBytes` (none when no row was written).
   */
  | {
      kind: 'records';
      segmentFile?: string;
      segmentBytes: number;
      partition: number;
      numPartitions: number;
      rowsWritten: number;
    }
  /** A write task's part files (one, or one per partition value tuple), local. */
  | { kind: 'files'; files: WrittenFile[]; rowsWritten: number };

/** Options of runRelationalTask. */
export interface RelationalTaskOptions {
  /** A directory private to the task: local rows, exchange files and DuckDB's spills go there. */
  tempDir: string;
  /** The task's memory budget, DuckDB's memory_limit (bytes). */
  memoryBudgetBytes: number;
  /** Interrupts the task's query when aborted. */
  signal?: AbortSignal;
  /** The user's names of the input files (scan tasks), for error messages. */
  inputNames?: readonly string[];
}

/**
 * Thrown when a task's query fails in DuckDB: a value that does not convert, a malformed or
 * corrupt input file, an overflow. The same input fails the same way, so it is not retryable,
 * except DuckDB running out of memory, which another executor with more room may not.
 */
export class RelationalTaskError extends StratusError {
  constructor(message: string, retryable: boolean, cause: unknown) {
    super('DATAFRAME_TASK', message, {}, { retryable, cause });
    this.name = 'RelationalTaskError';
  }
}

function taskError(
  error: unknown,
  program: RelationalProgram,
  options: RelationalTaskOptions,
  corrupt?: string,
): unknown {
  if (!(error instanceof Error) || error instanceof StratusError || options.signal?.aborted) return error;
  const reading =
    corrupt !== undefined
      ? ` reading ${corrupt}`
      : program.input.kind === 'scan' && options.inputNames && options.inputNames.length > 0
        ? ` reading ${options.inputNames.join(', ')}`
        : '';
  const retryable = /Out of Memory/i.test(error.message);
  return new RelationalTaskError(`DataFrame task failed${reading}: ${error.message}`, retryable, error);
}

async function defineInput(
  connection: DuckDBConnection,
  program: RelationalProgram,
  partition: number,
  inputs: RelationalTaskInputs,
  tempDir: string,
): Promise<void> {
  const { input } = program;
  const columns = input.columns;
  for (const b of program.broadcasts ?? []) {
    // A table, not a view: the build side is read once however the join is planned.
    const rows = segmentsRelation(inputs.broadcastFiles?.[b.relation] ?? [], b.columns);
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${b.relation} AS ${rows}`);
  }
  let relation: string;
  // A Parquet split is a sparse copy (its row groups' chunks of the columns read, and the footer).
  // DuckDB restricted by file_row_number alone reads only those row groups, but a filter of the
  // query pushed into the same scan makes it consult other row groups' pages and bloom filters, so
  // the split's rows are read into a table first and the query runs over that.
  let sparse = false;
  if (input.kind === 'scan') {
    const files = inputs.scanFiles ?? [];
    sparse = input.format === 'parquet' && files.some((f) => f.rowGroups !== undefined);
    const partitions = input.partitionColumns ?? [];
    if (files.length === 0) {
      relation = emptyRelation([...columns, ...partitions.map((p) => ({ ...p, nullable: true }))]);
    } else if (partitions.length > 0) {
      relation = `SELECT * FROM ${partitionedScanSql(input.format, files, columns, partitions, input.csv)}`;
    } else {
      relation = `SELECT * FROM ${scanRelationSql(input.format, files, columns, input.csv)}`;
    }
  } else if (input.kind === 'exchange') {
    relation = segmentsRelation(inputs.segmentFiles ?? [], columns);
  } else if (input.kind === 'join') {
    const left = segmentsRelation(inputs.segmentFiles ?? [], input.left.columns);
    const right = segmentsRelation(inputs.rightSegmentFiles ?? [], input.right.columns);
    await connection.run(`CREATE OR REPLACE TEMP VIEW ${LEFT_RELATION} AS ${left}`);
    await connection.run(`CREATE OR REPLACE TEMP VIEW ${RIGHT_RELATION} AS ${right}`);
    return;
  } else {
    // Local rows, sliced as parallelize slices: [floor(i·n/k), floor((i+1)·n/k)), for each slice the
    // task reads; or the rows a Dataset's tasks checked for toDF, as [partition, values] records,
    // written as their segments decode (bridge-rows.ts) unless the caller already wrote them.
    let file = path.join(tempDir, 'local-rows.jsonl');
    if (input.kind === 'records') {
      if (inputs.recordRowsFile !== undefined) file = inputs.recordRowsFile;
      else await writeBridgeRows(input.codec, inputs.recordSegments ?? [], columns, file);
    } else {
      const lines = localRows(input, program, partition).map((r) =>
        JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, r[i] ?? null]))),
      );
      await writeFile(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    }
    relation = `SELECT * FROM ${scanRelationSql('json', [{ path: file, skipHeader: false }], columns, undefined)}`;
  }
  const kind = sparse ? 'TABLE' : 'VIEW';
  await connection.run(`CREATE OR REPLACE TEMP ${kind} ${INPUT_RELATION} AS ${relation}`);
}

function localRows(
  input: Extract<RelationalProgram['input'], { kind: 'local' }>,
  program: RelationalProgram,
  partition: number,
): unknown[][] {
  const n = input.rows.length;
  return taskInputPartitions(program, partition).flatMap((slice) =>
    input.rows.slice(
      Math.floor((slice * n) / input.numSlices),
      Math.floor(((slice + 1) * n) / input.numSlices),
    ),
  );
}

/** The rows of an exchange's segments (or none), with exactly `columns`. */
function segmentsRelation(files: readonly string[], columns: RelationalProgram['input']['columns']): string {
  if (files.length === 0) return emptyRelation(columns);
  const scan = scanRelationSql(
    'parquet',
    files.map((p) => ({ path: p, skipHeader: false })),
    columns,
    undefined,
  );
  return `SELECT * FROM ${scan}`;
}

function emptyRelation(columns: RelationalProgram['input']['columns']): string {
  return `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ')} WHERE FALSE`;
}

async function writeExchange(
  connection: DuckDBConnection,
  program: RelationalProgram,
  numPartitions: number,
  partitionSql: string,
  tempDir: string,
) {
  const dir = path.join(tempDir, 'exchange');
  const copied = await connection.runAndReadAll(
    `COPY (SELECT *, ${partitionSql} AS ${PARTITION_COLUMN} FROM (${program.sql})) TO ${quoteString(dir)} (FORMAT parquet, PARTITION_BY (${PARTITION_COLUMN}), OVERWRITE_OR_IGNORE)`,
  );
  const rowsWritten = Number(copied.getRowsJson()[0]?.[0] ?? 0);
  const segments: (string | undefined)[] = new Array(numPartitions).fill(undefined);
  for (let p = 0; p < numPartitions; p++) {
    const partDir = path.join(dir, `${PARTITION_COLUMN}=${p}`);
    const files = (await readdir(partDir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.parquet'))
      .sort();
    if (files.length === 0) continue;
    if (files.length === 1) {
      segments[p] = path.join(partDir, files[0]!);
      continue;
    }
    // A segment is exactly one Parquet file: merge when DuckDB wrote several.
    const merged = path.join(dir, `segment-${p}.parquet`);
    const list = `[${files.map((f) => quoteString(path.join(partDir, f))).join(', ')}]`;
    await connection.run(
      `COPY (SELECT * FROM read_parquet(${list})) TO ${quoteString(merged)} (FORMAT parquet)`,
    );
    segments[p] = merged;
  }
  return { segments, rowsWritten };
}

/** Run one relational task; throws DuckDB's error (with the SQL position) when the query fails. */
export async function runRelationalTask(
  program: RelationalProgram,
  partition: number,
  inputs: RelationalTaskInputs,
  options: RelationalTaskOptions,
): Promise<RelationalTaskOutput> {
  const session = {
    memoryLimitBytes: options.memoryBudgetBytes,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const watch = new SpillWatch(spillDirectory());
  watch.start();
  try {
    const out = await withSession(session, (connection) =>
      runInSession(connection, program, partition, inputs, options).catch(async (error: unknown) => {
        const corrupt =
          error instanceof Error && !(error instanceof StratusError) && !options.signal?.aborted
            ? await unreadableRowGroup(connection, program, inputs)
            : undefined;
        throw taskError(error, program, options, corrupt);
      }),
    );
    return { ...out, spill: await watch.stop() };
  } finally {
    await watch.stop();
  }
}

/**
 * After a Parquet scan failed: the first file and row group that does not read on its own
 * (every row group is read alone, the columns the fragment reads), so the error names it; undefined
 * when each reads (the failure was elsewhere).
 */
async function unreadableRowGroup(
  connection: DuckDBConnection,
  program: RelationalProgram,
  inputs: RelationalTaskInputs,
): Promise<string | undefined> {
  const input = program.input;
  if (input.kind !== 'scan' || input.format !== 'parquet') return undefined;
  for (const file of inputs.scanFiles ?? []) {
    for (const group of file.rowGroups ?? []) {
      try {
        // Only the columns the fragment reads: the others' chunks were not fetched.
        const read = input.readColumns ? new Set(input.readColumns) : undefined;
        const columns = read ? input.columns.filter((c) => read.has(c.name.toLowerCase())) : input.columns;
        const probe =
          columns.length > 0
            ? parquetFileSql({ ...file, rowGroups: [group] }, columns)
            : `SELECT count(*) FROM (${parquetFileSql({ ...file, rowGroups: [group] }, input.columns)})`;
        await connection.run(`CREATE OR REPLACE TEMP TABLE __probe AS ${probe}`);
      } catch {
        // This row group is the one that fails: named in the task's error.
        return `${file.name ?? file.path}, row group ${group.index}`;
      }
    }
  }
  return undefined;
}

async function runInSession(
  connection: DuckDBConnection,
  program: RelationalProgram,
  partition: number,
  inputs: RelationalTaskInputs,
  options: RelationalTaskOptions,
): Promise<RelationalTaskOutput> {
  await defineInput(connection, program, partition, inputs, options.tempDir);
  const rowsRead = await countInputRows(connection, program, inputs);
  const work = await runSink(connection, program, partition, options);
  return rowsRead === undefined ? work : { ...work, rowsRead };
}

/** The rows of the task's input relations, when DuckDB can count them without a second parse. */
async function countInputRows(
  connection: DuckDBConnection,
  program: RelationalProgram,
  inputs: RelationalTaskInputs,
): Promise<number | undefined> {
  const { input } = program;
  if (input.kind === 'scan' && input.format !== 'parquet') return undefined;
  if (input.kind === 'scan') {
    // From the footers, never through the scan: a split's copy is sparse (only the column chunks
    // its query reads were fetched), and counting through the scan's casts could read the others.
    let rows = 0;
    for (const file of inputs.scanFiles ?? []) {
      if (file.rowGroups) {
        for (const group of file.rowGroups) rows += group.numRows;
        continue;
      }
      const counted = await connection.runAndReadAll(
        `SELECT count(*) FROM read_parquet(${quoteString(file.path)}, hive_partitioning = false)`,
      );
      rows += Number(counted.getRowsJson()[0]?.[0] ?? 0);
    }
    return rows;
  }
  const relations = input.kind === 'join' ? [LEFT_RELATION, RIGHT_RELATION] : [INPUT_RELATION];
  let rows = 0;
  for (const relation of relations) {
    const counted = await connection.runAndReadAll(`SELECT count(*) FROM ${relation}`);
    rows += Number(counted.getRowsJson()[0]?.[0] ?? 0);
  }
  return rows;
}

async function runSink(
  connection: DuckDBConnection,
  program: RelationalProgram,
  partition: number,
  options: RelationalTaskOptions,
): Promise<RelationalTaskWork> {
  {
    const { sink } = program;
    if (sink.kind === 'exchange') {
      const written = await writeExchange(
        connection,
        program,
        sink.numPartitions,
        sink.roundRobin ? roundRobinSql(sink.numPartitions, partition) : sink.partitionSql,
        options.tempDir,
      );
      return { kind: 'exchange', ...written };
    }
    if (sink.kind === 'write') {
      const dir = path.join(options.tempDir, 'write');
      await mkdir(dir, { recursive: true });
      const files = await writeParts(connection, program.sql, sink, dir);
      return { kind: 'files', files, rowsWritten: files.reduce((n, f) => n + f.rows, 0) };
    }
    if (sink.kind === 'count') {
      const reader = await connection.runAndReadAll(`SELECT count(*) FROM (${program.sql})`);
      return { kind: 'result', result: Number(reader.getRowsJson()[0]?.[0] ?? 0), rowsWritten: 1 };
    }
    if (sink.kind === 'sample') {
      // Only the sort keys are kept: the sample needs no other column.
      const keys = sink.keys.map((k, i) => `${k} AS __key${i}`);
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE __fragment AS SELECT ${keys.join(', ')} FROM (${program.sql})`,
      );
      const counted = await connection.runAndReadAll('SELECT count(*) FROM __fragment');
      const count = Number(counted.getRowsJson()[0]?.[0] ?? 0);
      const sampled = await connection.runAndReadAll(
        `SELECT * FROM __fragment USING SAMPLE reservoir(${sink.perPartition} ROWS) REPEATABLE (${sink.seed})`,
      );
      return { kind: 'result', result: { count, keys: rowsOf(sampled) }, rowsWritten: 0 };
    }
    if (sink.kind === 'records') {
      // df.rdd(): row objects by column name, values as collect() gives them (values.ts). DuckDB's
      // result is streamed a chunk at a time and encoded BATCH_SIZE rows at a time into the
      // segment's local file (the same bytes as encoding the whole partition in BATCH_SIZE slices),
      // so the task holds one chunk and one batch, never the partition.
      const result = await connection.stream(program.sql);
      const names = result.columnNames();
      const convert = rowConverter(result.columnTypes());
      const codec = getCodec(sink.codec);
      const file = path.join(options.tempDir, 'rdd-segment');
      const out = await open(file, 'w');
      let rowsWritten = 0;
      let bytes = 0;
      let batch: Record<string, unknown>[] = [];
      const flush = async () => {
        const encoded = codec.encode(batch, 'rdd');
        batch = [];
        await out.appendFile(encoded);
        bytes += encoded.length;
      };
      try {
        for await (const chunk of result.yieldRowsJson()) {
          for (const row of chunk) {
            const values = convert(row);
            batch.push(Object.fromEntries(names.map((n, i) => [n, values[i]])));
            if (batch.length === BATCH_SIZE) await flush();
          }
          rowsWritten += chunk.length;
        }
        if (batch.length > 0) await flush();
      } finally {
        await out.close();
      }
      return {
        kind: 'records',
        ...(bytes > 0 ? { segmentFile: file } : {}),
        segmentBytes: bytes,
        partition,
        numPartitions: sink.numPartitions,
        rowsWritten,
      };
    }
    const limit = sink.limit !== undefined ? ` LIMIT ${sink.limit}` : '';
    const reader = await connection.runAndReadAll(`SELECT * FROM (${program.sql})${limit}`);
    const rows = rowsOf(reader);
    return {
      kind: 'result',
      result: { columns: reader.columnNames(), types: reader.columnTypes().map(String), rows },
      rowsWritten: rows.length,
    };
  }
}

/** The byte size of a local file (segment sizes of a map output). */
export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}
