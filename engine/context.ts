/**
 * JobContext: what a job builder receives — Spark's SparkContext, limited to building a
 * graph. Sources only record nodes: the driver resolves and splits files, and the task
 * runtime slices parallelized arrays.
 */
import { Dataset } from './dataset.js';
import { StratusError } from './errors.js';
import { checkPartitionCount, type GraphBuilder } from './graph-builder.js';
import { type Accumulator, type Broadcast, createAccumulator, createBroadcast } from './shared-variables.js';

/** Options of file sources. */
export interface FileSourceOptions {
  /** At least this many partitions (Spark's default: min(defaultParallelism, 2)). */
  minPartitions?: number;
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
  jsonLines<T = unknown>(pathOrGlob: string, options?: FileSourceOptions): Dataset<T>;
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
    format: 'text' | 'json-lines',
    uri: string,
    options: FileSourceOptions,
  ): Dataset<T> {
    if (typeof uri !== 'string' || uri.length === 0)
      throw new StratusError('CONFIG', `${op}: path must be a string`);
    checkPartitionCount(options.minPartitions, op);
    const minPartitions = options.minPartitions ?? Math.min(this.builder.defaultParallelism, 2);
    const id = this.builder.addNode({
      op,
      parents: [],
      requestedPartitions: minPartitions,
      options: { uri, minPartitions },
      impl: { type: 'file', format, uri },
    });
    return new Dataset<T>(this.builder, id);
  }

  textFile(pathOrGlob: string, options: FileSourceOptions = {}): Dataset<string> {
    return this.file('textFile', 'text', pathOrGlob, options);
  }

  jsonLines<T = unknown>(pathOrGlob: string, options: FileSourceOptions = {}): Dataset<T> {
    return this.file('jsonLines', 'json-lines', pathOrGlob, options);
  }

  broadcast<T>(value: T): Broadcast<T> {
    return createBroadcast(this.builder, value);
  }

  accumulator<T>(name: string, initial: T, merge?: (a: T, b: T) => T): Accumulator<T> {
    return createAccumulator(this.builder, name, initial, merge);
  }
}
