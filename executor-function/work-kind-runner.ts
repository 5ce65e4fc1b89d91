/**
 * The contract one work kind implements: the TaskContext a task thread hands it, the TaskOutcome
 * it returns and the WorkKindRunner signature. Kept apart from the registry in work-kinds.ts,
 * which imports every kind lazily, so a kind (noop-task.ts, stage-task.ts) depends only on this
 * contract and never on the registry that loads it.
 */
import type { TaskExecution } from '../contract/names.js';
import type {
  CachedPartition,
  TaskMessage,
  TaskMetrics,
  TaskResult,
  TaskWork,
} from '../contract/protocol.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { ExecutorBlocks } from './thread-blocks.js';

/** Everything a work kind may use while it runs one task attempt, inside a task thread. */
export interface TaskContext {
  /** The validated task message. */
  readonly message: TaskMessage;
  /** `j<job>-s<stage>-p<partition>-a<attempt>`, for logs. */
  readonly attemptId: string;
  /** This execution of the attempt: attempt, delivery count and a nonce no other execution has. */
  readonly execution: TaskExecution;
  /**
   * `<attemptId>-d<dequeueCount>-<nonce>`: unique to this execution, so every blob it writes
   * is named with it (two deliveries of one message may both have dequeueCount 1).
   */
  readonly executionId: string;
  /** The executor (Functions host instance) running the task. */
  readonly executorId: string;
  /** The slot index (0 … slots-1) the invocation holds. */
  readonly slot: number;
  /** The queue message's dequeue count (1 on first delivery). */
  readonly dequeueCount: number;
  /** Blob access for the task, built on first use from the `AzureWebJobsStorage` setting. */
  readonly blobs: BlobStore;
  /** Aborted when the executor is shutting down and the task should stop early. */
  readonly signal: AbortSignal;
  /**
   * Throw (TaskInterruptedError) when the task must stop, as Spark's
   * `TaskContext.killTaskIfInterrupted`. Unlike `signal`, which aborts only when the task thread
   * next turns its event loop, this sees the executor's shutdown at once: call it between units
   * of CPU-bound work (the stage pipeline does, between record batches).
   */
  throwIfInterrupted(): void;
  /** A directory private to this execution, removed when the task ends (spills, downloads). */
  readonly tempDir: string;
  /** This executor's persisted partitions ('memory' / 'disk' storage levels); kept only if the task succeeds. */
  readonly blocks: ExecutorBlocks;
  /**
   * Write a diagnostic line to the invocation's log (InvocationContext.log, so Application
   * Insights on Azure; the local host prints it), prefixed with the executor and task ids.
   */
  log(line: string): void;
}

/**
 * What a work kind returns; the fields map one-to-one onto TaskSucceededEventSchema. The runner
 * fills `metrics.durationMs` when the kind leaves it out and applies the schema's defaults.
 * Everything must survive structured clone (it crosses from the task thread).
 */
export interface TaskOutcome {
  metrics: Partial<TaskMetrics>;
  /** Shuffle-map tasks: the byte size of each of the R segments of the map output blob. */
  segmentSizes?: number[];
  /** Shuffle-map tasks: the attempt's map output blob name. */
  mapOutputBlob?: string;
  /** Result tasks: the result, inline when small, else a blob. */
  result?: TaskResult;
  /** Accumulator updates made by this attempt (name → value). */
  accumulators?: Record<string, unknown>;
  /** Partitions of persisted ('blob') or checkpointed nodes the task wrote to blobs. */
  cachedPartitions?: CachedPartition[];
}

/** Runs one task of one work kind. Throw to fail the attempt (NonRetryableTaskError when retrying cannot help). */
export type WorkKindRunner<W extends TaskWork = TaskWork> = (
  work: W,
  context: TaskContext,
) => Promise<TaskOutcome>;
