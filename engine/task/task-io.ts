/**
 * TaskIO: everything a task needs from outside the engine, implemented by the executor
 * over blobs (and by the in-memory runner in tests). The engine never touches storage.
 */
import type { LocalStorageLevel } from '../plan/persistence.js';
import type { SourceNodeInfo } from '../plan/source-node.js';
import type { SpillStore } from '../shuffle/spill.js';

/**
 * Where a save task writes its part file: text appended in order, which the executor streams
 * to storage as it comes (the engine never holds a whole partition's lines).
 */
export interface SavedPartSink {
  /** Append UTF-8 text; resolves when the sink can take more (it applies back-pressure). */
  write(text: string): Promise<void>;
  /** Flush what is buffered; once it resolves, every byte written is stored where the executor put it. */
  close(): Promise<void>;
}

/** The I/O of one task attempt. */
export interface TaskIO {
  /**
   * The input partition `partition` of a file source (textFile / jsonLines / csv): either the
   * partition's raw bytes as Buffer chunks (lines are split by the engine, '\r\n' too),
   * each split preceded by a SourceSplitStart marker (file, offset, CSV columns) — see
   * storage/split-reader.ts — or its lines as strings. Parallelize sources never come here: the engine slices them.
   */
  readSource(source: SourceNodeInfo, partition: number): AsyncIterable<unknown>;
  /**
   * The segment for `reducePartition` of every winning map output of the shuffle, in any
   * order of map outputs; a segment may arrive in several chunks, but segments must not
   * interleave.
   */
  readShuffle(shuffleId: number, reducePartition: number): AsyncIterable<Buffer>;
  /**
   * A cached partition as the task that cached it returned it (cachedOutputs[].data, as
   * Buffer chunks) or as decoded records; undefined when it is not cached.
   */
  readCached(nodeId: number, partition: number): AsyncIterable<unknown> | undefined;
  /**
   * This executor's copy of a partition of a node persisted at 'memory' or 'disk' (as a task
   * returned it in cachedOutputs), or undefined when it has none — the partition was computed
   * on another executor, evicted, or this instance is new — and the task recomputes it. Absent:
   * never a copy.
   */
  readLocalPartition?(
    nodeId: number,
    partition: number,
    level: LocalStorageLevel,
  ): Promise<Uint8Array | undefined>;
  /**
   * The driver's value of broadcast `id` (executors download its blob once per thread, before
   * the task runs: this is called synchronously from user code). Never the value of the
   * executor's own rebuild of the graph.
   */
  broadcastValue(id: number): unknown;
  /**
   * The part file of save-action partition `partition`: opened once per save task, which
   * writes its lines (a CSV header first) and closes it. What the stored bytes become — an
   * attempt blob, or uncommitted blocks of the final part blob — is the executor's business.
   */
  openSavedPart(partition: number): SavedPartSink;
  /** Temporary storage for spilled sorted runs and map outputs. */
  spill: SpillStore;
  /** Memory the task's aggregations and sorts may hold before spilling (bytes, estimated). */
  memoryBudgetBytes: number;
  /**
   * Throws when the task must stop (its executor is shutting down), as Spark's
   * `TaskContext.killTaskIfInterrupted`; the pipeline calls it before every record batch a node
   * hands on, so a task stops at the next batch however CPU-bound its user functions are.
   * Absent: the task is never interrupted.
   */
  throwIfInterrupted?(): void;
}
