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
  ConfigError,
  EmptyCollectionError,
  JobFailedError,
  NonRetryableError,
  ProtocolError,
  StratusError,
  UserCodeError,
} from '../contract/errors.js';
export {
  Action,
  type ActionOp,
  type ActionRef,
  mergeActionResults,
  partFileName,
  type SaveResult,
} from './dataset/actions.js';
export type {
  CsvSourceOptions,
  FileSourceOptions,
  JobContext,
  ParsedSourceOptions,
} from './dataset/context.js';
export { Dataset } from './dataset/dataset.js';
export { defineJob, type JobActions, type JobDefinition, type JobResults } from './dataset/job.js';
export type { ParamsInput, ParamsOutput, ParamsSchema } from './dataset/job-params.js';
export type { Accumulator, Broadcast } from './dataset/shared-variables.js';
export { describePlan } from './plan/explain.js';
export {
  type BuildOptions,
  buildJobGraph,
  JobGraph,
  SINGLE_ACTION_NAME,
  type SourceNodeInfo,
} from './plan/graph.js';
export {
  isSamplingRequest,
  type JobPlan,
  type PlanOptions,
  planJob,
  type SamplingRequest,
  type ShuffleReadInfo,
  type ShuffleWriteInfo,
  type StagePlan,
} from './plan/stages.js';
export {
  decodeChunks,
  getCodec,
  jsonLinesCodec,
  type RecordCodec,
  RecordDecodingError,
  RecordEncodingError,
  type RecordStreamDecoder,
  registerCodec,
} from './records/codec.js';
export type { CsvColumnType } from './records/csv.js';
export { canonicalKey, compareKeys, hashKey, InvalidKeyError, type Key } from './records/keys.js';
export {
  BadRecordError,
  type BadRecordPolicy,
  badRecordsAccumulatorName,
  isSplitStart,
  type SourceSplitStart,
} from './records/record-formats.js';
export {
  computeRangeBounds,
  createPartitioner,
  HashPartitioner,
  type PartitionerDesc,
  RangePartitioner,
  type RangeSample,
} from './shuffle/partitioner.js';
export type { SpillStore } from './shuffle/spill.js';
export type { TaskIO } from './task/task-io.js';
export {
  type CachedPartitionOutput,
  type ResultTaskOutput,
  type RunTaskOptions,
  runTask,
  type ShuffleMapTaskOutput,
  type TaskOutput,
  type TaskRunMetrics,
} from './task/task-runtime.js';
