/**
 * The DataFrame side of a job's context (Spark's SparkSession, reduced to a job builder): the
 * reader of files (`ctx.read`), `ctx.createDataFrame`, and the run's SQL settings (`ctx.conf`).
 * One session per graph builder, so the driver and every executor build the same nodes.
 */
import { ConfigError } from '../../contract/errors.js';
import { checkPartitionCount, type GraphBuilder } from '../dataset/graph-builder.js';
import { currentCallSite } from '../plan/call-site.js';
import { DataFrame } from './dataframe.js';
import type { CsvReadOptions, ScanFormat } from './fragment.js';
import { parseByteSize } from './join-plan.js';
import { DataFramePlanner, DEFAULT_BROADCAST_THRESHOLD } from './planner.js';
import { registerScan } from './scan-sizes.js';
import { sqlError, sqlLogicalPlan } from './sql-plan.js';
import { sqlParseOf, tempViews } from './temp-views.js';
import { type SchemaInput, type StructType, toStructType } from './types.js';

/** Options of every file read. */
export interface ReadOptions {
  /** At least this many partitions when the input is large enough (default as textFile's). */
  minPartitions?: number;
  /** The columns and their types; without it the driver reads the schema from the first file. */
  schema?: SchemaInput;
}

/** Options of `ctx.read.parquet`. */
export interface ParquetReadOptions extends ReadOptions {
  /**
   * Take the union of the files' columns (Spark's mergeSchema): a column a file lacks reads as
   * null there; integer widths and float/double widen; other type differences are refused.
   * Without it, files whose columns or types differ fail the run before any task.
   */
  mergeSchema?: boolean;
}

/** Options of `ctx.read.csv` (Spark's names and defaults). */
export interface CsvReadOptionsInput extends ReadOptions {
  /** The first line of each file names the columns (default false: `_c0`, `_c1`, …). */
  header?: boolean;
  /** Infer column types from the data (default false: every column is a string). */
  inferSchema?: boolean;
  /** The field separator (default `,`); `delimiter` is accepted too. */
  sep?: string;
  /** Alias of `sep`. */
  delimiter?: string;
  /** The quote character (default `"`). */
  quote?: string;
  /** The character escaping a quote inside a quoted field (default `"`). */
  escape?: string;
  /** The text read as null (default: the empty field). */
  nullValue?: string;
}

/** Spark's spark.sql.* settings a job may set: the shuffle partition count and the broadcast join threshold. */
export class RuntimeConfig {
  private shufflePartitions: number | undefined;
  private broadcastThreshold: number | undefined;
  /** @internal */
  constructor(private readonly builder: GraphBuilder) {}

  /**
   * Set `spark.sql.shuffle.partitions` (the partitions of groupBy, join and orderBy exchanges;
   * default: total slots) or `spark.sql.autoBroadcastJoinThreshold` (bytes, `'10m'`; -1 disables; default 10 MB).
   */
  set(key: string, value: string | number): this {
    if (key === AUTO_BROADCAST) {
      this.broadcastThreshold = parseByteSize(value, key);
      return this;
    }
    if (key !== 'spark.sql.shuffle.partitions') {
      throw new ConfigError(
        `conf.set: ${key} is not supported (only spark.sql.shuffle.partitions and ${AUTO_BROADCAST})`,
      );
    }
    const n = Number(value);
    checkPartitionCount(n, key);
    this.shufflePartitions = n;
    return this;
  }

  /** The value of a setting, as a string. */
  get(key: string): string {
    if (key === AUTO_BROADCAST) return String(this.autoBroadcastJoinThreshold());
    if (key !== 'spark.sql.shuffle.partitions') throw new ConfigError(`conf.get: ${key} is not supported`);
    return String(this.partitions());
  }

  /** @internal */
  partitions(): number {
    return this.shufflePartitions ?? this.builder.defaultParallelism;
  }

  /** @internal */
  autoBroadcastJoinThreshold(): number {
    return this.broadcastThreshold ?? DEFAULT_BROADCAST_THRESHOLD;
  }
}

const AUTO_BROADCAST = 'spark.sql.autoBroadcastJoinThreshold';

/** Reads files into DataFrames: `ctx.read.parquet(path)`, `ctx.read.csv(path, { header: true })`, `ctx.read.json(path)`. */
export class DataFrameReader {
  /** @internal */
  constructor(private readonly session: SqlSession) {}

  /**
   * Parquet files (a path, a folder or a glob; local or `az://container/prefix`), split by row
   * groups into partitions of about the split size; row groups whose statistics rule out the
   * DataFrame's leading filters are not read. The files must share one schema unless `mergeSchema`.
   */
  parquet(path: string, options: ParquetReadOptions = {}): DataFrame {
    return this.session.scan('parquet', path, options, undefined, options.mergeSchema === true);
  }

  /** CSV files, split on line boundaries (multi-line quoted fields are not supported). */
  csv(path: string, options: CsvReadOptionsInput = {}): DataFrame {
    const sep = options.sep ?? options.delimiter ?? ',';
    const csv: CsvReadOptions = {
      header: options.header === true,
      sep,
      quote: options.quote ?? '"',
      escape: options.escape ?? '"',
      nullValue: options.nullValue ?? '',
      inferSchema: options.inferSchema === true,
    };
    return this.session.scan('csv', path, options, csv);
  }

  /** JSON Lines files (one object per line), split on line boundaries; the schema is inferred unless given. */
  json(path: string, options: ReadOptions = {}): DataFrame {
    return this.session.scan('json', path, options);
  }
}

/** The DataFrame session of one graph builder. */
export class SqlSession {
  readonly conf: RuntimeConfig;
  readonly read: DataFrameReader;
  private readonly planner: DataFramePlanner;

  constructor(private readonly builder: GraphBuilder) {
    this.conf = new RuntimeConfig(builder);
    this.read = new DataFrameReader(this);
    this.planner = new DataFramePlanner(
      builder,
      () => this.conf.partitions(),
      () => this.conf.autoBroadcastJoinThreshold(),
    );
  }

  /** @internal A file scan. */
  scan(
    format: ScanFormat,
    uri: string,
    options: ReadOptions,
    csv?: CsvReadOptions,
    mergeSchema = false,
  ): DataFrame {
    const where = `read.${format}(${JSON.stringify(uri)})`;
    if (typeof uri !== 'string' || uri.length === 0)
      throw new ConfigError(`read.${format}: the path must be a non-empty string`);
    checkPartitionCount(options.minPartitions, where);
    const schema: StructType | undefined =
      options.schema !== undefined ? toStructType(options.schema, where) : undefined;
    const site = currentCallSite();
    const input = {
      kind: 'scan' as const,
      format,
      uri,
      ...(schema ? { schema } : {}),
      ...(csv ? { csv } : {}),
      ...(mergeSchema ? { mergeSchema } : {}),
    };
    // Its size, once the driver has listed it, is found by this ordinal (scan-sizes.ts).
    registerScan(this.builder, input);
    return new DataFrame(this.env(), {
      kind: 'source',
      input,
      partitions: options.minPartitions ?? Math.min(this.builder.defaultParallelism, 2),
      label: site === undefined ? `read.${format}` : `read.${format} at ${site}`,
    });
  }

  /** A DataFrame of `rows` (objects by column name, or arrays in schema order) cut into `numSlices` partitions. */
  createDataFrame(rows: readonly unknown[], schema: SchemaInput, numSlices?: number): DataFrame {
    if (!Array.isArray(rows)) throw new ConfigError('createDataFrame: rows must be an array');
    checkPartitionCount(numSlices, 'createDataFrame');
    const struct = toStructType(schema, 'createDataFrame');
    const names = struct.fields.map((f) => f.name);
    const normalised = rows.map((row, i) => {
      if (Array.isArray(row)) {
        if (row.length !== names.length) {
          throw new ConfigError(
            `createDataFrame: row ${i} has ${row.length} values, the schema ${names.length} columns`,
          );
        }
        return row;
      }
      if (row === null || typeof row !== 'object')
        throw new ConfigError(`createDataFrame: row ${i} is not an object or an array`);
      return names.map((n) => (row as Record<string, unknown>)[n] ?? null);
    });
    const site = currentCallSite();
    return new DataFrame(this.env(), {
      kind: 'source',
      input: { kind: 'local', rows: normalised, schema: struct },
      partitions: numSlices ?? this.builder.defaultParallelism,
      label: site === undefined ? 'createDataFrame' : `createDataFrame at ${site}`,
    });
  }

  /** @internal ds.toDF(schema): the DataFrame of the rows the bridge's exchange node `exchange` carries (bridge.ts). */
  fromDataset(schema: StructType, exchange: number, label: string): DataFrame {
    return new DataFrame(this.env(), {
      kind: 'source',
      input: { kind: 'records', schema, exchange },
      // The Dataset's partitions, known when the job is planned (the exchange keeps them).
      partitions: 0,
      label,
    });
  }

  /**
   * Spark's `spark.sql(query)`: a DataFrame of one SELECT query over the job's temp views, planned
   * into the same operators (and so the same exchanges) as the equivalent DataFrame calls. The
   * driver parsed the text before this build; a syntax error, a missing view or a construct not
   * supported yet is raised here, naming this call.
   */
  sql(text: string): DataFrame {
    if (typeof text !== 'string' || text.trim().length === 0)
      throw new ConfigError('sql: the query must be a non-empty string');
    const site = currentCallSite();
    const label = site === undefined ? 'sql' : `sql at ${site}`;
    const parsed = sqlParseOf(this.builder, text, label);
    if (parsed === undefined) {
      // The driver's first pass: a stand-in until the text is parsed (this graph is thrown away).
      return this.createDataFrame(
        [],
        { fields: [{ name: '__unparsed', type: 'INTEGER', nullable: true }] },
        1,
      );
    }
    if (!parsed.ok) throw sqlError(label, parsed.error);
    return new DataFrame(this.env(), sqlLogicalPlan(parsed.plan, text, tempViews(this.builder), label));
  }

  private env() {
    return { builder: this.builder, planner: this.planner };
  }
}

const sessions = new WeakMap<GraphBuilder, SqlSession>();

/** The DataFrame session of `builder` (made on first use). */
export function sqlSession(builder: GraphBuilder): SqlSession {
  let session = sessions.get(builder);
  if (!session) {
    session = new SqlSession(builder);
    sessions.set(builder, session);
  }
  return session;
}
