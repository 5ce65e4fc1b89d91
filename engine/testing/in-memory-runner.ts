/**
 * Runs a whole job module in one process: planJob → runTask for every partition of every
 * stage (parents first) → mergeActionResults, with shuffle outputs, cached partitions and
 * spilled runs in memory. It is the engine's end-to-end proof and the reference for the
 * distributed scheduler, which must drive the engine the same way:
 *  1. build the graph once on the driver; resolve file sources into partition counts;
 *  2. per action (in order): planJob; on `needsSampling`, run that sampling job first
 *     (recursively), computeRangeBounds, remember the bounds, plan again; on `needsHiddenJob`,
 *     run that hidden job, remember its merged result, plan again;
 *  3. run stages parents first, skipping a shuffle-map stage whose shuffle is already
 *     complete from an earlier job; each task builds its OWN graph (as an executor does),
 *     checks the fingerprint and calls runTask;
 *  4. keep map outputs per shuffle, persist cachedOutputs (a node is cached once all its
 *     partitions are), merge accumulator updates once per partition, merge the result
 *     stage's partials in partition order (only the partitions the stage computes);
 *  5. perform `unpersist` entries between the jobs, in the actions' order (no job).
 * Partitions persisted at 'memory' / 'disk' stay with the simulated executor whose task computed
 * them (`executors`, tasks dealt round-robin), so a task dealt elsewhere recomputes them, as on
 * Azure Functions where any instance may take any task (in-memory-blocks.ts).
 */
import { type ActionRef, isSaveOp, mergeActionResults } from '../dataset/actions.js';
import type { JobActions, JobDefinition, JobResults } from '../dataset/job.js';
import { validateJobParams } from '../dataset/job-params.js';
import { isUnpersist } from '../dataset/persist-ops.js';
import { decodeBroadcastValue, encodeBroadcastValue } from '../dataset/shared-variables.js';
import { buildJobGraph, type JobGraph } from '../plan/graph.js';
import { checkParallelizeData } from '../plan/record-checks.js';
import {
  computedPartitions,
  hiddenResultsOf,
  isSamplingRequest,
  type JobPlan,
  planJob,
  type StagePlan,
} from '../plan/stages.js';
import { getCodec } from '../records/codec.js';
import type { Key } from '../records/keys.js';
import { fromTaggedJson, type JsonValue, toTaggedJson } from '../records/tagged-json.js';
import { readSegments } from '../shuffle/map-output.js';
import { computeRangeBounds, type RangeSample } from '../shuffle/partitioner.js';
import type { TaskIO } from '../task/task-io.js';
import { runTask, type TaskOutput } from '../task/task-runtime.js';
import { InMemoryExecutorBlocks, type InMemoryFile, wholeFilePartitions } from './in-memory-blocks.js';
import { InMemorySpillStore } from './in-memory-spill.js';

export type { InMemoryFile } from './in-memory-blocks.js';

/** Options of an in-memory run. */
export interface InMemoryRunOptions {
  /** Default 4. */
  defaultParallelism?: number;
  /** Per-task memory budget (bytes); default 64 MiB. Tiny budgets force spilling. */
  memoryBudgetBytes?: number;
  /** File sources: uri → the text of each input partition. */
  files?: Readonly<Record<string, readonly string[]>>;
  /**
   * Whole-file sources (wholeTextFiles, binaryFiles): uri → its files in order, packed into
   * partitions by the driver's rule (packWholeFiles, `wholeFilePartitionBytes` at most).
   */
  wholeFiles?: Readonly<Record<string, readonly InMemoryFile[]>>;
  /** Upper bound of a whole-file partition (bytes); default as the driver's. */
  wholeFilePartitionBytes?: number;
  /** Simulated executors holding 'memory' / 'disk' persisted partitions; tasks are dealt round-robin. Default 1. */
  executors?: number;
}

/** One job the runner ran (actions and hidden sampling jobs). */
export interface InMemoryJobRecord {
  action: ActionRef;
  plan: JobPlan;
  stagesRun: number[];
  stagesSkipped: number[];
}

/** What a run produced. */
export interface InMemoryRunResult<R> {
  results: JobResults<R>;
  accumulators: Record<string, unknown>;
  jobs: InMemoryJobRecord[];
  /** Lines written by save actions: path → lines of each partition's part file. */
  savedFiles: Map<string, string[][]>;
  /** Sorted runs spilled across all tasks. */
  spillCount: number;
  /** Reads of 'memory' / 'disk' persisted partitions: found on the task's executor, or recomputed. */
  localReads: { hits: number; misses: number };
}

/** Run every action of `def` with `params` in this process. */
export async function runJobInMemory<P, R extends JobActions>(
  def: JobDefinition<P, R>,
  params: P,
  options: InMemoryRunOptions = {},
): Promise<InMemoryRunResult<R>> {
  const defaultParallelism = options.defaultParallelism ?? 4;
  const budget = options.memoryBudgetBytes ?? 64 * 1024 * 1024;
  const files = options.files ?? {};
  const validated = (await validateJobParams(def.params, params, 'in-memory job')) as P;
  // Executors get the params through the stage descriptor, as tagged JSON text.
  const taskParams = fromTaggedJson(JSON.parse(JSON.stringify(toTaggedJson(validated))) as JsonValue) as P;
  const graph = buildJobGraph(def, validated, { defaultParallelism });
  checkParallelizeData(graph);
  const sourcePartitions = new Map<number, number>();
  const wholeFileParts = new Map<number, InMemoryFile[][]>();
  for (const source of graph.sources()) {
    if (source.wholeFiles) {
      const given = options.wholeFiles?.[source.uri];
      if (!given) throw new Error(`in-memory run: no whole files given for ${source.uri}`);
      const parts = wholeFilePartitions(given, source.minPartitions, options.wholeFilePartitionBytes);
      wholeFileParts.set(source.nodeId, parts);
      sourcePartitions.set(source.nodeId, parts.length);
      continue;
    }
    const parts = files[source.uri];
    if (!parts) throw new Error(`in-memory run: no file given for ${source.uri}`);
    sourcePartitions.set(source.nodeId, parts.length);
  }
  const rangeBounds = new Map<number, Key[]>();
  const hiddenResults = new Map<number, unknown>();
  const cachedNodes = new Set<number>();
  const released = new Set<number>();
  const cache = new Map<number, Map<number, Buffer>>();
  const blocks = new InMemoryExecutorBlocks(options.executors ?? 1);
  const shuffles = new Map<number, Buffer[][]>();
  const spill = new InMemorySpillStore();
  const jobs: InMemoryJobRecord[] = [];
  const savedFiles = new Map<string, string[][]>();
  // The text each save task of the running save stage wrote to its part, by partition.
  let savedParts: string[] = [];

  // Broadcasts travel as the driver's encoded values, as on executors (never the task's rebuild).
  const shipped = new Map(
    [...graph.broadcastValues()].map(([id, value]) => [id, encodeBroadcastValue(id, value)] as const),
  );
  const io: TaskIO = {
    async *readSource(source, partition) {
      const whole = wholeFileParts.get(source.nodeId);
      if (whole) {
        yield* InMemoryExecutorBlocks.readWholeFiles(whole[partition]!);
        return;
      }
      const text = Buffer.from(files[source.uri]![partition]!, 'utf8');
      // Two chunks cut mid-way, so lines (and UTF-8 characters) straddle chunks.
      const cut = Math.floor(text.length / 2);
      yield text.subarray(0, cut);
      yield text.subarray(cut);
    },
    async *readShuffle(shuffleId, reducePartition) {
      const outputs = shuffles.get(shuffleId);
      if (!outputs) throw new Error(`shuffle ${shuffleId} has no outputs`);
      // Any order of map outputs must do: read them last to first.
      for (let m = outputs.length - 1; m >= 0; m--) yield outputs[m]![reducePartition]!;
    },
    readCached(nodeId, partition) {
      const data = cache.get(nodeId)?.get(partition);
      return data
        ? (async function* () {
            yield data;
          })()
        : undefined;
    },
    readLocalPartition: async (nodeId, partition, level) => blocks.read(nodeId, partition, level),
    broadcastValue: (id) => {
      const bytes = shipped.get(id);
      if (!bytes) throw new Error(`in-memory run: no broadcast ${id}`);
      return decodeBroadcastValue(bytes);
    },
    openSavedPart(partition) {
      savedParts[partition] = '';
      return {
        async write(text) {
          savedParts[partition] += text;
        },
        async close() {},
      };
    },
    spill,
    memoryBudgetBytes: budget,
  };

  const runStage = async (stage: StagePlan, fingerprint: string): Promise<TaskOutput[]> => {
    const outputs: TaskOutput[] = [];
    savedParts = [];
    for (const p of computedPartitions(stage)) {
      // Each task builds its own graph from the module, as an executor does.
      const taskGraph: JobGraph = buildJobGraph(def, taskParams, { defaultParallelism });
      const wire = JSON.parse(JSON.stringify(stage)) as StagePlan; // the stage descriptor travels as JSON
      blocks.dealTask(wire.releasedNodes);
      const output = await runTask(taskGraph, wire, p, io, { fingerprint });
      graph.mergeAccumulatorUpdates(output.accumulatorUpdates);
      for (const c of output.cachedOutputs) {
        if (c.storage === 'memory' || c.storage === 'disk') {
          blocks.keep(c.nodeId, c.partition, c.storage, c.data);
          continue;
        }
        const parts = cache.get(c.nodeId) ?? new Map<number, Buffer>();
        cache.set(c.nodeId, parts);
        parts.set(c.partition, c.data);
        if (parts.size === stage.nodePartitions[c.nodeId]) cachedNodes.add(c.nodeId);
      }
      outputs.push(output);
    }
    return outputs;
  };

  /** An `unpersist` entry: release the node's persisted partitions (a checkpoint stays). */
  const unpersist = (nodeId: number): boolean => {
    const node = graph.node(nodeId);
    if (node.storageLevel === undefined || released.has(nodeId)) return false;
    released.add(nodeId);
    let had = blocks.release(nodeId);
    if (node.storageLevel === 'blob' && !node.checkpoint) {
      had = cache.has(nodeId) || had;
      cache.delete(nodeId);
      cachedNodes.delete(nodeId);
    }
    return had;
  };

  const runAction = async (ref: ActionRef): Promise<unknown> => {
    const step = graph.resolveAction(ref);
    if (isUnpersist(step)) return unpersist(step.nodeId);
    for (;;) {
      const planned = planJob(graph, ref, {
        cachedNodes,
        rangeBounds,
        sourcePartitions,
        hiddenResults,
        released,
      });
      if (isSamplingRequest(planned)) {
        if (planned.needsHiddenJob) {
          const { hiddenJobId, action } = planned.needsHiddenJob;
          hiddenResults.set(hiddenJobId, await runAction(action));
          continue;
        }
        const { nodeId, sampleAction, numPartitions } = planned.needsSampling!;
        const samples = (await runAction(sampleAction)) as RangeSample[];
        rangeBounds.set(nodeId, computeRangeBounds(samples, numPartitions));
        continue;
      }
      const record: InMemoryJobRecord = { action: ref, plan: planned, stagesRun: [], stagesSkipped: [] };
      jobs.push(record);
      let partials: unknown[] = [];
      for (const stage of planned.stages) {
        // Listed above a cached dataset (never run), or its shuffle was written by an earlier job.
        if (
          stage.aboveCache !== undefined ||
          (stage.kind === 'shuffle-map' && shuffles.has(stage.shuffle!.shuffleId))
        ) {
          record.stagesSkipped.push(stage.stageId);
          continue;
        }
        record.stagesRun.push(stage.stageId);
        const outputs = await runStage(stage, planned.fingerprint);
        if (stage.kind === 'shuffle-map') {
          const segments: Buffer[][] = [];
          for (const o of outputs) {
            if (o.kind !== 'shuffle-map') continue;
            segments.push(await readSegments(o.mapOutput));
            await o.mapOutput.discard();
          }
          shuffles.set(stage.shuffle!.shuffleId, segments);
        } else {
          // Results come back encoded, as from executors (here always through a "blob").
          const codec = getCodec(stage.codec);
          partials = outputs.map((o) =>
            o.kind === 'shuffle-map' ? undefined : codec.decode(codec.encode([o.result], 'result'))[0],
          );
        }
      }
      const action = graph.resolveAction(ref);
      const resultStage = planned.stages[planned.resultStageId]!;
      const merged = mergeActionResults(action, partials, hiddenResultsOf(resultStage));
      if (isSaveOp(action.op)) {
        // Part files as lines (a CSV header included), as a reader of the files would see them.
        const lines = savedParts.map((text) => (text === '' ? [] : text.slice(0, -1).split('\n')));
        savedFiles.set(action.options.path as string, lines);
      }
      return merged;
    }
  };

  const byName: Record<string, unknown> = {};
  for (const name of graph.actionNames) byName[name] = await runAction({ name });
  const results = (graph.singleAction ? byName[graph.actionNames[0]!] : byName) as JobResults<R>;
  return {
    results,
    accumulators: graph.accumulatorValues(),
    jobs,
    savedFiles,
    spillCount: spill.written,
    localReads: blocks.reads,
  };
}
