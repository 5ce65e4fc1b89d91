/**
 * The logical graph of one job module run with one set of params: nodes (numbered in
 * construction order), named actions, shared variables, and a fingerprint of its shape and
 * of the data given to parallelize, so an executor can check that its builder produced the
 * same graph as the driver's (executors slice their own rebuild's parallelize arrays).
 */
import { createHash } from 'node:crypto';
import { ConfigError, StratusError } from '../../contract/errors.js';
import { Action, type ActionRef, actionImpls } from '../dataset/actions.js';
import { GraphJobContext } from '../dataset/context.js';
import { GraphBuilder, type TaskBinding } from '../dataset/graph-builder.js';
import { type HiddenJob, hiddenJobsOf } from '../dataset/hidden-jobs.js';
import type { JobDefinition } from '../dataset/job.js';
import { sortSampleImpl } from '../sql/df-actions.js';
import { exchangeOrders, exchangeSpecOf } from '../sql/planner.js';
import { attachedScanSizes, attachScanSizes, type ScanSizes } from '../sql/scan-sizes.js';
import type { ParsedSql } from '../sql/sql-plan.js';
import { attachSqlParses, type SqlParses, usedSqlParses } from '../sql/temp-views.js';
import { operatorLabel } from './call-site.js';
import { hashValues } from './content-hash.js';
import { type GraphNode, nodeLabel, type ShuffleDependency, shuffleDepsOf } from './nodes.js';
import { type SourceNodeInfo, sourceNodeInfo } from './source-node.js';

/** The name of the action when the builder returns a single action instead of an object. */
export const SINGLE_ACTION_NAME = 'result';

/** Options of buildJobGraph. */
export interface BuildOptions {
  /** Partitions of wide ops that name none, and of parallelize without numSlices (the driver: total slots). */
  defaultParallelism: number;
  /** The driver's parses of the SQL texts the builder passes to `ctx.sql` (duckdb/sql-graph.ts makes them). */
  sql?: SqlParses;
  /** The driver's size estimates of the file scans, by scan ordinal, once it has listed them (engine/sql/scan-sizes.ts). */
  scanSizes?: ScanSizes;
}

/** A built job graph. Bind it to at most one running task at a time (the task runtime does). */
export class JobGraph {
  /** Action names in the order the builder listed them (the run's jobs, in order). */
  readonly actionNames: readonly string[];
  /** True when the builder returned one action (its result is returned bare, under SINGLE_ACTION_NAME). */
  readonly singleAction: boolean;
  /**
   * Hex digest of the graph's shape — node ops, ids, parents, partition counts, options,
   * actions, shared variables — and of the contents of every parallelize array.
   */
  readonly fingerprint: string;
  /** Parallelize node id → content hash of its array (computed once per build; part of the fingerprint). */
  readonly parallelizeDigests: Readonly<Record<string, string>>;
  private readonly sampleActions = new Map<string, Action<unknown>>();
  private readonly shuffleIndex = new Map<number, { node: GraphNode; dep: ShuffleDependency }>();

  constructor(
    private readonly builder: GraphBuilder,
    private readonly actions: ReadonlyMap<string, Action<unknown>>,
    singleAction: boolean,
  ) {
    this.actionNames = [...actions.keys()];
    this.singleAction = singleAction;
    for (const node of builder.nodes)
      for (const dep of shuffleDepsOf(node)) this.shuffleIndex.set(dep.shuffleId, { node, dep });
    const digests: Record<string, string> = {};
    for (const node of builder.nodes) {
      if (node.impl.type === 'parallelize') digests[String(node.id)] = hashValues(node.impl.data);
    }
    this.parallelizeDigests = digests;
    this.fingerprint = computeFingerprint(builder, actions, digests);
  }

  /** Every node, index = id. */
  get nodes(): readonly GraphNode[] {
    return this.builder.nodes;
  }

  /** The default parallelism the graph was built with. */
  get defaultParallelism(): number {
    return this.builder.defaultParallelism;
  }

  /** The node with id `id`; throws when there is none (a plan from another graph). */
  node(id: number): GraphNode {
    const node = this.builder.nodes[id];
    if (!node) throw new StratusError('PLAN_MISMATCH', `the job graph has no node ${id}`);
    return node;
  }

  /** The named action. */
  action(name: string): Action<unknown> {
    const action = this.actions.get(name);
    if (!action)
      throw new StratusError('UNKNOWN_ACTION', `the job has no action named ${JSON.stringify(name)}`);
    return action;
  }

  /** The action a plan or stage refers to: a named one, a sort's sampling action or a hidden job's. */
  resolveAction(ref: ActionRef): Action<unknown> {
    if ('name' in ref) return this.action(ref.name);
    if ('hiddenJob' in ref) return this.hiddenJob(ref.hiddenJob).action;
    const key = `${ref.sampleSortKeys}/${ref.perPartition}`;
    let action = this.sampleActions.get(key);
    if (!action) {
      const sort = this.node(ref.sampleSortKeys);
      const exchange = exchangeSpecOf(sort);
      action = new Action(
        'sampleSortKeys',
        sort.parents[0]!,
        { sortNodeId: sort.id, perPartition: ref.perPartition },
        exchange
          ? sortSampleImpl(exchangeOrders(exchange))
          : actionImpls.sampleSortKeys(sort.id, ref.perPartition),
        this.builder,
      );
      this.sampleActions.set(key, action);
    }
    return action;
  }

  /** Hidden job `id` (hidden-jobs.ts); throws when there is none (a plan from another graph). */
  hiddenJob(id: number): HiddenJob {
    const job = hiddenJobsOf(this.builder)[id];
    if (!job) throw new StratusError('PLAN_MISMATCH', `the job graph has no hidden job ${id}`);
    return job;
  }

  /** The hidden jobs whose results the tasks of node `nodeId` read (zipWithIndex's counts). */
  hiddenJobsNeededBy(nodeId: number): HiddenJob[] {
    return hiddenJobsOf(this.builder).filter((j) => j.neededByNode === nodeId);
  }

  /** The shuffled/cogroup node that reads shuffle `shuffleId`, and the dependency. */
  shuffleDependency(shuffleId: number): { node: GraphNode; dep: ShuffleDependency } {
    const found = this.shuffleIndex.get(shuffleId);
    if (!found) throw new StratusError('PLAN_MISMATCH', `the job graph has no shuffle ${shuffleId}`);
    return found;
  }

  /** File sources, for the driver to resolve into partitions before planning. */
  sources(): SourceNodeInfo[] {
    const out: SourceNodeInfo[] = [];
    for (const node of this.builder.nodes) {
      const info = sourceNodeInfo(node);
      if (info) out.push(info);
    }
    return out;
  }

  /**
   * Broadcast values as this build of the builder computed them, by broadcast id. The driver
   * ships its own (encodeBroadcastValue); an executor's rebuild may compute others and ignores them.
   */
  broadcastValues(): ReadonlyMap<number, unknown> {
    return new Map(this.builder.broadcastValues.map((v, i) => [i, v]));
  }

  /** Fold one task's accumulator updates into the driver values (call once per partition that wins). */
  mergeAccumulatorUpdates(updates: Readonly<Record<string, unknown>>): void {
    for (const [name, update] of Object.entries(updates)) {
      const state = this.builder.accumulators.get(name);
      if (!state)
        throw new StratusError('PLAN_MISMATCH', `the job graph has no accumulator ${JSON.stringify(name)}`);
      state.value = state.merge(state.value, update);
    }
  }

  /** The parses of the SQL texts the builder passed to `ctx.sql` (a rebuild of the graph needs them). */
  sqlParses(): Readonly<Record<string, ParsedSql>> {
    return usedSqlParses(this.builder);
  }

  /** The scan sizes this graph was built with (a rebuild of the graph needs them to plan the same joins). */
  scanSizes(): ScanSizes {
    return attachedScanSizes(this.builder);
  }

  /** The driver values of every accumulator, by name. */
  accumulatorValues(): Record<string, unknown> {
    return Object.fromEntries([...this.builder.accumulators].map(([name, s]) => [name, s.value]));
  }

  /** @internal Bind (or unbind with undefined) the task whose closures run now. */
  bindTask(task: TaskBinding | undefined): void {
    if (task && this.builder.task) {
      throw new Error('a JobGraph runs one task at a time; build one graph per concurrent task');
    }
    this.builder.task = task;
  }

  /** `reduceByKey (node 4)`. */
  label(id: number): string {
    return nodeLabel(this.node(id));
  }

  /** `reduceByKey at sales.ts:12` (the user's call site), else `reduceByKey (node 4)`: plans, progress and the UI. */
  operatorLabel(id: number): string {
    return operatorLabel(this.node(id));
  }
}

/** The fingerprint covers the graph's shape; a node's callSite is a label and stays out of it. */
function computeFingerprint(
  builder: GraphBuilder,
  actions: ReadonlyMap<string, Action<unknown>>,
  parallelizeDigests: Readonly<Record<string, string>>,
): string {
  const shape = {
    defaultParallelism: builder.defaultParallelism,
    nodes: builder.nodes.map((n) => [
      n.id,
      n.op,
      n.impl.type,
      n.parents,
      n.requestedPartitions ?? null,
      n.options,
      n.storageLevel ?? null,
      n.checkpoint,
      shuffleDepsOf(n).map((d) => [d.shuffleId, d.parent, d.keyed, d.mapSideCombine]),
    ]),
    actions: [...actions].map(([name, a]) => [name, a.op, a.nodeId, a.options]),
    parallelizeDigests,
    // The count only: tasks use the driver's broadcast values, so executors' may differ.
    broadcasts: builder.broadcastValues.length,
    accumulators: [...builder.accumulators.keys()],
    // Only when there are some, so graphs without hidden jobs keep their fingerprints.
    ...(hiddenJobsOf(builder).length > 0
      ? {
          hiddenJobs: hiddenJobsOf(builder).map((j) => [
            j.action.op,
            j.action.nodeId,
            j.action.options,
            j.neededByNode ?? null,
          ]),
        }
      : {}),
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 32);
}

function isAction(value: unknown): value is Action<unknown> {
  return (
    value instanceof Action ||
    (typeof value === 'object' && value !== null && (value as Action<unknown>).kind === 'stratus-action')
  );
}

/** Run the job builder with `params` and return its graph. Throws JOB_BUILDER_INVALID for a bad builder. */
export function buildJobGraph<P>(def: JobDefinition<P>, params: P, options: BuildOptions): JobGraph {
  const builder = new GraphBuilder(options.defaultParallelism);
  if (options.sql) attachSqlParses(builder, options.sql);
  if (options.scanSizes) attachScanSizes(builder, options.scanSizes);
  const returned: unknown = def.builder(new GraphJobContext(builder), params);
  builder.open = false;
  if (
    returned instanceof Promise ||
    (typeof returned === 'object' && returned !== null && 'then' in returned)
  ) {
    throw new StratusError(
      'JOB_BUILDER_INVALID',
      'the job builder must be synchronous: it returned a promise',
    );
  }
  const actions = new Map<string, Action<unknown>>();
  const single = isAction(returned);
  const entries: [string, unknown][] = single
    ? [[SINGLE_ACTION_NAME, returned]]
    : typeof returned === 'object' && returned !== null
      ? Object.entries(returned)
      : [];
  if (entries.length === 0) {
    throw new StratusError(
      'JOB_BUILDER_INVALID',
      'the job builder must return an action (e.g. ds.count()) or an object of named actions',
    );
  }
  for (const [name, value] of entries) {
    if (!isAction(value)) {
      throw new StratusError(
        'JOB_BUILDER_INVALID',
        `the job builder returned ${JSON.stringify(name)}, which is not an action`,
      );
    }
    if (value.builder !== builder) {
      throw new ConfigError(`action ${JSON.stringify(name)} was built in another job graph`);
    }
    actions.set(name, value);
  }
  return new JobGraph(builder, actions, single);
}
