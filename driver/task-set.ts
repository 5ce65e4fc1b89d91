/**
 * TaskSetManager: the tasks of one stage attempt, as Spark's TaskSetManager — launches one
 * task message per partition, follows each attempt through its events, takes the first
 * success per partition, counts failures against `maxFailures`, and relaunches a task
 * whose executor stopped sending heartbeats (it does not wait for the queue lease).
 *
 * Retries of a failed attempt are the queue's job: the Functions host makes a failed
 * message visible again, so the same attempt runs again with a higher dequeueCount.
 */
import { JobFailedError } from '../engine/errors.js';
import {
  type ExecutorEvent,
  encodeTaskMessage,
  type TaskFailedEvent,
  type TaskMessageInput,
  type TaskSucceededEvent,
} from '../engine/protocol.js';
import type { StorageQueue } from '../storage/queues.js';

/** How a task set launches and judges its tasks. */
export interface TaskSetOptions {
  /** Failures of one partition (any attempts) that fail the job; Spark's spark.task.maxFailures. */
  maxFailures: number;
  /** A running attempt with no event for this long is presumed lost and relaunched (ms). */
  heartbeatTimeoutMs: number;
  /** Concurrent send requests while launching. */
  sendConcurrency: number;
}

/** Default options: Spark's maxFailures = 4; heartbeats every 3 s, lost after 20 s of silence. */
export const DEFAULT_TASK_SET_OPTIONS: TaskSetOptions = {
  maxFailures: 4,
  heartbeatTimeoutMs: 20_000,
  sendConcurrency: 16,
};

/** What a task set reports to the scheduler and to listeners (progress, event log). */
export interface TaskSetListener {
  /** Build the message of one attempt of one partition. */
  makeMessage(partition: number, attempt: number): TaskMessageInput;
  /** The first success of a partition; later successes of it are ignored. */
  onTaskSucceeded(event: TaskSucceededEvent): void;
  /** Every event of this task set, including ignored duplicates, for progress and the event log. */
  onTaskEvent?(event: ExecutorEvent, ignored: boolean): void;
  /** A task was relaunched because its executor went silent. */
  onTaskLost?(partition: number, attempt: number, executorId: string): void;
}

interface RunningAttempt {
  attempt: number;
  executorId: string;
  lastSeen: number;
}

/** One stage's tasks from launch to the last partition's first success. */
export class TaskSetManager {
  private readonly succeeded = new Set<number>();
  private readonly failures = new Map<number, TaskFailedEvent[]>();
  private readonly nextAttempt = new Map<number, number>();
  private readonly running = new Map<number, Map<number, RunningAttempt>>();
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  private done = false;
  /** Resolves when every partition has succeeded; rejects with a JobFailedError. */
  readonly completion: Promise<void>;
  /** Late or duplicate successes that were ignored. */
  ignoredDuplicates = 0;

  constructor(
    readonly jobId: number,
    readonly stageId: number,
    readonly partitions: readonly number[],
    private readonly queue: StorageQueue,
    private readonly listener: TaskSetListener,
    private readonly options: TaskSetOptions = DEFAULT_TASK_SET_OPTIONS,
  ) {
    this.completion = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.completion.catch(() => undefined);
    if (partitions.length === 0) this.finish();
  }

  /** Number of partitions that have succeeded. */
  get finishedCount(): number {
    return this.succeeded.size;
  }

  /** Number of partitions with an attempt known to be running. */
  get runningCount(): number {
    let n = 0;
    for (const [p, attempts] of this.running) if (!this.succeeded.has(p) && attempts.size > 0) n++;
    return n;
  }

  /** Send one message per partition. */
  async launch(): Promise<void> {
    await this.send(this.partitions.filter((p) => !this.succeeded.has(p)));
  }

  private async send(partitions: number[]): Promise<void> {
    let next = 0;
    const sendOne = async (): Promise<void> => {
      while (next < partitions.length && !this.done) {
        const partition = partitions[next++]!;
        const attempt = this.nextAttempt.get(partition) ?? 0;
        this.nextAttempt.set(partition, attempt + 1);
        await this.queue.send(encodeTaskMessage(this.listener.makeMessage(partition, attempt)));
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.sendConcurrency, partitions.length) }, sendOne),
    );
  }

  /** Route one event of this stage here. */
  handle(event: ExecutorEvent, now = Date.now()): void {
    const partition = event.partition;
    const ignored = this.done || this.succeeded.has(partition);
    this.listener.onTaskEvent?.(event, ignored);
    if (ignored) {
      // A late duplicate (redelivery, relaunched or speculative attempt): the first success won.
      if (event.type === 'task-succeeded') this.ignoredDuplicates++;
      return;
    }
    const attempts = this.running.get(partition) ?? new Map<number, RunningAttempt>();
    this.running.set(partition, attempts);
    switch (event.type) {
      case 'task-started':
      case 'task-heartbeat':
        attempts.set(event.attempt, { attempt: event.attempt, executorId: event.executorId, lastSeen: now });
        return;
      case 'task-succeeded':
        this.succeeded.add(partition);
        this.running.delete(partition);
        this.listener.onTaskSucceeded(event);
        if (this.succeeded.size === this.partitions.length) this.finish();
        return;
      case 'task-failed': {
        attempts.delete(event.attempt);
        const list = this.failures.get(partition) ?? [];
        list.push(event);
        this.failures.set(partition, list);
        if (event.fatal || list.length >= this.options.maxFailures) this.fail(event, list.length);
        return;
      }
    }
  }

  /** Relaunch attempts whose executor has been silent longer than the heartbeat timeout. */
  async checkLostTasks(now = Date.now()): Promise<void> {
    if (this.done) return;
    const relaunch: number[] = [];
    for (const [partition, attempts] of this.running) {
      if (this.succeeded.has(partition)) continue;
      for (const [attempt, info] of attempts) {
        if (now - info.lastSeen > this.options.heartbeatTimeoutMs) {
          attempts.delete(attempt);
          this.listener.onTaskLost?.(partition, attempt, info.executorId);
          if (attempts.size === 0) relaunch.push(partition);
        }
      }
    }
    if (relaunch.length > 0) await this.send(relaunch);
  }

  /** Stop accepting events, e.g. when the job is cancelled. */
  abort(reason: Error): void {
    if (this.done) return;
    this.done = true;
    this.settle.reject(reason);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.settle.resolve();
  }

  private fail(event: TaskFailedEvent, failures: number): void {
    const why = event.fatal ? 'failed with an error that retrying cannot fix' : `failed ${failures} times`;
    const error = new JobFailedError(
      `job ${this.jobId} aborted: stage ${this.stageId}, partition ${event.partition} ${why} ` +
        `(last on executor ${event.executorId}, attempt ${event.attempt}): ${event.error.name}: ${event.error.message}`,
      {
        jobId: this.jobId,
        stageId: this.stageId,
        partition: event.partition,
        attempt: event.attempt,
        ...(event.error.stack !== undefined ? { userStack: event.error.stack } : {}),
      },
    );
    this.abort(error);
  }
}
