/**
 * A no-op run over the fabric: one stage of `tasks` noop tasks, enqueued on the task queue and
 * followed to completion on the application's events queue. It proves the whole path — driver →
 * task queue → executors → events queue — and measures throughput and scheduling delay without
 * any engine work. `stratus noop` and `npm run demo` print its summary.
 */
import { randomBytes } from 'node:crypto';
import { JobFailedError } from '../../contract/errors.js';
import { DEFAULT_TASK_QUEUE, eventsQueueName } from '../../contract/names.js';
import { type ExecutorEvent, encodeTaskMessage, failureIsRetryable } from '../../contract/protocol.js';
import { connectStorage } from '../../storage/connection.js';
import { StorageQueue } from '../../storage/queues.js';
import { EventReceiver } from '../control/event-receiver.js';
import { type LocalFabric, startLocalFabric } from '../fabric/local-fabric.js';

/** Options for `runNoop`. */
export interface NoopRunOptions {
  /** Number of noop tasks (one partition each). */
  tasks: number;
  /** Executors and slots of the local fabric started for the run (default 2 × 4; unused with `connectionString`). */
  executors?: number;
  slots?: number;
  /** How long each task holds its slot (ms). */
  sleepMs?: number;
  /** Run against this storage account's executors instead of starting a local fabric. */
  connectionString?: string;
  /** Task queue; default `stratus-tasks`. */
  queue?: string;
  /** Give up when not every task succeeded within this many ms of the first send; default 120 000. */
  timeoutMs?: number;
  /** Abort the run (Ctrl-C): it rejects, and the fabric it started is stopped first. */
  signal?: AbortSignal;
  /** Concurrent queue sends while enqueuing; default 16. */
  sendConcurrency?: number;
  /** Extra environment for the local executor hosts. */
  hostEnv?: Record<string, string>;
  /** Status lines (fabric start, replacements); default stderr. */
  log?: (line: string) => void;
}

/** What a noop run measured. */
export interface NoopRunSummary {
  tasks: number;
  succeeded: number;
  /** Ids of the executors that ran at least one task. */
  executorsSeen: string[];
  /** Slots of the fabric (executors × slots), or observed slots when running against a given account. */
  slots: number;
  /** From the first send to the last success (ms). */
  wallMs: number;
  tasksPerSecond: number;
  /** Time from a task's send to its start on an executor (ms): queue wait included. */
  queueDelayMs: { p50: number; p99: number };
  /**
   * Spark's scheduler delay: how long a task waited while a slot was free for it, i.e. its start
   * minus the later of its send and the end of the previous task on the slot it ran on (ms).
   */
  schedulingDelayMs: { p50: number; p99: number };
  /** Failed attempts that were retried. */
  failedAttempts: number;
}

export { quantile } from '../scheduler/stats.js';

import { quantile } from '../scheduler/stats.js';

/** Run `tasks` noop tasks to completion and report; throws JobFailedError on a non-retryable failure or timeout. */
export async function runNoop(options: NoopRunOptions): Promise<NoopRunSummary> {
  const queueName = options.queue ?? DEFAULT_TASK_QUEUE;
  let fabric: LocalFabric | undefined;
  if (options.connectionString === undefined) {
    fabric = await startLocalFabric({
      executors: options.executors ?? 2,
      slots: options.slots ?? 4,
      queue: queueName,
      ...(options.hostEnv !== undefined ? { hostEnv: options.hostEnv } : {}),
      ...(options.log !== undefined ? { log: options.log } : {}),
    });
  }
  try {
    const connectionString = options.connectionString ?? fabric!.connectionString;
    return await runStage(connectionString, queueName, options, fabric?.totalSlots);
  } finally {
    await fabric?.stop();
  }
}

async function runStage(
  connectionString: string,
  queueName: string,
  options: NoopRunOptions,
  fabricSlots: number | undefined,
): Promise<NoopRunSummary> {
  const storage = connectStorage({ connectionString });
  const appId = `noop-${randomBytes(6).toString('hex')}`;
  const tasks = new StorageQueue(storage, queueName);
  const events = new StorageQueue(storage, eventsQueueName(appId));
  await Promise.all([tasks.ensure(), events.ensure()]);

  const sentAt = new Map<number, number>();
  const delays: number[] = [];
  const slotTimeline: SlotEvent[] = [];
  const succeeded = new Set<number>();
  const slotsSeen = new Map<string, number>();
  let failedAttempts = 0;
  let settle: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  done.catch(() => undefined); // awaited below; a failure during enqueue must not go unhandled
  const onEvent = (event: ExecutorEvent) => {
    if (event.appId !== appId) return;
    if (event.type === 'task-rejected') {
      settle(
        new JobFailedError(`an executor rejected a noop task: ${event.reason}: ${event.message}`, { appId }),
      );
      return;
    }
    slotsSeen.set(event.executorId, Math.max(slotsSeen.get(event.executorId) ?? 0, event.slot + 1));
    const slot = `${event.executorId}/${event.slot}`;
    if (event.type === 'task-started' || event.type === 'task-succeeded' || event.type === 'task-failed') {
      slotTimeline.push({
        slot,
        at: event.at,
        partition: event.partition,
        start: event.type === 'task-started',
      });
    }
    if (event.type === 'task-started' && event.dequeueCount === 1) {
      delays.push(event.at - (sentAt.get(event.partition) ?? event.at));
    } else if (event.type === 'task-succeeded') {
      succeeded.add(event.partition);
      if (succeeded.size === options.tasks) settle();
    } else if (event.type === 'task-failed') {
      failedAttempts++;
      if (!failureIsRetryable(event))
        settle(
          new JobFailedError(`noop task failed: ${event.error.message}`, {
            appId,
            partition: event.partition,
          }),
        );
    }
  };
  const receiver = new EventReceiver(events, onEvent);
  receiver.start();
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  // Stops the senders too when the run ends early (timeout, abort, a non-retryable failure).
  const stopSending = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const progress = `${succeeded.size}/${options.tasks} tasks succeeded`;
      reject(new JobFailedError(`noop run timed out after ${timeoutMs} ms: ${progress}`, { appId }));
    }, timeoutMs);
    const onAbort = () => reject(new JobFailedError('noop run aborted', { appId }));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  const enqueued = enqueue(tasks, appId, events.name, options, sentAt, stopSending.signal).then(() => {
    receiver.poke();
    if (options.tasks === 0) settle();
  });
  try {
    await Promise.race([Promise.all([enqueued, done]), interrupted]);
  } finally {
    clearTimeout(timer);
    stopSending.abort();
    await enqueued.catch(() => undefined); // its failure, if any, already rejected the race
    await receiver.stop();
    await events.destroy();
  }
  const wallMs = Date.now() - started;
  return {
    tasks: options.tasks,
    succeeded: succeeded.size,
    executorsSeen: [...slotsSeen.keys()].sort(),
    slots: fabricSlots ?? [...slotsSeen.values()].reduce((a, b) => a + b, 0),
    wallMs,
    tasksPerSecond: options.tasks / Math.max(wallMs / 1000, 0.001),
    queueDelayMs: { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99) },
    schedulingDelayMs: slotSchedulingDelay(slotTimeline, sentAt),
    failedAttempts,
  };
}

/** A task start or end on one executor slot (`slot` is `<executorId>/<slot>`), for slotSchedulingDelay. */
export interface SlotEvent {
  slot: string;
  at: number;
  partition: number;
  start: boolean;
}

/**
 * Per slot, in time order: each start's delay is start − max(sent, previous end on that slot).
 * A task started on a slot that had been idle since its send waited only for the fabric.
 */
export function slotSchedulingDelay(
  timeline: readonly SlotEvent[],
  sentAt: ReadonlyMap<number, number>,
): { p50: number; p99: number } {
  const bySlot = new Map<string, { starts: SlotEvent[]; ends: SlotEvent[] }>();
  for (const e of timeline) {
    let slot = bySlot.get(e.slot);
    if (!slot) {
      slot = { starts: [], ends: [] };
      bySlot.set(e.slot, slot);
    }
    (e.start ? slot.starts : slot.ends).push(e);
  }
  const delays: number[] = [];
  for (const { starts, ends } of bySlot.values()) {
    // A slot runs one task at a time: the task before a start is the previous start (stable
    // sort keeps arrival order for equal times), and its end is the first end of its
    // partition at or after it.
    starts.sort((a, b) => a.at - b.at);
    starts.forEach((e, i) => {
      const previous = starts[i - 1];
      const freeSince =
        previous === undefined
          ? Number.NEGATIVE_INFINITY
          : (ends.find((end) => end.partition === previous.partition && end.at >= previous.at)?.at ??
            previous.at);
      const sent = sentAt.get(e.partition) ?? e.at;
      delays.push(Math.max(0, e.at - Math.max(sent, freeSince)));
    });
  }
  return { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99) };
}

/** Send one noop task message per partition, `sendConcurrency` sends at a time. */
async function enqueue(
  tasks: StorageQueue,
  appId: string,
  eventsQueue: string,
  options: NoopRunOptions,
  sentAt: Map<number, number>,
  stop: AbortSignal,
): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < options.tasks && !stop.aborted) {
      const partition = next++;
      const now = Date.now();
      sentAt.set(partition, now);
      const text = encodeTaskMessage({
        ...{ v: 1, type: 'task', appId, jobId: 0, stageId: 0, partition, attempt: 0 },
        eventsQueue,
        sentAt: now,
        work: { kind: 'noop', sleepMs: options.sleepMs ?? 0 },
      });
      await tasks.send(text);
    }
  };
  const senders = Math.max(1, Math.min(options.sendConcurrency ?? 16, options.tasks));
  await Promise.all(Array.from({ length: senders }, sender));
}

/** The summary as the lines the CLI prints. */
export function formatNoopSummary(s: NoopRunSummary): string {
  return [
    `tasks:            ${s.succeeded}/${s.tasks} succeeded${s.failedAttempts ? ` (${s.failedAttempts} failed attempts retried)` : ''}`,
    `executors seen:   ${s.executorsSeen.length} (${s.executorsSeen.join(', ')})`,
    `slots:            ${s.slots}`,
    `wall time:        ${(s.wallMs / 1000).toFixed(2)} s`,
    `throughput:       ${s.tasksPerSecond.toFixed(1)} tasks/s`,
    `scheduling delay: p50 ${s.schedulingDelayMs.p50} ms, p99 ${s.schedulingDelayMs.p99} ms (a free slot waiting for its next task)`,
    `queue delay:      p50 ${s.queueDelayMs.p50} ms, p99 ${s.queueDelayMs.p99} ms (send → start, waiting for a slot included)`,
  ].join('\n');
}
