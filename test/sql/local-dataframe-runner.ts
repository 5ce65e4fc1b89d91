/**
 * Runs a DataFrame job module in one process the way the scheduler does — bind on the driver,
 * planJob (with the sampling job of a range sort), every task of every stage through
 * duckdb/runner.ts, map outputs as Parquet segment files, partials merged by the action — with
 * files instead of blobs. Input files are cut into `splitsPerFile` line-aligned pieces (CSV and
 * JSON Lines; Parquet is one split per file), so tests can vary partition counts and make empty
 * partitions. The real scheduler is proven by the integration test; this proves the planner and
 * the SQL across many partitionings quickly. Dataset stages (the JavaScript side of ds.toDF and
 * df.rdd) run through the engine's runTask, their shuffle segments kept as files too.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveInputFiles } from '../../driver/data/input-splitter.js';
import { columnChunkBytes, type ParquetScanPlan } from '../../driver/data/parquet-inputs.js';
import {
  parquetScanBytes,
  remapSourceInputs,
  scanReadColumns,
  scanSizesFromListing,
  withScanSizes,
} from '../../driver/data/scan-sizes.js';
import { bindDataFrames } from '../../duckdb/binder.js';
import { readParquetFooter } from '../../duckdb/parquet-footer.js';
import { runRelationalTask } from '../../duckdb/runner.js';
import type { ScanFile } from '../../duckdb/scan-sql.js';
import { buildJobGraphWithSql } from '../../duckdb/sql-graph.js';
import { mergeActionResults } from '../../engine/dataset/actions.js';
import type { JobDefinition } from '../../engine/dataset/job.js';
import { buildJobGraph, type JobGraph } from '../../engine/plan/graph.js';
import { computedPartitions, isSamplingRequest, planJob, type StagePlan } from '../../engine/plan/stages.js';
import { getCodec } from '../../engine/records/codec.js';
import type { Key } from '../../engine/records/keys.js';
import { readSegments } from '../../engine/shuffle/map-output.js';
import { computeRangeBounds, type RangeSample } from '../../engine/shuffle/partitioner.js';
import { driverSideResult } from '../../engine/sql/explain.js';
import { relationalStageProgram, taskInputPartitions } from '../../engine/sql/program.js';
import type { TaskIO } from '../../engine/task/task-io.js';
import { runTask } from '../../engine/task/task-runtime.js';
import { InMemorySpillStore } from '../../engine/testing/in-memory-spill.js';

/** Options of a local DataFrame run. */
export interface LocalRunOptions {
  defaultParallelism?: number;
  /** Line-aligned pieces each CSV / JSON Lines file is cut into (default 2). */
  splitsPerFile?: number;
  /**
   * Told of every read of a record-codec shuffle (Dataset stages, toDF's input): the shuffle, the
   * reduce partition and how many non-empty segments — each one storage request on executors.
   */
  onSegmentReads?: (shuffleId: number, reducePartition: number, segments: number) => void;
}

/** Cut a text file into `k` line-aligned pieces (some may be empty). */
async function splitLines(file: string, k: number, dir: string, header: boolean): Promise<ScanFile[][]> {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out: ScanFile[][] = [];
  for (let i = 0; i < k; i++) {
    const piece = lines.slice(Math.floor((i * lines.length) / k), Math.floor(((i + 1) * lines.length) / k));
    const target = path.join(dir, `${path.basename(file)}.${i}`);
    await writeFile(target, piece.length > 0 ? `${piece.join('\n')}\n` : '');
    out.push([{ path: target, skipHeader: header && i === 0 && piece.length > 0 }]);
  }
  return out;
}

let lastGraph: JobGraph | undefined;

/** The graph the last runDataFrameJob ran (after any rebuild with scan sizes), for tests of its plan. */
export function lastRunGraph(): JobGraph | undefined {
  return lastGraph;
}

/** Run every action of `job` with `params`; returns results by action name (or the single result). */
export async function runDataFrameJob<P>(
  job: JobDefinition<P>,
  params: P,
  options: LocalRunOptions = {},
): Promise<unknown> {
  const work = await mkdtemp(path.join(tmpdir(), 'stratus-df-'));
  try {
    return await run(job, params, options, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function run<P>(
  job: JobDefinition<P>,
  params: P,
  options: LocalRunOptions,
  work: string,
): Promise<unknown> {
  const defaultParallelism = options.defaultParallelism ?? 2;
  const first: JobGraph = await buildJobGraphWithSql(job, params, { defaultParallelism });
  let scans = new Map<number, ScanFile[][]>();
  let sourcePartitions = new Map<number, number>();
  let firstFiles = new Map<number, string>();
  const fileBytes = new Map<number, number>();
  const parquetBytes = new Map<number, Pick<ParquetScanPlan, 'estimatedBytes' | 'columnBytes'>>();
  for (const source of first.sources()) {
    const files = await resolveInputFiles(source.uri);
    fileBytes.set(
      source.nodeId,
      (await Promise.all(files.map((f) => stat(f)))).reduce((n, st) => n + st.size, 0),
    );
    if (source.kind === 'parquet') {
      // As the driver's listing: the column chunks of the files' row groups (none skipped here).
      const groups = (await Promise.all(files.map((f) => readParquetFooter(f, f)))).flatMap(
        (f) => f.rowGroups,
      );
      const columnBytes = columnChunkBytes(groups);
      const estimatedBytes = [...columnBytes.values()].reduce((n, b) => n + b, 0);
      parquetBytes.set(source.nodeId, { estimatedBytes, columnBytes });
    }
    const node = first.node(source.nodeId);
    const header =
      node.impl.type === 'relational' &&
      node.impl.fragment.input.kind === 'scan' &&
      node.impl.fragment.input.csv?.header === true;
    const parts: ScanFile[][] = [];
    for (const file of files) {
      if (source.kind === 'parquet') parts.push([{ path: file, skipHeader: false }]);
      else parts.push(...(await splitLines(file, options.splitsPerFile ?? 2, work, header)));
    }
    if (files[0]) firstFiles.set(source.nodeId, files[0]);
    scans.set(source.nodeId, parts);
    sourcePartitions.set(source.nodeId, parts.length);
  }
  // As the driver does (job-run.ts planWithListedSizes): bind the first graph for the columns its
  // Parquet scans read, size the scans from the listing (here the files and their footers), then
  // rebuild when the sizes make a join broadcast a scanned side, the listing carried over to the
  // new node ids, and bind the graph that runs.
  const bind = (g: JobGraph, files: Map<number, string>) =>
    bindDataFrames(g, async (nodeId) => files.get(nodeId));
  let firstError: { error: unknown } | undefined;
  let firstBound = false;
  if (parquetBytes.size > 0) {
    try {
      await bind(first, firstFiles);
      firstBound = true;
    } catch (error) {
      firstError = { error };
    }
  }
  const { graph, rebuilt } = await withScanSizes(
    first,
    scanSizesFromListing(first, (nodeId) => {
      const parquet = parquetBytes.get(nodeId);
      return parquet ? parquetScanBytes(parquet, scanReadColumns(first, nodeId)) : fileBytes.get(nodeId);
    }),
    (scanSizes) =>
      buildJobGraph(job, params, { defaultParallelism, sql: { parsed: first.sqlParses() }, scanSizes }),
  );
  if (rebuilt) {
    const remap = <T>(byNode: Map<number, T>) => {
      const { mapped, unmatched } = remapSourceInputs(first, graph, byNode);
      if (unmatched.length > 0) throw new Error(`scan nodes ${unmatched.join(', ')} have no listing`);
      return mapped;
    };
    scans = remap(scans);
    sourcePartitions = remap(sourcePartitions);
    firstFiles = remap(firstFiles);
    await bind(graph, firstFiles);
  } else if (firstError) throw firstError.error;
  else if (!firstBound) await bind(graph, firstFiles);
  lastGraph = graph;

  const segments = new Map<number, (string | undefined)[][]>(); // shuffle → map partition → reduce partition → file
  const rangeBounds = new Map<number, Key[]>();
  let taskCount = 0;
  /** Keep segment `r` of map task `m` of `shuffleId` as a file beyond its task (as a map output blob outlives it). */
  const keepSegment = async (shuffleId: number, m: number, r: number, bytes: Uint8Array | string) => {
    const target = path.join(work, `shuffle-${shuffleId}-m${m}-r${r}.seg`);
    if (typeof bytes === 'string') await copyFile(bytes, target);
    else await writeFile(target, bytes);
    return target;
  };
  const segmentBytes = (shuffleId: number, reducePartition: number) => {
    const files = segments
      .get(shuffleId)!
      .map((m) => m[reducePartition])
      .filter((f): f is string => f !== undefined);
    options.onSegmentReads?.(shuffleId, reducePartition, files.length);
    return Promise.all(files.map((f) => readFile(f)));
  };
  const datasetIO: TaskIO = {
    readSource() {
      throw new Error('the local DataFrame runner reads no Dataset file source (parallelize only)');
    },
    async *readShuffle(shuffleId, reducePartition) {
      yield* await segmentBytes(shuffleId, reducePartition);
    },
    readCached: () => undefined,
    broadcastValue() {
      throw new Error('the local DataFrame runner has no broadcast variables');
    },
    openSavedPart() {
      throw new Error('the local DataFrame runner does not run save actions (the e2e test does)');
    },
    spill: new InMemorySpillStore(),
    memoryBudgetBytes: 64 * 1024 * 1024,
  };
  /** A Dataset stage: every task through the engine's runTask; returns the partials of a result stage. */
  const runDatasetStage = async (stage: StagePlan, fingerprint: string): Promise<unknown[]> => {
    const outputs: (string | undefined)[][] = [];
    const partials: unknown[] = [];
    const codec = getCodec(stage.codec);
    for (const p of computedPartitions(stage)) {
      const wire = JSON.parse(JSON.stringify(stage)) as StagePlan; // the descriptor travels as JSON
      const out = await runTask(graph, wire, p, datasetIO, { fingerprint });
      if (out.kind === 'shuffle-map') {
        const kept = await Promise.all(
          (await readSegments(out.mapOutput)).map((bytes, r) =>
            bytes.length > 0 ? keepSegment(stage.shuffle!.shuffleId, p, r, bytes) : undefined,
          ),
        );
        await out.mapOutput.discard();
        outputs.push(kept);
      } else if (out.kind === 'result') partials.push(codec.decode(codec.encode([out.result], 'result'))[0]);
      else throw new Error('the local DataFrame runner does not run save actions (the e2e test does)');
    }
    if (stage.shuffle) segments.set(stage.shuffle.shuffleId, outputs);
    return partials;
  };
  const runAction = async (ref: Parameters<typeof planJob>[1]): Promise<unknown> => {
    for (;;) {
      const planned = planJob(graph, ref, { rangeBounds, sourcePartitions });
      if (isSamplingRequest(planned)) {
        if (!planned.needsSampling) throw new Error('DataFrames run no hidden job but sort sampling');
        const { nodeId, sampleAction, numPartitions } = planned.needsSampling;
        const samples = (await runAction(sampleAction)) as RangeSample[];
        rangeBounds.set(nodeId, computeRangeBounds(samples, numPartitions));
        continue;
      }
      let partials: unknown[] = [];
      for (const stage of planned.stages) {
        if (stage.shuffle && segments.has(stage.shuffle.shuffleId)) continue;
        const program = relationalStageProgram(graph, planned, stage);
        if (!program) {
          partials = await runDatasetStage(stage, planned.fingerprint);
          continue;
        }
        const outputs: (string | undefined)[][] = [];
        partials = [];
        for (let p = 0; p < stage.numPartitions; p++) {
          const tempDir = path.join(work, `task-${taskCount++}`);
          await mkdir(tempDir, { recursive: true });
          const input = program.input;
          const own = taskInputPartitions(program, p);
          const segmentsOf = (shuffleId: number) =>
            own.flatMap((q) =>
              segments
                .get(shuffleId)!
                .map((m) => m[q])
                .filter((f): f is string => f !== undefined),
            );
          const inputs =
            input.kind === 'scan'
              ? { scanFiles: own.flatMap((q) => scans.get(input.nodeId)![q]!) }
              : input.kind === 'exchange'
                ? { segmentFiles: segmentsOf(input.shuffleId) }
                : input.kind === 'join'
                  ? {
                      segmentFiles: segmentsOf(input.left.shuffleId),
                      rightSegmentFiles: segmentsOf(input.right.shuffleId),
                    }
                  : input.kind === 'records'
                    ? {
                        recordSegments: (
                          await Promise.all(own.map((q) => segmentBytes(input.shuffleId, q)))
                        ).flat(),
                      }
                    : {};
          // Broadcast sides: every task reads their one reduce partition whole.
          const broadcastFiles = Object.fromEntries(
            (program.broadcasts ?? []).map((b) => [
              b.relation,
              segments
                .get(b.shuffleId)!
                .map((m) => m[0])
                .filter((f): f is string => f !== undefined),
            ]),
          );
          const out = await runRelationalTask(
            program,
            p,
            { ...inputs, broadcastFiles },
            {
              tempDir,
              memoryBudgetBytes: 128 * 1024 * 1024,
            },
          );
          if (out.kind === 'exchange') {
            // Keep the segments beyond the task's temp dir, as a map output blob outlives its task.
            const kept = await Promise.all(
              out.segments.map(async (file, r) => {
                if (!file) return undefined;
                const target = path.join(work, `shuffle-${stage.shuffle!.shuffleId}-m${p}-r${r}.parquet`);
                await copyFile(file, target);
                return target;
              }),
            );
            outputs.push(kept);
          } else if (out.kind === 'records') {
            const kept: (string | undefined)[] = new Array(out.numPartitions).fill(undefined);
            if (out.segmentFile !== undefined)
              kept[out.partition] = await keepSegment(
                stage.shuffle!.shuffleId,
                p,
                out.partition,
                out.segmentFile,
              );
            outputs.push(kept);
          } else if (out.kind === 'files') {
            throw new Error('the local DataFrame runner does not run save actions (the e2e test does)');
          } else partials.push(out.result);
        }
        if (stage.shuffle) segments.set(stage.shuffle.shuffleId, outputs);
      }
      return mergeActionResults(graph.resolveAction(planned.action), partials);
    }
  };

  const results: Record<string, unknown> = {};
  for (const name of graph.actionNames) {
    const action = graph.action(name);
    results[name] = driverSideResult(graph, action, name, sourcePartitions) ?? (await runAction({ name }));
  }
  return graph.singleAction ? results[graph.actionNames[0]!] : results;
}
