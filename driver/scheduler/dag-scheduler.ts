/**
 * DAGScheduler: turns the actions of one job-module run into jobs, each job into stages
 * (the engine's planJob splits at shuffles), and submits a stage as one task set as soon
 * as its parents are done — independent parents (the two sides of a join) run at once.
 * Hidden jobs (the sampling job of a sort, zipWithIndex's partition counts, histogram's
 * range…) are real jobs, reported as such; their results are kept for the run. A shuffle
 * computed by an earlier job of the run is reused (its map stage is skipped), as are
 * cached partitions; the map stages the plan lists above a cached dataset (StagePlan.aboveCache)
 * are skipped too, whether their shuffle still exists or not, and no task of theirs is sent. As Spark's DAGScheduler, it owns no storage of its own: the
 * TaskScheduler runs each stage's task set through the task queue, and completions arrive
 * from the events queue via `handleEvent`.
 */

import type { LeaseStage } from '../../contract/app-lease.js';
import { coerceError, type StratusError } from '../../contract/errors.js';
import { DATA_CONTAINER, stageBlobName } from '../../contract/names.js';
import type { ExecutorEvent } from '../../contract/protocol.js';
import { blobDigest } from '../../contract/signing.js';
import {
  type ActionRef,
  isSaveOp,
  mergeActionResults,
  type SaveResult,
} from '../../engine/dataset/actions.js';
import { describePlan, stagePipelineName } from '../../engine/plan/explain.js';
import {
  computedPartitions,
  hiddenResultsOf,
  isSamplingRequest,
  type JobPlan,
  planJob,
  type StagePlan,
} from '../../engine/plan/stages.js';
import { computeRangeBounds, type RangeSample } from '../../engine/shuffle/partitioner.js';
import { errorInfoOf, noticeEvent, type RunEvent, type SkipReason } from '../observe/run-events.js';
import { FetchFailedError, MAX_STAGE_ATTEMPTS } from './fetch-failed.js';
import type { BlobPort, Clock } from './ports.js';
import type { JobOutcome, RunState } from './run-state.js';
import { buildStageDescriptor, fetchResultPartials } from './stage-io.js';
import { checkResultLimit, newStageRun, recordTaskSuccess, type StageRun } from './stage-run.js';
import { systemClock } from './system-clock.js';
import { TaskScheduler, type TaskSchedulerEnv } from './task-scheduler.js';

/** What the scheduler needs from the application. */
export interface SchedulerEnv extends TaskSchedulerEnv {
  blobs: BlobPort;
  /** Per-task memory budget before spilling (bytes). */
  memoryBudgetBytes: number;
  /** Results whose JSON is at most this size travel inline in events. */
  inlineResultMaxBytes: number;
  /** Total result bytes the driver accepts from one job (Spark's spark.driver.maxResultSize). */
  maxResultBytes: number;
  /** Record codec of the stages' shuffle segments, spills and cached partitions. */
  codec: string;
}

/** The run's accumulator values for a job-end event, when its graph has any. */
function accumulatorsOf(state: RunState): { accumulators?: Record<string, unknown> } {
  const values = state.graph.accumulatorValues();
  return Object.keys(values).length > 0 ? { accumulators: values } : {};
}

/** A stage's label in run events: the operators it pipelines, persisted ones tagged. */
function stageName(plan: JobPlan, stage: StagePlan): string {
  return stagePipelineName(plan, stage);
}

/** The partition count of each stored node, as its blobs were recorded (planJob's cachedPartitions). */
function storedPartitionCounts(state: RunState): Map<number, number> {
  const counts = new Map<number, number>();
  for (const nodeId of state.cachedNodes) {
    const parts = state.cached.get(nodeId);
    if (parts) counts.set(nodeId, parts.length);
  }
  return counts;
}

/** Schedules the jobs of an application. */
export class DAGScheduler {
  private nextJobId = 0;
  private nextStageId = 0;
  private readonly tasks: TaskScheduler;
  private readonly clock: Clock;
  /** Jobs currently running. */
  private readonly runningJobs = new Set<number>();
  /** Jobs run so far (hidden included). */
  jobsRun = 0;

  constructor(private readonly env: SchedulerEnv) {
    this.clock = env.clock ?? systemClock;
    this.tasks = new TaskScheduler(env);
  }

  /** Outcomes that executors reported for attempts already reported killed (dropped, counted). */
  get lateOutcomesOfKilledAttempts(): number {
    return this.tasks.lateOutcomesOfKilledAttempts;
  }

  /** Attempts reported killed that their executor then stopped (its `task-killed` arrived). */
  get killedAttemptsStopped(): number {
    return this.tasks.killedAttemptsStopped;
  }

  /** The running stages and the attempts executors must stop, for the application lease. */
  leaseStages(): LeaseStage[] {
    return this.tasks.leaseStages();
  }

  /** Cancel every running job (their task sets stop; the caller tells executors through the lease). Returns their ids. */
  cancelRunningJobs(reason: string): number[] {
    const jobs = [...this.runningJobs];
    this.tasks.cancelAll(reason);
    return jobs;
  }

  /**
   * A task message of this application reached the poison queue: the host delivered it
   * maxDequeueCount times without success (or an executor rejected it, or parked it after a
   * failure retrying cannot fix). Fail its job.
   */
  noticePoisonedTask(task: { jobId: number; stageId: number; partition: number; attempt: number }): boolean {
    return this.tasks.noticePoisonedTask(task);
  }

  private emit(event: RunEvent): void {
    this.env.listener.onEvent(event);
  }

  /** Route one executor event to its task set; events of finished stages are late duplicates. */
  handleEvent(event: ExecutorEvent): void {
    this.tasks.handleEvent(event);
  }

  /** Set by `close`: no job or stage starts after it. */
  private closedReason: Error | undefined;

  /** True while a job is running (its task messages could be poisoned). */
  get hasRunningJobs(): boolean {
    return this.runningJobs.size > 0;
  }

  /** Stop the periodic checks and abort running task sets; jobs submitted later fail with `reason`. */
  close(reason = new Error('the driver is closing')): void {
    this.closedReason = reason;
    this.tasks.close(reason);
  }

  /**
   * Run the action `ref` of `state.graph` as a job — after any hidden jobs it needs (the
   * sampling job of a sort, the hidden jobs of hidden-jobs.ts: each one a real job, itself
   * possibly preceded by another) — and return its outcome.
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
        cachedPartitions: storedPartitionCounts(state),
        released: state.released,
        rangeBounds: state.rangeBounds,
        sourcePartitions: state.sourcePartitions,
        codec: this.env.codec,
        hiddenResults: state.hiddenResults,
      });
      if (!isSamplingRequest(planned)) return this.runJob(state, planned, actionName, how);
      if (planned.needsHiddenJob) {
        const { hiddenJobId, action, reason } = planned.needsHiddenJob;
        const outcome = await this.runAction(state, action, actionName, {
          hidden: true,
          reason: `${reason} of "${actionName}"`,
        });
        state.hiddenResults.set(hiddenJobId, outcome.result);
        continue;
      }
      const { nodeId, sampleAction, numPartitions } = planned.needsSampling!;
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
    const skipped = new Map<number, SkipReason>();
    for (const stage of plan.stages) {
      if (stage.aboveCache !== undefined) skipped.set(stage.stageId, 'above-cached-dataset');
      else if (stage.kind === 'shuffle-map' && state.shuffleTables.has(stage.shuffle!.shuffleId)) {
        skipped.set(stage.stageId, 'shuffle-output-exists');
      }
    }
    const { appId } = this.env;
    this.emit({
      type: 'job-start',
      at: this.clock.now(),
      appId,
      jobId,
      action: plan.actionOp,
      ...(plan.actionCallSite !== undefined ? { callSite: plan.actionCallSite } : {}),
      actionName,
      hidden: how.hidden,
      ...(how.reason ? { reason: how.reason } : {}),
      stageIds: plan.stages.map((s) => globalIds.get(s.stageId)!),
      skippedStageIds: [...skipped.keys()].map((s) => globalIds.get(s)!),
      stages: plan.stages.map((s) => ({
        stageId: globalIds.get(s.stageId)!,
        kind: s.kind,
        name: stageName(plan, s),
        numPartitions: s.numPartitions,
        parentStageIds: s.parents.map((p) => globalIds.get(p)!),
        ...(s.shuffle ? { shuffleId: s.shuffle.shuffleId } : {}),
        ...(skipped.has(s.stageId) ? { skipReason: skipped.get(s.stageId)! } : {}),
      })),
      plan: describePlan(plan),
      run: state.runIndex,
      module: state.module,
    });

    const done = new Set<number>(skipped.keys());
    const running = new Map<number, Promise<StageRun>>();
    /** Runs of each plan stage so far, for the consecutive-attempts limit of fetch failures. */
    const stageRuns = new Map<number, number>();
    let resultRun: StageRun | undefined;
    try {
      while (done.size < plan.stages.length) {
        for (const stage of plan.stages) {
          if (done.has(stage.stageId) || running.has(stage.stageId)) continue;
          if (!stage.parents.every((p) => done.has(p))) continue;
          stageRuns.set(stage.stageId, (stageRuns.get(stage.stageId) ?? 0) + 1);
          running.set(
            stage.stageId,
            this.runStage(state, plan, stage, jobId, globalIds.get(stage.stageId)!, globalIds, actionName),
          );
        }
        if (running.size === 0) throw new Error(`internal: job ${jobId} has stages that can never run`);
        const finished = await Promise.race(
          [...running].map(([id, p]) =>
            p.then(
              (run) => ({ id, run, error: undefined }),
              (error: unknown) => ({ id, run: undefined, error }),
            ),
          ),
        );
        running.delete(finished.id);
        if (finished.run) {
          done.add(finished.id);
          if (finished.run.plan.kind === 'result') resultRun = finished.run;
          continue;
        }
        const error = finished.error;
        if (!(error instanceof FetchFailedError) || (stageRuns.get(finished.id) ?? 0) >= MAX_STAGE_ATTEMPTS)
          throw error;
        this.resubmitAfterFetchFailure(state, plan, finished.id, error, { done, skipped, globalIds });
      }
    } catch (error) {
      const cancelled = (error as StratusError).code === 'JOB_CANCELLED';
      this.tasks.abortJob(
        jobId,
        `job ${jobId} ${cancelled ? 'was cancelled' : 'failed'}`,
        coerceError(error),
      );
      await Promise.allSettled(running.values());
      this.emit({
        type: 'job-end',
        at: this.clock.now(),
        appId,
        jobId,
        status: cancelled ? 'cancelled' : 'failed',
        error: errorInfoOf(error),
        ...accumulatorsOf(state),
      });
      throw error;
    }
    if (!resultRun) throw new Error(`internal: job ${jobId} has no result stage`);
    let outcome: JobOutcome;
    try {
      outcome = await this.mergeResults(state, plan, resultRun, jobId);
    } catch (error) {
      // The action's merge runs on the driver and may fail the job (first() of nothing).
      this.emit({
        type: 'job-end',
        at: this.clock.now(),
        appId,
        jobId,
        status: 'failed',
        error: errorInfoOf(error),
        ...accumulatorsOf(state),
      });
      throw error;
    }
    this.emit({
      type: 'job-end',
      at: this.clock.now(),
      appId,
      jobId,
      status: 'succeeded',
      ...accumulatorsOf(state),
    });
    return outcome;
  }

  /** The job's outcome from its result stage: the merged result, or a save action's parts. */
  private async mergeResults(
    state: RunState,
    plan: JobPlan,
    resultRun: StageRun,
    jobId: number,
  ): Promise<JobOutcome> {
    const action = state.graph.resolveAction(plan.action);
    if (isSaveOp(action.op)) {
      const parts = resultRun.saved;
      const merged: SaveResult = {
        path: String(action.options.path),
        partitions: parts.length,
        records: parts.reduce((n, p) => n + p.records, 0),
      };
      return { jobId, result: merged, savedParts: parts };
    }
    const all = await fetchResultPartials(this.env.blobs, resultRun.results, resultRun.resultBlobs);
    const partials = computedPartitions(resultRun.plan).map((p) => all[p]);
    return { jobId, result: mergeActionResults(action, partials, hiddenResultsOf(resultRun.plan)) };
  }

  /**
   * A stage stopped on a fetch failure (Spark's handleTaskCompletion for FetchFailed): forget the
   * outputs of the shuffle it could not read (every shuffle it reads when the executor did not
   * say which), so the map stages that write them run again, and run the failed stage after
   * them. Both get new stage ids: attempts of the old runs may still report, and must not be
   * taken for attempts of the new ones.
   */
  private resubmitAfterFetchFailure(
    state: RunState,
    plan: JobPlan,
    failedStageId: number,
    error: FetchFailedError,
    job: { done: Set<number>; skipped: Map<number, SkipReason>; globalIds: Map<number, number> },
  ): void {
    const failed = plan.stages.find((s) => s.stageId === failedStageId)!;
    // A stage listed above a cached dataset is a parent for display only: it writes nothing read here.
    const mapStages = plan.stages.filter(
      (s) =>
        s.shuffle !== undefined &&
        s.aboveCache === undefined &&
        failed.parents.includes(s.stageId) &&
        (error.shuffleId === undefined || s.shuffle.shuffleId === error.shuffleId),
    );
    for (const stage of [...mapStages, failed]) {
      if (stage.shuffle) {
        state.shuffleTables.delete(stage.shuffle.shuffleId);
        state.tracker.forget(stage.shuffle.shuffleId);
      }
      job.done.delete(stage.stageId);
      job.skipped.delete(stage.stageId);
      job.globalIds.set(stage.stageId, this.nextStageId++);
    }
    const rerun = mapStages.map((s) => job.globalIds.get(s.stageId)!).join(', ');
    this.emit({
      ...noticeEvent(
        this.env.appId,
        'warn',
        `${error.message}; resubmitting its map stage as stage ${rerun}`,
      ),
      at: this.clock.now(),
    });
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
    const run = newStageRun(jobId, stageId, stage, { name: actionName, op: plan.actionOp });
    const base = { appId, jobId, stageId };
    this.tasks.submit(run, { codeHash: state.codeHash, stageBlob, stageHash }, (event) => {
      recordTaskSuccess(state, run, event);
      checkResultLimit(run, this.env.maxResultBytes);
    });
    this.emit({
      ...base,
      type: 'stage-submitted',
      at: this.clock.now(),
      kind: stage.kind,
      name: stageName(plan, stage),
      numTasks: computedPartitions(stage).length,
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
      for (const { nodeId } of stage.localPersists ?? []) state.locallyPersisted.add(nodeId);
    } catch (error) {
      this.tasks.endStage(run, run.abortReason ?? `stage ${stageId} failed`);
      this.emit({
        ...base,
        type: 'stage-completed',
        at: this.clock.now(),
        status: 'failed',
        error: errorInfoOf(error),
      });
      throw error;
    }
    // Every partition succeeded, so any attempt still open lost its race to another one.
    this.tasks.endStage(run, `stage ${stageId} completed`);
    this.emit({ ...base, type: 'stage-completed', at: this.clock.now(), status: 'succeeded' });
    return run;
  }
}
