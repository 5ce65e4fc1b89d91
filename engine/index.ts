/**
 * stratus engine — the `stratus` package a job module imports, and the pure core shared by
 * the driver and executors (no Azure SDK, no network, no clock, no unseeded randomness).
 *
 * API overview
 * - Job modules: `defineJob((ctx, params) => action | {name: action})` → JobDefinition.
 *   `ctx` (JobContext): parallelize, textFile, jsonLines, csv, broadcast, accumulator,
 *   defaultParallelism. Dataset<T>: map, flatMap, filter, mapPartitions, union, sample,
 *   coalesce, keyBy, cache, repartition, distinct, sortBy; on Dataset<[K, V]>: mapValues,
 *   flatMapValues, keys, values, reduceByKey, foldByKey, aggregateByKey, combineByKey,
 *   groupByKey, cogroup, join, left/right/fullOuterJoin, subtractByKey, sortByKey,
 *   partitionBy; actions: collect, count, take, first, reduce, fold, aggregate,
 *   countByKey, saveAsTextFile, saveAsJsonLines.
 * - Graph (driver and executor): `buildJobGraph(def, params, {defaultParallelism})` →
 *   JobGraph (nodes in construction order, `fingerprint`, `node(id)`, `sources()`,
 *   `resolveAction(ref)`, broadcast values, accumulator merging).
 * - Planning (driver): `planJob(graph, actionName | ActionRef, {cachedNodes, rangeBounds,
 *   sourcePartitions})` → JobPlan (StagePlan[] parents first; each StagePlan is JSON for
 *   the stage descriptor) or `{needsSampling}` for a sort; `computeRangeBounds`;
 *   `describePlan` for explain.
 * - Tasks (executor): `runTask(graph, stage, partition, io)` with a TaskIO the executor
 *   implements over blobs → shuffle segments or an action partial, accumulator updates,
 *   cached partitions, metrics. Driver: `mergeActionResults(graph.resolveAction(ref),
 *   partials)`.
 * - Keys, partitioners, codecs: canonicalKey/hashKey/compareKeys, HashPartitioner,
 *   RangePartitioner, createPartitioner, jsonLinesCodec/getCodec.
 * - `engine/testing/in-memory-runner.ts` runs a whole job in one process: read it to see
 *   how a scheduler drives the engine.
 */
export {
  Action,
  type ActionOp,
  type ActionRef,
  mergeActionResults,
  partFileName,
  type SaveResult,
} from './actions.js';
export {
  decodeChunks,
  getCodec,
  jsonLinesCodec,
  type RecordCodec,
  RecordDecodingError,
  RecordEncodingError,
  type RecordStreamDecoder,
  registerCodec,
} from './codec.js';
export type { CsvSourceOptions, FileSourceOptions, JobContext, ParsedSourceOptions } from './context.js';
export type { CsvColumnType } from './csv.js';
export { Dataset } from './dataset.js';
export {
  ConfigError,
  EmptyCollectionError,
  JobFailedError,
  ProtocolError,
  StratusError,
  UserCodeError,
} from './errors.js';
export { describePlan } from './explain.js';
export {
  type BuildOptions,
  buildJobGraph,
  JobGraph,
  SINGLE_ACTION_NAME,
  type SourceNodeInfo,
} from './graph.js';
export { defineJob, type JobActions, type JobDefinition, type JobResults } from './job.js';
export type { ParamsInput, ParamsOutput, ParamsSchema } from './job-params.js';
export { canonicalKey, compareKeys, hashKey, InvalidKeyError, type Key } from './keys.js';
export {
  computeRangeBounds,
  createPartitioner,
  HashPartitioner,
  type PartitionerDesc,
  RangePartitioner,
  type RangeSample,
} from './partitioner.js';
export {
  BadRecordError,
  type BadRecordPolicy,
  badRecordsAccumulatorName,
  isSplitStart,
  type SourceSplitStart,
} from './record-formats.js';
export type { Accumulator, Broadcast } from './shared-variables.js';
export type { SpillStore } from './spill.js';
export {
  isSamplingRequest,
  type JobPlan,
  type PlanOptions,
  planJob,
  type SamplingRequest,
  type ShuffleReadInfo,
  type ShuffleWriteInfo,
  type StagePlan,
} from './stages.js';
export type { TaskIO } from './task-io.js';
export {
  type CachedPartitionOutput,
  type ResultTaskOutput,
  type RunTaskOptions,
  runTask,
  type ShuffleMapTaskOutput,
  type TaskOutput,
  type TaskRunMetrics,
} from './task-runtime.js';
