/**
 * Protocol v1: the queue messages between driver and executors.
 *
 * Every message is a JSON object (never a bare string or number: the Functions worker
 * JSON-parses any body it can) carrying `v`, base64-encoded on the wire because that is
 * the Functions host's default `messageEncoding`. Messages stay small: plans, map-output
 * tables, params and results travel as blobs named in the message.
 */
import { z } from 'zod';
import { ProtocolError } from './errors.js';

/** The protocol version every message carries; a different version is rejected (except in `task-rejected` events). */
export const PROTOCOL_VERSION = 1;

/** Azure Storage queue messages are at most 64 KiB; we stay well below (base64 included). */
export const MAX_MESSAGE_BYTES = 48 * 1024;

const appId = z.string().regex(/^[a-z0-9-]{3,48}$/, 'lowercase letters, digits and hyphens, 3–48 chars');
const nonNegInt = z.number().int().nonnegative();

/** A built-in task used by fabric tests and the throughput benchmark. */
export const NoopWorkSchema = z.object({
  kind: z.literal('noop'),
  /** Sleep this long (ms) before succeeding, to hold a slot. */
  sleepMs: nonNegInt.default(0),
  /** Spin the CPU this long (ms), to prove real parallelism across slots. */
  busyMs: nonNegInt.default(0),
  /** Fail while the queue's dequeueCount is at most this (0 = never, a large number = always). */
  failUntilDequeue: nonNegInt.default(0),
});

/** One task of an engine stage; everything large is in the stage blob. */
export const StageWorkSchema = z.object({
  kind: z.literal('stage'),
  /** sha256 of the job bundle in the code container. */
  codeHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Blob (in the data container) describing the stage: job params, plan node, inputs, output. */
  stageBlob: z.string().min(1),
  /**
   * sha256 of the stage descriptor blob's bytes: signed with the message, so the descriptor —
   * and the hashes of the blobs it names — cannot be changed without the executor noticing.
   * Executors with a signing key refuse stage work without it.
   */
  stageHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const TaskWorkSchema = z.discriminatedUnion('kind', [NoopWorkSchema, StageWorkSchema]);

/** Which attempt of which task a message or event is about; `attempt` is driver-assigned and every blob the task writes carries it. */
const taskAttempt = {
  appId,
  jobId: nonNegInt,
  stageId: nonNegInt,
  partition: nonNegInt,
  attempt: nonNegInt,
};

/** A task message: one partition of one stage, one attempt. */
export const TaskMessageSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('task'),
  ...taskAttempt,
  /** Queue on which the executor reports this task's events. */
  eventsQueue: z.string().min(3).max(63),
  /** Driver clock when the message was sent (ms since epoch), for scheduling-delay metrics. */
  sentAt: z.number(),
  work: TaskWorkSchema,
  /** HMAC-SHA256 (hex) over the canonical message without this field, when signing is on. */
  signature: z.string().optional(),
});

export const TaskMetricsSchema = z.object({
  durationMs: z.number().nonnegative(),
  recordsRead: nonNegInt.default(0),
  recordsWritten: nonNegInt.default(0),
  bytesRead: nonNegInt.default(0),
  bytesWritten: nonNegInt.default(0),
  shuffleReadBytes: nonNegInt.default(0),
  shuffleWriteBytes: nonNegInt.default(0),
  peakMemoryBytes: nonNegInt.default(0),
  spillCount: nonNegInt.default(0),
  /** Persisted partitions read from the executor's memory (a 'memory' block, or its copy of a cache blob). */
  cachedFromMemory: nonNegInt.default(0),
  /** Persisted partitions read from the executor's disk ('disk' level). */
  cachedFromDisk: nonNegInt.default(0),
  /** Partitions of cached, checkpointed or handle datasets read from their blob. */
  cachedFromBlob: nonNegInt.default(0),
  /** Partitions of persisted datasets this task computed and stored. */
  cachedComputed: nonNegInt.default(0),
  /** Bytes spilled to local temp storage: an RDD task's runs, a DataFrame task's DuckDB temp files at their peak. */
  spillBytes: nonNegInt.default(0),
});

export const TaskErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
  /** With code SHUFFLE_OUTPUT_MISSING: the shuffle whose map output could not be read. */
  shuffleId: z.number().int().nonnegative().optional(),
});

/**
 * A task's result: inline JSON when small, else a blob in the data container; for a save
 * task, its part file — an attempt blob (local targets), or the uncommitted blocks it staged
 * on the final part blob (az:// targets). Blocks travel as the writer's token and count (ids
 * are storage/block-writer's `blockIds(token, count)`), so the event's size does not grow
 * with the part's.
 */
export const TaskResultSchema = z.union([
  z.object({
    inline: z.unknown(),
    /** True when `inline` is tagged JSON (Dates, bigints, Maps… as `{"$date": …}`); plain JSON otherwise. */
    tagged: z.boolean().optional(),
  }),
  z.object({
    blob: z.string().min(1),
    bytes: nonNegInt,
    /** Save actions: records in the part file the blob holds. */
    records: nonNegInt.optional(),
    /** Results: the record codec the blob is written in (one record); absent means JSON. */
    codec: z.string().optional(),
  }),
  z.object({
    /**
     * DataFrame writes: the manifest blob (data container) listing the part files this execution
     * stored — attempt blobs, or uncommitted blocks on the final blobs of an az:// target.
     */
    manifest: z.string().min(1),
    files: nonNegInt,
    bytes: nonNegInt,
    records: nonNegInt,
  }),
  z.object({
    /** Save actions to az:// targets: the blocks this execution staged, uncommitted, on its part blob. */
    stagedBlocks: z.object({ token: z.string().regex(/^[0-9a-f]{16}$/), count: nonNegInt }),
    bytes: nonNegInt,
    records: nonNegInt,
  }),
]);

/** A partition of a cache()d dataset node that a task persisted to a blob. */
export const CachedPartitionSchema = z.object({
  nodeId: nonNegInt,
  partition: nonNegInt,
  blob: z.string().min(1),
  records: nonNegInt,
  bytes: nonNegInt,
});

const eventBase = {
  v: z.literal(PROTOCOL_VERSION),
  ...taskAttempt,
  /** Stable id of the executor (one Functions host instance). */
  executorId: z.string().min(1),
  /** Slot index inside the executor (0 … slots-1) the invocation ran in. */
  slot: nonNegInt,
  /** Executor clock (ms since epoch) when the event happened. */
  at: z.number(),
  /** The queue message's dequeue count as the trigger reported it. */
  dequeueCount: nonNegInt,
};

export const TaskStartedEventSchema = z.object({ ...eventBase, type: z.literal('task-started') });
export const TaskHeartbeatEventSchema = z.object({ ...eventBase, type: z.literal('task-heartbeat') });
export const TaskSucceededEventSchema = z.object({
  ...eventBase,
  type: z.literal('task-succeeded'),
  metrics: TaskMetricsSchema,
  /** For shuffle-map tasks: the byte size of each of the R segments in the map output blob. */
  segmentSizes: z.array(nonNegInt).optional(),
  /** For shuffle-map tasks: the name of the attempt's map output blob. */
  mapOutputBlob: z.string().optional(),
  result: TaskResultSchema.optional(),
  /** Accumulator updates made by this attempt (name → value), merged by the driver once per partition. */
  // Kept as parsed (z.record would drop a "__proto__" key, which JSON.parse makes an own property).
  accumulators: z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
      message: 'expected an object of accumulator updates',
    })
    .optional(),
  /** Partitions of cache()d nodes this attempt computed and persisted. */
  cachedPartitions: z.array(CachedPartitionSchema).optional(),
});
export const TaskFailedEventSchema = z.object({
  ...eventBase,
  type: z.literal('task-failed'),
  error: TaskErrorSchema,
  /**
   * False when retrying cannot help (the error's StratusError.retryable): the driver fails the
   * stage at once. Optional, so the events of executors that only sent `fatal` still parse.
   */
  retryable: z.boolean().optional(),
  /** `!retryable`, as executors before `retryable` sent it; still sent, for the drivers they serve. */
  fatal: z.boolean().default(false),
});

/** Why an executor refused a task message; drivers accept reasons they do not know yet. */
export type TaskRejectionReason = 'invalid' | 'unsigned' | 'bad-signature' | 'tampered-blob';

/**
 * An executor refused a task message without running any of its code: the message failed
 * validation (a wrong protocol version, a missing or malformed field) or its signature did
 * not verify. This shape is frozen across protocol versions and `v` is the executor's own
 * version, which a driver of any version accepts for this one event: a driver whose messages
 * an executor of another version cannot read then learns why at once.
 */
export const TaskRejectedEventSchema = z.object({
  /** The executor's protocol version (not necessarily the driver's). */
  v: z.number().int().positive(),
  type: z.literal('task-rejected'),
  ...taskAttempt,
  executorId: z.string().min(1),
  at: z.number(),
  dequeueCount: nonNegInt,
  /** A TaskRejectionReason; a plain string so that older drivers accept newer reasons. */
  reason: z.string().min(1),
  /** For `invalid`: the first field that failed validation (`v`, `work.kind`…). */
  field: z.string().optional(),
  /** What the executor found, e.g. `task message has protocol version 2, expected version 1`. */
  message: z.string(),
});

/**
 * The executor stopped a running attempt because the application lease said nobody needs it
 * (its partition won by another attempt, its stage ended, its job cancelled). The task thread
 * was terminated and the message settled as done, so it is not retried.
 */
export const TaskKilledEventSchema = z.object({
  ...eventBase,
  type: z.literal('task-killed'),
  /** Why, as the lease said ("another attempt of partition 0 succeeded"). */
  reason: z.string(),
  /** How long the attempt had run on the executor when it was stopped (ms). */
  runMs: z.number().nonnegative(),
});

/**
 * The executor's shutdown interrupted a running delivery of the attempt (sent best-effort, before
 * its invocation fails). Not the task's failure and not its end: the invocation fails without a
 * `task-failed` event, so the queue gives the same message to another executor — the same
 * attempt, the next delivery. The driver ends only this delivery (Spark's task lost with a
 * decommissioned executor, not counted against the task). Drivers older than this event drop it
 * as invalid and learn of the delivery's end from the next one.
 */
export const TaskInterruptedEventSchema = z.object({
  ...eventBase,
  type: z.literal('task-interrupted'),
  /** How it was stopped ("executor is shutting down", with "its thread was terminated" when it did not stop in time). */
  reason: z.string(),
  /** How long the delivery had run on the executor when it was stopped (ms). */
  runMs: z.number().nonnegative(),
});

/** An event an executor sends to the driver's events queue. */
export const ExecutorEventSchema = z.discriminatedUnion('type', [
  TaskStartedEventSchema,
  TaskHeartbeatEventSchema,
  TaskSucceededEventSchema,
  TaskFailedEventSchema,
  TaskRejectedEventSchema,
  TaskKilledEventSchema,
  TaskInterruptedEventSchema,
]);

export type NoopWork = z.infer<typeof NoopWorkSchema>;
export type StageWork = z.infer<typeof StageWorkSchema>;
export type TaskWork = z.infer<typeof TaskWorkSchema>;
export type TaskMessage = z.infer<typeof TaskMessageSchema>;
/** What a sender writes: defaults may be omitted. */
export type TaskMessageInput = z.input<typeof TaskMessageSchema>;
export type TaskMetrics = z.infer<typeof TaskMetricsSchema>;
export type TaskError = z.infer<typeof TaskErrorSchema>;
export type TaskResult = z.infer<typeof TaskResultSchema>;
export type CachedPartition = z.infer<typeof CachedPartitionSchema>;
export type ExecutorEvent = z.infer<typeof ExecutorEventSchema>;
export type ExecutorEventInput = z.input<typeof ExecutorEventSchema>;
export type TaskSucceededEvent = z.infer<typeof TaskSucceededEventSchema>;
export type TaskFailedEvent = z.infer<typeof TaskFailedEventSchema>;
export type TaskRejectedEvent = z.infer<typeof TaskRejectedEventSchema>;
export type TaskKilledEvent = z.infer<typeof TaskKilledEventSchema>;
export type TaskInterruptedEvent = z.infer<typeof TaskInterruptedEventSchema>;

/** Whether retrying a failed attempt can help: its `retryable`, else (an older executor's) not `fatal`. */
export function failureIsRetryable(event: Pick<TaskFailedEvent, 'retryable' | 'fatal'>): boolean {
  return event.retryable ?? !event.fatal;
}

/** A short id for one task attempt, used in blob names and logs: `j<job>-s<stage>-p<partition>-a<attempt>`. */
export function taskAttemptId(t: {
  jobId: number;
  stageId: number;
  partition: number;
  attempt: number;
}): string {
  return `j${t.jobId}-s${t.stageId}-p${t.partition}-a${t.attempt}`;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(message)'}: ${issue.message}`)
    .join('; ');
}

function firstPath(error: z.ZodError): string | undefined {
  const path = error.issues[0]?.path;
  return path && path.length > 0 ? path.join('.') : undefined;
}

/** `a string`, `an array`, `null`…: what a value that should be a message object is. */
function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** Messages are JSON objects, never bare values: the Functions worker JSON-parses any body it can. */
function requireObject(what: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(
      `${what} must be a JSON object, got ${describeKind(value)} (bare strings and numbers are not messages: the Functions worker JSON-parses every body it can)`,
    );
  }
}

function parseWith<S extends z.ZodType>(
  schema: S,
  what: string,
  value: unknown,
  anyVersion = false,
): z.infer<S> {
  requireObject(what, value);
  if (
    !anyVersion &&
    typeof value === 'object' &&
    value !== null &&
    'v' in value &&
    value.v !== PROTOCOL_VERSION
  ) {
    throw new ProtocolError(
      `${what} has protocol version ${JSON.stringify(value.v)}, expected version ${PROTOCOL_VERSION}`,
      { field: 'v' },
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const field = firstPath(parsed.error);
    throw new ProtocolError(`invalid ${what}: ${describeIssues(parsed.error)}`, field ? { field } : {});
  }
  return parsed.data;
}

/** Validate an already-decoded task message; throws ProtocolError naming the offending field. */
export function parseTaskMessage(value: unknown): TaskMessage {
  return parseWith(TaskMessageSchema, 'task message', value);
}

/**
 * Validate an already-decoded executor event; throws ProtocolError naming the offending field.
 * A `task-rejected` event is accepted whatever its version (see TaskRejectedEventSchema).
 */
export function parseExecutorEvent(value: unknown): ExecutorEvent {
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'task-rejected') {
    return parseWith(TaskRejectedEventSchema, 'task-rejected event', value, true);
  }
  return parseWith(ExecutorEventSchema, 'executor event', value);
}

/** Encode a message object as the wire text: base64 of its JSON. Throws ProtocolError for a non-object or beyond MAX_MESSAGE_BYTES. */
export function encodeWire(message: object): string {
  requireObject('queue message', message);
  const text = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
  if (text.length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError(
      `queue message of ${text.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit; large values must go to a blob`,
    );
  }
  return text;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode wire text (base64 JSON) to a value; throws ProtocolError when it is not base64 or not JSON. */
export function decodeWire(text: string): unknown {
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new ProtocolError('queue message is not valid base64');
  }
  const json = Buffer.from(text, 'base64').toString('utf8');
  try {
    return JSON.parse(json);
  } catch {
    throw new ProtocolError('queue message is base64 but not JSON');
  }
}

/** Build and validate a task message for sending; returns its wire text. */
export function encodeTaskMessage(message: TaskMessageInput): string {
  return encodeWire(parseTaskMessage(message));
}

/** Build and validate an executor event for sending; returns its wire text. */
export function encodeExecutorEvent(event: ExecutorEventInput): string {
  return encodeWire(parseExecutorEvent(event));
}
