/**
 * TaskSetManager: the tasks of one stage attempt, as Spark's TaskSetManager — launches one
 * task message per partition, follows each attempt through its events, takes the first
 * success per partition, counts failures against `maxFailures` (but fails the stage on the
 * first failure whose error says a retry cannot help), and relaunches a task
 * whose executor stopped sending heartbeats (it does not wait for the queue lease).
 *
 * Retries of a failed attempt are the queue's job: the Functions host makes a failed
 * message visible again, so the same attempt runs again with a higher dequeueCount.
 */
import { coerceError, JobFailedError } from '../../contract/errors.js';
import {
  type ExecutorEvent,
  encodeWire,
  failureIsRetryable,
  parseTaskMessage,
  type TaskFailedEvent,
  type TaskMessageInput,
  type TaskRejectedEvent,
  type TaskSucceededEvent,
} from '../../contract/protocol.js';
import { signTaskMessage } from '../../contract/signing.js';
import { FetchFailedError, isFetchFailure } from './fetch-failed.js';
import type { Clock, TaskQueue } from './ports.js';
import { quantile } from './stats.js';
import { systemClock } from './system-clock.js';

/** How a task set launches and judges its tasks. */
export interface TaskSetOptions {
  /** Failures of one partition (any attempts) that fail the job; Spark's spark.task.maxFailures. */
  maxFailures: number;
  /** A running attempt with no event for this long is presumed lost and relaunched (ms). */
  heartbeatTimeoutMs: number;
  /** Concurrent send requests while launching. */
  sendConcurrency: number;
  /** HMAC key that signs every task message (STRATUS_SIGNING_KEY); unsigned when undefined. */
  signingKey?: string;
  /** Speculative execution, as Spark's spark.speculation.* (on by default). */
  speculation: SpeculationOptions;
  /**
   * Slots of the fabric: a speculative copy is only launched while fewer attempts than this run
   * in the whole application (every stage's, see TaskSetListener.runningAttemptsOfApplication).
   */
  totalSlots?: number;
}

/** When a running task is a straggler worth a second copy (Spark 4 defaults). */
export interface SpeculationOptions {
  /** Launch a speculative copy of a slow task on another slot (spark.speculation). */
  enabled: boolean;
  /** A task is slow when it has run longer than `multiplier` × the median of finished tasks. */
  multiplier: number;
  /** …once this fraction of the stage's tasks has finished. */
  quantile: number;
  /** Never speculate on tasks that have run less than this (ms). */
  minTaskRuntimeMs: number;
  /** Stages with fewer tasks are never speculated on. */
  minTasks: number;
}

/** Default options: Spark's maxFailures = 4; heartbeats every 3 s, lost after 20 s of silence. */
export const DEFAULT_TASK_SET_OPTIONS: TaskSetOptions = {
  maxFailures: 4,
  heartbeatTimeoutMs: 20_000,
  sendConcurrency: 16,
  speculation: { enabled: true, multiplier: 3, quantile: 0.9, minTaskRuntimeMs: 1000, minTasks: 4 },
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
  /**
   * True when no task message is waiting (visible) on the task queue. Used to tell a task
   * that is merely queued from one whose message was taken by an executor that died before
   * it could report `task-started`.
   */
  isTaskQueueIdle?(): Promise<boolean>;
  /** A partition's message vanished (see checkVanishedTasks) and is being relaunched. */
  onTaskVanished?(partition: number): void;
  /**
   * Task attempts running now in every stage of the application, this one's included: what
   * occupies the fabric's slots. Without it only this task set's own attempts are counted.
   */
  runningAttemptsOfApplication?(): number;
  /**
   * The attempt number run events give an executor event's delivery (attempt-numbers.ts), so a
   * job's error names the attempt the event log, summary and UI show; the message's attempt without it.
   */
  attemptNumber?(event: ExecutorEvent): number;
  /** A speculative copy of a slow task was launched. */
  onSpeculativeLaunch?(partition: number, attempt: number, runningMs: number, thresholdMs: number): void;
}

interface RunningAttempt {
  attempt: number;
  executorId: string;
  lastSeen: number;
  /** Driver clock when its task-started arrived. */
  startedAt: number;
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
  /** Driver clock of the last event of this task set (progress of any kind). */
  private lastEventAt: number;
  /** Driver clock of the latest launch of each partition. */
  private readonly launchedAt = new Map<number, number>();
  /** Partitions relaunched because their message vanished before any executor reported them. */
  vanishedRelaunches = 0;
  /** Run times (driver clock, started → succeeded) of the winning attempts. */
  private readonly durations: number[] = [];
  /** Partitions that already have a speculative copy, and the attempts that are speculative. */
  private readonly speculated = new Set<number>();
  readonly speculativeAttempts = new Set<string>();

  constructor(
    readonly jobId: number,
    readonly stageId: number,
    readonly partitions: readonly number[],
    private readonly queue: TaskQueue,
    private readonly listener: TaskSetListener,
    private readonly options: TaskSetOptions = DEFAULT_TASK_SET_OPTIONS,
    /** The driver's clock: launch times, heartbeat silence and straggler run times are read on it. */
    private readonly clock: Clock = systemClock,
  ) {
    this.lastEventAt = clock.now();
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

  /** Attempts known to be running (a partition with a speculative copy counts twice: two slots). */
  get runningAttemptCount(): number {
    let n = 0;
    for (const [p, attempts] of this.running) if (!this.succeeded.has(p)) n += attempts.size;
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
        this.launchedAt.set(partition, this.clock.now());
        const message = parseTaskMessage(this.listener.makeMessage(partition, attempt));
        if (this.options.signingKey !== undefined) {
          message.signature = signTaskMessage(message, this.options.signingKey);
        }
        await this.queue.send(encodeWire(message));
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.sendConcurrency, partitions.length) }, sendOne),
    );
  }

  /** Route one event of this stage here. */
  handle(event: ExecutorEvent, now = this.clock.now()): void {
    const partition = event.partition;
    this.lastEventAt = now;
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
      case 'task-heartbeat': {
        const known = attempts.get(event.attempt);
        attempts.set(event.attempt, {
          attempt: event.attempt,
          executorId: event.executorId,
          lastSeen: now,
          startedAt: known?.startedAt ?? now,
        });
        return;
      }
      case 'task-succeeded': {
        const started = attempts.get(event.attempt)?.startedAt;
        this.durations.push(started !== undefined ? now - started : event.metrics.durationMs);
        this.succeeded.add(partition);
        this.running.delete(partition);
        this.listener.onTaskSucceeded(event);
        if (this.succeeded.size === this.partitions.length) this.finish();
        return;
      }
      case 'task-killed': {
        // The executor stopped an attempt this task set still needs: its lease said so while
        // the driver had not decided it (a lease skewed from the driver's clock). As a lost
        // attempt, launch another when none of the partition is left running.
        attempts.delete(event.attempt);
        if (attempts.size === 0)
          this.send([partition]).catch((error: unknown) => this.abort(coerceError(error)));
        return;
      }
      case 'task-interrupted': {
        // Its executor shut down: this delivery no longer runs, but the message is back on the
        // queue and another executor will run the same attempt, so nothing is relaunched (the
        // vanished-message check covers a message that never comes back). Only the executor that
        // was running it may say so: a redelivery may have started before this event arrived.
        if (attempts.get(event.attempt)?.executorId === event.executorId) attempts.delete(event.attempt);
        return;
      }
      case 'task-failed': {
        attempts.delete(event.attempt);
        // A map output this task reads is gone: only rerunning the map stage helps, which the
        // DAG scheduler does when this task set stops with a FetchFailedError.
        if (isFetchFailure(event)) {
          this.abort(new FetchFailedError(this.jobId, this.stageId, event));
          return;
        }
        const list = this.failures.get(partition) ?? [];
        list.push(event);
        this.failures.set(partition, list);
        // An error that says a retry cannot help fails the stage on its first occurrence.
        if (!failureIsRetryable(event) || list.length >= this.options.maxFailures)
          this.fail(event, list.length);
        return;
      }
      case 'task-rejected':
        // The executor refused the message itself (invalid, other protocol version, bad
        // signature): every retry of it is refused the same way, so the job fails now.
        attempts.delete(event.attempt);
        this.abort(rejectionError(this.jobId, this.stageId, event));
        return;
    }
  }

  /** Relaunch attempts whose executor has been silent longer than the heartbeat timeout. */
  async checkLostTasks(now = this.clock.now()): Promise<void> {
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
    await this.checkVanishedTasks(now);
  }

  /**
   * A task message taken by an executor that died before reporting `task-started` stays
   * invisible for the queue lease (10 minutes) and no heartbeat ever tells us. When the task
   * set has been silent for the heartbeat timeout since it last saw messages waiting on the
   * queue, nothing is waiting now, and some partitions were launched but never seen running,
   * their messages vanished: relaunch them.
   */
  private async checkVanishedTasks(now: number): Promise<void> {
    const timeout = this.options.heartbeatTimeoutMs;
    if (this.done || now - this.lastEventAt <= timeout || !this.listener.isTaskQueueIdle) return;
    const unseen = this.partitions.filter(
      (p) =>
        !this.succeeded.has(p) &&
        (this.running.get(p)?.size ?? 0) === 0 &&
        now - (this.launchedAt.get(p) ?? now) > timeout,
    );
    if (unseen.length === 0) return;
    if (!(await this.listener.isTaskQueueIdle())) {
      // Messages still wait for an executor (none up yet, or all busy): the stage is queued, not
      // silent. Its silence starts once the queue empties, so an executor that takes the
      // messages after a long wait gets the full timeout to report them (a cold start included).
      this.lastEventAt = now;
      return;
    }
    this.lastEventAt = now;
    this.vanishedRelaunches += unseen.length;
    for (const partition of unseen) this.listener.onTaskVanished?.(partition);
    await this.send(unseen);
  }

  /**
   * Launch a speculative copy of each straggler: once `quantile` of the tasks finished, a task
   * running longer than `multiplier` × their median (and `minTaskRuntimeMs`) gets a second
   * attempt, while free slots remain — slots minus the attempts running in every stage of the
   * application, since stages of one job (a join's two sides) or of concurrent jobs share the
   * fabric. The first attempt to succeed wins. Returns how many launched.
   */
  async checkSpeculatableTasks(now = this.clock.now()): Promise<number> {
    const spec = this.options.speculation;
    const total = this.partitions.length;
    if (this.done || !spec.enabled || total < spec.minTasks) return 0;
    if (this.succeeded.size < Math.max(1, Math.floor(spec.quantile * total))) return 0;
    const threshold = Math.max(spec.minTaskRuntimeMs, spec.multiplier * quantile(this.durations, 0.5));
    const candidates: { partition: number; runningMs: number }[] = [];
    for (const [partition, attempts] of this.running) {
      if (this.succeeded.has(partition) || this.speculated.has(partition) || attempts.size === 0) continue;
      const oldest = Math.min(...[...attempts.values()].map((a) => a.startedAt));
      if (now - oldest > threshold) candidates.push({ partition, runningMs: now - oldest });
    }
    if (candidates.length === 0) return 0;
    const running = this.listener.runningAttemptsOfApplication?.() ?? this.runningAttemptCount;
    const free =
      this.options.totalSlots === undefined ? candidates.length : this.options.totalSlots - running;
    const launch = candidates.slice(0, Math.max(0, free));
    for (const c of launch) {
      this.speculated.add(c.partition);
      const attempt = this.nextAttempt.get(c.partition) ?? 0;
      this.speculativeAttempts.add(`${c.partition}/${attempt}`);
      this.listener.onSpeculativeLaunch?.(c.partition, attempt, c.runningMs, threshold);
    }
    if (launch.length > 0) await this.send(launch.map((c) => c.partition));
    return launch.length;
  }

  /** How many attempts of `partition` were launched (attempts 0 … n-1). */
  launchedAttempts(partition: number): number {
    return this.nextAttempt.get(partition) ?? 0;
  }

  /** True when attempt `attempt` of `partition` was launched as a speculative copy. */
  isSpeculative(partition: number, attempt: number): boolean {
    return this.speculativeAttempts.has(`${partition}/${attempt}`);
  }

  /**
   * A message of this task set reached the poison queue. When the partition has failed
   * before, the job fails with that (the user's) error; otherwise with `poisonError`.
   */
  noticePoisoned(partition: number, poisonError: Error): void {
    if (this.done || this.succeeded.has(partition)) return;
    const failures = this.failures.get(partition);
    const last = failures?.at(-1);
    if (last) this.fail(last, failures!.length);
    else this.abort(poisonError);
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

  /** Fail the job with the partition's last failure: its error once, where it ran, the user's stack. */
  private fail(event: TaskFailedEvent, failures: number): void {
    const attempt = this.listener.attemptNumber?.(event) ?? event.attempt;
    const why = failureIsRetryable(event)
      ? `failed ${failures} times`
      : 'failed with an error that retrying cannot fix';
    const error = new JobFailedError(
      `job ${this.jobId} aborted: stage ${this.stageId}, partition ${event.partition} ${why} ` +
        `(${failures > 1 ? 'last ' : ''}on executor ${event.executorId}, attempt ${attempt}): ` +
        `${event.error.name}: ${event.error.message}`,
      {
        jobId: this.jobId,
        stageId: this.stageId,
        partition: event.partition,
        attempt,
        ...(event.error.stack !== undefined ? { userStack: event.error.stack } : {}),
      },
    );
    this.abort(error);
  }
}

/** What a user can do about each reason an executor refuses a task message. */
const REJECTION_HINTS: Record<string, string> = {
  unsigned:
    'the executors require signed task messages: give the driver the same STRATUS_SIGNING_KEY as the function app',
  'bad-signature':
    'the signature does not verify: the driver and the function app have different STRATUS_SIGNING_KEYs, or the message was altered',
  'tampered-blob':
    'a blob the task pins by sha256 was changed after the driver wrote it: something other than this driver can write to the stratus-data container; check who has write access to the storage account',
};

/** The job failure for a task message an executor refused (event `task-rejected`). */
export function rejectionError(jobId: number, stageId: number, event: TaskRejectedEvent): JobFailedError {
  const hint =
    event.field === 'v'
      ? 'the driver and the function app speak different protocol versions: deploy the function app from the same stratus release as the driver'
      : (REJECTION_HINTS[event.reason] ?? 'retrying cannot fix a message the executor refuses');
  const what = event.field !== undefined ? `field ${event.field}: ${event.message}` : event.message;
  return new JobFailedError(
    `job ${jobId} aborted: executor ${event.executorId} rejected the task message of stage ${stageId}, ` +
      `partition ${event.partition} (attempt ${event.attempt}) without running it (${event.reason}): ${what}; ${hint}`,
    {
      jobId,
      stageId,
      partition: event.partition,
      attempt: event.attempt,
      ...(event.field !== undefined ? { field: event.field } : {}),
    },
  );
}
