/**
 * What the run summary says (RunSummaryBuilder builds it, run-summary-text.ts prints it,
 * `stratus ui` shows it): the shapes of an application's jobs, stages, task attempts and
 * executors, and Spark's quantiles over task durations.
 */
import { type TaskRunMetrics, zeroTaskMetrics } from '../../engine/task/pipeline.js';
import type { CostEstimate } from './cost-model.js';
import type { RunTaskMetrics, SkipReason } from './run-events.js';

type Outcome = 'succeeded' | 'failed' | 'cancelled';
type AttemptStatus = 'running' | 'succeeded' | 'failed' | 'ignored' | 'lost' | 'killed';

/** One task attempt as the events tell it. */
export interface TaskAttemptRecord {
  jobId: number;
  stageId: number;
  partition: number;
  /** Its number within the partition: each delivery of a task message is an attempt of its own. */
  attempt: number;
  /** The attempt its task message carries, and which delivery of that message it was (newer logs). */
  messageAttempt?: number;
  delivery?: number;
  executorId: string;
  slot: number;
  launchedAt: number;
  /** When it started on its executor (undefined when it was never seen starting). */
  startedAt?: number;
  endedAt?: number;
  status: AttemptStatus;
  speculative: boolean;
  /** Run time: the executor's measure when reported, else end − start. */
  durationMs?: number;
  metrics?: RunTaskMetrics;
  /** Why a failed attempt failed, with the user's stack when the executor sent it. */
  error?: { name: string; message: string; stack?: string };
  /** Why a killed attempt was killed. */
  reason?: string;
}

/** Min, 25th percentile, median, 75th percentile and max, as in Spark's stage page. */
export interface Quantiles {
  min: number;
  p25: number;
  median: number;
  p75: number;
  max: number;
}

/**
 * Spark's quantiles (its `Distribution`): the value at index ⌊q·(n−1)⌋ of the sorted values,
 * so every figure is one that occurred. Undefined for no values.
 */
export function quantiles(values: readonly number[]): Quantiles | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
  return { min: at(0), p25: at(0.25), median: at(0.5), p75: at(0.75), max: at(1) };
}

/** One stage: submitted (run) or skipped because an earlier job computed its shuffle. */
/** Task attempts by how they ended (`speculative`: launched as speculative copies). */
export interface AttemptCounts {
  attempts: number;
  succeeded: number;
  failed: number;
  ignored: number;
  lost: number;
  killed: number;
  speculative: number;
}

function noAttempts(): AttemptCounts {
  return { attempts: 0, succeeded: 0, failed: 0, ignored: 0, lost: 0, killed: 0, speculative: 0 };
}

/**
 * Where the winning attempts got the partitions of persisted datasets (Spark's storage tab and
 * "cached" marks): the executor's memory (a 'memory' block or its copy of a cache blob), its
 * disk, a cache/checkpoint/handle blob, or computed (and stored) by the task.
 */
export interface CacheSourceCounts {
  cachedFromMemory: number;
  cachedFromDisk: number;
  cachedFromBlob: number;
  cachedComputed: number;
}

/** All four counts at 0. */
export function noCacheSources(): CacheSourceCounts {
  return { cachedFromMemory: 0, cachedFromDisk: 0, cachedFromBlob: 0, cachedComputed: 0 };
}

export interface StageSummary extends AttemptCounts, TaskRunMetrics, CacheSourceCounts {
  stageId: number;
  jobId: number;
  kind?: 'shuffle-map' | 'result';
  name?: string;
  parentStageIds: number[];
  shuffleId?: number;
  skipped: boolean;
  /** Why it was skipped (from job-start; absent when it ran, or in logs that predate it). */
  skipReason?: SkipReason;
  status: 'pending' | 'running' | 'skipped' | Outcome;
  /** Tasks run: its partitions, 0 for a skipped stage. */
  numTasks: number;
  /** Its partitions, skipped stages included (0 when a log predates stage infos in job-start). */
  partitions: number;
  submittedAt?: number;
  completedAt?: number;
  durationMs?: number;
  /** Durations of the winning attempts (ms). */
  taskTime?: Quantiles;
  /** max / median of the winning attempts' durations; 1 means no skew. */
  skew?: number;
  /** Why a failed or cancelled stage ended (`name: message`), and the user's stack when known. */
  error?: string;
  errorStack?: string;
}

/** One job (an action, or a hidden job the engine ran on its own). */
export interface JobSummary {
  jobId: number;
  action: string;
  /** Where the module called the action (`wordcount.ts:12`); absent for hidden jobs. */
  callSite?: string;
  actionName: string;
  hidden: boolean;
  reason?: string;
  status: 'running' | Outcome;
  startedAt: number;
  endedAt?: number;
  durationMs?: number;
  stageIds: number[];
  skippedStageIds: number[];
  stagesRun: number;
  /** Tasks of the job's stages that ran (= their partitions). */
  tasks: number;
  plan?: string;
  /** Why a failed or cancelled job ended (`name: message`), and the user's stack when known. */
  error?: string;
  errorStack?: string;
  /** The `driver.run` it belongs to and that run's job module (logs that predate them lack both). */
  run?: number;
  module?: string;
  /** The run's accumulator values after the job (its job-end), by name. */
  accumulators?: Record<string, unknown>;
}

/** The accumulators of one `driver.run`, as its last job reported them. */
export interface RunAccumulators {
  /** The run (undefined in logs that predate run numbers: then one entry per job reporting them). */
  run?: number;
  module?: string;
  /** By name; `badRecords:<uri>` counts the bad records a source skipped. */
  values: Record<string, unknown>;
}

/** What one executor did. */
export interface ExecutorSummary {
  executorId: string;
  /** Distinct slots seen running a task. */
  slots: number[];
  attempts: number;
  succeeded: number;
  failed: number;
  firstSeenAt: number;
  lastSeenAt: number;
  /** Time with at least one task running (ms): what Flex Consumption bills as active. */
  activeMs: number;
}

/** Everything the summary says about one application. */
export interface RunSummary {
  appId: string;
  name: string;
  mode?: string;
  status: 'running' | Outcome;
  /** Why a failed or cancelled application ended (`name: message`; its app-end), and the stack when known. */
  error?: string;
  errorStack?: string;
  startedAt?: number;
  endedAt?: number;
  wallTimeMs: number;
  plannedSlots?: number;
  plannedExecutors?: number;
  slotsPerExecutor?: number;
  defaultParallelism?: number;
  jobs: JobSummary[];
  stages: StageSummary[];
  executors: ExecutorSummary[];
  totals: AttemptCounts & {
    jobs: number;
    hiddenJobs: number;
    stagesRun: number;
    stagesSkipped: number;
    /** Tasks of stages that ran: the partitions computed. */
    tasks: number;
    executorsSeen: number;
    /** Distinct (executor, slot) pairs that ran a task. */
    slotsSeen: number;
    recordsRead: number;
    recordsWritten: number;
    shuffleReadBytes: number;
    shuffleWriteBytes: number;
    /** Spills of the winning attempts (RDD runs, DuckDB temp files) and their bytes. */
    spillCount: number;
    spillBytes: number;
  } & CacheSourceCounts;
  /** Accumulator values per run, bad-record counts included (runs without accumulators omitted). */
  accumulators: RunAccumulators[];
  notices: { at: number; level: string; message: string }[];
  cost: CostEstimate;
}

/** A stage before any of its events but its id and job: nothing run, nothing counted. */
export function emptyStage(stageId: number, jobId: number): StageSummary {
  return {
    stageId,
    jobId,
    parentStageIds: [],
    skipped: false,
    status: 'pending',
    numTasks: 0,
    partitions: 0,
    ...noAttempts(),
    ...zeroTaskMetrics(),
    ...noCacheSources(),
  };
}
