/**
 * Stage splitting (Spark's DAGScheduler.getShuffleDependencies / createShuffleMapStage):
 * a job's stages are cut at shuffle dependencies, narrow operations are pipelined into
 * one stage, and stages are numbered 0..k-1 parents first, the result stage last.
 * Shuffle ids come from the graph (one per shuffle dependency, construction order), so a
 * shuffle computed by an earlier job of the same run can be reused: the driver skips a
 * shuffle-map stage whose shuffle outputs it already has. Nodes stored in blobs (in
 * `cachedNodes`: persisted at 'blob', or checkpointed) are read, not computed. Above a node
 * persisted at 'blob' the shuffle-map stages of its lineage are still listed, flagged
 * `aboveCache`, as Spark's DAGScheduler lists every stage of the lineage and shows those above a
 * cached RDD as skipped: they are for display and never run. Above a checkpoint or a handle
 * nothing is planned (lineage truncated, as Spark's checkpointed RDD has no dependencies left).
 * Nodes persisted on executors ('memory', 'disk') keep their lineage in the stage, since a task
 * that lands elsewhere recomputes them (persistence.ts).
 *
 * A sort needs range bounds from a sampling job first: when a sort node has no bounds in
 * `rangeBounds`, planJob returns `{ needsSampling }` instead of a plan; the driver runs
 * the sampling action (planJob on it, run, mergeActionResults), calls
 * `computeRangeBounds(samples, numPartitions)` and plans again. Hidden jobs of other kinds
 * (dataset/hidden-jobs.ts: zipWithIndex's partition counts, histogram's range) work the same
 * way: planJob returns `{ needsHiddenJob }`, the driver runs that action as a hidden job, keeps
 * its merged result in `hiddenResults` and plans again; the plan then carries the results each
 * stage's tasks read (StagePlan.hiddenResults). An action may also compute only some partitions
 * of its dataset (StagePlan.partitions, Spark's runJob over a subset: lookup on a partitioned
 * dataset).
 */

import { StratusError } from '../../contract/errors.js';
import type { ActionRef, HiddenResults } from '../dataset/actions.js';
import { DEFAULT_CODEC_NAME } from '../records/codec.js';
import type { Key } from '../records/keys.js';
import { type PartitionerDesc, rangePartitionerDesc } from '../shuffle/partitioner.js';
import type { JobGraph } from './graph.js';
import { type GraphNode, isShuffleNode, isSortNode, nodeLabel, shuffleDepsOf } from './nodes.js';
import { type LocalStorageLevel, persistRole } from './persistence.js';

/** What a shuffle-map stage writes. */
export interface ShuffleWriteInfo {
  shuffleId: number;
  numReducePartitions: number;
  /** How map tasks route records (a range partitioner carries its bounds). */
  partitioner: PartitionerDesc;
  mapSideCombine: boolean;
}

/** A shuffle a stage's tasks read (reduce side). */
export interface ShuffleReadInfo {
  shuffleId: number;
  /** The map stage's partition count: how many map outputs each reduce partition gathers. */
  numMapPartitions: number;
}

/** One stage: JSON-serialisable, it goes into the stage descriptor blob that every task reads. */
export interface StagePlan {
  /** 0..k-1 within the job, parents first. */
  stageId: number;
  kind: 'shuffle-map' | 'result';
  /** The last node of the pipeline: the node whose partitions the tasks compute. */
  rddNodeId: number;
  /** Number of tasks. */
  numPartitions: number;
  /** Stage ids this stage waits for. */
  parents: number[];
  /** Shuffle-map stages: what to write. */
  shuffle?: ShuffleWriteInfo;
  /**
   * Set on a shuffle-map stage of the lineage above a dataset read from blobs (cache() /
   * persist('blob')): the id of that cached node. The stage is listed, as Spark lists it, and is
   * always skipped: no task runs it. (Its partition count over an unsampled sort is the one asked for.)
   */
  aboveCache?: number;
  /** Result stages: which action's partial to compute. */
  action?: ActionRef;
  /** Node ids computed by this stage's tasks, upstream first. */
  pipeline: number[];
  /** Shuffles the stage reads. */
  shuffleReads: ShuffleReadInfo[];
  /** Cached nodes whose partitions are read through TaskIO.readCached. */
  cacheReads: number[];
  /** Nodes persisted at 'blob' or checkpointed, computed here, whose partitions a task returns as cachedOutputs. */
  cacheWrites: number[];
  /**
   * Nodes persisted on executors ('memory' / 'disk'): a task reads its executor's copy of the
   * partition when there is one, else computes it and keeps it there (returned as cachedOutputs).
   */
  localPersists?: { nodeId: number; level: LocalStorageLevel }[];
  /** Of cacheReads, the nodes read from a dataset handle an earlier run made (engine/dataset/handles.ts). */
  handleReads?: number[];
  /** Of cacheReads and cacheWrites, the checkpointed nodes (their blobs are the checkpoint). */
  checkpoints?: number[];
  /** Nodes `unpersist` released in the run so far: an executor running the task drops its copies of them. */
  releasedNodes?: number[];
  /** Partition count of every pipeline node and its parents (id → count), for union/coalesce/cartesian mapping. */
  nodePartitions: Record<number, number>;
  /** A coalesced DataFrame stage: its input's partition count, which its tasks read ranges of. */
  relationalInputPartitions?: number;
  /** The record codec of shuffle segments, cached partitions and spill runs. */
  codec: string;
  /**
   * Result stages of an action that computes only some partitions (ascending): one task each,
   * and only their partials are merged. Absent: every partition.
   */
  partitions?: number[];
  /** Merged results of the hidden jobs this stage's tasks read, by hidden job id. */
  hiddenResults?: Record<string, unknown>;
}

/**
 * The hidden job results a stage's tasks (or, for its result stage, the driver's merge) read:
 * throws, naming the job, for one the plan did not carry.
 */
export function hiddenResultsOf(stage: Pick<StagePlan, 'stageId' | 'hiddenResults'>): HiddenResults {
  return (id) => {
    const results = stage.hiddenResults;
    if (!results || !Object.hasOwn(results, String(id)))
      throw new Error(`internal: stage ${stage.stageId} carries no result of hidden job ${id}`);
    return results[String(id)];
  };
}

/** The partitions a stage's tasks compute: `partitions` when the action picked some, else all. */
export function computedPartitions(stage: Pick<StagePlan, 'numPartitions' | 'partitions'>): number[] {
  return stage.partitions ?? Array.from({ length: stage.numPartitions }, (_, p) => p);
}

/** A job's plan: its stages, parents first; the last one is the result stage. */
export interface JobPlan {
  needsSampling?: undefined;
  needsHiddenJob?: undefined;
  action: ActionRef;
  actionOp: string;
  /** Where the job module called the action (`wordcount.ts:12`); absent for hidden jobs. */
  actionCallSite?: string;
  stages: StagePlan[];
  resultStageId: number;
  /** The graph's fingerprint, to be checked by executors. */
  fingerprint: string;
  /** Human labels of the nodes in the plan (id → `map at sales.ts:8`, else `map (node 3)`), for describePlan, stage names and the UI. */
  nodeLabels: Record<number, string>;
}

/** Returned instead of a plan when a hidden job must run first: one of the two fields is set. */
export interface SamplingRequest {
  /** A sort's bounds must first be sampled. */
  needsSampling?: {
    /** The sort node whose bounds are missing. */
    nodeId: number;
    /** Run this action as a hidden job; its merged result is RangeSample[]. */
    sampleAction: ActionRef;
    /** Pass to computeRangeBounds. */
    numPartitions: number;
  };
  /** A hidden job of dataset/hidden-jobs.ts must run: keep its merged result in `hiddenResults`. */
  needsHiddenJob?: {
    hiddenJobId: number;
    /** Run this action as a hidden job. */
    action: ActionRef;
    /** Why, for run events and explain: `counting the records of each partition for zipWithIndex at job.ts:4`. */
    reason: string;
  };
}

/** What the driver knows when planning. */
export interface PlanOptions {
  /** Nodes whose partitions are all in blobs (persisted at 'blob' or checkpointed by an earlier job of the run). */
  cachedNodes?: ReadonlySet<number>;
  /**
   * The partition count of cached nodes, as stored (node id → count). A cache handed on from an
   * earlier run may sit above a sort this run has not sampled: its stored count is the answer.
   */
  cachedPartitions?: ReadonlyMap<number, number>;
  /** Nodes `unpersist` released: their storage level no longer applies (a checkpoint still does). */
  released?: ReadonlySet<number>;
  /** Range bounds of sort nodes, from their sampling jobs. */
  rangeBounds?: ReadonlyMap<number, Key[]>;
  /** Partition counts of file sources, as the driver split them (graph.sources()). */
  sourcePartitions?: ReadonlyMap<number, number>;
  /** Record codec name (default json-batches). */
  codec?: string;
  /** Merged results of the hidden jobs run so far, by hidden job id. */
  hiddenResults?: ReadonlyMap<number, unknown>;
}

/** Spark samples ~20 keys per output partition, 3× oversampled; we cap it at 100 keys per input partition. */
export function sampleSizePerPartition(numOutputPartitions: number, numInputPartitions: number): number {
  const total = Math.min(20 * numOutputPartitions, 1_000_000);
  return Math.max(1, Math.min(100, Math.ceil((3 * total) / Math.max(1, numInputPartitions))));
}

/** Partition counts of nodes, memoised. */
export class PartitionCounter {
  private readonly counts = new Map<number, number>();
  /**
   * `estimateUnsampled`: a sort without sampled bounds counts the partitions it asks for instead of
   * throwing (for stages listed above a cached dataset, which never run and need no sampling job).
   */
  constructor(
    private readonly graph: JobGraph,
    private readonly options: PlanOptions,
    private readonly estimateUnsampled = false,
  ) {}

  /** The number of partitions of node `id`. */
  of(id: number): number {
    let n = this.counts.get(id);
    if (n === undefined) {
      n = this.compute(this.graph.node(id));
      this.counts.set(id, n);
    }
    return n;
  }

  private compute(node: GraphNode): number {
    const stored = this.options.cachedNodes?.has(node.id)
      ? this.options.cachedPartitions?.get(node.id)
      : undefined;
    if (stored !== undefined) return stored;
    const impl = node.impl;
    switch (impl.type) {
      case 'parallelize':
        return node.requestedPartitions!;
      case 'file': {
        const n = this.options.sourcePartitions?.get(node.id);
        if (n === undefined) {
          throw new StratusError(
            'SOURCE_UNRESOLVED',
            `${nodeLabel(node)}: the driver has not split ${impl.uri} yet`,
          );
        }
        return n;
      }
      case 'union':
        return node.parents.reduce((sum, p) => sum + this.of(p), 0);
      case 'coalesce':
        return Math.min(node.requestedPartitions!, this.of(node.parents[0]!));
      case 'cartesian':
        return this.of(node.parents[0]!) * this.of(node.parents[1]!);
      case 'shuffled':
        if (impl.partitioning === 'range') {
          if (this.estimateUnsampled && !this.options.rangeBounds?.has(node.id))
            return node.requestedPartitions!;
          return this.boundsOf(node).length + 1;
        }
        // The bridge keeps its parent's partitions, known only once sources are split.
        if (impl.partitioning === 'direct') return this.of(node.parents[0]!);
        return node.requestedPartitions!;
      case 'cogroup':
      case 'handle':
        return node.requestedPartitions!;
      case 'relational': {
        const input = this.relationalInputPartitions(node);
        return impl.fragment.coalesce === undefined ? input : Math.min(impl.fragment.coalesce, input);
      }
      default:
        return this.of(node.parents[0]!);
    }
  }

  /**
   * The partitions of a DataFrame fragment's input (before a coalesce): a file scan is split by
   * the driver, local rows are sliced, and a fragment after an exchange has the exchange's partitions.
   */
  relationalInputPartitions(node: GraphNode): number {
    const impl = node.impl;
    if (impl.type !== 'relational') throw new Error(`internal: node ${node.id} is not relational`);
    if (impl.fragment.input.kind === 'scan') {
      const n = this.options.sourcePartitions?.get(node.id);
      if (n === undefined) {
        throw new StratusError(
          'SOURCE_UNRESOLVED',
          `${nodeLabel(node)}: the driver has not split ${impl.fragment.input.uri} yet`,
        );
      }
      return n;
    }
    if (impl.fragment.input.kind === 'local') return node.requestedPartitions!;
    return this.of(node.parents[0]!);
  }

  /** Range bounds of a sort node: sampled, or none at all when it asks for one partition (as Spark). */
  boundsOf(node: GraphNode): Key[] {
    const bounds = this.options.rangeBounds?.get(node.id);
    if (bounds) return bounds;
    if (node.requestedPartitions === 1) return [];
    if (this.estimateUnsampled) return [];
    throw new Error(`internal: sort node ${node.id} has no bounds`);
  }

  /** The partitioner a shuffle into node `node` uses. */
  partitionerOf(node: GraphNode): PartitionerDesc {
    if (isSortNode(node) && node.impl.type === 'shuffled') {
      return rangePartitionerDesc(this.boundsOf(node), node.impl.sort?.ascending ?? true);
    }
    if (node.impl.type === 'shuffled' && node.impl.partitioning === 'direct')
      return { kind: 'direct', n: this.of(node.id) };
    return { kind: 'hash', n: this.of(node.id) };
  }
}

/** Resolve an action name or ref to its ref. */
function toRef(action: string | ActionRef): ActionRef {
  return typeof action === 'string' ? { name: action } : action;
}

/** Nodes reachable upstream of `id` (stopping at cached nodes), in post-order: parents before children. */
function upstream(graph: JobGraph, id: number, cached: ReadonlySet<number>): number[] {
  const seen = new Set<number>();
  const order: number[] = [];
  const visit = (n: number) => {
    if (seen.has(n)) return;
    seen.add(n);
    if (!cached.has(n)) for (const p of graph.node(n).parents) visit(p);
    order.push(n);
  };
  visit(id);
  return order;
}

/** Plan the job of one action (a name, or a ref such as a sampling action); see the file comment. */
export function planJob(
  graph: JobGraph,
  action: string | ActionRef,
  options: PlanOptions = {},
): JobPlan | SamplingRequest {
  const ref = toRef(action);
  const resolved = graph.resolveAction(ref);
  // A handle's dataset is stored by definition: read from its blobs, never planned above.
  const cached = new Set<number>(options.cachedNodes ?? []);
  for (const node of graph.nodes) if (node.impl.type === 'handle') cached.add(node.id);
  const released = options.released ?? new Set<number>();
  const counter = new PartitionCounter(graph, options);
  // Stages listed above a cached dataset never run: an unsampled sort there needs no sampling job.
  const displayCounter = new PartitionCounter(graph, options, true);
  const reachable = upstream(graph, resolved.nodeId, cached);
  // Hidden job results this job's tasks read (node id or -1 for the action → id → result).
  const hidden = new Map<number, Map<number, unknown>>();
  const needHidden = (jobId: number, by: number): SamplingRequest | undefined => {
    const job = graph.hiddenJob(jobId);
    let result = options.hiddenResults?.get(jobId);
    if (result === undefined && !options.hiddenResults?.has(jobId))
      result = job.withoutJob?.(counter.of(job.action.nodeId));
    if (result === undefined) {
      const forWhat = by >= 0 ? graph.operatorLabel(by) : resolved.op;
      return {
        needsHiddenJob: {
          hiddenJobId: jobId,
          action: { hiddenJob: jobId },
          reason: `${job.purpose} for ${forWhat}`,
        },
      };
    }
    const values = hidden.get(by) ?? new Map<number, unknown>();
    values.set(jobId, result);
    hidden.set(by, values);
    return undefined;
  };
  for (const id of reachable) {
    const node = graph.node(id);
    if (!cached.has(id)) {
      for (const job of graph.hiddenJobsNeededBy(id)) {
        const request = needHidden(job.id, id);
        if (request) return request;
      }
    }
    if (
      isSortNode(node) &&
      !cached.has(id) &&
      !options.rangeBounds?.has(id) &&
      node.requestedPartitions !== 1
    ) {
      const parent = node.parents[0]!;
      const numPartitions = node.requestedPartitions!;
      const perPartition = sampleSizePerPartition(numPartitions, counter.of(parent));
      return {
        needsSampling: { nodeId: id, sampleAction: { sampleSortKeys: id, perPartition }, numPartitions },
      };
    }
  }
  for (const jobId of resolved.impl.needs ?? []) {
    const request = needHidden(jobId, -1);
    if (request) return request;
  }
  const codec = options.codec ?? DEFAULT_CODEC_NAME;
  const stages: StagePlan[] = [];
  const mapStageOf = new Map<number, number>();

  const coalescedInput = (id: number): { relationalInputPartitions?: number } => {
    const node = graph.node(id);
    return node.impl.type === 'relational' && node.impl.fragment.coalesce !== undefined
      ? { relationalInputPartitions: counter.relationalInputPartitions(node) }
      : {};
  };
  /**
   * The shuffles the lineage of cached node `id` (neither a handle nor a checkpoint) reads to
   * compute it, through narrow operations and other cached nodes, stopping where lineage is
   * truncated: a handle, a stored checkpoint.
   */
  const shufflesAbove = (id: number): number[] => {
    const found: number[] = [];
    const seen = new Set<number>();
    const walk = (n: number) => {
      if (seen.has(n)) return;
      seen.add(n);
      const node = graph.node(n);
      if (node.impl.type === 'handle' || (cached.has(n) && node.checkpoint)) return;
      if (isShuffleNode(node)) {
        for (const dep of shuffleDepsOf(node)) if (!found.includes(dep.shuffleId)) found.push(dep.shuffleId);
        for (const index of node.impl.type === 'cogroup' ? (node.impl.narrowParents ?? []) : [])
          walk(node.parents[index]!);
        return;
      }
      for (const p of node.parents) walk(p);
    };
    // The cached node may itself be the shuffle (`groupByKey(2).cache()`): its own dependency counts.
    walk(id);
    return found;
  };
  const buildStage = (rddNodeId: number, tail: Pick<StagePlan, 'kind'> & Partial<StagePlan>): StagePlan => {
    // A stage listed above a cached dataset: its shuffle reads are listed the same way.
    const aboveCache = tail.aboveCache;
    const count = aboveCache === undefined ? counter : displayCounter;
    const pipeline: number[] = [];
    const parents: number[] = [];
    const shuffleReads: ShuffleReadInfo[] = [];
    const cacheReads: number[] = [];
    const cacheWrites: number[] = [];
    const localPersists: { nodeId: number; level: LocalStorageLevel }[] = [];
    const checkpoints: number[] = [];
    const handleReads: number[] = [];
    const nodePartitions: Record<number, number> = {};
    const seen = new Set<number>();
    const visit = (id: number) => {
      if (seen.has(id)) return;
      seen.add(id);
      const node = graph.node(id);
      nodePartitions[id] = count.of(id);
      const role = persistRole(node, cached, released);
      if (node.checkpoint && (role.kind === 'read-blob' || role.kind === 'write-blob')) checkpoints.push(id);
      if (role.kind === 'read-blob') {
        if (node.impl.type === 'handle') handleReads.push(id);
        cacheReads.push(id);
        pipeline.push(id);
        // A cached dataset keeps its lineage (Spark lists its stages, skipped); a checkpoint or a
        // handle has none left.
        if (node.impl.type !== 'handle' && !node.checkpoint) {
          for (const shuffleId of shufflesAbove(id)) {
            const parentStage = mapStage(shuffleId, id);
            if (!parents.includes(parentStage)) parents.push(parentStage);
          }
        }
        return;
      }
      if (isShuffleNode(node)) {
        for (const dep of shuffleDepsOf(node)) {
          const parentStage = mapStage(dep.shuffleId, aboveCache);
          if (!parents.includes(parentStage)) parents.push(parentStage);
          shuffleReads.push({ shuffleId: dep.shuffleId, numMapPartitions: count.of(dep.parent) });
        }
        // A co-partitioned cogroup parent is read one-to-one: its lineage is in this stage.
        for (const index of node.impl.type === 'cogroup' ? (node.impl.narrowParents ?? []) : []) {
          const p = node.parents[index]!;
          visit(p);
          nodePartitions[p] = count.of(p);
        }
      } else {
        for (const p of node.parents) {
          visit(p);
          nodePartitions[p] = count.of(p);
        }
      }
      if (role.kind === 'write-blob') cacheWrites.push(id);
      if (role.kind === 'on-executor') localPersists.push({ nodeId: id, level: role.level });
      pipeline.push(id);
    };
    visit(rddNodeId);
    const hiddenResults: Record<string, unknown> = {};
    const readers = pipeline.filter((id) => !cacheReads.includes(id));
    if (tail.kind === 'result') readers.push(-1);
    for (const by of readers)
      for (const [jobId, result] of hidden.get(by) ?? []) hiddenResults[String(jobId)] = result;
    const stage: StagePlan = {
      stageId: stages.length,
      kind: tail.kind,
      rddNodeId,
      numPartitions: count.of(rddNodeId),
      parents: parents.sort((a, b) => a - b),
      ...(tail.shuffle ? { shuffle: tail.shuffle } : {}),
      ...(aboveCache !== undefined ? { aboveCache } : {}),
      ...(tail.action ? { action: tail.action } : {}),
      pipeline,
      shuffleReads,
      cacheReads,
      cacheWrites,
      ...(localPersists.length > 0 ? { localPersists } : {}),
      ...(checkpoints.length > 0 ? { checkpoints } : {}),
      ...(handleReads.length > 0 ? { handleReads } : {}),
      ...(released.size > 0 ? { releasedNodes: [...released].sort((a, b) => a - b) } : {}),
      nodePartitions,
      ...coalescedInput(rddNodeId),
      codec,
      ...(tail.partitions ? { partitions: tail.partitions } : {}),
      ...(Object.keys(hiddenResults).length > 0 ? { hiddenResults } : {}),
    };
    stages.push(stage);
    return stage;
  };

  /** A stage listed above a cached dataset that a stage which runs reads after all runs too, and so do its parents. */
  const promote = (stageId: number): void => {
    const stage = stages[stageId]!;
    if (stage.aboveCache === undefined) return;
    delete stage.aboveCache;
    for (const read of stage.shuffleReads) promote(mapStageOf.get(read.shuffleId)!);
  };
  /** The map stage writing `shuffleId`; `aboveCache`: wanted only to list the lineage of that cached node. */
  const mapStage = (shuffleId: number, aboveCache?: number): number => {
    const existing = mapStageOf.get(shuffleId);
    if (existing !== undefined) {
      if (aboveCache === undefined) promote(existing);
      return existing;
    }
    const { node, dep } = graph.shuffleDependency(shuffleId);
    const count = aboveCache === undefined ? counter : displayCounter;
    const shuffle: ShuffleWriteInfo = {
      shuffleId,
      numReducePartitions: count.of(node.id),
      partitioner: count.partitionerOf(node),
      mapSideCombine: dep.mapSideCombine,
    };
    const stage = buildStage(dep.parent, {
      kind: 'shuffle-map',
      shuffle,
      ...(aboveCache !== undefined ? { aboveCache } : {}),
    });
    mapStageOf.set(shuffleId, stage.stageId);
    return stage.stageId;
  };

  const partitions = resolved.impl.partitions?.(counter.of(resolved.nodeId));
  if (partitions) checkComputedPartitions(partitions, counter.of(resolved.nodeId), resolved.op);
  const result = buildStage(resolved.nodeId, {
    kind: 'result',
    action: ref,
    ...(partitions ? { partitions: [...partitions] } : {}),
  });
  const nodeLabels: Record<number, string> = {};
  for (const stage of stages) for (const id of stage.pipeline) nodeLabels[id] = graph.operatorLabel(id);
  return {
    action: ref,
    actionOp: resolved.op,
    ...(resolved.callSite !== undefined ? { actionCallSite: resolved.callSite } : {}),
    stages,
    resultStageId: result.stageId,
    fingerprint: graph.fingerprint,
    nodeLabels,
  };
}

function checkComputedPartitions(partitions: readonly number[], n: number, op: string): void {
  partitions.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= n || (i > 0 && p <= partitions[i - 1]!))
      throw new Error(`internal: ${op} asked for partitions ${partitions.join(', ')} of ${n}`);
  });
}

/** True when planJob asked for a hidden job first: a sort's sampling job or another (needsHiddenJob). */
export function isSamplingRequest(plan: JobPlan | SamplingRequest): plan is SamplingRequest {
  return plan.needsSampling !== undefined || plan.needsHiddenJob !== undefined;
}
