/**
 * The payload of a relational node of the job graph: one fragment of a DataFrame's plan that
 * a task runs as one DuckDB query — an input (a file scan, local rows, or the exchange the
 * node reads) followed by narrow operators and at most one aggregation step. Fragments are cut
 * at exchanges by the planner (planner.ts), so every fragment is pipelined within one stage.
 * The driver's binder fills `bound` (the SQL and the schemas) on the driver's graph only;
 * executors never rebuild fragments: they run the SQL their stage program carries.
 * A leaf: the plan's node types import it, so it imports nothing of the plan.
 */
import type { ColumnNode } from './column.js';
import type { StructType } from './types.js';

/** The file formats a DataFrame reads. */
export type ScanFormat = 'parquet' | 'csv' | 'json';

/** CSV read options (Spark's names). */
export interface CsvReadOptions {
  /** The first line of every file names the columns. */
  readonly header: boolean;
  readonly sep: string;
  readonly quote: string;
  readonly escape: string;
  /** The text read as null (Spark's `nullValue`, default empty). */
  readonly nullValue: string;
  /** Infer column types from the data (else every column is a string, as Spark). */
  readonly inferSchema: boolean;
}

/** Where a fragment's rows come from. */
export type FragmentInput =
  | {
      readonly kind: 'scan';
      readonly format: ScanFormat;
      readonly uri: string;
      /** The user's schema, when given (else the driver reads it from the first file). */
      readonly schema?: StructType;
      readonly csv?: CsvReadOptions;
      /** Parquet: the union of the files' columns (Spark's mergeSchema) instead of requiring one schema. */
      readonly mergeSchema?: boolean;
    }
  | { readonly kind: 'local'; readonly rows: readonly unknown[]; readonly schema: StructType }
  /**
   * ds.toDF(schema): the rows a Dataset's tasks checked against `schema`, read from the bridge's
   * direct exchange node `exchange` (this node's only parent; engine/sql/bridge.ts).
   */
  | { readonly kind: 'records'; readonly schema: StructType; readonly exchange: number }
  /** The rows of the exchange node that is this node's only parent. */
  | { readonly kind: 'exchange' }
  /** A join of the two exchanges that are this node's parents (left, right), co-partitioned on its keys. */
  | ({ readonly kind: 'join' } & JoinSpec)
  /** The rows of both exchanges that are this node's parents (left, right): union or unionByName. */
  | { readonly kind: 'union'; readonly byName: boolean; readonly allowMissingColumns: boolean };

/**
 * What a join computes: on same-named columns (`on`, with no condition) or on a condition, whose
 * qualified columns name a side by the qualifiers found in that side's plan (join-plan.ts).
 */
export interface JoinSpec {
  readonly how: JoinType;
  /** Using columns (`join(other, ['k'])`); empty with a condition. */
  readonly on: readonly string[];
  readonly condition?: ColumnNode;
  readonly leftQualifiers?: readonly string[];
  readonly rightQualifiers?: readonly string[];
  /** The sides' own aliases (`df.alias('a')`), which name their copies of a column both sides have. */
  readonly leftAlias?: string;
  readonly rightAlias?: string;
  /** A column name on both sides besides the using columns is an error (joins of ctx.sql queries). */
  readonly distinctColumns?: boolean;
}

/** Spark's join types (after normalising aliases such as `left_outer`, `outer`, `left_semi`). */
export type JoinType = 'inner' | 'left' | 'right' | 'full' | 'semi' | 'anti';

/** An aggregate call of a split aggregation: its function, argument SQL node and output name. */
export interface AggregateCall {
  readonly fn: 'sum' | 'count' | 'avg' | 'min' | 'max';
  /** The argument, or '*' for count(*). */
  readonly arg: ColumnNode | '*';
  readonly name: string;
}

/** One narrow operator of a fragment; `label` names the user's call (`select at sales.ts:8`) in errors. */
export type FragmentOp = { readonly label: string } & (
  | { readonly op: 'select'; readonly columns: readonly ColumnNode[] }
  | { readonly op: 'filter'; readonly condition: ColumnNode }
  | { readonly op: 'withColumn'; readonly name: string; readonly column: ColumnNode }
  | { readonly op: 'withColumnRenamed'; readonly from: string; readonly to: string }
  | { readonly op: 'drop'; readonly names: readonly string[] }
  /** Map side of a split aggregation: group keys, then each call's partial columns. */
  | {
      readonly op: 'partialAggregate';
      readonly keys: readonly ColumnNode[];
      readonly calls: readonly AggregateCall[];
    }
  /** Reduce side: merge the partials of the keys named in the partial step. */
  | {
      readonly op: 'finalAggregate';
      readonly keyNames: readonly string[];
      readonly calls: readonly AggregateCall[];
    }
  /** An aggregation in one step, over rows that an exchange grouped by key. */
  | {
      readonly op: 'aggregate';
      readonly keys: readonly ColumnNode[];
      readonly columns: readonly ColumnNode[];
    }
  | { readonly op: 'sort'; readonly orders: readonly ColumnNode[] }
  | { readonly op: 'limit'; readonly n: number }
  /** Spark's distinct: one row of each set of equal rows (nulls equal). */
  | { readonly op: 'distinct' }
  /** Spark's dropDuplicates(names): one row (any) of each set of rows equal on `names`. */
  | { readonly op: 'dropDuplicates'; readonly names: readonly string[] }
  /**
   * A broadcast join: the rows so far are the `stream` side, joined in this task with every row of
   * the broadcast exchange node `exchange` (one partition, which every task of the stage reads whole).
   */
  | {
      readonly op: 'broadcastJoin';
      readonly join: JoinSpec;
      readonly stream: 'left' | 'right';
      readonly exchange: number;
    }
);

/** The relation a task defines over the whole output of broadcast exchange node `exchange`. */
export function broadcastRelation(exchange: number): string {
  return `__broadcast_${exchange}`;
}

/** What the driver's binder found for a fragment: the columns it reads and makes, and its SQL. */
export interface BoundFragment {
  /** The columns of the input relation (`__input`; for a join or a union, of its left side `__left`). */
  readonly input: StructType;
  /** A join's or a union's right side (`__right`). */
  readonly right?: StructType;
  /** The fragment's query over `__input`. */
  readonly sql: string;
  /** The columns the query returns. */
  readonly output: StructType;
  /** The broadcast sides the query reads, by broadcast exchange node, with their columns. */
  readonly broadcasts?: readonly { readonly exchange: number; readonly columns: StructType }[];
  /** A Parquet scan: the input columns the query reads (tasks fetch only their column chunks). */
  readonly readColumns?: readonly string[];
  /**
   * A Parquet scan feeding a range exchange (a sort): the input columns its sort keys need — the
   * keys' own columns and those the fragment's filters read. The sort's sampling job fetches only these.
   */
  readonly sampleColumns?: readonly string[];
}

/** A relational node's fragment. */
export interface RelationalFragment {
  readonly input: FragmentInput;
  readonly ops: readonly FragmentOp[];
  /**
   * coalesce(n): the node has min(n, input partitions) partitions, task p reading the input
   * partitions coalescedInputs(p) gives (consecutive ranges), as Spark's CoalescedRDD without locality.
   */
  readonly coalesce?: number;
  /** Set on the driver by the binder before any job is planned. */
  bound?: BoundFragment;
  /**
   * Set on the driver by the binder for a scan of Hive-partitioned folders: the partition columns
   * (at the end of `bound.input`), whose values each task takes from its files' `col=value` folders.
   */
  partitionColumns?: readonly { name: string; type: string }[];
  /**
   * Set on the driver when this fragment feeds one side of a join: the type both sides' keys are
   * cast to before hashing, so equal keys of different types (INTEGER, BIGINT) meet in one partition.
   */
  exchangeKeyTypes?: readonly string[];
  /**
   * Set on the driver when this fragment feeds one side of a join on a condition: the side's hash
   * keys, which only the binder can find (a plain column's side depends on both schemas).
   */
  exchangeKeys?: readonly ColumnNode[];
}

/** How an exchange redistributes the rows of its parent fragment (kept in the exchange node's options). */
export type ExchangeSpec =
  | { readonly mode: 'hash'; readonly keys: readonly ColumnNode[] }
  /** Hash of every column of the row (distinct): the columns are known once the binder has run. */
  | { readonly mode: 'hashAll' }
  /** Rows dealt in turn to the reduce partitions (repartition(n) without columns, union). */
  | { readonly mode: 'roundRobin' }
  | { readonly mode: 'range'; readonly orders: readonly ColumnNode[] }
  /** Every row to one partition; `note` says why when it is a cost the user should know of (explain shows it). */
  | { readonly mode: 'single'; readonly note?: string }
  /**
   * The small side of a broadcast join: one partition that every task of the join's stage reads
   * whole; why it was chosen (a hint, or its size estimate) and the estimate, for explain().
   */
  | { readonly mode: 'broadcast'; readonly reason?: 'hint' | 'size'; readonly estimatedBytes?: number }
  /** df.rdd(): each map task's rows, as objects in the record codec, to its own partition (bridge.ts). */
  | { readonly mode: 'rows' };
