/**
 * JobContext: what a job builder receives — Spark's SparkContext, limited to building a
 * graph. Sources only record nodes: the driver resolves and splits files, and the task
 * runtime slices parallelized arrays.
 */

import { ConfigError, StratusError } from '../../contract/errors.js';
import type { OptionValue } from '../plan/option-value.js';
import { type CsvFormat, csvFormatOf, csvFormatOptions } from '../records/csv.js';
import { badRecordsAccumulatorName } from '../records/record-formats.js';
import { checkRecordSchema, type RecordSchema, recordSchemaVendor } from '../records/record-schema.js';
import type { WholeFileFormat } from '../records/whole-files.js';
import type { DataFrame } from '../sql/dataframe.js';
import { type DataFrameReader, type RuntimeConfig, sqlSession } from '../sql/session.js';
import type { SchemaInput } from '../sql/types.js';
import { Dataset } from './dataset.js';
import { checkPartitionCount, type GraphBuilder } from './graph-builder.js';
import { addHandleSource, type DatasetHandle } from './handles.js';
import { type Accumulator, type Broadcast, createAccumulator, createBroadcast } from './shared-variables.js';
import type {
  CsvRecord,
  CsvSourceOptions,
  FileSourceOptions,
  JsonLinesRecord,
  JsonLinesSourceOptions,
  ParsedSourceOptions,
} from './source-options.js';

/** Options of the whole-file sources, whose partition count is positional as in Spark. */
function minPartitionsOf(minPartitions: number | undefined): FileSourceOptions {
  return minPartitions === undefined ? {} : { minPartitions };
}

/** The builder's handle on the job: sources, shared variables, default parallelism. */
export interface JobContext {
  /** Partitions of wide operations that name none; set by whoever builds the graph (the driver: total slots). */
  readonly defaultParallelism: number;
  /** `data` cut into `numSlices` contiguous slices (default defaultParallelism); slices may be empty. */
  parallelize<T>(data: readonly T[], numSlices?: number): Dataset<T>;
  /** The lines of the files matching a path or glob (local files or blobs, resolved by the driver). */
  textFile(pathOrGlob: string, options?: FileSourceOptions): Dataset<string>;
  /**
   * One JSON value per non-blank line of the matching files: a JsonValue, or with `schema` the
   * schema's output (the element type is inferred from it; there is no type to claim).
   */
  jsonLines<const O extends JsonLinesSourceOptions = Record<never, never>>(
    pathOrGlob: string,
    options?: O,
  ): Dataset<JsonLinesRecord<O>>;
  /**
   * One record per non-empty line of the matching CSV files: objects by column name, or arrays,
   * of strings unless `types` converts them; with `schema` the schema's output. The element type
   * is inferred from the options (CsvRecord); there is no type to claim.
   */
  csv<const O extends CsvSourceOptions = Record<never, never>>(
    pathOrGlob: string,
    options?: O,
  ): Dataset<CsvRecord<O>>;
  // ── whole-file sources (issue 13; records/whole-files.ts) ──
  /**
   * Spark's `wholeTextFiles`: one `[path, content]` record per file matching a path, folder or
   * glob (local files or `az://container/prefix`), the file's text decoded as UTF-8 (gzip files
   * decompressed); `path` is the local file's absolute path or the blob's `az://` address.
   * Files are never split: neighbouring files are packed into at least `minPartitions`
   * partitions when there are that many files (default min(defaultParallelism, 2)).
   */
  wholeTextFiles(pathOrGlob: string, minPartitions?: number): Dataset<[string, string]>;
  /**
   * Spark's `binaryFiles`: one `[path, bytes]` record per file, its bytes as stored (never
   * decompressed) in a Uint8Array; partitioned as `wholeTextFiles`. A record holds its whole
   * file in memory, as in Spark.
   */
  binaryFiles(pathOrGlob: string, minPartitions?: number): Dataset<[string, Uint8Array]>;
  // ── end of whole-file sources ──
  /**
   * The dataset an earlier `driver.run` of this application handed over with `ds.handle()`
   * (pass the handle in params). Its partitions are read from their blobs, and a dataset that was
   * partitioned by key keeps its partitioner: joined with a dataset partitioned the same way, it is
   * not shuffled again. The driver refuses a handle of another application or whose blobs are gone.
   */
  fromHandle<T>(handle: DatasetHandle<T>): Dataset<T>;
  /** A read-only value for tasks; read `.value` inside closures only. */
  broadcast<T>(value: T): Broadcast<T>;
  /** A named accumulator: `.add` in tasks, `.value` on the driver after the run. */
  accumulator<T>(name: string, initial: T, merge?: (a: T, b: T) => T): Accumulator<T>;
  /** Reads Parquet, CSV and JSON Lines files into DataFrames (Spark's spark.read). */
  readonly read: DataFrameReader;
  /** The job's SQL settings (`conf.set('spark.sql.shuffle.partitions', 8)`). */
  readonly conf: RuntimeConfig;
  /** A DataFrame of `rows` (objects or arrays) with `schema` (`'id INT, name STRING'`), in `numSlices` partitions. */
  createDataFrame(rows: readonly unknown[], schema: SchemaInput, numSlices?: number): DataFrame;
  /** Spark's `spark.sql`: a DataFrame of a SELECT query over the temp views this job defined (`df.createOrReplaceTempView('sales')`). */
  sql(query: string): DataFrame;
}

/** The JobContext implementation over a GraphBuilder. */
export class GraphJobContext implements JobContext {
  constructor(private readonly builder: GraphBuilder) {}

  get defaultParallelism(): number {
    return this.builder.defaultParallelism;
  }

  parallelize<T>(data: readonly T[], numSlices?: number): Dataset<T> {
    if (!Array.isArray(data)) throw new StratusError('CONFIG', 'parallelize: data must be an array');
    checkPartitionCount(numSlices, 'parallelize');
    const n = numSlices ?? this.builder.defaultParallelism;
    const id = this.builder.addNode({
      op: 'parallelize',
      parents: [],
      requestedPartitions: n,
      options: { numSlices: n, length: data.length },
      impl: { type: 'parallelize', data: [...data] },
    });
    return new Dataset<T>(this.builder, id);
  }

  private file<T>(
    op: string,
    format: 'text' | 'json-lines' | 'csv' | WholeFileFormat,
    uri: string,
    options: ParsedSourceOptions & { schema?: RecordSchema },
    csv?: CsvFormat,
  ): Dataset<T> {
    if (typeof uri !== 'string' || uri.length === 0)
      throw new StratusError('CONFIG', `${op}: path must be a string`);
    checkPartitionCount(options.minPartitions, op);
    const minPartitions = options.minPartitions ?? Math.min(this.builder.defaultParallelism, 2);
    const badRecords = options.badRecords ?? 'fail';
    if (badRecords !== 'fail' && badRecords !== 'skip')
      throw new ConfigError(`${op}(${uri}): badRecords must be 'fail' or 'skip', got ${String(badRecords)}`);
    const nodeOptions: Record<string, OptionValue> = { uri, minPartitions };
    if (csv) Object.assign(nodeOptions, csvFormatOptions(csv));
    if (options.badRecords !== undefined) nodeOptions.badRecords = badRecords;
    const schema = options.schema;
    if (schema !== undefined) {
      checkRecordSchema(schema, `${op}(${uri})`);
      // The schema object is code, like a closure: the node records its library, and every
      // executor's rebuild of the builder makes the same schema.
      nodeOptions.schema = recordSchemaVendor(schema);
    }
    let badRecordCounter: Accumulator<number> | undefined;
    if (badRecords === 'skip') {
      // Created with the node so it exists identically in the driver's and every executor's graph.
      let name = badRecordsAccumulatorName(uri);
      if (this.builder.accumulators.has(name)) name = `${name} (node ${this.builder.nodes.length})`;
      badRecordCounter = createAccumulator<number>(this.builder, name, 0);
    }
    const id = this.builder.addNode({
      op,
      parents: [],
      requestedPartitions: minPartitions,
      options: nodeOptions,
      impl: {
        type: 'file',
        format,
        uri,
        ...(csv ? { csv } : {}),
        ...(schema !== undefined ? { schema } : {}),
        badRecords,
        ...(badRecordCounter ? { badRecordCounter } : {}),
      },
    });
    return new Dataset<T>(this.builder, id);
  }

  textFile(pathOrGlob: string, options: FileSourceOptions = {}): Dataset<string> {
    return this.file('textFile', 'text', pathOrGlob, options);
  }

  jsonLines<const O extends JsonLinesSourceOptions = Record<never, never>>(
    pathOrGlob: string,
    options?: O,
  ): Dataset<JsonLinesRecord<O>> {
    return this.file('jsonLines', 'json-lines', pathOrGlob, options ?? {});
  }

  csv<const O extends CsvSourceOptions = Record<never, never>>(
    pathOrGlob: string,
    options?: O,
  ): Dataset<CsvRecord<O>> {
    const given: CsvSourceOptions = options ?? {};
    return this.file('csv', 'csv', pathOrGlob, given, csvFormatOf(pathOrGlob, given));
  }

  // ── whole-file sources (issue 13) ──
  wholeTextFiles(pathOrGlob: string, minPartitions?: number): Dataset<[string, string]> {
    return this.file('wholeTextFiles', 'whole-text', pathOrGlob, minPartitionsOf(minPartitions));
  }

  binaryFiles(pathOrGlob: string, minPartitions?: number): Dataset<[string, Uint8Array]> {
    return this.file('binaryFiles', 'binary', pathOrGlob, minPartitionsOf(minPartitions));
  }
  // ── end of whole-file sources ──

  fromHandle<T>(handle: DatasetHandle<T>): Dataset<T> {
    return new Dataset<T>(this.builder, addHandleSource(this.builder, handle));
  }

  broadcast<T>(value: T): Broadcast<T> {
    return createBroadcast(this.builder, value);
  }

  accumulator<T>(name: string, initial: T, merge?: (a: T, b: T) => T): Accumulator<T> {
    return createAccumulator(this.builder, name, initial, merge);
  }

  get read(): DataFrameReader {
    return sqlSession(this.builder).read;
  }

  get conf(): RuntimeConfig {
    return sqlSession(this.builder).conf;
  }

  createDataFrame(rows: readonly unknown[], schema: SchemaInput, numSlices?: number): DataFrame {
    return sqlSession(this.builder).createDataFrame(rows, schema, numSlices);
  }

  sql(query: string): DataFrame {
    return sqlSession(this.builder).sql(query);
  }
}
