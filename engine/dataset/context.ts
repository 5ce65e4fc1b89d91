/**
 * JobContext: what a job builder receives — Spark's SparkContext, limited to building a
 * graph. Sources only record nodes: the driver resolves and splits files, and the task
 * runtime slices parallelized arrays.
 */

import { ConfigError, StratusError } from '../../contract/errors.js';
import type { OptionValue } from '../plan/option-value.js';
import { type CsvColumnType, type CsvFormat, csvFormatOf, csvFormatOptions } from '../records/csv.js';
import { type BadRecordPolicy, badRecordsAccumulatorName } from '../records/record-formats.js';
import { Dataset } from './dataset.js';
import { checkPartitionCount, type GraphBuilder } from './graph-builder.js';
import { type Accumulator, type Broadcast, createAccumulator, createBroadcast } from './shared-variables.js';

/** Options of file sources. */
export interface FileSourceOptions {
  /** At least this many partitions (Spark's default: min(defaultParallelism, 2)). */
  minPartitions?: number;
}

/** Options of sources that parse records (jsonLines, csv). */
export interface ParsedSourceOptions extends FileSourceOptions {
  /**
   * A record that does not parse fails the task naming file, split, line and reason
   * ('fail', the default), or is dropped and counted in the accumulator
   * `badRecords:<uri>` ('skip'), which the run summary shows.
   */
  badRecords?: BadRecordPolicy;
}

/** Options of the CSV source (see engine/records/csv.ts and docs/partitioning.md). */
export interface CsvSourceOptions extends ParsedSourceOptions {
  /** The first line of each file names the columns (default false). */
  header?: boolean;
  /** Column names (they win over the header's); rows are objects when names are known, string arrays otherwise. */
  columns?: string[];
  /** Per-column conversion, or per-value inference ('' → null, numbers, true/false); default: strings. */
  types?: Record<string, CsvColumnType> | 'infer';
  /** Field delimiter (default ','). */
  delimiter?: string;
  /**
   * Quoted fields may contain line breaks (Spark's multiLine). Files are then read whole, one
   * partition each; without it such a record is a bad record.
   */
  multiLine?: boolean;
}

/** The builder's handle on the job: sources, shared variables, default parallelism. */
export interface JobContext {
  /** Partitions of wide operations that name none; set by whoever builds the graph (the driver: total slots). */
  readonly defaultParallelism: number;
  /** `data` cut into `numSlices` contiguous slices (default defaultParallelism); slices may be empty. */
  parallelize<T>(data: readonly T[], numSlices?: number): Dataset<T>;
  /** The lines of the files matching a path or glob (local files or blobs, resolved by the driver). */
  textFile(pathOrGlob: string, options?: FileSourceOptions): Dataset<string>;
  /** One JSON value per non-blank line of the matching files. */
  jsonLines<T = unknown>(pathOrGlob: string, options?: ParsedSourceOptions): Dataset<T>;
  /** One record per non-empty line of the matching CSV files: objects by column name, or string arrays. */
  csv<T = Record<string, unknown>>(pathOrGlob: string, options?: CsvSourceOptions): Dataset<T>;
  /** A read-only value for tasks; read `.value` inside closures only. */
  broadcast<T>(value: T): Broadcast<T>;
  /** A named accumulator: `.add` in tasks, `.value` on the driver after the run. */
  accumulator<T>(name: string, initial: T, merge?: (a: T, b: T) => T): Accumulator<T>;
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
    format: 'text' | 'json-lines' | 'csv',
    uri: string,
    options: ParsedSourceOptions,
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
        badRecords,
        ...(badRecordCounter ? { badRecordCounter } : {}),
      },
    });
    return new Dataset<T>(this.builder, id);
  }

  textFile(pathOrGlob: string, options: FileSourceOptions = {}): Dataset<string> {
    return this.file('textFile', 'text', pathOrGlob, options);
  }

  jsonLines<T = unknown>(pathOrGlob: string, options: ParsedSourceOptions = {}): Dataset<T> {
    return this.file('jsonLines', 'json-lines', pathOrGlob, options);
  }

  csv<T = Record<string, unknown>>(pathOrGlob: string, options: CsvSourceOptions = {}): Dataset<T> {
    return this.file('csv', 'csv', pathOrGlob, options, csvFormatOf(pathOrGlob, options));
  }

  broadcast<T>(value: T): Broadcast<T> {
    return createBroadcast(this.builder, value);
  }

  accumulator<T>(name: string, initial: T, merge?: (a: T, b: T) => T): Accumulator<T> {
    return createAccumulator(this.builder, name, initial, merge);
  }
}
