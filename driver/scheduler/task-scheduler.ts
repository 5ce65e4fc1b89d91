/**
 * TaskScheduler: the stages' task sets while they run, as Spark's TaskSchedulerImpl — it
 * creates one TaskSetManager per submitted stage, routes each executor event to its task set,
 * runs the periodic checks every task set needs (executors gone silent every second,
 * stragglers to speculate on every 100 ms), and keeps each attempt's run events consistent:
 * an attempt that loses its partition or outlives its stage is reported killed once, and its
 * late outcome is dropped. It also says what executors must stop (`leaseStages`, published in
 * the application lease): the running stages and the attempts that lost their partition.
 * The DAGScheduler decides what to submit and when a stage is done.
 */
import { type LeaseStage, MAX_LEASE_KILLED_ATTEMPTS } from '../../contract/app-lease.js';
import { coerceError, JobFailedError, StratusError } from '../../contract/errors.js';
import {
  type ExecutorEvent,
  PROTOCOL_VERSION,
  type TaskKilledEvent,
  type TaskSucceededEvent,
} from '../../contract/protocol.js';
import { computedPartitions } from '../../engine/plan/stages.js';
import { type NoticeEvent, noticeEvent, type RunEvent, type RunListener } from '../observe/run-events.js';
import { AttemptNumbers } from './attempt-numbers.js';
import type { Clock, TaskQueue, TimerHandle } from './ports.js';
import type { StageRun } from './stage-run.js';
import { systemClock } from './system-clock.js';
import { lateTaskEnd, lostTaskEnd, taskRunEvent } from './task-run-events.js';
import { TaskSetManager, type TaskSetOptions } from './task-set.js';

/** What the task scheduler needs from the application. */
export interface TaskSchedulerEnv {
  appId: string;
  taskQueue: TaskQueue;
  eventsQueue: string;
  listener: RunListener;
  taskSet: TaskSetOptions;
  /** What executors must stop changed (`leaseStages`): the application lease should be rewritten. */
  onLeaseChange?: () => void;
  /** Stamps run events and paces the periodic checks; the system clock when omitted. */
  clock?: Clock;
}

/** What every task of a stage runs: the job bundle and the stage descriptor blob. */
export interface StageWorkRef {
  codeHash: string;
  stageBlob: string;
  /** sha256 of the stage descriptor's bytes: every (signed) task message pins it. */
  stageHash: string;
}

const stageKey = (jobId: number, stageId: number) => `${jobId}:${stageId}`;
const attemptKey = (partition: number, attempt: number) => `${partition}/${attempt}`;

/** Runs the task sets of an application's stages. */
export class TaskScheduler {
  private readonly active = new Map<string, StageRun>();
  /** The attempt number of every delivery of every task message: what run events call `attempt`. */
  private readonly attemptNumbers = new AttemptNumbers();
  private readonly clock: Clock;
  private readonly lostTimer: TimerHandle;
  private readonly speculationTimer: TimerHandle;
  /** `jobId:stageId:partition/messageAttempt` of attempts reported killed in stages that have ended. */
  private readonly killedAttempts = new Set<string>();
  /** Outcomes that executors reported for attempts already reported killed (dropped, counted). */
  lateOutcomesOfKilledAttempts = 0;
  /** Attempts reported killed that their executor then stopped (its `task-killed` arrived). */
  killedAttemptsStopped = 0;
  /** Losers of partitions won by another attempt, oldest first, for the lease (running stages only). */
  private leaseKilled: { jobId: number; stageId: number; partition: number; attempt: number }[] = [];

  constructor(private readonly env: TaskSchedulerEnv) {
    this.clock = env.clock ?? systemClock;
    // Relaunch tasks whose executor went silent, without waiting for the queue lease.
    this.lostTimer = this.everyTaskSet(1000, (taskSet) => taskSet.checkLostTasks());
    // Spark checks for stragglers every 100 ms (spark.speculation.interval).
    this.speculationTimer = this.everyTaskSet(100, (taskSet) => taskSet.checkSpeculatableTasks());
  }

  /**
   * Run `check` on every running task set each `intervalMs`; a check that throws aborts its task
   * set. A task set whose previous check has not settled is skipped this tick: a check awaits the
   * queue, and two overlapping checks would both relaunch the same vanished partition.
   */
  private everyTaskSet(
    intervalMs: number,
    check: (taskSet: TaskSetManager) => Promise<unknown>,
  ): TimerHandle {
    const checking = new WeakSet<TaskSetManager>();
    return this.clock.every(intervalMs, () => {
      for (const run of this.active.values()) {
        const taskSet = run.taskSet;
        if (checking.has(taskSet)) continue;
        checking.add(taskSet);
        check(taskSet)
          .catch((error: unknown) => {
            taskSet.abort(coerceError(error));
          })
          .finally(() => checking.delete(taskSet));
      }
    });
  }

  private emit(event: RunEvent): void {
    this.env.listener.onEvent(event);
  }

  /** A notice stamped with the scheduler's clock. */
  private notice(level: NoticeEvent['level'], message: string): NoticeEvent {
    return { ...noticeEvent(this.env.appId, level, message), at: this.clock.now() };
  }

  /**
   * Create the task set of `run` (attached as `run.taskSet`) and route the stage's events to it
   * from now on; the caller launches it. `onTaskSucceeded` gets the first success of each partition.
   */
  submit(run: StageRun, work: StageWorkRef, onTaskSucceeded: (event: TaskSucceededEvent) => void): void {
    const { appId } = this.env;
    const { jobId, stageId } = run;
    // All partitions, or the ones the action picked (lookup on a partitioned dataset).
    const partitions = computedPartitions(run.plan);
    run.taskSet = new TaskSetManager(
      jobId,
      stageId,
      partitions,
      this.env.taskQueue,
      {
        makeMessage: (partition, attempt) => {
          const sentAt = this.clock.now();
          run.launchedAt.set(attemptKey(partition, attempt), sentAt);
          return {
            v: PROTOCOL_VERSION,
            type: 'task',
            appId,
            jobId,
            stageId,
            partition,
            attempt,
            eventsQueue: this.env.eventsQueue,
            sentAt,
            work: {
              kind: 'stage',
              codeHash: work.codeHash,
              stageBlob: work.stageBlob,
              stageHash: work.stageHash,
            },
          };
        },
        onTaskSucceeded: (event) => {
          this.killLosers(run, event);
          onTaskSucceeded(event);
        },
        onTaskEvent: (event, ignored) => {
          const runEvent = taskRunEvent(appId, run, event, ignored, this.attemptNumbers);
          if (!runEvent) return;
          if (
            event.type === 'task-killed' &&
            run.attempts.wasKilled(event.partition, this.attemptNumbers.of(event))
          ) {
            this.confirmStopped(event);
            return;
          }
          this.emitStageTaskEvent(run, runEvent);
        },
        attemptNumber: (event) => this.attemptNumbers.of(event),
        isTaskQueueIdle: async () => (await this.env.taskQueue.peek(1)).length === 0,
        runningAttemptsOfApplication: () => this.runningAttempts(),
        onTaskVanished: (partition) => {
          this.emit(
            this.notice(
              'warn',
              `stage ${stageId} partition ${partition}: its task message vanished (an executor died before starting it); launching a new attempt`,
            ),
          );
        },
        onSpeculativeLaunch: (partition, attempt, runningMs, thresholdMs) => {
          this.emit(
            this.notice(
              'info',
              `stage ${stageId} partition ${partition}: running ${Math.round(runningMs)} ms (> ${Math.round(thresholdMs)} ms), launching a speculative copy (task message attempt ${attempt})`,
            ),
          );
        },
        onTaskLost: (partition, attempt, executorId) => {
          const lost = lostTaskEnd(
            appId,
            run,
            { partition, attempt, executorId },
            this.clock.now(),
            this.attemptNumbers,
          );
          this.emitStageTaskEvent(run, lost);
          this.emit(
            this.notice(
              'warn',
              `stage ${stageId} partition ${partition} attempt ${lost.attempt}: executor ${executorId} went silent; launching a new attempt`,
            ),
          );
        },
      },
      this.env.taskSet,
      this.clock,
    );
    this.active.set(stageKey(jobId, stageId), run);
  }

  /**
   * The stage's task set is over (every partition won, or it was aborted): report its open
   * attempts killed for `reason` and stop routing its events here.
   */
  endStage(run: StageRun, reason: string): void {
    this.killOpenAttempts(run, reason);
    this.active.delete(stageKey(run.jobId, run.stageId));
    // Its losers need no entry now: a stage the lease does not list has ended, which stops them all.
    this.leaseKilled = this.leaseKilled.filter((k) => k.jobId !== run.jobId || k.stageId !== run.stageId);
    this.env.onLeaseChange?.();
  }

  /** The running stages and the attempts of them that executors must stop, for the application lease. */
  leaseStages(): LeaseStage[] {
    const stages = new Map<string, LeaseStage>();
    for (const run of this.active.values()) {
      stages.set(stageKey(run.jobId, run.stageId), { jobId: run.jobId, stageId: run.stageId, killed: [] });
    }
    for (const k of this.leaseKilled)
      stages.get(stageKey(k.jobId, k.stageId))?.killed.push([k.partition, k.attempt]);
    return [...stages.values()];
  }

  /**
   * The first success of a partition makes every other attempt of it launched so far a loser
   * (a speculative copy, a relaunch, the original): list them for executors to stop — running
   * ones at once, queued ones before they start.
   */
  private killLosers(run: StageRun, winner: TaskSucceededEvent): void {
    const launched = run.taskSet.launchedAttempts(winner.partition);
    if (launched <= 1) return;
    for (let attempt = 0; attempt < launched; attempt++) {
      if (attempt === winner.attempt) continue;
      this.leaseKilled.push({ jobId: run.jobId, stageId: run.stageId, partition: winner.partition, attempt });
    }
    // Bounded, newest kept: a loser dropped from the list runs to its end and is ignored.
    if (this.leaseKilled.length > MAX_LEASE_KILLED_ATTEMPTS) {
      this.leaseKilled.splice(0, this.leaseKilled.length - MAX_LEASE_KILLED_ATTEMPTS);
    }
    this.env.onLeaseChange?.();
  }

  /**
   * An executor stopped an attempt the driver had already reported killed: its task-end is in
   * the run events, so only count it and note when the slot was given back.
   */
  private confirmStopped(event: TaskKilledEvent): void {
    this.killedAttemptsStopped++;
    this.emit(
      this.notice(
        'info',
        `stage ${event.stageId} partition ${event.partition} attempt ${this.attemptNumbers.of(event)}: executor ${event.executorId} stopped it after ${Math.round(event.runMs)} ms (${event.reason})`,
      ),
    );
  }

  /** Abort the running task sets of job `jobId` with `error`; `reason` is what their open attempts are killed for. */
  abortJob(jobId: number, reason: string, error: Error): void {
    for (const run of this.active.values()) {
      if (run.jobId !== jobId) continue;
      run.abortReason ??= reason;
      run.taskSet.abort(error);
    }
  }

  /** Abort every running task set with JOB_CANCELLED (`driver.cancel()`). */
  cancelAll(reason: string): void {
    for (const run of this.active.values()) {
      run.abortReason ??= `job ${run.jobId} was cancelled: ${reason}`;
      run.taskSet.abort(
        new StratusError('JOB_CANCELLED', `job ${run.jobId} was cancelled: ${reason}`, { jobId: run.jobId }),
      );
    }
  }

  /**
   * A task message of this application reached the poison queue: the host delivered it
   * maxDequeueCount times without success (or an executor rejected it, or parked it after a
   * failure retrying cannot fix). Fail its job.
   */
  noticePoisonedTask(task: { jobId: number; stageId: number; partition: number; attempt: number }): boolean {
    const run = this.active.get(stageKey(task.jobId, task.stageId));
    if (!run) return false;
    run.taskSet.noticePoisoned(
      task.partition,
      new JobFailedError(
        `job ${task.jobId} aborted: the task message of stage ${task.stageId}, partition ${task.partition} (attempt ${task.attempt}) ` +
          'reached the poison queue — executors failed to process it maxDequeueCount times, failed it with an error retrying cannot fix, or rejected it (see the executor logs)',
        { jobId: task.jobId, stageId: task.stageId, partition: task.partition, attempt: task.attempt },
      ),
    );
    return true;
  }

  /** Task attempts running now in every active stage (what occupies the fabric's slots). */
  private runningAttempts(): number {
    let n = 0;
    for (const run of this.active.values()) n += run.taskSet.runningAttemptCount;
    return n;
  }

  /** Route one executor event to its task set; events of finished stages are late duplicates. */
  handleEvent(event: ExecutorEvent): void {
    if (event.appId !== this.env.appId) return;
    const run = this.active.get(stageKey(event.jobId, event.stageId));
    if (run) {
      run.taskSet.handle(event);
      return;
    }
    // A late attempt of a stage that already finished: its outcome cannot change anything.
    // (A late task-rejected is a redelivery of a message whose first refusal ended the stage; a
    // late task-interrupted, a delivery the stage's end already reported killed.)
    if (
      event.type === 'task-started' ||
      event.type === 'task-heartbeat' ||
      event.type === 'task-rejected' ||
      event.type === 'task-interrupted'
    ) {
      return;
    }
    if (
      this.killedAttempts.has(`${event.jobId}:${event.stageId}:${attemptKey(event.partition, event.attempt)}`)
    ) {
      // Reported killed when its stage ended: each attempt ends once in the run events.
      if (event.type === 'task-killed') this.confirmStopped(event);
      else this.lateOutcomesOfKilledAttempts++;
      return;
    }
    this.emit(lateTaskEnd(this.env.appId, event, this.clock.now(), this.attemptNumbers));
  }

  /** Stop the periodic checks and abort every running task set, its open attempts killed first. */
  close(reason: Error): void {
    this.lostTimer.cancel();
    this.speculationTimer.cancel();
    for (const run of this.active.values()) {
      // Before app-end: no attempt of the application may stay running in the log.
      run.abortReason ??= 'the application ended';
      this.killOpenAttempts(run, run.abortReason);
      run.taskSet.abort(reason);
    }
  }

  /** Report the open attempts of a stage (of one partition, or all) killed. */
  private killOpenAttempts(run: StageRun, reason: string, partition?: number): void {
    for (const end of run.attempts.kill(reason, this.clock.now(), partition)) {
      // Keyed by the message's attempt, as the executor events that may still come name it.
      const messageAttempt = end.messageAttempt ?? end.attempt;
      this.killedAttempts.add(`${run.jobId}:${run.stageId}:${attemptKey(end.partition, messageAttempt)}`);
      this.emit(end);
    }
  }

  /**
   * Emit a task event of a running stage, keeping its open attempts: the winner of a partition
   * ends the partition's other attempts (killed: speculative or relaunch losers), and the late
   * outcome of an attempt already reported killed is dropped.
   */
  private emitStageTaskEvent(run: StageRun, event: RunEvent): void {
    if (!run.attempts.observe(event)) {
      this.lateOutcomesOfKilledAttempts++;
      return;
    }
    this.emit(event);
    if (event.type === 'task-end' && event.status === 'succeeded') {
      const race = run.attempts.racesSpeculation(event) ? ' (speculative loser)' : '';
      this.killOpenAttempts(
        run,
        `another attempt of partition ${event.partition} succeeded${race}`,
        event.partition,
      );
    }
  }
}
