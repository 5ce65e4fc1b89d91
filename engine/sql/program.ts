/**
 * The relational stage program: what a DataFrame stage's tasks run, built by the driver from
 * its bound graph and shipped in the stage descriptor (`relational`). It names the task's
 * input (a scan of the partition's input splits, a slice of local rows, or this reduce
 * partition's segments of an exchange), the fragment's SQL over `__input`, and its sink: the
 * partition id expression of the exchange it feeds (hash of the keys, range against sampled
 * bounds, or a single partition), or the action's partial (rows, a count, a sort-key sample).
 * Executors run the program as it is; they never rebuild DataFrames.
 */
import { StratusError } from '../../contract/errors.js';
import type { JobGraph } from '../plan/graph.js';
import type { GraphNode } from '../plan/nodes.js';
import type { JobPlan, StagePlan } from '../plan/stages.js';
import type { Key } from '../records/keys.js';
import { fromTaggedJson } from '../records/tagged-json.js';
import { type ColumnNode, columnSql, sortOrderOf } from './column.js';
import { boundTuple, dataFrameActionKind } from './df-actions.js';
import {
  broadcastRelation,
  type CsvReadOptions,
  type ExchangeSpec,
  type RelationalFragment,
  type ScanFormat,
} from './fragment.js';
import { exchangeSpecOf } from './planner.js';
import { quoteString, type StructField } from './types.js';
import {
  compressionOf,
  type WriteFormat,
  type WriteOptions,
  type WriteSpec,
  writeSpecOf,
} from './write-spec.js';

/**
 * A write's partition columns as the DataFrame names them (case-insensitive match, as Spark);
 * throws DATAFRAME_ANALYSIS for a missing column, a repeated one, or when no column would be left.
 */
export function resolvePartitionColumns(spec: WriteSpec, output: readonly StructField[]): string[] {
  const names = spec.partitionBy.map((wanted) => {
    const field = output.find((f) => f.name.toLowerCase() === wanted.toLowerCase());
    if (!field)
      throw new StratusError(
        'DATAFRAME_ANALYSIS',
        `write.partitionBy: column "${wanted}" not found; the DataFrame has ${output.map((f) => f.name).join(', ')}`,
        {},
        { retryable: false },
      );
    return field.name;
  });
  if (new Set(names.map((n) => n.toLowerCase())).size !== names.length)
    throw new StratusError(
      'DATAFRAME_ANALYSIS',
      `write.partitionBy: a column is named twice (${names.join(', ')})`,
      {},
      { retryable: false },
    );
  if (names.length > 0 && names.length >= output.length)
    throw new StratusError(
      'DATAFRAME_ANALYSIS',
      `write.partitionBy(${names.join(', ')}): cannot use all columns for partition columns (no column would be left in the files)`,
      {},
      { retryable: false },
    );
  return names;
}

/** Version of the program format. */
export const RELATIONAL_PROGRAM_VERSION = 1;

/** The column a map task adds to route each row to its reduce partition. */
export const PARTITION_COLUMN = '__stratus_partition';

/** Where a relational task's rows come from. */
export type ProgramInput =
  | {
      kind: 'scan';
      nodeId: number;
      format: ScanFormat;
      /** The columns read from the files (the partition columns excluded). */
      columns: StructField[];
      csv?: CsvReadOptions;
      /** Hive partition columns, appended after the file's columns from each file's folder names. */
      partitionColumns?: { name: string; type: string }[];
      /** Parquet: the columns the fragment reads (lower case); the others' chunks are not fetched. */
      readColumns?: string[];
    }
  | { kind: 'local'; rows: unknown[][]; numSlices: number; columns: StructField[] }
  | { kind: 'exchange'; shuffleId: number; columns: StructField[] }
  /**
   * ds.toDF(schema): this partition's segment of the bridge's direct exchange, records of the
   * Dataset shuffle's `codec`: [partition, values in column order] (engine/sql/bridge.ts).
   */
  | { kind: 'records'; shuffleId: number; codec: string; columns: StructField[] }
  /**
   * A join or a union: this reduce partition of both sides' exchanges (`__left`, `__right`); the
   * fragment's SQL says which (the task only defines the two relations).
   */
  | {
      kind: 'join';
      /** The left side's columns (as `left.columns`). */
      columns: StructField[];
      left: { shuffleId: number; columns: StructField[] };
      right: { shuffleId: number; columns: StructField[] };
    };

/** What a relational task does with its fragment's rows. */
export type ProgramSink =
  /**
   * Write R segments; `partitionSql` gives each row's reduce partition in [0, numPartitions), or
   * with `roundRobin` the task deals its rows in turn (roundRobinSql, which needs its partition).
   */
  | { kind: 'exchange'; numPartitions: number; partitionSql: string; roundRobin?: boolean }
  | { kind: 'rows'; limit?: number }
  /**
   * df.rdd(): every row, as an object by column name, encoded in the record `codec` into this
   * task's own segment of `numPartitions` (the bridge's direct exchange; engine/sql/bridge.ts).
   */
  | { kind: 'records'; numPartitions: number; codec: string }
  | { kind: 'count' }
  | { kind: 'sample'; keys: string[]; perPartition: number; seed: number }
  /**
   * Write the partition's rows as part files of a DataFrame write: one file, or with
   * `partitionBy` (resolved column names) one per value tuple in its `col=value/` folder.
   */
  | {
      kind: 'write';
      format: WriteFormat;
      partitionBy: string[];
      options: WriteOptions;
      /** The codec (compressionOf). */
      compression: string;
    };

/** One stage's program (JSON, in the stage descriptor). */
export interface RelationalProgram {
  v: typeof RELATIONAL_PROGRAM_VERSION;
  input: ProgramInput;
  /** The fragment's query over `__input`. */
  sql: string;
  /** The columns `sql` returns. */
  output: StructField[];
  sink: ProgramSink;
  /** A coalesced stage: its task count and its input's partition count (taskInputPartitions). */
  coalesce?: { partitions: number; inputPartitions: number };
  /**
   * Broadcast join sides the SQL reads: every task defines `relation` over all of the one reduce
   * partition (0) of shuffle `shuffleId`, whatever its own partition.
   */
  broadcasts?: { relation: string; shuffleId: number; columns: StructField[] }[];
}

/**
 * The input partitions task `partition` reads: its own, or for a coalesced stage a consecutive
 * range of them (Spark's CoalescedRDD without locality preferences), possibly empty.
 */
export function taskInputPartitions(
  program: Pick<RelationalProgram, 'coalesce'>,
  partition: number,
): number[] {
  const c = program.coalesce;
  if (!c) return [partition];
  const from = Math.floor((partition * c.inputPartitions) / c.partitions);
  const to = Math.floor(((partition + 1) * c.inputPartitions) / c.partitions);
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** The fragment of a relational node, bound; throws when the driver did not bind it. */
export function boundFragmentOf(
  node: GraphNode,
): RelationalFragment & { bound: NonNullable<RelationalFragment['bound']> } {
  if (node.impl.type !== 'relational') throw new Error(`internal: node ${node.id} is not relational`);
  const fragment = node.impl.fragment;
  if (!fragment.bound) throw new Error(`internal: relational node ${node.id} was not bound on the driver`);
  return fragment as RelationalFragment & { bound: NonNullable<RelationalFragment['bound']> };
}

/** A JSON value as a SQL literal; DuckDB casts it to the type it is compared with. */
export function literalOf(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : `${value}::DOUBLE`;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'string') return quoteString(value);
  throw new StratusError(
    'UNSUPPORTED_SORT_KEY',
    `a sort key value of type ${typeof value} cannot be a range bound (sort by scalar columns)`,
  );
}

/** SQL true when the row's sort key (orders) comes strictly after `tuple` in the sort order. */
export function rowAfterSql(orders: readonly ColumnNode[], tuple: readonly unknown[]): string {
  const parts = orders.map((order, i) => {
    const { expr, ascending, nullsFirst } = sortOrderOf(order);
    const e = columnSql(expr);
    const b = tuple[i] ?? null;
    const cmp = ascending ? '>' : '<';
    if (b === null) return { after: nullsFirst ? `(${e} IS NOT NULL)` : 'FALSE', equal: `(${e} IS NULL)` };
    const lit = literalOf(b);
    return {
      after: nullsFirst ? `coalesce(${e} ${cmp} ${lit}, FALSE)` : `(${e} IS NULL OR ${e} ${cmp} ${lit})`,
      equal: `coalesce(${e} = ${lit}, FALSE)`,
    };
  });
  let sql = 'FALSE';
  for (let i = parts.length - 1; i >= 0; i--) sql = `(${parts[i]!.after} OR (${parts[i]!.equal} AND ${sql}))`;
  return sql;
}

/**
 * The reduce partition of a round-robin exchange's rows: map task `mapPartition` deals its rows in
 * turn starting at its own index (Spark starts at a random position seeded by the partition), so
 * small map tasks do not all fill reduce partition 0 first.
 */
export function roundRobinSql(numPartitions: number, mapPartition: number): string {
  return `CAST((row_number() OVER () - 1 + ${mapPartition % numPartitions}) % ${numPartitions} AS INTEGER)`;
}

/**
 * The SQL of a row's reduce partition for an exchange (`bounds`: a range exchange's sampled
 * bounds; `columns`: the map side's output columns, hashed by a `hashAll` exchange). A
 * round-robin exchange's SQL depends on the map task (roundRobinSql); this gives its task 0's.
 */
export function partitionSql(
  spec: ExchangeSpec,
  numPartitions: number,
  bounds: readonly unknown[][],
  keyTypes?: readonly string[],
  columns: readonly string[] = [],
): string {
  if (spec.mode === 'rows') throw new Error('internal: the rdd() bridge routes rows by task, not by SQL');
  if (spec.mode === 'single' || spec.mode === 'broadcast' || numPartitions === 1) return '0';
  if (spec.mode === 'roundRobin') return roundRobinSql(numPartitions, 0);
  if (spec.mode === 'hash' || spec.mode === 'hashAll') {
    const nodes = spec.mode === 'hash' ? spec.keys : columns.map((name): ColumnNode => ({ k: 'col', name }));
    // Join sides hash their keys as one common type: DuckDB's hash of 1::INTEGER is not of 1::BIGINT.
    const keys = nodes.map((k, i) =>
      keyTypes?.[i] ? `CAST(${columnSql(k)} AS ${keyTypes[i]})` : columnSql(k),
    );
    return `CAST(hash(${keys.join(', ')}) % ${numPartitions} AS INTEGER)`;
  }
  // Range: the number of bounds the row's key is after (Spark's RangePartitioner: the first bound >= key).
  if (bounds.length === 0) return '0';
  return `(${bounds.map((b) => `CAST(${rowAfterSql(spec.orders, b)} AS INTEGER)`).join(' + ')})`;
}

function inputOf(graph: JobGraph, node: GraphNode, stage: StagePlan): ProgramInput {
  const fragment = boundFragmentOf(node);
  const columns = [...fragment.bound.input.fields];
  const input = fragment.input;
  if (input.kind === 'scan') {
    const partitionColumns = fragment.partitionColumns ?? [];
    return {
      kind: 'scan',
      nodeId: node.id,
      format: input.format,
      columns: columns.slice(0, columns.length - partitionColumns.length),
      ...(input.csv ? { csv: input.csv } : {}),
      ...(fragment.bound.readColumns
        ? { readColumns: fragment.bound.readColumns.map((c) => c.toLowerCase()) }
        : {}),
      ...(partitionColumns.length > 0 ? { partitionColumns: [...partitionColumns] } : {}),
    };
  }
  if (input.kind === 'local') {
    return {
      kind: 'local',
      rows: input.rows as unknown[][],
      // The slices of the rows, not the stage's tasks (fewer when coalesced).
      numSlices: node.requestedPartitions ?? stage.nodePartitions[node.id] ?? 1,
      columns,
    };
  }
  const shuffleOf = (id: number): number => {
    const exchange = graph.node(id);
    if (exchange.impl.type !== 'shuffled') throw new Error(`internal: node ${node.id} reads no exchange`);
    return exchange.impl.dep.shuffleId;
  };
  if (input.kind === 'join' || input.kind === 'union') {
    return {
      kind: 'join',
      columns,
      left: { shuffleId: shuffleOf(node.parents[0]!), columns },
      right: { shuffleId: shuffleOf(node.parents[1]!), columns: [...(fragment.bound.right?.fields ?? [])] },
    };
  }
  if (input.kind === 'records')
    return { kind: 'records', shuffleId: shuffleOf(node.parents[0]!), codec: stage.codec, columns };
  return { kind: 'exchange', shuffleId: shuffleOf(node.parents[0]!), columns };
}

function sinkOf(graph: JobGraph, plan: JobPlan, stage: StagePlan): ProgramSink {
  if (stage.kind === 'shuffle-map') {
    const info = stage.shuffle!;
    const { node } = graph.shuffleDependency(info.shuffleId);
    const spec = exchangeSpecOf(node);
    if (!spec) throw new Error(`internal: shuffle ${info.shuffleId} is not a DataFrame exchange`);
    if (spec.mode === 'rows')
      return { kind: 'records', numPartitions: info.numReducePartitions, codec: stage.codec };
    const bounds =
      info.partitioner.kind === 'range'
        ? info.partitioner.bounds.map((b) => boundTuple(fromTaggedJson(b) as Key))
        : [];
    const mapSide = boundFragmentOf(graph.node(stage.rddNodeId));
    // A side of a join on a condition hashes the keys the binder found for it.
    const keyed: ExchangeSpec =
      spec.mode === 'hash' && mapSide.exchangeKeys ? { mode: 'hash', keys: mapSide.exchangeKeys } : spec;
    return {
      kind: 'exchange',
      numPartitions: info.numReducePartitions,
      partitionSql: partitionSql(
        keyed,
        info.numReducePartitions,
        bounds,
        mapSide.exchangeKeyTypes,
        mapSide.bound.output.fields.map((f) => f.name),
      ),
      ...(spec.mode === 'roundRobin' && info.numReducePartitions > 1 ? { roundRobin: true } : {}),
    };
  }
  const ref = plan.action;
  if ('sampleSortKeys' in ref) {
    const spec = exchangeSpecOf(graph.node(ref.sampleSortKeys));
    if (spec?.mode !== 'range')
      throw new Error(`internal: node ${ref.sampleSortKeys} is not a range exchange`);
    return {
      kind: 'sample',
      keys: spec.orders.map((o) => columnSql(sortOrderOf(o).expr)),
      perPartition: ref.perPartition,
      seed: ref.sampleSortKeys,
    };
  }
  const action = graph.resolveAction(ref);
  if (action.op === 'write') {
    const spec = writeSpecOf(action.options);
    if (!spec) throw new Error('internal: a DataFrame write action without its spec');
    const output = boundFragmentOf(graph.node(stage.rddNodeId)).bound.output.fields;
    return {
      kind: 'write',
      format: spec.format,
      partitionBy: resolvePartitionColumns(spec, output),
      options: spec.options,
      compression: compressionOf(spec.format, spec.options),
    };
  }
  const kind = dataFrameActionKind(action);
  if (kind === 'count') return { kind: 'count' };
  if (kind === 'take' || kind === 'first' || kind === 'show')
    return { kind: 'rows', limit: Number(action.options.n) + (kind === 'show' ? 1 : 0) };
  // schema, printSchema and explain never run; explain shows their plan as a collect's.
  if (kind === 'collect' || kind === 'schema' || kind === 'printSchema' || kind === 'explain')
    return { kind: 'rows' };
  throw new StratusError('PLAN_MISMATCH', `${action.op} cannot end a DataFrame job`);
}

/** The program of `stage` when it computes a DataFrame fragment (undefined for a Dataset stage). */
export function relationalStageProgram(
  graph: JobGraph,
  plan: JobPlan,
  stage: StagePlan,
): RelationalProgram | undefined {
  const node = graph.node(stage.rddNodeId);
  if (node.impl.type !== 'relational') return undefined;
  const fragment = boundFragmentOf(node);
  const broadcasts = (fragment.bound.broadcasts ?? []).map((b) => {
    const exchange = graph.node(b.exchange);
    if (exchange.impl.type !== 'shuffled') throw new Error(`internal: node ${b.exchange} is not an exchange`);
    return {
      relation: broadcastRelation(b.exchange),
      shuffleId: exchange.impl.dep.shuffleId,
      columns: [...b.columns.fields],
    };
  });
  const sink = sinkOf(graph, plan, stage);
  let input = inputOf(graph, node, stage);
  if (sink.kind === 'sample' && input.kind === 'scan' && fragment.bound.sampleColumns) {
    // A sort's sampling job over Parquet fetches only the columns its keys need; the others read as nulls.
    input = { ...input, readColumns: fragment.bound.sampleColumns.map((c) => c.toLowerCase()) };
  }
  return {
    v: RELATIONAL_PROGRAM_VERSION,
    input,
    sql: fragment.bound.sql,
    output: [...fragment.bound.output.fields],
    sink,
    ...(stage.relationalInputPartitions !== undefined
      ? { coalesce: { partitions: stage.numPartitions, inputPartitions: stage.relationalInputPartitions } }
      : {}),
    ...(broadcasts.length > 0 ? { broadcasts } : {}),
  };
}
