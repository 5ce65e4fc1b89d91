/**
 * One submitted stage while it runs, as Spark's Stage with its two kinds: what its task set
 * has produced so far — for a shuffle-map stage the map outputs (kept in the run's
 * MapOutputTracker), for a result stage the results or saved part files per partition — and
 * how the winning success of a partition is recorded (Spark's DAGScheduler
 * handleTaskCompletion for ShuffleMapTask and ResultTask).
 */
import { StratusError } from '../../contract/errors.js';
import type { TaskSucceededEvent } from '../../contract/protocol.js';
import type { StagePlan } from '../../engine/plan/stages.js';
import type { SavedPart } from '../data/output-committer.js';
import { OpenAttempts } from './open-attempts.js';
import type { RunState } from './run-state.js';
import { decodeInlineResult } from './stage-io.js';
import type { TaskSetManager } from './task-set.js';

/** A stage of a running job, from submission to completion. */
export interface StageRun {
  jobId: number;
  /** Application-wide stage id. */
  stageId: number;
  plan: StagePlan;
  /** The action this stage's job computes, and its op, for error messages. */
  action: { name: string; op: string };
  /** Set by the task scheduler when it submits the stage's task set. */
  taskSet: TaskSetManager;
  /** Driver clock when each attempt's message was sent, by `partition/attempt`. */
  launchedAt: Map<string, number>;
  /** Executor clock when each attempt reported task-started, by `partition/attempt`. */
  startedAt: Map<string, number>;
  /** Result stages: inline results by partition. */
  results: unknown[];
  /** Result stages: result blobs by partition (results too large to travel inline) and their codec. */
  resultBlobs: ({ blob: string; codec: string | undefined } | undefined)[];
  /** Result bytes received so far, checked against maxResultBytes. */
  resultBytes: number;
  /** Save actions: the winning part (staged blocks or attempt blob) and its record count by partition. */
  saved: SavedPart[];
  /** Attempts started and not ended, reported killed when their partition or stage is decided. */
  attempts: OpenAttempts;
  /** Why the stage's task set was aborted from outside (job cancelled, application closing). */
  abortReason?: string;
}

/** The state of a stage about to be submitted (its task set is attached at submission). */
export function newStageRun(
  jobId: number,
  stageId: number,
  plan: StagePlan,
  action: { name: string; op: string },
): StageRun {
  return {
    jobId,
    stageId,
    plan,
    action,
    launchedAt: new Map(),
    startedAt: new Map(),
    results: new Array(plan.numPartitions).fill(undefined),
    resultBlobs: new Array(plan.numPartitions).fill(undefined),
    resultBytes: 0,
    saved: new Array(plan.numPartitions),
    attempts: new OpenAttempts(),
    taskSet: undefined as unknown as TaskSetManager,
  };
}

/** Every blob name a success event reports (map output, result or part file, cached partitions). */
function reportedBlobs(event: TaskSucceededEvent): string[] {
  const names = (event.cachedPartitions ?? []).map((c) => c.blob);
  if (event.mapOutputBlob !== undefined) names.push(event.mapOutputBlob);
  if (event.result && 'blob' in event.result) names.push(event.result.blob);
  // Staged blocks name no blob: they are on the part blob the driver itself names.
  return names;
}

/**
 * Record the first success of a partition: accumulator updates, cached partitions, and the
 * map output or result of the stage's kind. Called once per partition, so its side effects
 * count once. A success that breaks the protocol aborts the task set.
 */
export function recordTaskSuccess(state: RunState, run: StageRun, event: TaskSucceededEvent): void {
  // Every blob is taken by the name the winning execution reported (never rebuilt here), so
  // what is committed or read is exactly what that execution wrote and measured.
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
    run.results[event.partition] = decodeInlineResult(result.inline, result.tagged);
    run.resultBytes += JSON.stringify(result.inline ?? null).length;
  } else if ('manifest' in result) {
    run.saved[event.partition] = {
      manifestBlob: result.manifest,
      records: result.records,
      bytes: result.bytes,
    };
  } else if ('stagedBlocks' in result) {
    run.saved[event.partition] = {
      stagedBlocks: result.stagedBlocks,
      records: result.records,
      bytes: result.bytes,
    };
  } else if (result.records !== undefined) {
    run.saved[event.partition] = { attemptBlob: result.blob, records: result.records, bytes: result.bytes };
  } else {
    run.resultBlobs[event.partition] = { blob: result.blob, codec: result.codec };
    run.resultBytes += result.bytes;
  }
}

/**
 * As Spark's spark.driver.maxResultSize: stop at the first success past the limit rather than
 * wait for (and fetch) every partition's result. Aborts the task set; true when it did.
 */
export function checkResultLimit(run: StageRun, maxResultBytes: number): boolean {
  if (run.resultBytes <= maxResultBytes) return false;
  const done = run.taskSet.finishedCount;
  run.taskSet.abort(
    new StratusError(
      'RESULT_TOO_LARGE',
      `job ${run.jobId} (action "${run.action.name}", ${run.action.op}): the results of stage ${run.stageId} ` +
        `reached ${run.resultBytes} bytes after ${done} of ${run.taskSet.partitions.length} tasks, above the ` +
        `driver's limit of ${maxResultBytes} bytes (maxResultBytes); save large outputs with ` +
        'saveAsTextFile instead of collecting them, or raise maxResultBytes',
      { jobId: run.jobId, stageId: run.stageId },
    ),
  );
  return true;
}
