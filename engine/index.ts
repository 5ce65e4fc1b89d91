/**
 * `stratus`: the job-module API, and nothing else. A job module default-exports
 * `defineJob((ctx, params) => action | {name: action})`; `ctx` (JobContext) makes datasets from
 * sources (parallelize, textFile, jsonLines, csv — with the record types their options give —
 * wholeTextFiles, binaryFiles),
 * broadcasts and accumulators; a Dataset<T>
 * has Spark's RDD transformations and actions (stats() returns a StatCounter). `ctx.read` and
 * `ctx.createDataFrame` make DataFrames, whose column expressions are built with `col`, `lit`,
 * `expr` and the aggregate functions exported here (engine/sql, docs/dataframes.md). Besides those: the params-schema types, the
 * Key type and the key functions that define key equality and order (docs/concepts-keys.md),
 * and the errors a user can meet, each a StratusError with a stable `code`.
 *
 * This list is the published contract, recorded in api/stratus.api.md and checked by
 * `npm run api:check`. Dataset, Action, Broadcast and Accumulator are exported as types only:
 * job code receives them from `ctx`, never constructs them.
 *
 * Everything else in engine/ is internal and imported from its own file by the driver and the
 * executors: the graph (plan/graph.ts), stage splitting (plan/stages.ts), the task runtime and
 * TaskIO (task/), partitioners and shuffle I/O (shuffle/), record codecs (records/codec.ts).
 * The bundler and module loader hand a job bundle exactly this module (driver/app/bundler.ts,
 * plan/module-loader.ts), so what a job module can import at run time is what is listed here.
 *
 * @packageDocumentation
 */

export {
  ConfigError,
  EmptyCollectionError,
  type ErrorContext,
  JobFailedError,
  NonRetryableError,
  ProtocolError,
  StratusError,
  type StratusErrorOptions,
  UserCodeError,
} from '../contract/errors.js';
export type { Action, SaveResult } from './dataset/actions.js';
export type { JobContext } from './dataset/context.js';
export type { Dataset } from './dataset/dataset.js';
export { defineJob, type JobActions, type JobDefinition, type JobResults } from './dataset/job.js';
export type {
  ParamsInput,
  ParamsIssue,
  ParamsOutput,
  ParamsSchema,
  ParamsValidation,
} from './dataset/job-params.js';
export type { Accumulator, Broadcast } from './dataset/shared-variables.js';
export type {
  CsvArrayRow,
  CsvCell,
  CsvColumnNames,
  CsvColumnTypes,
  CsvHasColumnNames,
  CsvNamedRow,
  CsvRecord,
  CsvSourceOptions,
  CsvValue,
  FileSourceOptions,
  JsonLinesRecord,
  JsonLinesSourceOptions,
  JsonValue,
  ParsedSourceOptions,
  SourceOption,
  SourceRecord,
} from './dataset/source-options.js';
export type { StatCounter, StatSummary } from './dataset/stat-counter.js';
export type { StorageLevel } from './plan/persistence.js';
export { RecordDecodingError, RecordEncodingError } from './records/codec.js';
export type { CsvColumnType } from './records/csv.js';
export { canonicalKey, compareKeys, hashKey, InvalidKeyError, type Key } from './records/keys.js';
export { BadRecordError, type BadRecordPolicy, type RecordPosition } from './records/record-formats.js';
export type { RecordSchema, RecordSchemaOutput } from './records/record-schema.js';
export {
  abs,
  avg,
  type Column,
  type ColumnLike,
  type ColumnOrLiteral,
  coalesce,
  col,
  collect_list,
  column,
  count,
  countDistinct,
  expr,
  first,
  type LiteralValue,
  lit,
  lower,
  max,
  mean,
  min,
  round,
  sum,
  upper,
  type WindowSpec,
} from './sql/column.js';
export {
  broadcast,
  type DataFrame,
  type DataFrameWriter,
  type GroupedData,
  type SaveMode,
} from './sql/dataframe.js';
export type { Row } from './sql/df-actions.js';
export type { CsvReadOptionsInput, DataFrameReader, ReadOptions, RuntimeConfig } from './sql/session.js';
export type { SchemaInput, StructField, StructType } from './sql/types.js';
export {
  cume_dist,
  dense_rank,
  lag,
  lead,
  ntile,
  percent_rank,
  rank,
  row_number,
  Window,
} from './sql/window.js';
