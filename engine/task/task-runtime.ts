/**
 * Runs ONE task — one partition of one stage — given the job graph the executor built
 * (one graph per concurrent task: the graph carries the task's accumulators and
 * broadcast access) and the TaskIO it implements over blobs.
 *
 * A shuffle-map task returns its map output — R encoded segments (one per reduce partition,
 * possibly empty), partly spilled over the memory budget — for the executor to stream
 * contiguously into one blob; a save task streams its lines into TaskIO.openSavedPart and
 * returns their count and size; a result task returns its action's partial result
 * (JSON-serialisable; see actions.ts) for the driver's mergeActionResults. All return
 * accumulator updates, persisted partitions and metrics.
 */

import { asUserCodeError, StratusError } from '../../contract/errors.js';
import { type SavedPartSummary, writeSavedPart } from '../dataset/actions.js';
import type { TaskBinding } from '../dataset/graph-builder.js';
import type { JobGraph } from '../plan/graph.js';
import { nodeLabel } from '../plan/nodes.js';
import { hiddenResultsOf, type StagePlan } from '../plan/stages.js';
import { getCodec, RecordEncodingError } from '../records/codec.js';
import { unsupportedValue } from '../records/record-values.js';
import type { MapOutput } from '../shuffle/map-output.js';
import { writeShuffle } from '../shuffle/shuffle-write.js';
import { MemoryTracker } from './memory.js';
import {
  type CachedPartitionOutput,
  computePartition,
  type PipelineContext,
  type TaskRunMetrics,
  zeroTaskMetrics,
} from './pipeline.js';
import type { TaskIO } from './task-io.js';

export type { CachedPartitionOutput, TaskRunMetrics } from './pipeline.js';
export type { TaskIO } from './task-io.js';

interface TaskOutputBase {
  /** Accumulator name → this task's merged update (absent when the task added nothing). */
  accumulatorUpdates: Record<string, unknown>;
  /** Partitions of persisted or checkpointed nodes this task computed in full (see CachedPartitionOutput.storage). */
  cachedOutputs: CachedPartitionOutput[];
  metrics: TaskRunMetrics;
}

/** What a shuffle-map task produced. */
export interface ShuffleMapTaskOutput extends TaskOutputBase {
  kind: 'shuffle-map';
  /**
   * One encoded segment per reduce partition (stage.shuffle.numReducePartitions of them); the
   * caller reads them out and then calls `discard()` to delete what was spilled.
   */
  mapOutput: MapOutput;
}

/** What a save task produced: its part file went to TaskIO.openSavedPart. */
export interface SavedPartTaskOutput extends TaskOutputBase {
  kind: 'saved-part';
  /** The part file's records and bytes (the action's partial for mergeActionResults). */
  result: SavedPartSummary;
}

/** What a result task produced. */
export interface ResultTaskOutput extends TaskOutputBase {
  kind: 'result';
  /** The action's partial for this partition (JSON-serialisable). */
  result: unknown;
}

/** The output of runTask. */
export type TaskOutput = ShuffleMapTaskOutput | SavedPartTaskOutput | ResultTaskOutput;

/** Options of runTask. */
export interface RunTaskOptions {
  /** The plan's fingerprint: when given and different from the graph's, the builder is not deterministic. */
  fingerprint?: string;
  /** The driver's JobGraph.parallelizeDigests, to name the parallelize whose data differs. */
  parallelizeDigests?: Readonly<Record<string, string>>;
}

/** `: the data given to parallelize (node 3) differs…` when that explains a fingerprint mismatch, else ''. */
function differingData(graph: JobGraph, driverDigests: Readonly<Record<string, string>> | undefined): string {
  if (!driverDigests) return '';
  for (const [id, digest] of Object.entries(graph.parallelizeDigests)) {
    const driver = driverDigests[id];
    if (driver === undefined || driver === digest) continue;
    const node = graph.nodes[Number(id)];
    const length = node?.impl.type === 'parallelize' ? node.impl.data.length : undefined;
    return `: the data given to ${node ? nodeLabel(node) : `node ${id}`} differs from the driver's (${length} elements here; compute it from params or module constants, or read it on the driver and broadcast it)`;
  }
  return '';
}

/** Run one task. Throws StratusErrors a user can cause (USER_CODE, INVALID_KEY, RECORD_NOT_ENCODABLE…). */
export async function runTask(
  graph: JobGraph,
  stage: StagePlan,
  partition: number,
  io: TaskIO,
  options: RunTaskOptions = {},
): Promise<TaskOutput> {
  if (options.fingerprint !== undefined && options.fingerprint !== graph.fingerprint) {
    throw new StratusError(
      'NONDETERMINISTIC_BUILDER',
      `the job builder produced a different graph here than on the driver${differingData(graph, options.parallelizeDigests)}; builders must be deterministic`,
      { stageId: stage.stageId, partition },
    );
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= stage.numPartitions) {
    throw new StratusError('PLAN_MISMATCH', `stage ${stage.stageId} has no partition ${partition}`);
  }
  const broadcasts = new Map<number, unknown>();
  const hidden = hiddenResultsOf(stage);
  const binding: TaskBinding = {
    accumulatorUpdates: new Map(),
    broadcastValue(id) {
      if (!broadcasts.has(id)) broadcasts.set(id, io.broadcastValue(id));
      return broadcasts.get(id);
    },
    hiddenJobResult: hidden,
  };
  const memory = new MemoryTracker(io.memoryBudgetBytes);
  // Spilled bytes as written to the spill store (encoded), for the task's metrics.
  let spillBytes = 0;
  const spill = io.spill;
  io = {
    ...io,
    spill: {
      writeRun: (chunks) =>
        spill.writeRun(
          (function* () {
            for (const chunk of chunks) {
              spillBytes += chunk.length;
              yield chunk;
            }
          })(),
        ),
      readRun: (runId) => spill.readRun(runId),
      readRunRange: (runId, offset, length) => spill.readRunRange(runId, offset, length),
      deleteRun: (runId) => spill.deleteRun(runId),
    },
  };
  const ctx: PipelineContext = {
    graph,
    stage,
    io,
    codec: getCodec(stage.codec),
    memory,
    metrics: zeroTaskMetrics(),
    cachedOutputs: [],
  };
  const finish = <O extends object>(output: O): O & TaskOutputBase => {
    ctx.metrics.peakMemoryBytes = Math.round(memory.peakBytes);
    ctx.metrics.spillCount = memory.spillCount;
    ctx.metrics.spillBytes = spillBytes;
    return {
      ...output,
      accumulatorUpdates: Object.fromEntries(binding.accumulatorUpdates),
      cachedOutputs: ctx.cachedOutputs,
      metrics: ctx.metrics,
    };
  };
  graph.bindTask(binding);
  try {
    const records = computePartition(ctx, stage.rddNodeId, partition);
    let output:
      | { kind: 'shuffle-map'; mapOutput: MapOutput }
      | { kind: 'saved-part'; result: SavedPartSummary }
      | { kind: 'result'; result: unknown };
    if (stage.kind === 'shuffle-map') {
      const info = stage.shuffle;
      if (!info) throw new Error(`internal: shuffle-map stage ${stage.stageId} has no shuffle`);
      const { node, dep } = graph.shuffleDependency(info.shuffleId);
      const aggregator =
        dep.mapSideCombine && node.impl.type === 'shuffled' ? node.impl.aggregator : undefined;
      const written = await writeShuffle(records, {
        info,
        dep,
        aggregator,
        mapPartition: partition,
        codec: ctx.codec,
        memory,
        spill: io.spill,
        label: nodeLabel(node),
        producer: graph.label(stage.rddNodeId),
      });
      const bytes = written.output.segmentSizes.reduce((n, s) => n + s, 0);
      ctx.metrics.recordsWritten += written.recordsWritten;
      ctx.metrics.shuffleWriteBytes += bytes;
      ctx.metrics.bytesWritten += bytes;
      output = { kind: 'shuffle-map', mapOutput: written.output };
    } else {
      if (!stage.action) throw new Error(`internal: result stage ${stage.stageId} has no action`);
      const action = graph.resolveAction(stage.action);
      if (action.impl.save) {
        const summary = await writeSavedPart(
          records,
          action.impl.save,
          io.openSavedPart(partition),
          action.op,
        );
        ctx.metrics.recordsWritten += summary.records;
        ctx.metrics.bytesWritten += summary.bytes;
        return finish({ kind: 'saved-part', result: summary });
      }
      let result: unknown;
      try {
        result = await action.impl.partial(records, partition, hidden);
      } catch (error) {
        throw asUserCodeError(action.op, error);
      }
      // Refused here, where the operator is known, rather than when the executor packs the result.
      const bad = unsupportedValue(result, `its ${action.op} result`);
      if (bad) throw new RecordEncodingError(graph.label(stage.rddNodeId), bad);
      output = { kind: 'result', result };
    }
    return finish(output);
  } catch (error) {
    if (error instanceof StratusError && error.context.stageId === undefined) {
      (error.context as { stageId?: number; partition?: number }).stageId = stage.stageId;
      (error.context as { stageId?: number; partition?: number }).partition ??= partition;
    }
    throw error;
  } finally {
    graph.bindTask(undefined);
  }
}
