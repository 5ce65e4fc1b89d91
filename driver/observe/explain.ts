/**
 * `stratus explain`: what a job module will do, without running a task — the four numbers
 * of every program: partitions, slots, jobs (hidden jobs included: sampling, counting) and the stages
 * of each job, with shuffle boundaries and waves (⌈tasks / slots⌉). It plans the actions in
 * order exactly as the DAG scheduler does: a sort's sampling job first, then the job itself;
 * a shuffle computed by an earlier job is skipped later, nodes persisted to blobs or
 * checkpointed are read, not recomputed (a checkpoint truncates the lineage), nodes persisted
 * on executors are shown with their level, and an `unpersist` entry releases its node for the
 * jobs after it (it runs no job). Range bounds a sampling job would find are unknown, so a
 * sorted dataset is shown with its requested partitions (the most it can have); so are other
 * hidden jobs' results, which change what tasks compute but not the stages.
 */

import path from 'node:path';
import { StratusError } from '../../contract/errors.js';
import { buildJobGraphWithSql } from '../../duckdb/sql-graph.js';
import type { ActionRef } from '../../engine/dataset/actions.js';
import { validateJobParams } from '../../engine/dataset/job-params.js';
import { isUnpersist } from '../../engine/dataset/persist-ops.js';
import { actionLabel } from '../../engine/plan/call-site.js';
import { describePlan, stagePipelineName } from '../../engine/plan/explain.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import { loadJobBundle } from '../../engine/plan/module-loader.js';
import { computedPartitions, isSamplingRequest, type JobPlan, planJob } from '../../engine/plan/stages.js';
import type { Key } from '../../engine/records/keys.js';
import { dataFrameActionKind, isDriverSideKind } from '../../engine/sql/df-actions.js';
import { BlobStore } from '../../storage/blob-store.js';
import { bundleJobModule } from '../app/bundler.js';
import { parseBlobLocation, resolveInput } from '../data/input-sources.js';
import { DEFAULT_SPLIT_BYTES, planFileSplits, resolveInputFiles } from '../data/input-splitter.js';
import { remapSourceInputs, scanSizesFromListing, withScanSizes } from '../data/scan-sizes.js';
import { listWholeFiles, wholeFilePartitions } from '../data/whole-file-inputs.js';
import { type FabricChoice, type PlannedSlots, planSlots } from '../fabric/connection.js';
import type { SkipReason } from './run-events.js';

/** One stage as it will run (or be skipped). */
export interface ExplainedStage {
  /** Application-wide stage id, as the scheduler will number it in a fresh application. */
  stageId: number;
  kind: 'shuffle-map' | 'result';
  /** The pipelined operators, as the run's stage names them. */
  name: string;
  partitions: number;
  /** Skipped: its shuffle was written by an earlier job, or it is listed above a cached dataset. */
  skipped: boolean;
  /** Why it is skipped (absent when it runs). */
  skipReason?: SkipReason;
  /** For a stage listed above a cached dataset: that dataset's node id. */
  aboveCachedNode?: number;
  parentStageIds: number[];
  /** Shuffles read at the start of the stage (its boundary with the parents). */
  shuffleReads: { shuffleId: number; mapPartitions: number }[];
  /** The shuffle written at the end of the stage (shuffle-map stages). */
  shuffleWrite?: { shuffleId: number; reducePartitions: number; partitioner: 'hash' | 'range' | 'direct' };
  /** Node ids read from blobs (cache or checkpoint) / written to blobs by this stage. */
  cacheReads: number[];
  cacheWrites: number[];
  /** Of those, the checkpointed nodes (lineage truncated after them). */
  checkpoints: number[];
  /** Nodes persisted on executors ('memory' / 'disk'), read there or recomputed. */
  localPersists: { nodeId: number; level: 'memory' | 'disk' }[];
  /** ⌈tasks / slots⌉ for a stage that runs, 0 when skipped. */
  waves: number;
  /** The partitions a result stage computes when its action picked some (lookup): one task each. */
  computedPartitions?: number[];
}

/** One job the module triggers. */
export interface ExplainedJob {
  jobId: number;
  /** The action's name in the module's result object (for a hidden job: the action it serves). */
  actionName: string;
  /** The action op (`collect`, `count`…; a sampling job's is `sampleSortKeys`). */
  action: string;
  /** Where the module called the action (`wordcount.ts:12`); absent for hidden jobs. */
  callSite?: string;
  hidden: boolean;
  reason?: string;
  stages: ExplainedStage[];
  /** Tasks of the stages that run. */
  tasks: number;
  /** The engine's describePlan text. */
  plan: string;
}

/** An `unpersist` entry of the actions: no job; its node is released for the jobs after it. */
export interface ExplainedUnpersist {
  actionName: string;
  nodeId: number;
  /** Jobs planned before it (it comes after job `jobsBefore - 1`). */
  jobsBefore: number;
}

/** A file source and the partitions the driver will cut it into. */
export interface ExplainedSource {
  nodeId: number;
  uri: string;
  files: number;
  bytes?: number;
  partitions: number;
}

/** Everything `stratus explain` prints. */
export interface Explanation {
  module?: string;
  slots: number;
  /** Where the slot count comes from (the fabric `stratus run` would start or join). */
  slotsFrom?: string;
  defaultParallelism: number;
  sources: ExplainedSource[];
  jobs: ExplainedJob[];
  /** `unpersist` entries, in the order of the actions. */
  unpersists: ExplainedUnpersist[];
  totals: {
    jobs: number;
    hiddenJobs: number;
    stages: number;
    stagesSkipped: number;
    tasks: number;
    waves: number;
  };
  notes: string[];
}

/** Options of explainGraph. */
export interface ExplainGraphOptions {
  /** Total slots (executors × slots per executor). */
  slots: number;
  /** Partitions of each file source (graph.sources()). */
  sourcePartitions: ReadonlyMap<number, number>;
  sources?: ExplainedSource[];
  module?: string;
  slotsFrom?: string;
}

/** Plan every action of a built graph, as the scheduler would run them; pure. */
export function explainGraph(graph: JobGraph, options: ExplainGraphOptions): Explanation {
  const slots = Math.max(1, options.slots);
  const rangeBounds = new Map<number, Key[]>();
  const hiddenResults = new Map<number, unknown>();
  const cachedNodes = new Set<number>();
  const released = new Set<number>();
  const unpersists: ExplainedUnpersist[] = [];
  const writtenShuffles = new Set<number>();
  const jobs: ExplainedJob[] = [];
  const notes: string[] = [];
  let nextStageId = 0;

  const addJob = (plan: JobPlan, actionName: string, hidden: boolean, reason?: string) => {
    const ids = new Map(plan.stages.map((s) => [s.stageId, nextStageId++]));
    const stages = plan.stages.map((s): ExplainedStage => {
      const skipReason: SkipReason | undefined =
        s.aboveCache !== undefined
          ? 'above-cached-dataset'
          : s.kind === 'shuffle-map' && writtenShuffles.has(s.shuffle!.shuffleId)
            ? 'shuffle-output-exists'
            : undefined;
      const skipped = skipReason !== undefined;
      return {
        stageId: ids.get(s.stageId)!,
        kind: s.kind,
        name: stagePipelineName(plan, s),
        partitions: s.numPartitions,
        skipped,
        ...(skipReason !== undefined ? { skipReason } : {}),
        ...(s.aboveCache !== undefined ? { aboveCachedNode: s.aboveCache } : {}),
        parentStageIds: s.parents.map((p) => ids.get(p)!),
        shuffleReads: s.shuffleReads.map((r) => ({
          shuffleId: r.shuffleId,
          mapPartitions: r.numMapPartitions,
        })),
        ...(s.shuffle
          ? {
              shuffleWrite: {
                shuffleId: s.shuffle.shuffleId,
                reducePartitions: s.shuffle.numReducePartitions,
                partitioner: s.shuffle.partitioner.kind,
              },
            }
          : {}),
        cacheReads: [...s.cacheReads],
        cacheWrites: [...s.cacheWrites],
        checkpoints: [...(s.checkpoints ?? [])],
        localPersists: (s.localPersists ?? []).map((l) => ({ ...l })),
        waves: skipped ? 0 : Math.ceil(computedPartitions(s).length / slots),
        ...(s.partitions ? { computedPartitions: [...s.partitions] } : {}),
      };
    });
    // After the job: its shuffles exist and its cached nodes are persisted (all partitions).
    for (const [i, s] of plan.stages.entries()) {
      if (stages[i]!.skipped) continue;
      if (s.shuffle) writtenShuffles.add(s.shuffle.shuffleId);
      for (const id of s.cacheWrites) cachedNodes.add(id);
    }
    jobs.push({
      jobId: jobs.length,
      actionName,
      action: plan.actionOp,
      ...(plan.actionCallSite !== undefined ? { callSite: plan.actionCallSite } : {}),
      hidden,
      ...(reason !== undefined ? { reason } : {}),
      stages,
      tasks: stages.reduce((n, s) => n + (s.skipped ? 0 : (s.computedPartitions?.length ?? s.partitions)), 0),
      plan: describePlan(plan),
    });
  };

  const runAction = (ref: ActionRef, actionName: string, hidden: boolean, reason?: string): void => {
    const action = graph.resolveAction(ref);
    if (isUnpersist(action)) {
      // As the driver's unpersist: the level no longer applies; blob copies (not a checkpoint) go.
      released.add(action.nodeId);
      if (!graph.node(action.nodeId).checkpoint) cachedNodes.delete(action.nodeId);
      unpersists.push({ actionName, nodeId: action.nodeId, jobsBefore: jobs.length });
      return;
    }
    for (;;) {
      const planned = planJob(graph, ref, {
        cachedNodes,
        released,
        rangeBounds,
        sourcePartitions: options.sourcePartitions,
        hiddenResults,
      });
      if (!isSamplingRequest(planned)) {
        addJob(planned, actionName, hidden, reason);
        return;
      }
      if (planned.needsHiddenJob) {
        const job = planned.needsHiddenJob;
        runAction(job.action, actionName, true, `${job.reason} of "${actionName}"`);
        // Its result only changes what tasks compute, never the stages: a placeholder will do.
        hiddenResults.set(job.hiddenJobId, null);
        continue;
      }
      const { nodeId, sampleAction, numPartitions } = planned.needsSampling!;
      runAction(
        sampleAction,
        actionName,
        true,
        `sampling for the sort at node ${nodeId} (${numPartitions} range partitions) of "${actionName}"`,
      );
      // The real bounds come from the sample; n − 1 distinct placeholders give the requested n.
      rangeBounds.set(
        nodeId,
        Array.from({ length: numPartitions - 1 }, (_, i) => i),
      );
      notes.push(
        `the sort at node ${nodeId} asks for ${numPartitions} partitions; it gets fewer when its sample has fewer distinct keys`,
      );
    }
  };

  for (const name of graph.actionNames) {
    // A DataFrame's schema, printSchema and explain are answered by the driver: no job.
    if (isDriverSideKind(dataFrameActionKind(graph.action(name)))) {
      notes.push(
        `"${name}" (${graph.action(name).op}) is answered by the driver from the bound plan: no job`,
      );
      continue;
    }
    runAction({ name }, name, false);
  }
  const allStages = jobs.flatMap((j) => j.stages);
  return {
    ...(options.module !== undefined ? { module: options.module } : {}),
    slots,
    ...(options.slotsFrom !== undefined ? { slotsFrom: options.slotsFrom } : {}),
    defaultParallelism: slots,
    sources: options.sources ?? [],
    jobs,
    unpersists,
    totals: {
      jobs: jobs.length,
      hiddenJobs: jobs.filter((j) => j.hidden).length,
      stages: allStages.length,
      stagesSkipped: allStages.filter((s) => s.skipped).length,
      tasks: jobs.reduce((n, j) => n + j.tasks, 0),
      waves: allStages.reduce((n, s) => n + s.waves, 0),
    },
    notes,
  };
}

/** Options of explainModule. */
export interface ExplainModuleOptions {
  slots: number;
  /** Where `slots` comes from, for the printout. */
  slotsFrom?: string;
  /** Target input partition size for local files (bytes, default 32 MiB as `stratus run`). */
  splitBytes?: number;
  /** Storage to list blob (az://) inputs in, as the driver would. */
  blobs?: BlobStore;
  /** Partition counts to assume for file sources (node id → n), e.g. blob inputs explain cannot list. */
  sourcePartitions?: ReadonlyMap<number, number>;
  cwd?: string;
}

/**
 * Bundle and load a job module, build its graph with `params` and `slots` as default
 * parallelism, split its local file sources as the driver would (nothing is uploaded), and
 * explain it. Throws what the driver would throw (module not found, builder error, no input).
 */
export async function explainModule(
  modulePath: string,
  params: unknown,
  options: ExplainModuleOptions,
): Promise<Explanation> {
  const bundle = await bundleJobModule(modulePath);
  // Source maps on, so operators are named by their line in the module's .ts (as in a run).
  process.setSourceMapsEnabled(true);
  const definition = await loadJobBundle(bundle.codeHash, bundle.code);
  const runParams = await validateJobParams(definition.params, params, path.basename(bundle.entry));
  const graph = await buildJobGraphWithSql(definition, runParams as never, {
    defaultParallelism: options.slots,
  });
  const sourcePartitions = new Map<number, number>();
  const sources: ExplainedSource[] = [];
  for (const source of graph.sources()) {
    const given = options.sourcePartitions?.get(source.nodeId);
    if (given !== undefined) {
      sourcePartitions.set(source.nodeId, given);
      sources.push({ nodeId: source.nodeId, uri: source.uri, files: 0, partitions: given });
      continue;
    }
    const wholeFiles = source.csv?.multiLine === true || source.kind === 'parquet';
    if (source.wholeFiles) {
      if (parseBlobLocation(source.uri) && !options.blobs) {
        throw new StratusError(
          'EXPLAIN_NEEDS_STORAGE',
          `${source.uri} is a blob input: give --connection-string / --account so explain can list it, or --source-partitions ${source.nodeId}=<n>`,
        );
      }
      const listed = await listWholeFiles(source.uri, {
        ...(options.blobs ? { blobs: options.blobs } : {}),
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      });
      const partitions = wholeFilePartitions(listed, source.minPartitions, options.splitBytes).length;
      sourcePartitions.set(source.nodeId, partitions);
      const bytes = listed.reduce((n, f) => n + f.size, 0);
      sources.push({ nodeId: source.nodeId, uri: source.uri, files: listed.length, bytes, partitions });
      continue;
    }
    if (parseBlobLocation(source.uri)) {
      if (!options.blobs) {
        throw new StratusError(
          'EXPLAIN_NEEDS_STORAGE',
          `${source.uri} is a blob input: give --connection-string / --account so explain can list it, or --source-partitions ${source.nodeId}=<n>`,
        );
      }
      const blobSplits = await resolveInput(source.uri, {
        blobs: options.blobs,
        minPartitions: source.minPartitions,
        wholeFiles,
        ...(options.splitBytes !== undefined ? { splitBytes: options.splitBytes } : {}),
      });
      sourcePartitions.set(source.nodeId, blobSplits.length);
      sources.push({
        nodeId: source.nodeId,
        uri: source.uri,
        files: new Set(blobSplits.map((b) => b.blob)).size,
        bytes: blobSplits.reduce((n, b) => n + (b.end - b.start), 0),
        partitions: blobSplits.length,
      });
      continue;
    }
    const files = await resolveInputFiles(source.uri, options.cwd);
    const splits = await planFileSplits(
      files,
      source.minPartitions,
      options.splitBytes ?? DEFAULT_SPLIT_BYTES,
      wholeFiles,
    );
    sourcePartitions.set(source.nodeId, splits.length);
    sources.push({
      nodeId: source.nodeId,
      uri: source.uri,
      files: files.length,
      bytes: splits.reduce((n, s) => n + (s.end - s.start), 0),
      partitions: splits.length,
    });
  }
  // As a run does: a join of a small file scan is broadcast by its listed size. Explain sizes a
  // Parquet scan by its files (it reads no footer), at least what a run estimates.
  const listed = new Map(sources.map((s) => [s.nodeId, s]));
  const planned = await withScanSizes(
    graph,
    scanSizesFromListing(graph, (nodeId) => listed.get(nodeId)?.bytes),
    (scanSizes) =>
      buildJobGraph(definition, runParams as never, {
        defaultParallelism: options.slots,
        sql: { parsed: graph.sqlParses() },
        scanSizes,
      }),
  );
  let plannedPartitions = sourcePartitions;
  let plannedSources = sources;
  if (planned.rebuilt) {
    plannedPartitions = remapSourceInputs(graph, planned.graph, sourcePartitions).mapped;
    plannedSources = [...remapSourceInputs(graph, planned.graph, listed).mapped].map(([nodeId, s]) => ({
      ...s,
      nodeId,
    }));
  }
  return explainGraph(planned.graph, {
    slots: options.slots,
    sourcePartitions: plannedPartitions,
    sources: plannedSources,
    module: bundle.entry,
    ...(options.slotsFrom !== undefined ? { slotsFrom: options.slotsFrom } : {}),
  });
}

/** How explain names where its slot count comes from. */
export function describeSlots(planned: PlannedSlots): string {
  switch (planned.from) {
    case 'embedded':
      return `the local fabric stratus run starts: ${planned.executors} executors × ${planned.slotsPerExecutor} slots`;
    case 'configured':
      return planned.mode === 'azure'
        ? 'the deployment (--total-slots, STRATUS_TOTAL_SLOTS or slots × instances)'
        : '--total-slots / STRATUS_TOTAL_SLOTS';
    case 'published':
      return 'published by the running fabric';
    case 'default':
      return 'nothing published by the fabric: the default';
  }
}

/**
 * Explain a job module for the slots a run on `fabric` would have (`planSlots`: embedded
 * executors × slots, a running fabric's published slots, a deployment's configured ones),
 * listing az:// inputs in that fabric's account as the driver would. Starts nothing.
 */
export async function explainForFabric(
  modulePath: string,
  params: unknown,
  fabric: FabricChoice,
  options: Omit<ExplainModuleOptions, 'slots' | 'slotsFrom' | 'blobs'> = {},
): Promise<Explanation> {
  const planned = await planSlots(fabric);
  // A remote fabric's account is also where az:// inputs are listed, as the driver would.
  const blobs = planned.connection ? new BlobStore(planned.connection.storage) : undefined;
  return explainModule(modulePath, params, {
    ...options,
    ...(blobs ? { blobs } : {}),
    slots: planned.totalSlots,
    slotsFrom: describeSlots(planned),
  });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The explanation as `stratus explain` prints it. */
export function formatExplanation(e: Explanation): string {
  const t = e.totals;
  const lines: string[] = [];
  if (e.module) lines.push(`Module ${e.module}`);
  lines.push(
    `Slots: ${e.slots} (default parallelism ${e.defaultParallelism})${e.slotsFrom ? ` — ${e.slotsFrom}` : ''}`,
  );
  for (const s of e.sources) {
    lines.push(
      `Input node ${s.nodeId}: ${s.uri} → ${plural(s.partitions, 'partition')}${s.files ? ` from ${plural(s.files, 'file')}` : ''}${s.bytes !== undefined ? `, ${s.bytes} bytes` : ''}`,
    );
  }
  lines.push(
    `Jobs: ${t.jobs}${t.hiddenJobs ? ` (${t.hiddenJobs} hidden)` : ''}; stages: ${t.stages} (${t.stagesSkipped} skipped); tasks: ${t.tasks}; waves: ${t.waves}`,
  );
  const unpersistsAfter = (jobs: number) => {
    for (const u of e.unpersists.filter((x) => x.jobsBefore === jobs)) {
      lines.push('');
      lines.push(
        `Unpersist "${u.actionName}": node ${u.nodeId} is released here (no job); later jobs recompute it`,
      );
    }
  };
  unpersistsAfter(0);
  for (const job of e.jobs) {
    lines.push('');
    const tag = job.hidden ? ` [hidden: ${job.reason ?? 'engine job'}]` : '';
    lines.push(
      `Job ${job.jobId}: ${actionLabel(job)} "${job.actionName}"${tag} — ${plural(job.stages.length, 'stage')}, ${plural(job.tasks, 'task')}`,
    );
    for (const s of job.stages) {
      const after = s.parentStageIds.length ? ` after stage ${s.parentStageIds.join(', ')}` : '';
      if (s.skipped) {
        const why =
          s.skipReason === 'above-cached-dataset'
            ? `above cached node ${s.aboveCachedNode} (its partitions are read from blobs)`
            : `shuffle ${s.shuffleWrite?.shuffleId} exists`;
        lines.push(
          `  Stage ${s.stageId} (${s.kind}, ${plural(s.partitions, 'partition')}) skipped: ${why}${after}`,
        );
        continue;
      }
      const only = s.computedPartitions
        ? `, computing ${s.computedPartitions.length === 1 ? 'partition' : 'partitions'} ${s.computedPartitions.join(', ')} only`
        : '';
      lines.push(
        `  Stage ${s.stageId} (${s.kind}, ${plural(s.partitions, 'partition')}${only}, ${plural(s.waves, 'wave')} on ${plural(e.slots, 'slot')})${after}`,
      );
      lines.push(`    ${s.name}`);
      for (const r of s.shuffleReads)
        lines.push(`    ↑ reads shuffle ${r.shuffleId} (${r.mapPartitions} map outputs)`);
      if (s.shuffleWrite) {
        lines.push(
          `    ↓ writes shuffle ${s.shuffleWrite.shuffleId} → ${s.shuffleWrite.reducePartitions} partitions (${s.shuffleWrite.partitioner === 'direct' ? 'direct: the Dataset ⇄ DataFrame bridge, each partition to its own index' : s.shuffleWrite.partitioner})`,
        );
      }
      const checkpointed = (id: number) => s.checkpoints.includes(id);
      const cachedReads = s.cacheReads.filter((id) => !checkpointed(id));
      const checkpointReads = s.cacheReads.filter(checkpointed);
      const cachedWrites = s.cacheWrites.filter((id) => !checkpointed(id));
      const checkpointWrites = s.cacheWrites.filter(checkpointed);
      if (cachedReads.length) lines.push(`    reads cached node ${cachedReads.join(', ')}`);
      if (checkpointReads.length) {
        lines.push(`    reads checkpointed node ${checkpointReads.join(', ')} (lineage truncated)`);
      }
      if (cachedWrites.length) lines.push(`    caches node ${cachedWrites.join(', ')}`);
      if (checkpointWrites.length) {
        lines.push(
          `    checkpoints node ${checkpointWrites.join(', ')} (later jobs read it; lineage truncated)`,
        );
      }
      for (const l of s.localPersists) {
        lines.push(`    persists node ${l.nodeId} on executors (${l.level}; recomputed where missing)`);
      }
    }
    unpersistsAfter(job.jobId + 1);
  }
  if (e.notes.length) {
    lines.push('');
    for (const n of e.notes) lines.push(`Note: ${n}`);
  }
  return lines.join('\n');
}
