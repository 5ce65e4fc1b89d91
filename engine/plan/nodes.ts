/**
 * The logical graph's nodes: one per dataset, numbered in construction order. A node has a
 * JSON-describable part (op, parents, requested partition count, options — what the
 * fingerprint hashes) and an implementation part holding the user's closures, which the
 * task runtime calls. Wide operations are `shuffled` nodes (one parent, one shuffle) or
 * `cogroup` nodes (one shuffle per parent), as Spark's ShuffledRDD and CoGroupedRDD.
 */

import type { CsvFormat } from '../records/csv.js';
import type { BadRecordPolicy } from '../records/record-formats.js';
import type { RecordSchema } from '../records/record-schema.js';
import type { WholeFileFormat } from '../records/whole-files.js';
import type { RelationalFragment } from '../sql/fragment.js';
import type { DatasetHandleData } from './handle-data.js';
import type { OptionValue } from './option-value.js';
import type { NodePersistence, StorageLevel } from './persistence.js';

/** Spark's Aggregator: how values of one key fold into a combiner. Combiners are owned and may be mutated. */
export interface Aggregator {
  createCombiner(value: unknown): unknown;
  mergeValue(combiner: unknown, value: unknown): unknown;
  mergeCombiners(a: unknown, b: unknown): unknown;
}

/** One shuffle dependency: the records of `parent` are redistributed by key into the child's partitions. */
export interface ShuffleDependency {
  /** Stable per graph: assigned in construction order, so a later job of the run can reuse the shuffle. */
  readonly shuffleId: number;
  /** The map side: the node whose partitions are written to the shuffle. */
  readonly parent: number;
  /** False for repartition: records are not pairs and are spread round-robin. */
  readonly keyed: boolean;
  /** Combine values per key before writing (reduceByKey & co.); the child's aggregator must be set. */
  readonly mapSideCombine: boolean;
}

/** A transformation of one batch of records, created per partition (so it may keep per-partition state). */
export type BatchTransform = (batch: unknown[]) => unknown[];

/**
 * Where a file source counts the bad records it skipped: the job's `Accumulator<number>` named for
 * the file. Declared here as the two members a plan node uses, so the plan does not import the
 * Dataset API's shared variables (which import the graph builder, which imports the plan).
 */
export interface BadRecordCounter {
  /** The accumulator's name, reported with the source node so the driver can read the count. */
  readonly name: string;
  /** Add skipped records to the count (inside a task: to the task's accumulator update). */
  add(count: number): void;
}

/** How a node computes its partitions. */
export type NodeImpl =
  | { readonly type: 'parallelize'; readonly data: readonly unknown[] }
  | {
      readonly type: 'file';
      /** Line formats (a record per line), or whole files (a record per file: wholeTextFiles, binaryFiles). */
      readonly format: 'text' | 'json-lines' | 'csv' | WholeFileFormat;
      readonly uri: string;
      /** The CSV format (format 'csv' only). */
      readonly csv?: CsvFormat;
      /** The source's schema (json-lines, csv): each record becomes its output, or is a bad record. */
      readonly schema?: RecordSchema;
      /** Bad records fail the task (default) or are skipped and counted in `badRecordCounter`. */
      readonly badRecords?: BadRecordPolicy;
      readonly badRecordCounter?: BadRecordCounter;
    }
  | {
      readonly type: 'narrow';
      /** The transform of partition `partition` of the node's `numPartitions`. */
      readonly open: (partition: number, numPartitions: number) => BatchTransform;
      /**
       * Keys stay where they were (mapValues, filter…): a hash-partitioned parent's partitioner
       * still holds, as Spark's `preservesPartitioning` (lookup scans one partition).
       */
      readonly preservesPartitioning?: boolean;
    }
  | {
      readonly type: 'mapPartitions';
      readonly fn: (records: unknown[], partition: number) => Iterable<unknown>;
    }
  | { readonly type: 'union' }
  | { readonly type: 'coalesce' }
  /**
   * Spark's CartesianRDD: narrow on both parents. Partition `i * n2 + j` pairs partition `i` of
   * parents[0] with partition `j` of parents[1] (n2 = parents[1]'s partition count).
   */
  | { readonly type: 'cartesian' }
  | {
      readonly type: 'shuffled';
      readonly dep: ShuffleDependency;
      /** 'direct': records keyed by their reduce partition (the Dataset ⇄ DataFrame bridge, partitioner.ts). */
      readonly partitioning: 'hash' | 'range' | 'direct';
      /** Reduce side: fold values per key (output one [key, combiner] per key). */
      readonly aggregator?: Aggregator;
      /** Reduce side: sort records by key (range partitioning), ascending or not. */
      readonly sort?: { readonly ascending: boolean };
    }
  /**
   * Spark's CoGroupedRDD. A parent already hash-partitioned as the cogroup (same partition count,
   * same hash partitioner) is read one-to-one, without a shuffle: its index into `parents` is in
   * `narrowParents`; `deps` holds the shuffle dependencies of the other parents, in parent order.
   */
  | {
      readonly type: 'cogroup';
      readonly deps: readonly ShuffleDependency[];
      readonly narrowParents?: readonly number[];
    }
  /**
   * A dataset an earlier `driver.run` of the application persisted and handed over as a
   * DatasetHandle (engine/dataset/handles.ts): always read from its blobs, never computed.
   */
  | { readonly type: 'handle'; readonly handle: DatasetHandleData }
  /** A DataFrame fragment (engine/sql): its tasks run it as one DuckDB query, not as closures. */
  | { readonly type: 'relational'; readonly fragment: RelationalFragment };

/** One node of the logical graph (one dataset). */
export interface GraphNode extends NodePersistence {
  readonly id: number;
  /** The Dataset method that made it (`map`, `reduceByKey`, `textFile`…), shown in explain output. */
  readonly op: string;
  readonly parents: readonly number[];
  /** The partition count asked for (numSlices, numPartitions, minPartitions), if any. */
  readonly requestedPartitions: number | undefined;
  /** JSON options describing the node (no closures). */
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly impl: NodeImpl;
  /** Set by `persist(level)` / `cache()` (persistence.ts). */
  storageLevel: StorageLevel | undefined;
  /** Set by `checkpoint()` (persistence.ts). */
  checkpoint: boolean;
  /** Where the user's code called the operation (`sales.ts:8`), when the stack says: a label, never fingerprinted. */
  readonly callSite?: string;
}

/** `reduceByKey (node 4)`: how errors and explain output name a node. */
export function nodeLabel(node: Pick<GraphNode, 'op' | 'id'>): string {
  return `${node.op} (node ${node.id})`;
}

/** The shuffle dependencies a node reads (empty for narrow nodes). */
export function shuffleDepsOf(node: GraphNode): readonly ShuffleDependency[] {
  if (node.impl.type === 'shuffled') return [node.impl.dep];
  if (node.impl.type === 'cogroup') return node.impl.deps;
  return [];
}

/** True when the node starts a new stage's reduce side (it reads shuffles). */
export function isShuffleNode(node: GraphNode): boolean {
  return node.impl.type === 'shuffled' || node.impl.type === 'cogroup';
}

/** True for a sort (range-partitioned) node whose bounds come from a sampling job. */
export function isSortNode(node: GraphNode): boolean {
  return node.impl.type === 'shuffled' && node.impl.partitioning === 'range';
}
