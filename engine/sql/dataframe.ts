/**
 * DataFrame: Spark's untyped Dataset[Row] over the job graph. Transformations build a logical
 * plan (logical-plan.ts) and return a new DataFrame; actions lower the plan into graph nodes
 * (planner.ts) and return an Action, as Dataset actions do. Nothing is checked here beyond the
 * shape of the arguments: the driver binds every plan with DuckDB before any task runs, and a
 * missing column or a type error fails the run there, naming the call (`filter at sales.ts:9`).
 */
import { ConfigError } from '../../contract/errors.js';
import { Action, actionImpls, type SaveResult } from '../dataset/actions.js';
import type { GraphBuilder } from '../dataset/graph-builder.js';
import { currentCallSite } from '../plan/call-site.js';
import {
  avg as avgOf,
  Column,
  type ColumnLike,
  type ColumnNode,
  col,
  columnName,
  count,
  expr,
  hasAggregate,
  max as maxOf,
  min as minOf,
  sum as sumOf,
  toColumn,
} from './column.js';
import {
  DATAFRAME_ACTION_OPTION,
  type DataFrameActionKind,
  dataFrameActionImpl,
  type Row,
} from './df-actions.js';
import type { JoinType } from './fragment.js';
import { qualifierOf } from './join-plan.js';
import type { LogicalPlan } from './logical-plan.js';
import { rememberLogicalPlan } from './logical-plans.js';
import type { DataFramePlanner } from './planner.js';
import { defineTempView } from './temp-views.js';
import type { StructType } from './types.js';
import {
  checkWriteOptions,
  type SaveMode,
  saveModeOf,
  type WriteFormat,
  type WriteOptions,
  type WriteSpec,
} from './write-spec.js';

/** A write option that is a boolean: true, false, or their text (any case); throws ConfigError otherwise. */
function booleanOption(name: string, value: string | number | boolean): boolean {
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (text === 'true' || text === 'false') return text === 'true';
  throw new ConfigError(`write.option: ${name} must be true or false, got ${JSON.stringify(value)}`);
}

/** `select at sales.ts:8`, or `select` when the stack does not name the user's file. */
function labelOf(op: string): string {
  const site = currentCallSite();
  return site === undefined ? op : `${op} at ${site}`;
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${what}: n must be a non-negative integer, got ${n}`);
}

/** Spark's join type names and aliases. */
const JOIN_TYPES: Readonly<Record<string, JoinType>> = {
  inner: 'inner',
  left: 'left',
  left_outer: 'left',
  leftouter: 'left',
  right: 'right',
  right_outer: 'right',
  rightouter: 'right',
  full: 'full',
  outer: 'full',
  full_outer: 'full',
  fullouter: 'full',
  semi: 'semi',
  left_semi: 'semi',
  leftsemi: 'semi',
  anti: 'anti',
  left_anti: 'anti',
  leftanti: 'anti',
};

/** What a DataFrame needs from its job: the graph under construction and the planner. */
export interface DataFrameEnv {
  readonly builder: GraphBuilder;
  readonly planner: DataFramePlanner;
}

/** A distributed table of rows with a schema (Spark's DataFrame). Immutable. */
export class DataFrame {
  /** @internal Built by ctx.read, ctx.createDataFrame and DataFrame transformations. */
  constructor(
    /** @internal */
    readonly env: DataFrameEnv,
    /** @internal */
    readonly plan: LogicalPlan,
  ) {}

  private with(plan: LogicalPlan): DataFrame {
    return new DataFrame(this.env, plan);
  }

  /** The columns or expressions given (names, `'*'`, Columns). */
  select(...columns: ColumnLike[]): DataFrame {
    if (columns.length === 0) throw new ConfigError('select: name at least one column');
    return this.with({
      kind: 'select',
      child: this.plan,
      columns: columns.map((c) => toColumn(c).node),
      label: labelOf('select'),
    });
  }

  /** The SQL expressions given (`selectExpr('amount * 2 AS double')`). */
  selectExpr(...sql: string[]): DataFrame {
    if (sql.length === 0) throw new ConfigError('selectExpr: give at least one expression');
    return this.with({
      kind: 'select',
      child: this.plan,
      columns: sql.map((s) => expr(s).node),
      label: labelOf('selectExpr'),
    });
  }

  /** Rows where `condition` is true (a Column, or SQL text such as `'amount > 100'`). */
  where(condition: Column | string): DataFrame {
    return this.filterAs('where', condition);
  }

  /** Alias of where. */
  filter(condition: Column | string): DataFrame {
    return this.filterAs('filter', condition);
  }

  private filterAs(op: string, condition: Column | string): DataFrame {
    const node = typeof condition === 'string' ? expr(condition).node : condition.node;
    return this.with({ kind: 'filter', child: this.plan, condition: node, label: labelOf(op) });
  }

  /** Add a column, or replace the one of that name in place. */
  withColumn(name: string, column: Column): DataFrame {
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('withColumn: the name must be a non-empty string');
    return this.with({
      kind: 'withColumn',
      child: this.plan,
      name,
      column: column.node,
      label: labelOf('withColumn'),
    });
  }

  /** Rename a column (nothing happens when there is none of that name, as in Spark). */
  withColumnRenamed(existing: string, name: string): DataFrame {
    return this.with({
      kind: 'withColumnRenamed',
      child: this.plan,
      from: existing,
      to: name,
      label: labelOf('withColumnRenamed'),
    });
  }

  /** Without the named columns (names that do not exist are ignored, as in Spark). */
  drop(...names: string[]): DataFrame {
    return this.with({ kind: 'drop', child: this.plan, names, label: labelOf('drop') });
  }

  /** Group rows by the columns given, for `agg` and the shorthand aggregations. */
  groupBy(...columns: ColumnLike[]): GroupedData {
    return new GroupedData(
      this,
      columns.map((c) => toColumn(c).node),
      labelOf('groupBy'),
    );
  }

  /** Aggregate the whole DataFrame (no grouping): `df.agg(sum('amount'))`. */
  agg(...columns: Column[]): DataFrame {
    return new GroupedData(this, [], labelOf('agg')).agg(...columns);
  }

  /** Sorted by the columns given (names sort ascending; `col('x').desc()` for descending). */
  orderBy(...columns: ColumnLike[]): DataFrame {
    return this.sortAs('orderBy', columns);
  }

  /** Alias of orderBy. */
  sort(...columns: ColumnLike[]): DataFrame {
    return this.sortAs('sort', columns);
  }

  private sortAs(op: string, columns: ColumnLike[]): DataFrame {
    if (columns.length === 0) throw new ConfigError(`${op}: name at least one column`);
    return this.with({
      kind: 'sort',
      child: this.plan,
      orders: columns.map((c) => toColumn(c).node),
      label: labelOf(op),
    });
  }

  /**
   * Join with `other` (Spark's `join(other, on, how)`): `on` names columns both sides have (they
   * appear once), or is a condition Column — `left.col('k').equalTo(right.col('k2')).and(…)`, or
   * with aliases `col('a.k').equalTo(col('b.k2'))` — after which every column of both sides is kept.
   * `how` is inner (default), left, right, full (also `left_outer`, `right_outer`, `outer`,
   * `full_outer`), semi or anti (also `left_semi`, `left_anti`). A side is broadcast when hinted
   * (`broadcast(df)`) or smaller than `spark.sql.autoBroadcastJoinThreshold`; else both are shuffled
   * on the equality keys, and a condition without one is refused.
   */
  join(other: DataFrame, on: string | readonly string[] | Column, how: string = 'inner'): DataFrame {
    if (!(other instanceof DataFrame) || other.env.builder !== this.env.builder) {
      throw new ConfigError('join: the other DataFrame must come from the same job');
    }
    const type = JOIN_TYPES[typeof how === 'string' ? how.toLowerCase() : ''];
    if (!type)
      throw new ConfigError(
        `join: unknown join type ${JSON.stringify(how)} (use ${Object.keys(JOIN_TYPES).join(', ')})`,
      );
    const label = labelOf('join');
    if (on instanceof Column) {
      return this.with({
        kind: 'join',
        left: this.plan,
        right: other.plan,
        on: [],
        condition: on.node,
        how: type,
        label,
      });
    }
    const names = typeof on === 'string' ? [on] : [...on];
    if (names.length === 0 || names.some((n) => typeof n !== 'string' || n.length === 0)) {
      throw new ConfigError('join: name at least one join column, or give a condition Column');
    }
    return this.with({ kind: 'join', left: this.plan, right: other.plan, on: names, how: type, label });
  }

  /** This DataFrame under a name, for qualified columns in join conditions (`col('a.k')`) and after the join. */
  alias(name: string): DataFrame {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new ConfigError(`alias: ${JSON.stringify(name)} is not a plain name (letters, digits, _)`);
    return this.with({ kind: 'alias', child: this.plan, name, label: labelOf('alias') });
  }

  /**
   * The column `name` of this DataFrame (Spark's `df("k")` / `df.col("k")`): in a join condition it
   * names this side even when both sides have a column of that name.
   */
  col(name: string): Column {
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('col: a column name must be a non-empty string');
    return new Column({ k: 'col', name, qualifier: qualifierOf(this.env.builder, this.plan) });
  }

  /** Spark's `distinct`: the rows without duplicates (two rows are equal when every column is, nulls included). */
  distinct(): DataFrame {
    return this.with({ kind: 'distinct', child: this.plan, label: labelOf('distinct') });
  }

  /**
   * Spark's `dropDuplicates(cols)`: one row of each set of rows equal on the columns named (all
   * columns when none are named, as distinct). Which row of a set is kept is not defined, as in Spark.
   */
  dropDuplicates(...columns: (string | readonly string[])[]): DataFrame {
    const names = columns.flat();
    if (names.some((n) => typeof n !== 'string' || n.length === 0))
      throw new ConfigError('dropDuplicates: the columns must be non-empty names');
    const label = labelOf('dropDuplicates');
    if (names.length === 0) return this.with({ kind: 'distinct', child: this.plan, label });
    return this.with({ kind: 'distinct', child: this.plan, columns: names, label });
  }

  /**
   * Spark's `union` (also `unionAll`): the rows of both DataFrames, duplicates kept, columns matched
   * by **position** (the left's names; types widened to a common type). Both need as many columns.
   */
  union(other: DataFrame): DataFrame {
    return this.unionAs('union', other, false, false);
  }

  /** Alias of union (Spark's unionAll, which also keeps duplicates). */
  unionAll(other: DataFrame): DataFrame {
    return this.unionAs('unionAll', other, false, false);
  }

  /**
   * Spark's `unionByName`: as union, but columns matched by name (the left's order). A column on one
   * side only is an error, unless `allowMissingColumns`, which fills it with nulls.
   */
  unionByName(other: DataFrame, allowMissingColumns = false): DataFrame {
    return this.unionAs('unionByName', other, true, allowMissingColumns);
  }

  private unionAs(op: string, other: DataFrame, byName: boolean, allowMissingColumns: boolean): DataFrame {
    if (!(other instanceof DataFrame) || other.env.builder !== this.env.builder) {
      throw new ConfigError(`${op}: the other DataFrame must come from the same job`);
    }
    return this.with({
      kind: 'union',
      left: this.plan,
      right: other.plan,
      byName,
      allowMissingColumns,
      label: labelOf(op),
    });
  }

  /**
   * Spark's `repartition(n, ...cols)`: exactly `n` partitions through a shuffle — by hash of the
   * columns given (equal keys in one partition), or round-robin (even sizes) without columns.
   */
  repartition(n: number, ...columns: ColumnLike[]): DataFrame {
    if (!Number.isInteger(n) || n < 1)
      throw new ConfigError(`repartition: the number of partitions must be a positive integer, got ${n}`);
    return this.with({
      kind: 'repartition',
      child: this.plan,
      n,
      keys: columns.map((c) => toColumn(c).node),
      label: labelOf('repartition'),
    });
  }

  /**
   * Spark's `coalesce(n)`: at most `n` partitions without a shuffle — each task reads a range of
   * consecutive input partitions (their order kept). Fewer partitions than `n` stay as they are.
   */
  coalesce(n: number): DataFrame {
    if (!Number.isInteger(n) || n < 1)
      throw new ConfigError(`coalesce: the number of partitions must be a positive integer, got ${n}`);
    return this.with({ kind: 'coalesce', child: this.plan, n, label: labelOf('coalesce') });
  }

  /** The first `n` rows (in the DataFrame's order: after an orderBy, the top n). */
  limit(n: number): DataFrame {
    checkCount(n, 'limit');
    return this.with({ kind: 'limit', child: this.plan, n, label: labelOf('limit') });
  }

  /** Spark's `createOrReplaceTempView`: name this DataFrame for `ctx.sql` queries of the same job (replacing a view of that name). */
  createOrReplaceTempView(name: string): void {
    defineTempView(this.env.builder, name, this.plan, true, labelOf('createOrReplaceTempView'));
  }

  /** Spark's `createTempView`: as createOrReplaceTempView, but a name already defined is an error. */
  createTempView(name: string): void {
    defineTempView(this.env.builder, name, this.plan, false, labelOf('createTempView'));
  }

  private action<R>(kind: Exclude<DataFrameActionKind, 'write'>, n = 0, truncate = true): Action<R> {
    const nodeId = this.env.planner.nodeOf(this.plan, kind);
    const options = { [DATAFRAME_ACTION_OPTION]: kind, n, truncate };
    const action = new Action<R>(
      kind,
      nodeId,
      options,
      dataFrameActionImpl(kind, n, truncate),
      this.env.builder,
    );
    rememberLogicalPlan(action, this.plan);
    return action;
  }

  /** Saves the DataFrame's rows: `df.write.mode('overwrite').parquet(path)`. */
  get write(): DataFrameWriter {
    return new DataFrameWriter(this);
  }

  /** Every row, as objects by column name, in the DataFrame's order. */
  collect(): Action<Row[]> {
    return this.action('collect');
  }

  /** The number of rows. */
  count(): Action<number> {
    return this.action('count');
  }

  /** The first `n` rows. */
  take(n: number): Action<Row[]> {
    checkCount(n, 'take');
    return this.limit(n).action('take', n);
  }

  /** Alias of take (Spark's head(n)). */
  head(n = 1): Action<Row[]> {
    return this.take(n);
  }

  /** The first row, or null when there is none. */
  first(): Action<Row | null> {
    return this.limit(1).action('first', 1);
  }

  /** Spark's table printout of the first `n` rows (the run prints it). Strings over 20 characters are cut unless `truncate` is false. */
  show(n = 20, truncate = true): Action<string> {
    checkCount(n, 'show');
    return this.limit(n + 1).action('show', n, truncate);
  }

  /** The schema: column names, types and nullability, found by the driver (no task runs). */
  get schema(): Action<StructType> {
    return this.action('schema');
  }

  /** Spark's printSchema tree, as text (no task runs). */
  printSchema(): Action<string> {
    return this.action('printSchema');
  }

  /** The logical plan, the stages with their exchanges, and the SQL each stage's tasks run (no task runs). */
  explain(): Action<string> {
    return this.action('explain');
  }
}

/**
 * Spark's `broadcast(df)` hint: a join with `df` as a side computes it once and gives all of it to
 * every task of the other side, which is then not shuffled (where the join type allows it).
 */
export function broadcast(df: DataFrame): DataFrame {
  if (!(df instanceof DataFrame)) throw new ConfigError('broadcast: give a DataFrame');
  return new DataFrame(df.env, { kind: 'broadcast', child: df.plan, label: labelOf('broadcast') });
}

/** A DataFrame grouped by keys, waiting for its aggregations (Spark's RelationalGroupedDataset). */
export class GroupedData {
  /** @internal */
  constructor(
    private readonly df: DataFrame,
    private readonly keys: readonly ColumnNode[],
    private readonly label: string,
  ) {}

  /** One row per group: the keys, then each aggregate (`sum('amount').as('total')`, `count('*')`…). */
  agg(...columns: Column[]): DataFrame {
    if (columns.length === 0) throw new ConfigError(`${this.label}: agg needs at least one aggregate`);
    const nodes = columns.map((c) => c.node);
    for (const node of nodes) {
      if (node.k !== 'sql' && !(node.k === 'alias' && node.child.k === 'sql') && !hasAggregate(node)) {
        throw new ConfigError(
          `${this.label}: agg(${columnName(node)}) is not an aggregate (use sum, count, avg, min, max, countDistinct, first or collect_list)`,
        );
      }
    }
    return new DataFrame(this.df.env, {
      kind: 'aggregate',
      child: this.df.plan,
      keys: this.keys,
      columns: nodes,
      label: this.label,
    });
  }

  /** The number of rows per group, in a column named `count`. */
  count(): DataFrame {
    return this.agg(count('*').as('count'));
  }

  /** Sum of each named column per group. */
  sum(...names: string[]): DataFrame {
    return this.agg(...names.map((n) => sumOf(col(n))));
  }

  /** Mean of each named column per group. */
  avg(...names: string[]): DataFrame {
    return this.agg(...names.map((n) => avgOf(col(n))));
  }

  /** Smallest value of each named column per group. */
  min(...names: string[]): DataFrame {
    return this.agg(...names.map((n) => minOf(col(n))));
  }

  /** Largest value of each named column per group. */
  max(...names: string[]): DataFrame {
    return this.agg(...names.map((n) => maxOf(col(n))));
  }
}

export type { SaveMode, WriteFormat, WriteOptions } from './write-spec.js';

/**
 * Writes a DataFrame's partitions as part files (Spark's DataFrameWriter): Parquet, CSV or JSON
 * Lines, optionally into Hive-style `col=value/` folders (`partitionBy`), committed exactly once
 * by the driver like the Dataset save actions (attempt-named parts, the winners committed, then
 * `_SUCCESS`). Each setter returns the writer; `parquet`, `csv`, `json` (or `save`) is the action.
 */
export class DataFrameWriter {
  private saveMode: SaveMode = 'errorifexists';
  private partitionColumns: string[] = [];
  private formatName: WriteFormat = 'parquet';
  private readonly writeOptions: WriteOptions = {};

  /** @internal */
  constructor(private readonly df: DataFrame) {}

  /**
   * `'errorifexists'` (default; also `'error'`, `'default'`) refuses an existing output;
   * `'overwrite'` replaces it; `'append'` adds new part files beside the old; `'ignore'` writes
   * nothing (and runs no job) when the output exists.
   */
  mode(mode: string): this {
    this.saveMode = saveModeOf(mode);
    return this;
  }

  /** Write each distinct value tuple of `columns` into its own `col=value/` folder, without those columns in the files. */
  partitionBy(...columns: (string | string[])[]): this {
    const names = columns.flat();
    for (const c of names)
      if (typeof c !== 'string' || c.length === 0)
        throw new ConfigError(
          `write.partitionBy: column names must be non-empty strings, got ${JSON.stringify(c)}`,
        );
    this.partitionColumns = names;
    return this;
  }

  /** The format `save(path)` writes: `'parquet'` (default), `'csv'` or `'json'`. */
  format(format: string): this {
    const f = format.toLowerCase();
    if (f !== 'parquet' && f !== 'csv' && f !== 'json')
      throw new ConfigError(
        `write.format: ${JSON.stringify(format)} is not supported (use parquet, csv or json)`,
      );
    this.formatName = f;
    return this;
  }

  /**
   * One option: `header`, `sep`, `quote`, `escape`, `nullValue` (CSV), `ignoreNullFields` (JSON;
   * true by default, as Spark: null fields are left out), `compression` (all formats).
   */
  option(name: string, value: string | number | boolean): this {
    const key = name === 'delimiter' ? 'sep' : name;
    if (key === 'header') this.writeOptions.header = value === true || String(value).toLowerCase() === 'true';
    else if (key === 'ignoreNullFields') this.writeOptions.ignoreNullFields = booleanOption(key, value);
    else (this.writeOptions as Record<string, unknown>)[key] = String(value);
    return this;
  }

  /** Several options at once (as `option`). */
  options(options: Readonly<Record<string, string | number | boolean>>): this {
    for (const [k, v] of Object.entries(options)) this.option(k, v);
    return this;
  }

  /** Write Parquet part files into the folder or `az://container/prefix` `path`. */
  parquet(path: string): Action<SaveResult> {
    return this.format('parquet').save(path);
  }

  /** Write CSV part files (`option('header', true)` for a header line in each). */
  csv(path: string): Action<SaveResult> {
    return this.format('csv').save(path);
  }

  /** Write JSON Lines part files (one object per row). */
  json(path: string): Action<SaveResult> {
    return this.format('json').save(path);
  }

  /** Write in the `format` set (Parquet by default) into `path`. */
  save(path: string): Action<SaveResult> {
    const format = this.formatName;
    if (typeof path !== 'string' || path.length === 0)
      throw new ConfigError(`write.${format}: the path must be a non-empty string`);
    checkWriteOptions(format, this.writeOptions);
    const { env, plan } = this.df;
    const nodeId = env.planner.nodeOf(plan, 'write');
    const spec: WriteSpec = {
      format,
      mode: this.saveMode,
      partitionBy: [...this.partitionColumns],
      options: { ...this.writeOptions },
    };
    const options = {
      [DATAFRAME_ACTION_OPTION]: 'write',
      path,
      mode: this.saveMode,
      format,
      // Options are flat JSON-like values: the spec travels as its JSON text (writeSpecOf reads it).
      write: JSON.stringify(spec),
    };
    const impl = actionImpls.save(path, {
      toLine: () => {
        throw new Error('internal: DataFrame parts are written by the relational task runner');
      },
    });
    return new Action<SaveResult>('write', nodeId, options, impl, env.builder);
  }
}
