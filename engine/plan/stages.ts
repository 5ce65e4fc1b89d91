/**
 * Stage splitting (Spark's DAGScheduler.getShuffleDependencies / createShuffleMapStage):
 * a job's stages are cut at shuffle dependencies, narrow operations are pipelined into
 * one stage, and stages are numbered 0..k-1 parents first, the result stage last.
 * Shuffle ids come from the graph (one per shuffle dependency, construction order), so a
 * shuffle computed by an earlier job of the same run can be reused: the driver skips a
 * shuffle-map stage whose shuffle outputs it already has. Nodes stored in blobs (in
 * `cachedNodes`: persisted at 'blob', or checkpointed) are read, not computed, so nothing above
 * them is planned; nodes persisted on executors ('memory', 'disk') keep their lineage in the
 * stage, since a task that lands elsewhere recomputes them (persistence.ts).
 *
 * A sort needs range bounds from a sampling job first: when a sort node has no bounds in
 * `rangeBounds`, planJob returns `{ needsSampling }` instead of a plan; the driver runs
 * the sampling action (planJob on it, run, mergeActionResults), calls
 * `computeRangeBounds(samples, numPartitions)` and plans again.
 */

import { StratusError } from '../../contract/errors.js';
import type { ActionRef } from '../dataset/actions.js';
import { DEFAULT_CODEC_NAME } from '../records/codec.js';
import type { Key } from '../records/keys.js';
import type { PartitionerDesc } from '../shuffle/partitioner.js';
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
  /** Of cacheReads and cacheWrites, the checkpointed nodes (their blobs are the checkpoint). */
  checkpoints?: number[];
  /** Nodes `unpersist` released in the run so far: an executor running the task drops its copies of them. */
  releasedNodes?: number[];
  /** Partition count of every pipeline node and its parents (id → count), for union/coalesce mapping. */
  nodePartitions: Record<number, number>;
  /** The record codec of shuffle segments, cached partitions and spill runs. */
  codec: string;
}

/** A job's plan: its stages, parents first; the last one is the result stage. */
export interface JobPlan {
  needsSampling?: undefined;
  action: ActionRef;
  actionOp: string;
  stages: StagePlan[];
  resultStageId: number;
  /** The graph's fingerprint, to be checked by executors. */
  fingerprint: string;
  /** Human labels of the nodes in the plan (id → `map at sales.ts:8`, else `map (node 3)`), for describePlan, stage names and the UI. */
  nodeLabels: Record<number, string>;
}

/** Returned instead of a plan when a sort's bounds must first be sampled. */
export interface SamplingRequest {
  needsSampling: {
    /** The sort node whose bounds are missing. */
    nodeId: number;
    /** Run this action as a hidden job; its merged result is RangeSample[]. */
    sampleAction: ActionRef;
    /** Pass to computeRangeBounds. */
    numPartitions: number;
  };
}

/** What the driver knows when planning. */
export interface PlanOptions {
  /** Nodes whose partitions are all in blobs (persisted at 'blob' or checkpointed by an earlier job of the run). */
  cachedNodes?: ReadonlySet<number>;
  /** Nodes `unpersist` released: their storage level no longer applies (a checkpoint still does). */
  released?: ReadonlySet<number>;
  /** Range bounds of sort nodes, from their sampling jobs. */
  rangeBounds?: ReadonlyMap<number, Key[]>;
  /** Partition counts of file sources, as the driver split them (graph.sources()). */
  sourcePartitions?: ReadonlyMap<number, number>;
  /** Record codec name (default json-batches). */
  codec?: string;
}

/** Spark samples ~20 keys per output partition, 3× oversampled; we cap it at 100 keys per input partition. */
export function sampleSizePerPartition(numOutputPartitions: number, numInputPartitions: number): number {
  const total = Math.min(20 * numOutputPartitions, 1_000_000);
  return Math.max(1, Math.min(100, Math.ceil((3 * total) / Math.max(1, numInputPartitions))));
}

/** Partition counts of nodes, memoised. */
export class PartitionCounter {
  private readonly counts = new Map<number, number>();
  constructor(
    private readonly graph: JobGraph,
    private readonly options: PlanOptions,
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
      case 'shuffled':
        if (impl.partitioning === 'range') return this.boundsOf(node).length + 1;
        return node.requestedPartitions!;
      case 'cogroup':
        return node.requestedPartitions!;
      default:
        return this.of(node.parents[0]!);
    }
  }

  /** Range bounds of a sort node: sampled, or none at all when it asks for one partition (as Spark). */
  boundsOf(node: GraphNode): Key[] {
    const bounds = this.options.rangeBounds?.get(node.id);
    if (bounds) return bounds;
    if (node.requestedPartitions === 1) return [];
    throw new Error(`internal: sort node ${node.id} has no bounds`);
  }

  /** The partitioner a shuffle into node `node` uses. */
  partitionerOf(node: GraphNode): PartitionerDesc {
    if (isSortNode(node) && node.impl.type === 'shuffled') {
      return {
        kind: 'range',
        bounds: this.boundsOf(node),
        ascending: node.impl.sort?.ascending ?? true,
      };
    }
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
  const cached = options.cachedNodes ?? new Set<number>();
  const released = options.released ?? new Set<number>();
  const counter = new PartitionCounter(graph, options);
  const reachable = upstream(graph, resolved.nodeId, cached);
  for (const id of reachable) {
    const node = graph.node(id);
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
  const codec = options.codec ?? DEFAULT_CODEC_NAME;
  const stages: StagePlan[] = [];
  const mapStageOf = new Map<number, number>();

  const buildStage = (rddNodeId: number, tail: Pick<StagePlan, 'kind'> & Partial<StagePlan>): StagePlan => {
    const pipeline: number[] = [];
    const parents: number[] = [];
    const shuffleReads: ShuffleReadInfo[] = [];
    const cacheReads: number[] = [];
    const cacheWrites: number[] = [];
    const localPersists: { nodeId: number; level: LocalStorageLevel }[] = [];
    const checkpoints: number[] = [];
    const nodePartitions: Record<number, number> = {};
    const seen = new Set<number>();
    const visit = (id: number) => {
      if (seen.has(id)) return;
      seen.add(id);
      const node = graph.node(id);
      nodePartitions[id] = counter.of(id);
      const role = persistRole(node, cached, released);
      if (node.checkpoint && (role.kind === 'read-blob' || role.kind === 'write-blob')) checkpoints.push(id);
      if (role.kind === 'read-blob') {
        cacheReads.push(id);
        pipeline.push(id);
        return;
      }
      if (isShuffleNode(node)) {
        for (const dep of shuffleDepsOf(node)) {
          const parentStage = mapStage(dep.shuffleId);
          if (!parents.includes(parentStage)) parents.push(parentStage);
          shuffleReads.push({ shuffleId: dep.shuffleId, numMapPartitions: counter.of(dep.parent) });
        }
      } else {
        for (const p of node.parents) {
          visit(p);
          nodePartitions[p] = counter.of(p);
        }
      }
      if (role.kind === 'write-blob') cacheWrites.push(id);
      if (role.kind === 'on-executor') localPersists.push({ nodeId: id, level: role.level });
      pipeline.push(id);
    };
    visit(rddNodeId);
    const stage: StagePlan = {
      stageId: stages.length,
      kind: tail.kind,
      rddNodeId,
      numPartitions: counter.of(rddNodeId),
      parents: parents.sort((a, b) => a - b),
      ...(tail.shuffle ? { shuffle: tail.shuffle } : {}),
      ...(tail.action ? { action: tail.action } : {}),
      pipeline,
      shuffleReads,
      cacheReads,
      cacheWrites,
      ...(localPersists.length > 0 ? { localPersists } : {}),
      ...(checkpoints.length > 0 ? { checkpoints } : {}),
      ...(released.size > 0 ? { releasedNodes: [...released].sort((a, b) => a - b) } : {}),
      nodePartitions,
      codec,
    };
    stages.push(stage);
    return stage;
  };

  const mapStage = (shuffleId: number): number => {
    const existing = mapStageOf.get(shuffleId);
    if (existing !== undefined) return existing;
    const { node, dep } = graph.shuffleDependency(shuffleId);
    const shuffle: ShuffleWriteInfo = {
      shuffleId,
      numReducePartitions: counter.of(node.id),
      partitioner: counter.partitionerOf(node),
      mapSideCombine: dep.mapSideCombine,
    };
    const stage = buildStage(dep.parent, { kind: 'shuffle-map', shuffle });
    mapStageOf.set(shuffleId, stage.stageId);
    return stage.stageId;
  };

  const result = buildStage(resolved.nodeId, { kind: 'result', action: ref });
  const nodeLabels: Record<number, string> = {};
  for (const stage of stages) for (const id of stage.pipeline) nodeLabels[id] = graph.operatorLabel(id);
  return {
    action: ref,
    actionOp: resolved.op,
    stages,
    resultStageId: result.stageId,
    fingerprint: graph.fingerprint,
    nodeLabels,
  };
}

/** True when planJob asked for a sampling job first. */
export function isSamplingRequest(plan: JobPlan | SamplingRequest): plan is SamplingRequest {
  return plan.needsSampling !== undefined;
}
