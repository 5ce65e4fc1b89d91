/**
 * The run of one job module (`driver.run`): bundle and upload the module, validate its params,
 * build its graph, ship its broadcasts, prepare its inputs (and rebuild the graph with the scans'
 * listed sizes when a join then broadcasts a small scan), then run each action as jobs
 * through the DAGScheduler (an `unpersist` entry is performed in its place, with no job) and
 * commit what save actions wrote.
 */
import path from 'node:path';
import { ConfigError, coerceError, StratusError } from '../../contract/errors.js';
import { bundleBlobName, CODE_CONTAINER } from '../../contract/names.js';
import { bindDataFrames, hasDataFrames } from '../../duckdb/binder.js';
import { buildJobGraphWithSql } from '../../duckdb/sql-graph.js';
import { type ActionRef, isSaveOp } from '../../engine/dataset/actions.js';
import type { JobActions, JobDefinition, JobResults } from '../../engine/dataset/job.js';
import { validateJobParams } from '../../engine/dataset/job-params.js';
import { isUnpersist } from '../../engine/dataset/persist-ops.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import { loadJobBundle } from '../../engine/plan/module-loader.js';
import { checkParallelizeData } from '../../engine/plan/record-checks.js';
import { driverSideResult } from '../../engine/sql/explain.js';
import { writeSpecOf } from '../../engine/sql/write-spec.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { scanSampler } from '../data/dataframe-inputs.js';
import { checkOutputTarget, commitSavedOutput } from '../data/output-committer.js';
import { parquetScanNote } from '../data/parquet-inputs.js';
import { prepareRunInputs, type RunInputs, UploadProgressLog } from '../data/run-inputs.js';
import { planWithListedSizes } from '../data/scan-sizes.js';
import type { DAGScheduler } from '../scheduler/dag-scheduler.js';
import { type JobOutcome, newRunState } from '../scheduler/run-state.js';
import { uploadBroadcasts } from '../scheduler/stage-io.js';
import { bundleJobModule, type JobBundle, resolveModulePath } from './bundler.js';
import { runDataFrameWrite } from './dataframe-write.js';
import { attachHandles, handleOf } from './handles.js';
import { checkJobParams } from './params.js';
import { SessionCache } from './session-cache.js';
import { unpersistNode } from './unpersist.js';

/** Options of one run. */
export interface RunOptions {
  /** Replace existing output folders / prefixes of save actions (default: refuse). */
  overwrite?: boolean;
}

/** A run's results and what it did. */
export interface RunReport<R> {
  /** What `run` returns: the action's result, or an object of results by action name. */
  results: R;
  /** Final values of the job module's accumulators. */
  accumulators: Record<string, unknown>;
  /** The jobs the run triggered, hidden ones included, in order. */
  jobs: number[];
}

/** What a JobRunner runs on: one application's storage and scheduler. */
export interface JobRunnerEnv {
  appId: string;
  blobs: BlobStore;
  scheduler: DAGScheduler;
  /** Default parallelism: the total slots of the fabric. */
  totalSlots: number;
  /** The storage account's name, as its blob service reports it. */
  accountName?: string;
  /** Target size of an input partition cut from local files (bytes). */
  splitBytes?: number;
  /** Size of the blocks local input partitions are streamed to storage in (bytes). */
  uploadBlockBytes?: number;
  /** Where the driver's own status lines go. */
  log: (line: string) => void;
  /** Puts an info notice in the event log (what input planning found, e.g. row groups skipped). */
  notice?: (message: string) => void;
}

/**
 * Runs job modules for one driver, one `run` call at a time or several at once. It keeps what
 * its runs share: bundles being built, the code hashes already uploaded, the run count.
 */
export class JobRunner {
  private readonly bundles = new Map<string, Promise<JobBundle>>();
  private readonly uploaded = new Set<string>();
  private readonly sessionCache = new SessionCache();
  private readonly uploads: UploadProgressLog;
  private runs = 0;

  constructor(private readonly env: JobRunnerEnv) {
    this.uploads = new UploadProgressLog(env.log);
  }

  /** Run a job module (its default export, or a path to it) with `params`; throws as `driver.run`. */
  async run<P, R extends JobActions>(
    job: JobDefinition<P, R> | string,
    params: P,
    options: RunOptions,
  ): Promise<RunReport<JobResults<R>>> {
    const { blobs, scheduler } = this.env;
    checkJobParams(params);
    const bundle = await this.bundle(job);
    const definition = await loadJobBundle(bundle.codeHash, bundle.code);
    // With a params schema, the builder (here and on executors) gets the schema's output.
    const runParams = await validateJobParams(definition.params, params, path.basename(bundle.entry));
    if (runParams !== params)
      checkJobParams(runParams, `the output of ${path.basename(bundle.entry)}'s params schema`);
    await this.upload(bundle);
    const first = await this.buildGraph(definition, runParams, bundle.entry);
    // Before anything is uploaded: data the record encoding cannot carry fails the run here.
    checkParallelizeData(first);
    const runIndex = this.runs++;
    const scope = `${this.env.appId}/run-${runIndex}`;
    // Broadcast values are the driver's: computed by this build, shipped before any task runs.
    const broadcasts = await uploadBroadcasts(blobs, scope, first);
    const inputOptions = {
      blobs,
      ...(this.env.accountName !== undefined ? { accountName: this.env.accountName } : {}),
      ...(this.env.splitBytes !== undefined ? { splitBytes: this.env.splitBytes } : {}),
      ...(this.env.uploadBlockBytes !== undefined ? { blockBytes: this.env.uploadBlockBytes } : {}),
      scope,
      progress: this.uploads,
    };
    // Joins of small file scans are broadcast once the listing gave their sizes (scan-sizes.ts);
    // every DataFrame is bound (columns, types, SQL) before any job starts.
    const sampler = scanSampler(blobs);
    let planned: RunInputs & { graph: JobGraph };
    try {
      planned = await planWithListedSizes(
        first,
        await prepareRunInputs(first, inputOptions),
        (sizes) =>
          buildJobGraph(definition, runParams as never, {
            defaultParallelism: this.env.totalSlots,
            sql: { parsed: first.sqlParses() },
            scanSizes: sizes,
          }),
        (rebuilt, nodes) => prepareRunInputs(rebuilt, { ...inputOptions, nodes }),
        async (graph, listed) => {
          if (!hasDataFrames(graph)) return;
          const schemas = new Map([...listed.parquetScans].map(([nodeId, scan]) => [nodeId, scan.schema]));
          const { sample, partitions } = sampler.over(listed.inputs, schemas);
          await bindDataFrames(graph, sample, undefined, partitions);
        },
      );
    } finally {
      await sampler.close();
    }
    const { graph, inputs, sourcePartitions, parquetScans } = planned;
    const scanNotes = new Map([...parquetScans].map(([nodeId, scan]) => [nodeId, parquetScanNote(scan)]));
    for (const [nodeId, note] of scanNotes) {
      this.env.notice?.(`node ${nodeId} read.parquet: ${note}`);
    }
    const state = newRunState(
      { blobs },
      {
        scope,
        broadcasts,
        runIndex,
        module: path.basename(bundle.entry),
        graph,
        codeHash: bundle.codeHash,
        params: runParams ?? null,
        defaultParallelism: this.env.totalSlots,
        inputs,
        sourcePartitions,
      },
    );
    // Handles read as sources must be this application's and still stored.
    await attachHandles(state, this.env.appId, blobs);
    this.sessionCache.restore(state);
    const results: Record<string, unknown> = {};
    const before = scheduler.jobsRun;
    for (const name of graph.actionNames) {
      const ref: ActionRef = { name };
      const action = graph.resolveAction(ref);
      // A DataFrame's schema, printSchema and explain are answered from the bound plan: no job.
      const answered = driverSideResult(graph, action, name, sourcePartitions, scanNotes);
      if (answered !== undefined) {
        results[name] = answered;
        continue;
      }
      if (isUnpersist(action)) {
        // A driver step between jobs, not a job.
        results[name] = (await unpersistNode(state, action.nodeId, blobs)).released;
        continue;
      }
      const write = writeSpecOf(action.options);
      if (write) {
        // A DataFrame write: its mode decides before the job (errorifexists, ignore) and at commit.
        results[name] = await runDataFrameWrite(scheduler, state, blobs, graph, ref, name, write);
        continue;
      }
      const isSave = isSaveOp(action.op);
      // A DataFrame's write.mode('overwrite') allows replacing its output, as --overwrite does.
      const overwrite = options.overwrite === true || action.options.mode === 'overwrite';
      if (isSave) await checkOutputTarget(blobs, String(action.options.path), overwrite);
      const outcome: JobOutcome = await scheduler.runAction(state, ref, name);
      if (isSave && outcome.savedParts) {
        await commitSavedOutput(blobs, String(action.options.path), outcome.savedParts, {
          overwrite,
        });
      }
      results[name] =
        action.op === 'handle'
          ? handleOf(state, this.env.appId, action.nodeId, outcome.result as number)
          : outcome.result;
    }
    this.sessionCache.remember(state);
    const allJobs = Array.from({ length: scheduler.jobsRun - before }, (_, i) => before + i);
    const value = graph.singleAction ? results[graph.actionNames[0]!] : results;
    return { results: value as JobResults<R>, accumulators: graph.accumulatorValues(), jobs: allJobs };
  }

  private async bundle(job: JobDefinition | string): Promise<JobBundle> {
    let entry: string;
    if (typeof job === 'string') entry = resolveModulePath(job);
    else if (job?.kind === 'stratus-job' && job.moduleUrl) entry = resolveModulePath(job.moduleUrl);
    else {
      throw new ConfigError(
        'driver.run needs a job module: its default export (defineJob(...)) or the path to the module file',
      );
    }
    // Every run asks the content-addressed bundle cache (bundle-cache.ts): unchanged files cost a
    // hash of each, an edited one a new build. Concurrent runs of one module share one lookup.
    let pending = this.bundles.get(entry);
    if (!pending) {
      pending = bundleJobModule(entry);
      const forget = () => this.bundles.delete(entry);
      pending.then(forget, forget);
      this.bundles.set(entry, pending);
    }
    return pending;
  }

  private async upload(bundle: JobBundle): Promise<void> {
    if (this.uploaded.has(bundle.codeHash)) return;
    const name = bundleBlobName(bundle.codeHash);
    if (!(await this.env.blobs.exists(CODE_CONTAINER, name))) {
      await this.env.blobs.put(CODE_CONTAINER, name, bundle.code);
    }
    this.uploaded.add(bundle.codeHash);
  }

  private buildGraph(definition: JobDefinition, params: unknown, entry: string): Promise<JobGraph> {
    return buildRunGraph(definition, params, entry, this.env.totalSlots);
  }
}

/**
 * Build the graph of a job module's `definition` with `params` (the schema's output) and
 * `defaultParallelism`, its `ctx.sql` texts parsed by DuckDB on the way (duckdb/sql-graph.ts);
 * a builder that throws becomes BUILDER_FAILED carrying the user's stack.
 */
export async function buildRunGraph(
  definition: JobDefinition,
  params: unknown,
  entry: string,
  defaultParallelism: number,
): Promise<JobGraph> {
  try {
    return await buildJobGraphWithSql(definition, params as never, { defaultParallelism });
  } catch (error) {
    if (error instanceof StratusError) throw error;
    // Only a thrown Error's stack is the user's; a coerced value's would point here.
    const userStack = error instanceof Error ? error.stack : undefined;
    throw new StratusError(
      'BUILDER_FAILED',
      `job module ${path.basename(entry)} threw while building its plan (no task was run): ${coerceError(error).message}`,
      userStack ? { userStack } : {},
      { cause: error },
    );
  }
}
