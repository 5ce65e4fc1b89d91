/**
 * DAGScheduler: turns the actions of one job-module run into jobs, each job into stages
 * (the engine's planJob splits at shuffles), and submits a stage as one task set as soon
 * as its parents are done — independent parents (the two sides of a join) run at once.
 * Hidden jobs (the sampling job of a sort) are real jobs, reported as such. A shuffle
 * computed by an earlier job of the run is reused (its map stage is skipped), as are
 * cached partitions. As Spark's DAGScheduler, it owns no storage of its own: task sets
 * go through the task queue, completions arrive from the events queue via `handleEvent`.
 */
import { type ActionRef, isSaveOp, mergeActionResults, type SaveResult } from '../engine/actions.js';
import { JobFailedError, StratusError } from '../engine/errors.js';
import { describePlan } from '../engine/explain.js';
import { DATA_CONTAINER, stageBlobName } from '../engine/names.js';
import { computeRangeBounds, type RangeSample } from '../engine/partitioner.js';
import { type ExecutorEvent, PROTOCOL_VERSION, type TaskSucceededEvent } from '../engine/protocol.js';
import { blobDigest } from '../engine/signing.js';
import { isSamplingRequest, type JobPlan, planJob, type StagePlan } from '../engine/stages.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { StorageQueue } from '../storage/queues.js';
import { OpenAttempts } from './open-attempts.js';
import type { RunEvent, RunListener } from './run-events.js';
import type { JobOutcome, RunState } from './run-state.js';
import { buildStageDescriptor, fetchResultPartials } from './stage-io.js';
import { taskRunEvent } from './task-run-events.js';
import { TaskSetManager, type TaskSetOptions } from './task-set.js';

/** What the scheduler needs from the application. */
export interface SchedulerEnv {
  appId: string;
  blobs: BlobStore;
  taskQueue: StorageQueue;
  eventsQueue: string;
  listener: RunListener;
  taskSet: TaskSetOptions;
  /** Per-task memory budget before spilling (bytes). */
  memoryBudgetBytes: number;
  /** Results whose JSON is at most this size travel inline in events. */
  inlineResultMaxBytes: number;
  /** Total result bytes the driver accepts from one job (Spark's spark.driver.maxResultSize). */
  maxResultBytes: number;
}

interface StageRun {
  jobId: number;
  stageId: number;
  /** The action this stage's job computes, and its op, for error messages. */
  action: { name: string; op: string };
  plan: StagePlan;
  taskSet: TaskSetManager;
  launchedAt: Map<string, number>;
  startedAt: Map<string, number>;
  results: unknown[];
  resultBlobs: (string | undefined)[];
  resultBytes: number;
  saved: { blob: string; records: number }[];
  /** Attempts started and not ended, reported killed when their partition or stage is decided. */
  attempts: OpenAttempts;
  /** Why the stage's task set was aborted from outside (job cancelled, application closing). */
  abortReason?: string;
}

const key = (jobId: number, stageId: number) => `${jobId}:${stageId}`;
const attemptKey = (partition: number, attempt: number) => `${partition}/${attempt}`;

function errorInfo(error: unknown): { name: string; message: string; stack?: string } {
  const e = error instanceof Error ? error : new Error(String(error));
  const userStack = (e as StratusError).context?.userStack;
  return { name: e.name, message: e.message, ...(userStack ? { stack: userStack } : {}) };
}

/** Every blob name a success event reports (map output, result or part file, cached partitions). */
function reportedBlobs(event: TaskSucceededEvent): string[] {
  const names = (event.cachedPartitions ?? []).map((c) => c.blob);
  if (event.mapOutputBlob !== undefined) names.push(event.mapOutputBlob);
  if (event.result && 'blob' in event.result) names.push(event.result.blob);
  return names;
}

/** The run's accumulator values for a job-end event, when its graph has any. */
function accumulatorsOf(state: RunState): { accumulators?: Record<string, unknown> } {
  const values = state.graph.accumulatorValues();
  return Object.keys(values).length > 0 ? { accumulators: values } : {};
}

/** A stage's label in run events: the operators it pipelines. */
function stageName(plan: JobPlan, stage: StagePlan): string {
  return stage.pipeline.map((id) => plan.nodeLabels[id] ?? `node ${id}`).join(' → ');
}

/** Schedules the jobs of an application. */
export class DAGScheduler {
  private nextJobId = 0;
  private nextStageId = 0;
  private readonly active = new Map<string, StageRun>();
  private readonly lostTimer: NodeJS.Timeout;
  private readonly speculationTimer: NodeJS.Timeout;
  /** Jobs currently running. */
  private readonly runningJobs = new Set<number>();
  /** Jobs run so far (hidden included). */
  jobsRun = 0;
  /** `jobId:stageId:partition/attempt` of attempts reported killed in stages that have ended. */
  private readonly killedAttempts = new Set<string>();
  /** Outcomes that executors reported for attempts already reported killed (dropped, counted). */
  lateOutcomesOfKilledAttempts = 0;

  /** Set by `close`: no job or stage starts after it. */
  private closedReason: Error | undefined;

  /** True while a job is running (its task messages could be poisoned). */
  get hasRunningJobs(): boolean {
    return this.runningJobs.size > 0;
  }

  constructor(private readonly env: SchedulerEnv) {
    // Relaunch tasks whose executor went silent, without waiting for the queue lease.
    this.lostTimer = setInterval(() => {
      for (const run of this.active.values()) {
        run.taskSet.checkLostTasks().catch((error: unknown) => {
          run.taskSet.abort(error instanceof Error ? error : new Error(String(error)));
        });
      }
    }, 1000);
    this.lostTimer.unref();
    // Spark checks for stragglers every 100 ms (spark.speculation.interval).
    this.speculationTimer = setInterval(() => {
      for (const run of this.active.values()) {
        run.taskSet.checkSpeculatableTasks().catch((error: unknown) => {
          run.taskSet.abort(error instanceof Error ? error : new Error(String(error)));
        });
      }
    }, 100);
    this.speculationTimer.unref();
  }

  /** Task attempts running now in every active stage (what occupies the fabric's slots). */
  private runningAttempts(): number {
    let n = 0;
    for (const run of this.active.values()) n += run.taskSet.runningAttemptCount;
    return n;
  }

  /** Cancel every running job (their task sets stop; the caller tells executors through the lease). Returns their ids. */
  cancelRunningJobs(reason: string): number[] {
    const jobs = [...this.runningJobs];
    for (const run of this.active.values()) {
      run.abortReason ??= `job ${run.jobId} was cancelled: ${reason}`;
      run.taskSet.abort(
        new StratusError('JOB_CANCELLED', `job ${run.jobId} was cancelled: ${reason}`, { jobId: run.jobId }),
      );
    }
    return jobs;
  }

  /**
   * A task message of this application reached the poison queue: the host delivered it
   * maxDequeueCount times without success (or an executor rejected it). Fail its job.
   */
  noticePoisonedTask(task: { jobId: number; stageId: number; partition: number; attempt: number }): boolean {
    const run = this.active.get(key(task.jobId, task.stageId));
    if (!run) return false;
    run.taskSet.noticePoisoned(
      task.partition,
      new JobFailedError(
        `job ${task.jobId} aborted: the task message of stage ${task.stageId}, partition ${task.partition} (attempt ${task.attempt}) ` +
          'reached the poison queue — executors failed to process it maxDequeueCount times, or rejected it (see the executor logs)',
        { jobId: task.jobId, stageId: task.stageId, partition: task.partition, attempt: task.attempt },
      ),
    );
    return true;
  }

  private emit(event: RunEvent): void {
    this.env.listener.onEvent(event);
  }

  /** Route one executor event to its task set; events of finished stages are late duplicates. */
  handleEvent(event: ExecutorEvent): void {
    if (event.appId !== this.env.appId) return;
    const run = this.active.get(key(event.jobId, event.stageId));
    if (!run) {
      // A late attempt of a stage that already finished: its outcome cannot change anything.
      // (A late task-rejected is a redelivery of a message whose first refusal ended the stage.)
      if (event.type === 'task-succeeded' || event.type === 'task-failed') {
        if (this.killedAttempts.has(`${event.jobId}:${event.stageId}:${event.partition}/${event.attempt}`)) {
          // Reported killed when its stage ended: each attempt ends once in the run events.
          this.lateOutcomesOfKilledAttempts++;
          return;
        }
        this.emit({
          type: 'task-end',
          at: Date.now(),
          appId: this.env.appId,
          jobId: event.jobId,
          stageId: event.stageId,
          partition: event.partition,
          attempt: event.attempt,
          executorId: event.executorId,
          slot: event.slot,
          launchedAt: event.at,
          status: event.type === 'task-succeeded' ? 'ignored' : 'failed',
        });
      }
      return;
    }
    run.taskSet.handle(event);
  }

  /** Stop the lost-task timer and abort running task sets; jobs submitted later fail with `reason`. */
  close(reason = new Error('the driver is closing')): void {
    this.closedReason = reason;
    clearInterval(this.lostTimer);
    clearInterval(this.speculationTimer);
    for (const run of this.active.values()) {
      // Before app-end: no attempt of the application may stay running in the log.
      run.abortReason ??= 'the application ended';
      this.killOpenAttempts(run, run.abortReason);
      run.taskSet.abort(reason);
    }
  }

  /** Report the open attempts of a stage (of one partition, or all) killed. */
  private killOpenAttempts(run: StageRun, reason: string, partition?: number): void {
    for (const end of run.attempts.kill(reason, partition)) {
      this.killedAttempts.add(`${run.jobId}:${run.stageId}:${end.partition}/${end.attempt}`);
      this.emit(end);
    }
  }

  /**
   * Run the action `ref` of `state.graph` as a job — after any hidden sampling jobs its sorts
   * need (each one a real job, itself possibly preceded by another) — and return its outcome.
   */
  async runAction(
    state: RunState,
    ref: ActionRef,
    actionName: string,
    how: { hidden: boolean; reason?: string } = { hidden: false },
  ): Promise<JobOutcome> {
    for (;;) {
      const planned = planJob(state.graph, ref, {
        cachedNodes: state.cachedNodes,
        rangeBounds: state.rangeBounds,
        sourcePartitions: state.sourcePartitions,
      });
      if (!isSamplingRequest(planned)) return this.runJob(state, planned, actionName, how);
      const { nodeId, sampleAction, numPartitions } = planned.needsSampling;
      const sampled = await this.runAction(state, sampleAction, actionName, {
        hidden: true,
        reason: `sampling for the sort at node ${nodeId} (${numPartitions} range partitions) of "${actionName}"`,
      });
      state.rangeBounds.set(nodeId, computeRangeBounds(sampled.result as RangeSample[], numPartitions));
    }
  }

  /** Run one planned job: its stages in dependency order, each as a task set. */
  async runJob(
    state: RunState,
    plan: JobPlan,
    actionName: string,
    how: { hidden: boolean; reason?: string },
  ): Promise<JobOutcome> {
    if (this.closedReason) throw this.closedReason;
    const jobId = this.nextJobId++;
    this.jobsRun++;
    this.runningJobs.add(jobId);
    try {
      return await this.runJobStages(state, plan, actionName, how, jobId);
    } finally {
      this.runningJobs.delete(jobId);
    }
  }

  private async runJobStages(
    state: RunState,
    plan: JobPlan,
    actionName: string,
    how: { hidden: boolean; reason?: string },
    jobId: number,
  ): Promise<JobOutcome> {
    const globalIds = new Map<number, number>();
    for (const stage of plan.stages) globalIds.set(stage.stageId, this.nextStageId++);
    const skipped = new Set<number>();
    for (const stage of plan.stages) {
      if (stage.kind === 'shuffle-map' && state.shuffleTables.has(stage.shuffle!.shuffleId)) {
        skipped.add(stage.stageId);
      }
    }
    const { appId } = this.env;
    this.emit({
      type: 'job-start',
      at: Date.now(),
      appId,
      jobId,
      action: plan.actionOp,
      actionName,
      hidden: how.hidden,
      ...(how.reason ? { reason: how.reason } : {}),
      stageIds: plan.stages.map((s) => globalIds.get(s.stageId)!),
      skippedStageIds: [...skipped].map((s) => globalIds.get(s)!),
      stages: plan.stages.map((s) => ({
        stageId: globalIds.get(s.stageId)!,
        kind: s.kind,
        name: stageName(plan, s),
        numPartitions: s.numPartitions,
        parentStageIds: s.parents.map((p) => globalIds.get(p)!),
        ...(s.shuffle ? { shuffleId: s.shuffle.shuffleId } : {}),
      })),
      plan: describePlan(plan),
      run: state.runIndex,
      module: state.module,
    });

    const done = new Set<number>(skipped);
    const running = new Map<number, Promise<StageRun>>();
    let resultRun: StageRun | undefined;
    try {
      while (done.size < plan.stages.length) {
        for (const stage of plan.stages) {
          if (done.has(stage.stageId) || running.has(stage.stageId)) continue;
          if (!stage.parents.every((p) => done.has(p))) continue;
          running.set(
            stage.stageId,
            this.runStage(state, plan, stage, jobId, globalIds.get(stage.stageId)!, globalIds, actionName),
          );
        }
        if (running.size === 0) throw new Error(`internal: job ${jobId} has stages that can never run`);
        const finished = await Promise.race([...running].map(([id, p]) => p.then((run) => ({ id, run }))));
        running.delete(finished.id);
        done.add(finished.id);
        if (finished.run.plan.kind === 'result') resultRun = finished.run;
      }
    } catch (error) {
      for (const other of this.active.values()) {
        if (other.jobId !== jobId) continue;
        other.abortReason ??= `job ${jobId} ${(error as StratusError).code === 'JOB_CANCELLED' ? 'was cancelled' : 'failed'}`;
        other.taskSet.abort(error as Error);
      }
      await Promise.allSettled(running.values());
      this.emit({
        type: 'job-end',
        at: Date.now(),
        appId,
        jobId,
        status: (error as StratusError).code === 'JOB_CANCELLED' ? 'cancelled' : 'failed',
        error: errorInfo(error),
        ...accumulatorsOf(state),
      });
      throw error;
    }
    if (!resultRun) throw new Error(`internal: job ${jobId} has no result stage`);
    const action = state.graph.resolveAction(plan.action);
    let outcome: JobOutcome;
    if (isSaveOp(action.op)) {
      const parts = resultRun.saved;
      const merged: SaveResult = {
        path: String(action.options.path),
        partitions: parts.length,
        records: parts.reduce((n, p) => n + p.records, 0),
      };
      outcome = { jobId, result: merged, savedParts: parts };
    } else {
      const partials = await fetchResultPartials(this.env.blobs, resultRun.results, resultRun.resultBlobs);
      outcome = { jobId, result: mergeActionResults(action, partials) };
    }
    this.emit({
      type: 'job-end',
      at: Date.now(),
      appId,
      jobId,
      status: 'succeeded',
      ...accumulatorsOf(state),
    });
    return outcome;
  }

  private async runStage(
    state: RunState,
    plan: JobPlan,
    stage: StagePlan,
    jobId: number,
    stageId: number,
    globalIds: Map<number, number>,
    actionName: string,
  ): Promise<StageRun> {
    if (this.closedReason) throw this.closedReason;
    const { appId, blobs } = this.env;
    const stageBlob = stageBlobName(appId, jobId, stageId);
    const descriptorText = JSON.stringify(buildStageDescriptor(this.env, state, plan, stage, jobId, stageId));
    await blobs.put(DATA_CONTAINER, stageBlob, descriptorText);
    // Every task message (signed when signing is on) pins the descriptor's exact bytes.
    const stageHash = blobDigest(descriptorText);
    if (stage.shuffle) {
      state.tracker.register(stage.shuffle.shuffleId, stage.numPartitions, stage.shuffle.numReducePartitions);
    }
    const partitions = Array.from({ length: stage.numPartitions }, (_, p) => p);
    const run: StageRun = {
      jobId,
      stageId,
      action: { name: actionName, op: plan.actionOp },
      plan: stage,
      launchedAt: new Map(),
      startedAt: new Map(),
      results: new Array(stage.numPartitions).fill(undefined),
      resultBlobs: new Array(stage.numPartitions).fill(undefined),
      resultBytes: 0,
      saved: new Array(stage.numPartitions),
      attempts: new OpenAttempts(),
      taskSet: undefined as unknown as TaskSetManager,
    };
    const base = { appId, jobId, stageId };
    run.taskSet = new TaskSetManager(
      jobId,
      stageId,
      partitions,
      this.env.taskQueue,
      {
        makeMessage: (partition, attempt) => {
          const sentAt = Date.now();
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
            work: { kind: 'stage', codeHash: state.codeHash, stageBlob, stageHash },
          };
        },
        onTaskSucceeded: (event) => this.taskSucceeded(state, run, event),
        onTaskEvent: (event, ignored) => this.reportTaskEvent(run, event, ignored),
        isTaskQueueIdle: async () => (await this.env.taskQueue.peek(1)).length === 0,
        runningAttemptsOfApplication: () => this.runningAttempts(),
        onTaskVanished: (partition) => {
          this.emit({
            type: 'notice',
            at: Date.now(),
            appId,
            level: 'warn',
            message: `stage ${stageId} partition ${partition}: its task message vanished (an executor died before starting it); launching a new attempt`,
          });
        },
        onSpeculativeLaunch: (partition, attempt, runningMs, thresholdMs) => {
          this.emit({
            type: 'notice',
            at: Date.now(),
            appId,
            level: 'info',
            message: `stage ${stageId} partition ${partition}: running ${Math.round(runningMs)} ms (> ${Math.round(thresholdMs)} ms), launching speculative attempt ${attempt}`,
          });
        },
        onTaskLost: (partition, attempt, executorId) => {
          const k = attemptKey(partition, attempt);
          this.emitStageTaskEvent(run, {
            ...base,
            type: 'task-end',
            at: Date.now(),
            partition,
            attempt,
            executorId,
            slot: 0,
            launchedAt: run.launchedAt.get(k) ?? Date.now(),
            status: 'lost',
          });
          this.emit({
            type: 'notice',
            at: Date.now(),
            appId,
            level: 'warn',
            message: `stage ${stageId} partition ${partition} attempt ${attempt}: executor ${executorId} went silent; launching a new attempt`,
          });
        },
      },
      this.env.taskSet,
    );
    this.active.set(key(jobId, stageId), run);
    this.emit({
      ...base,
      type: 'stage-submitted',
      at: Date.now(),
      kind: stage.kind,
      name: stageName(plan, stage),
      numTasks: stage.numPartitions,
      parentStageIds: stage.parents.map((p) => globalIds.get(p)!),
      ...(stage.shuffle ? { shuffleId: stage.shuffle.shuffleId } : {}),
    });
    try {
      await run.taskSet.launch();
      await run.taskSet.completion;
      if (stage.shuffle) {
        const table = await state.tracker.publish(stage.shuffle.shuffleId);
        state.shuffleTables.set(stage.shuffle.shuffleId, table);
      }
      for (const nodeId of stage.cacheWrites) {
        const parts = state.cached.get(nodeId);
        if (parts && parts.length === stage.nodePartitions[nodeId] && !parts.includes(undefined)) {
          state.cachedNodes.add(nodeId);
        }
      }
    } catch (error) {
      this.killOpenAttempts(run, run.abortReason ?? `stage ${stageId} failed`);
      this.emit({
        ...base,
        type: 'stage-completed',
        at: Date.now(),
        status: 'failed',
        error: errorInfo(error),
      });
      throw error;
    } finally {
      this.active.delete(key(jobId, stageId));
    }
    // Every partition succeeded, so any attempt still open lost its race to another one.
    this.killOpenAttempts(run, `stage ${stageId} completed`);
    this.emit({ ...base, type: 'stage-completed', at: Date.now(), status: 'succeeded' });
    return run;
  }

  private taskSucceeded(state: RunState, run: StageRun, event: TaskSucceededEvent): void {
    // Called once per partition: the first success wins, its side effects count once. Every
    // blob is taken by the name the winning execution reported (never rebuilt here), so what
    // is committed or read is exactly what that execution wrote and measured.
    const outside = reportedBlobs(event).find((blob) => !blob.startsWith(`apps/${state.scope}/`));
    if (outside !== undefined) {
      run.taskSet.abort(
        new StratusError(
          'PROTOCOL',
          `task of stage ${run.stageId} reported blob ${outside}, outside its run's folder apps/${state.scope}/ (an executor of another stratus version?)`,
          { stageId: run.stageId, partition: event.partition, blob: outside },
        ),
      );
      return;
    }
    if (event.accumulators) state.graph.mergeAccumulatorUpdates(event.accumulators);
    for (const c of event.cachedPartitions ?? []) {
      const parts = state.cached.get(c.nodeId) ?? [];
      parts[c.partition] ??= c.blob;
      state.cached.set(c.nodeId, parts);
    }
    const stage = run.plan;
    if (stage.kind === 'shuffle-map') {
      if (!event.mapOutputBlob || !event.segmentSizes) {
        run.taskSet.abort(
          new StratusError('PROTOCOL', `map task of stage ${run.stageId} succeeded without a map output`, {
            stageId: run.stageId,
            partition: event.partition,
          }),
        );
        return;
      }
      state.tracker.registerMapOutput(stage.shuffle!.shuffleId, event.partition, {
        blob: event.mapOutputBlob,
        segmentSizes: event.segmentSizes,
      });
      return;
    }
    const result = event.result;
    if (!result) return;
    if ('inline' in result) {
      run.results[event.partition] = result.inline;
      run.resultBytes += JSON.stringify(result.inline ?? null).length;
    } else if (result.records !== undefined) {
      run.saved[event.partition] = { blob: result.blob, records: result.records };
    } else {
      run.resultBlobs[event.partition] = result.blob;
      run.resultBytes += result.bytes;
    }
    // As Spark's spark.driver.maxResultSize: stop at the first success past the limit rather
    // than wait for (and fetch) every partition's result.
    if (run.resultBytes > this.env.maxResultBytes) {
      const done = run.taskSet.finishedCount;
      run.taskSet.abort(
        new StratusError(
          'RESULT_TOO_LARGE',
          `job ${run.jobId} (action "${run.action.name}", ${run.action.op}): the results of stage ${run.stageId} ` +
            `reached ${run.resultBytes} bytes after ${done} of ${run.taskSet.partitions.length} tasks, above the ` +
            `driver's limit of ${this.env.maxResultBytes} bytes (maxResultBytes); save large outputs with ` +
            'saveAsTextFile instead of collecting them, or raise maxResultBytes',
          { jobId: run.jobId, stageId: run.stageId },
        ),
      );
    }
  }

  private reportTaskEvent(run: StageRun, event: ExecutorEvent, ignored: boolean): void {
    const runEvent = taskRunEvent(this.env.appId, run, event, ignored);
    if (runEvent) this.emitStageTaskEvent(run, runEvent);
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
