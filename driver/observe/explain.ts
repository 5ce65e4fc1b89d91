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
import { bindDataFrames, hasDataFrames } from '../../duckdb/binder.js';
import { buildJobGraphWithSql } from '../../duckdb/sql-graph.js';
import type { ActionRef } from '../../engine/dataset/actions.js';
import { validateJobParams } from '../../engine/dataset/job-params.js';
import { isUnpersist } from '../../engine/dataset/persist-ops.js';
import { actionLabel } from '../../engine/plan/call-site.js';
import { describePlan, stagePipelineName } from '../../engine/plan/explain.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import { loadJobBundle } from '../../engine/plan/module-loader.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import { computedPartitions, isSamplingRequest, type JobPlan, planJob } from '../../engine/plan/stages.js';
import type { Key } from '../../engine/records/keys.js';
import { dataFrameActionKind, isDriverSideKind } from '../../engine/sql/df-actions.js';
import { BlobStore } from '../../storage/blob-store.js';
import { bundleJobModule } from '../app/bundler.js';
import { scanSampler } from '../data/dataframe-inputs.js';
import { listInputSplits, parseBlobLocation } from '../data/input-sources.js';
import { parquetScanNote, planParquetScan } from '../data/parquet-inputs.js';
import type { RunInputs } from '../data/run-inputs.js';
import {
  parquetScanBytes,
  planWithListedSizes,
  remapSourceInputs,
  scanReadColumns,
  sourceListingKey,
  splitBytes,
} from '../data/scan-sizes.js';
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
  /**
   * The bytes the run sizes the scan by: its splits' bytes; for a Parquet scan the compressed
   * column chunks it reads (of the columns it reads, in the row groups it keeps).
   */
  bytes?: number;
  partitions: number;
  /** A DataFrame Parquet scan: what the run's planning finds in the footers (its event-log notice). */
  parquet?: ExplainedParquetScan;
}

/** What planning a Parquet scan found, as a run finds it. */
export interface ExplainedParquetScan {
  rowGroups: number;
  /** Row groups no task reads: their statistics rule out the filters pushed into the scan. */
  skippedRowGroups: number;
  splits: number;
  /** Footer bytes read to plan it. */
  footerBytes: number;
  /** Every column chunk's bytes in the row groups kept. */
  estimatedBytes: number;
  /** Columns of the scan's schema. */
  columns: number;
  /** The columns it reads (lower case), when the graph was bound. */
  readColumns?: string[];
  /** The line a run's notice and df.explain() give the scan. */
  note: string;
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
 * parallelism, plan its file sources as the driver would — nothing is uploaded: local files are
 * read where they lie, az:// inputs listed (and Parquet footers read by range) in `blobs` — and
 * explain it. A Parquet scan is planned by the run's own code (parquet-inputs.ts planParquetScan:
 * footers, row groups skipped by the pushed filters, row-group splits), the graph bound to learn
 * the columns each scan reads, and broadcast joins decided by the run's planWithListedSizes.
 * Throws what the driver would throw before any job (module not found, builder error, no input,
 * a corrupt Parquet footer, files of different schemas).
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
  const first = await buildJobGraphWithSql(definition, runParams as never, {
    defaultParallelism: options.slots,
  });
  // Partitions given for a source (--source-partitions, by the first graph's node ids), by
  // listing key so that a rebuilt graph's node of the same source finds them too.
  const given = new Map<string, number>();
  for (const [nodeId, n] of options.sourcePartitions ?? []) {
    if (first.sources().some((s) => s.nodeId === nodeId)) given.set(sourceListingKey(first, nodeId), n);
  }
  const firstListing = await listSources(first, options, given);
  let moreListing: SourceListing | undefined;
  const sampler = scanSampler(options.blobs);
  let planned: RunInputs & { graph: JobGraph };
  try {
    planned = await planWithListedSizes(
      first,
      firstListing.inputs,
      (scanSizes) =>
        buildJobGraph(definition, runParams as never, {
          defaultParallelism: options.slots,
          sql: { parsed: first.sqlParses() },
          scanSizes,
        }),
      async (rebuilt, nodes) => {
        moreListing = await listSources(rebuilt, options, given, nodes);
        return moreListing.inputs;
      },
      async (graph, listed) => {
        // Bound, as a run binds it, to learn the columns each Parquet scan reads; only when there is
        // one, and every DataFrame scan was listed (a source given by --source-partitions cannot be
        // sampled: its scans are then sized by every column, as a run sizes an unbound scan).
        if (listed.parquetScans.size === 0 || !hasDataFrames(graph)) return;
        if (graph.sources().some((s) => !listed.inputs.has(s.nodeId))) return;
        const schemas = new Map([...listed.parquetScans].map(([nodeId, scan]) => [nodeId, scan.schema]));
        const { sample, partitions } = sampler.over(listed.inputs, schemas);
        await bindDataFrames(graph, sample, undefined, partitions);
      },
    );
  } finally {
    await sampler.close();
  }
  const { graph } = planned;
  let explained = firstListing.sources;
  if (graph !== first) {
    explained = remapSourceInputs(first, graph, firstListing.sources).mapped;
    for (const [nodeId, s] of moreListing?.sources ?? []) explained.set(nodeId, s);
  }
  const sources = [...explained].map(([nodeId, s]): ExplainedSource => {
    const scan = planned.parquetScans.get(nodeId);
    if (!scan) return { ...s, nodeId };
    // What the run sizes the scan by (broadcast joins): the chunks of the columns it reads.
    const readColumns = scanReadColumns(graph, nodeId);
    return {
      ...s,
      nodeId,
      bytes: parquetScanBytes(scan, readColumns),
      parquet: {
        rowGroups: scan.rowGroups,
        skippedRowGroups: scan.skippedRowGroups,
        splits: scan.splits,
        footerBytes: scan.footerBytes,
        estimatedBytes: scan.estimatedBytes,
        columns: scan.schema.fields.length,
        ...(readColumns !== undefined ? { readColumns: [...new Set(readColumns)] } : {}),
        note: parquetScanNote(scan),
      },
    };
  });
  return explainGraph(graph, {
    slots: options.slots,
    sourcePartitions: planned.sourcePartitions,
    sources,
    module: bundle.entry,
    ...(options.slotsFrom !== undefined ? { slotsFrom: options.slotsFrom } : {}),
  });
}

/** What explain lists of a graph's file sources: their splits (as a run's, not uploaded) and lines. */
interface SourceListing {
  inputs: RunInputs;
  sources: Map<number, Omit<ExplainedSource, 'nodeId'>>;
}

/**
 * List the file sources of `graph` (only `nodes` when given) as a run plans them, without
 * uploading: the same splits, partition counts and Parquet scan plans a run's prepareRunInputs
 * gives, each local split naming its file instead of an uploaded blob.
 */
async function listSources(
  graph: JobGraph,
  options: ExplainModuleOptions,
  given: ReadonlyMap<string, number>,
  nodes?: ReadonlySet<number>,
): Promise<SourceListing> {
  const inputs: RunInputs = { inputs: new Map(), sourcePartitions: new Map(), parquetScans: new Map() };
  const sources = new Map<number, Omit<ExplainedSource, 'nodeId'>>();
  for (const source of graph.sources()) {
    if (nodes && !nodes.has(source.nodeId)) continue;
    const assumed = given.get(sourceListingKey(graph, source.nodeId));
    if (assumed !== undefined) {
      inputs.sourcePartitions.set(source.nodeId, assumed);
      sources.set(source.nodeId, { uri: source.uri, files: 0, partitions: assumed });
      continue;
    }
    if (parseBlobLocation(source.uri) && !options.blobs) {
      throw new StratusError(
        'EXPLAIN_NEEDS_STORAGE',
        `${source.uri} is a blob input: give --connection-string / --account so explain can list it, or --source-partitions ${source.nodeId}=<n>`,
      );
    }
    const listOptions = {
      ...(options.blobs ? { blobs: options.blobs } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.splitBytes !== undefined ? { splitBytes: options.splitBytes } : {}),
    };
    let parts: InputSplit[][];
    if (source.kind === 'parquet') {
      // The run's planning of a Parquet scan, over the files listed in place.
      const impl = graph.node(source.nodeId).impl;
      const whole = await listInputSplits(source.uri, { ...listOptions, minPartitions: 1, wholeFiles: true });
      const resolved = await planParquetScan(
        source,
        impl.type === 'relational' ? impl.fragment : undefined,
        whole,
        listOptions,
      );
      parts = resolved.partitions;
      inputs.parquetScans.set(source.nodeId, resolved.plan);
    } else if (source.wholeFiles) {
      const listed = await listWholeFiles(source.uri, listOptions);
      parts = wholeFilePartitions(listed, source.minPartitions, options.splitBytes).map((part) =>
        part.map((i): InputSplit => {
          const file = listed[i]!;
          return {
            kind: 'blob',
            container: file.blob?.container ?? '',
            blob: file.blob?.name ?? '',
            start: 0,
            end: file.size,
            fileSize: file.size,
            gzip: false,
            source: file.source,
            sourceOffset: 0,
          };
        }),
      );
    } else {
      const splits = await listInputSplits(source.uri, {
        ...listOptions,
        minPartitions: source.minPartitions,
        wholeFiles: source.csv?.multiLine === true,
      });
      parts = splits.map((s) => [s as InputSplit]);
    }
    inputs.inputs.set(source.nodeId, parts);
    inputs.sourcePartitions.set(source.nodeId, parts.length);
    const files = new Set(parts.flatMap((splits) => splits.map((s) => s.source ?? s.blob))).size;
    const plan = inputs.parquetScans.get(source.nodeId);
    sources.set(source.nodeId, {
      uri: source.uri,
      files: plan ? plan.files : files,
      bytes: plan ? plan.estimatedBytes : splitBytes(parts),
      partitions: parts.length,
    });
  }
  return { inputs, sources };
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
    const pq = s.parquet;
    // A Parquet scan: the run's notice, and the columns its size (broadcast joins) counts.
    const read = pq?.readColumns ? ` of ${pq.readColumns.length}/${pq.columns} columns read` : '';
    lines.push(
      `Input node ${s.nodeId}: ${s.uri} → ${plural(s.partitions, 'partition')}${s.files ? ` from ${plural(s.files, 'file')}` : ''}${s.bytes !== undefined ? `, ${s.bytes} bytes${read}` : ''}${pq ? ` (${pq.note})` : ''}`,
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
