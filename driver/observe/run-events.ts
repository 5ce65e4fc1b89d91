/**
 * Run events: what the driver's scheduler reports as an application runs — one event per
 * application, job, stage and task-attempt transition. They feed the console progress,
 * the event log (JSON lines in `stratus-logs`), the run summary and `stratus ui`, the way
 * Spark's listener bus feeds its UI and event log. The schema is the event log's format:
 * a log written by one version must stay readable, so fields are only ever added.
 */
import { z } from 'zod';
import { coerceError, StratusError } from '../../contract/errors.js';
import { redactDeep, warnRedacted } from '../../contract/redaction.js';

/** Version of the event log format, in every `app-start` event. */
export const EVENT_LOG_VERSION = 1;

const int = z.number().int().nonnegative();

/** Per-task figures as executors report them (see TaskMetricsSchema in contract/protocol.ts). */
export const RunTaskMetricsSchema = z.object({
  durationMs: z.number().nonnegative(),
  recordsRead: int,
  recordsWritten: int,
  bytesRead: int,
  bytesWritten: int,
  shuffleReadBytes: int,
  shuffleWriteBytes: int,
  peakMemoryBytes: int,
  spillCount: int,
  /** Where persisted partitions came from (absent in logs written before these were reported). */
  cachedFromMemory: int.optional(),
  cachedFromDisk: int.optional(),
  cachedFromBlob: int.optional(),
  cachedComputed: int.optional(),
  /** Bytes spilled to temp storage (absent in logs written before it was added: 0). */
  spillBytes: int.default(0),
});

const ErrorInfoSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
});

export const AppStartEventSchema = z.object({
  type: z.literal('app-start'),
  at: z.number(),
  logVersion: z.literal(EVENT_LOG_VERSION),
  appId: z.string(),
  /** What the application runs (the job module's file name, or the driver script's). */
  name: z.string(),
  /** `local` (embedded fabric), `connect` (a running `stratus local` or a connection string), `azure`. */
  mode: z.enum(['local', 'connect', 'azure']),
  taskQueue: z.string(),
  /** Slots the driver plans for (default parallelism): executors × slots per executor. */
  totalSlots: int,
  executors: int.optional(),
  slotsPerExecutor: int.optional(),
  defaultParallelism: int,
  /** Memory of each executor instance (MB) when the deployment says (STRATUS_INSTANCE_MEMORY_MB): the cost's price basis. */
  instanceMemoryMb: int.optional(),
});

export const AppEndEventSchema = z.object({
  type: z.literal('app-end'),
  at: z.number(),
  appId: z.string(),
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  /**
   * Why a failed or cancelled application ended: the error its run (or driver script) failed
   * with — bad params, a builder that returned no action, a job's failure — with the user's stack.
   */
  error: ErrorInfoSchema.optional(),
});

/**
 * A stage as its job plans it (Spark's StageInfo in JobStart): known for every stage of the
 * job when it starts, skipped ones included, so their size and place in the DAG are logged.
 */
export const StageInfoSchema = z.object({
  stageId: int,
  kind: z.enum(['shuffle-map', 'result']),
  /** The operators it pipelines, as `stage-submitted` names them. */
  name: z.string(),
  /** Its partitions: the tasks it runs (a skipped stage would have run this many). */
  numPartitions: int,
  parentStageIds: z.array(int),
  /** The shuffle a shuffle-map stage writes. */
  shuffleId: int.optional(),
  /**
   * Why a stage of skippedStageIds does not run: its shuffle output exists (an earlier job wrote
   * it), or it is in the lineage above a dataset read from blobs (cache() / persist('blob')).
   * Absent for stages that run, and in logs written before it was added.
   */
  skipReason: z.enum(['shuffle-output-exists', 'above-cached-dataset']).optional(),
});

/** Why a skipped stage does not run (StageInfo.skipReason). */
export type SkipReason = NonNullable<z.infer<typeof StageInfoSchema>['skipReason']>;

export const JobStartEventSchema = z.object({
  type: z.literal('job-start'),
  at: z.number(),
  appId: z.string(),
  jobId: int,
  /** The action that triggered the job: `collect`, `count`, `saveAsTextFile`… */
  action: z.string(),
  /** Where the job module called the action (`wordcount.ts:12`), as Spark names jobs; absent for hidden jobs. */
  callSite: z.string().optional(),
  /** The action's name in the job module's result object (`result` for a single action). */
  actionName: z.string(),
  /** True for jobs the engine runs on its own, such as the sampling job of a sort. */
  hidden: z.boolean(),
  /** Why a hidden job runs ("sampling for sortBy at node 7"). */
  reason: z.string().optional(),
  /**
   * Every stage of the job, parents first, including skipped ones: those whose shuffle output
   * exists and those above a cached dataset (the reason is in `stages`).
   */
  stageIds: z.array(int),
  skippedStageIds: z.array(int),
  /** Every stage of the job, as stageIds orders them (absent in logs written before it was added). */
  stages: z.array(StageInfoSchema).optional(),
  /** `describePlan` text of the job. */
  plan: z.string().optional(),
  /** Which `driver.run` of the application the job belongs to (0-based; a driver script makes several). */
  run: int.optional(),
  /** File name of the job module that run executes. */
  module: z.string().optional(),
});

export const JobEndEventSchema = z.object({
  type: z.literal('job-end'),
  at: z.number(),
  appId: z.string(),
  jobId: int,
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  error: ErrorInfoSchema.optional(),
  /**
   * Values of the run's accumulators after the job (Spark's accumulables), by name; counts of
   * bad records skipped by a source with `badRecords: 'skip'` are `badRecords:<uri>`. Absent
   * when the job module defines none.
   */
  accumulators: z.record(z.string(), z.unknown()).optional(),
});

export const StageSubmittedEventSchema = z.object({
  type: z.literal('stage-submitted'),
  at: z.number(),
  appId: z.string(),
  jobId: int,
  stageId: int,
  kind: z.enum(['shuffle-map', 'result']),
  /** A label for the stage: the operators it pipelines (e.g. `textFile → flatMap → map → reduceByKey`). */
  name: z.string(),
  numTasks: int,
  parentStageIds: z.array(int),
  /** The shuffle this stage writes (shuffle-map stages). */
  shuffleId: int.optional(),
});

export const StageCompletedEventSchema = z.object({
  type: z.literal('stage-completed'),
  at: z.number(),
  appId: z.string(),
  jobId: int,
  stageId: int,
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  error: ErrorInfoSchema.optional(),
});

export const TaskStartEventSchema = z.object({
  type: z.literal('task-start'),
  at: z.number(),
  appId: z.string(),
  jobId: int,
  stageId: int,
  partition: int,
  /**
   * The attempt's number within its partition: every delivery of a task message is its own
   * attempt (the queue redelivers a failed message), numbered 0, 1, 2… in the order seen.
   */
  attempt: int,
  /** The attempt the task message carries (the driver's: a relaunch or a speculative copy is a new one). */
  messageAttempt: int.optional(),
  /** The queue's dequeue count of this delivery of the message (1 on the first). */
  delivery: int.optional(),
  executorId: z.string(),
  slot: int,
  /** When the driver enqueued this attempt (driver clock); `at - launchedAt` is the scheduling delay. */
  launchedAt: z.number(),
  speculative: z.boolean().default(false),
});

export const TaskEndEventSchema = z.object({
  type: z.literal('task-end'),
  at: z.number(),
  appId: z.string(),
  jobId: int,
  stageId: int,
  partition: int,
  /**
   * The attempt's number within its partition: every delivery of a task message is its own
   * attempt (the queue redelivers a failed message), numbered 0, 1, 2… in the order seen.
   */
  attempt: int,
  /** The attempt the task message carries (the driver's: a relaunch or a speculative copy is a new one). */
  messageAttempt: int.optional(),
  /** The queue's dequeue count of this delivery of the message (1 on the first). */
  delivery: int.optional(),
  executorId: z.string(),
  slot: int,
  launchedAt: z.number(),
  /** Executor clock when the attempt started running (its `task-started`), if known. */
  startedAt: z.number().optional(),
  /**
   * `succeeded`: the winning attempt of its partition. `failed`: threw. `ignored`: a late or
   * duplicate success of a partition that already had one. `lost`: its executor went silent.
   * `killed`: the driver stopped waiting for it — another attempt of its partition succeeded
   * (a speculative loser), or its stage or job ended first (failed, cancelled, the application
   * closing); see `reason`.
   */
  status: z.enum(['succeeded', 'failed', 'ignored', 'lost', 'killed']),
  /** Why a `killed` attempt was killed ("another attempt of partition 0 succeeded (speculative loser)"). */
  reason: z.string().optional(),
  speculative: z.boolean().default(false),
  metrics: RunTaskMetricsSchema.optional(),
  error: ErrorInfoSchema.optional(),
});

/** Anything else worth a line in the log (executor replaced, poison message noticed…). */
export const NoticeEventSchema = z.object({
  type: z.literal('notice'),
  at: z.number(),
  appId: z.string(),
  level: z.enum(['info', 'warn', 'error']),
  message: z.string(),
});

/** Every run event, by `type`: the schema of one line of the event log (validate a log you read with it). */
export const RunEventSchema = z.discriminatedUnion('type', [
  AppStartEventSchema,
  AppEndEventSchema,
  JobStartEventSchema,
  JobEndEventSchema,
  StageSubmittedEventSchema,
  StageCompletedEventSchema,
  TaskStartEventSchema,
  TaskEndEventSchema,
  NoticeEventSchema,
]);

/** One run event: application, job, stage and task-attempt transitions, and notices. */
export type RunEvent = z.input<typeof RunEventSchema>;
export type RunTaskMetrics = z.infer<typeof RunTaskMetricsSchema>;
/** An error in a run event: name, message, stack. */
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;
export type AppStartEvent = z.input<typeof AppStartEventSchema>;
export type JobStartEvent = z.input<typeof JobStartEventSchema>;
export type StageSubmittedEvent = z.input<typeof StageSubmittedEventSchema>;
export type StageInfo = z.input<typeof StageInfoSchema>;
export type TaskEndEvent = z.input<typeof TaskEndEventSchema>;
export type NoticeEvent = z.input<typeof NoticeEventSchema>;

/** A failure as run events carry it: name, `code: message`, and the user's stack when the error has one. */
export function errorInfoOf(error: unknown, options: { ownStack?: boolean } = {}): ErrorInfo {
  const e = coerceError(error);
  const userStack = e instanceof StratusError ? e.context.userStack : undefined;
  const stack = userStack ?? (options.ownStack ? e.stack : undefined);
  return { name: e.name, message: e.message, ...(stack ? { stack } : {}) };
}

/** A notice stamped with the driver's clock now, for the log and the UI. */
export function noticeEvent(appId: string, level: NoticeEvent['level'], message: string): NoticeEvent {
  return { type: 'notice', at: Date.now(), appId, level, message };
}

/** Something that follows a run: progress bar, event log writer, summary builder, live UI. */
export interface RunListener {
  /** Called with each event, in order; must not block (a listener that throws is reported and skipped). */
  onEvent(event: RunEvent): void;
  /** Called once when the application ends, after `app-end`; flush and release resources. */
  close?(): Promise<void>;
}

/**
 * Fan one stream of events out to several listeners; a listener that throws is reported, not
 * fatal. Every event is redacted here, once, so no listener — the event log and its local copy,
 * progress, the summary — ever sees a secret (a user's error message quoting a key, a SAS URL).
 */
export class RunEventBus implements RunListener {
  private readonly listeners: RunListener[] = [];

  add(listener: RunListener): void {
    this.listeners.push(listener);
  }

  onEvent(event: RunEvent): void {
    const safe = redactDeep(event);
    for (const l of this.listeners) {
      try {
        l.onEvent(safe);
      } catch (error) {
        warnRedacted(`stratus: a run listener failed on ${event.type}: ${(error as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close?.()));
  }
}
