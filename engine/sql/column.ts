/**
 * Column expressions, as Spark's Column: `col('amount').gt(100)`, `sum('amount').as('total')`,
 * `expr('amount * 2')`. A Column is an immutable tree that renders to DuckDB SQL text (what the
 * tasks run) and has Spark's output name (`(amount > 100)`, `sum(amount)`). Names are resolved
 * on the driver by DuckDB's binder, not here: a Column never checks that its columns exist.
 */
import { ConfigError } from '../../contract/errors.js';
import { duckdbTypeOf, quoteIdent, quoteString } from './types.js';

/**
 * Aggregate functions of a groupBy. sum, count, avg, min and max split into a map-side partial and
 * a reduce-side final; count_distinct, first and collect_list aggregate once after the exchange.
 */
export type AggregateFunction =
  | 'sum'
  | 'count'
  | 'avg'
  | 'min'
  | 'max'
  | 'count_distinct'
  | 'first'
  | 'first_ignore_nulls'
  | 'collect_list';

/** A JSON-like literal value. */
export type LiteralValue = string | number | boolean | null;

/** The expression tree of a Column. */
export type ColumnNode =
  /** A column by name; `qualifier` names the DataFrame it was taken from (`df.col('k')`, `col('a.k')` after `alias('a')`), for join conditions. */
  | { readonly k: 'col'; readonly name: string; readonly qualifier?: string }
  | { readonly k: 'lit'; readonly value: LiteralValue }
  | { readonly k: 'sql'; readonly text: string }
  | { readonly k: 'binary'; readonly op: string; readonly left: ColumnNode; readonly right: ColumnNode }
  | {
      readonly k: 'unary';
      readonly op: 'not' | 'negate' | 'isNull' | 'isNotNull';
      readonly child: ColumnNode;
    }
  | { readonly k: 'cast'; readonly child: ColumnNode; readonly type: string; readonly sparkType: string }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly ColumnNode[] }
  | { readonly k: 'agg'; readonly fn: AggregateFunction; readonly child: ColumnNode | '*' }
  | { readonly k: 'alias'; readonly child: ColumnNode; readonly name: string }
  | {
      readonly k: 'sort';
      readonly child: ColumnNode;
      readonly ascending: boolean;
      readonly nullsFirst: boolean;
    }
  /** A window function or an aggregate over a window (`row_number().over(w)`, `sum('x').over(w)`). */
  | { readonly k: 'window'; readonly fn: ColumnNode; readonly spec: WindowSpecNode };

/**
 * A window's definition (Spark's WindowSpec) as plain JSON: partition keys, sort orders and an
 * optional frame whose bounds are row or value offsets from the current row (null: unbounded).
 */
export interface WindowSpecNode {
  readonly partitionBy: readonly ColumnNode[];
  readonly orderBy: readonly ColumnNode[];
  readonly frame?: {
    readonly kind: 'rows' | 'range';
    readonly start: number | null;
    readonly end: number | null;
  };
}

/**
 * A window (Spark's WindowSpec), made by `Window.partitionBy(...)` / `Window.orderBy(...)` and
 * given to `Column.over`. Immutable: every method returns a new one.
 */
export interface WindowSpec {
  /** @internal The window's definition. */
  readonly spec: WindowSpecNode;
  /** The window partitioned by these columns (rows with equal keys are one window partition). */
  partitionBy(...columns: (ColumnLike | readonly ColumnLike[])[]): WindowSpec;
  /** Rows ordered by these columns within each window partition (names ascending; `col('t').desc()`). */
  orderBy(...columns: (ColumnLike | readonly ColumnLike[])[]): WindowSpec;
  /** A frame of rows relative to the current row (`Window.unboundedPreceding`, `Window.currentRow`, -1, 1…). */
  rowsBetween(start: number, end: number): WindowSpec;
  /** A frame of order-column values relative to the current row's value (one numeric order column). */
  rangeBetween(start: number, end: number): WindowSpec;
}

/** Functions that rank rows within an ordered window (Spark refuses them over an unordered one). */
export const RANKING_FUNCTIONS: ReadonlySet<string> = new Set([
  'row_number',
  'rank',
  'dense_rank',
  'percent_rank',
  'cume_dist',
  'ntile',
  'lag',
  'lead',
]);

/** What a Column method accepts besides a Column: a literal value. */
export type ColumnOrLiteral = Column | LiteralValue;

function toNode(value: ColumnOrLiteral): ColumnNode {
  return value instanceof Column ? value.node : { k: 'lit', value };
}

/** A column expression of a DataFrame (Spark's Column). Immutable: every method returns a new one. */
export class Column {
  /** @internal Built by col(), lit(), expr() and the aggregate functions. */
  constructor(
    /** @internal */
    readonly node: ColumnNode,
  ) {}

  private binary(op: string, other: ColumnOrLiteral): Column {
    return new Column({ k: 'binary', op, left: this.node, right: toNode(other) });
  }

  /** `this + other`. */
  plus(other: ColumnOrLiteral): Column {
    return this.binary('+', other);
  }
  /** `this - other`. */
  minus(other: ColumnOrLiteral): Column {
    return this.binary('-', other);
  }
  /** `this * other`. */
  multiply(other: ColumnOrLiteral): Column {
    return this.binary('*', other);
  }
  /** `this / other`: always fractional, null when `other` is 0 (as Spark without ANSI mode). */
  divide(other: ColumnOrLiteral): Column {
    return this.binary('/', other);
  }
  /** `this % other`. */
  mod(other: ColumnOrLiteral): Column {
    return this.binary('%', other);
  }
  /** `this > other`. */
  gt(other: ColumnOrLiteral): Column {
    return this.binary('>', other);
  }
  /** `this >= other`. */
  geq(other: ColumnOrLiteral): Column {
    return this.binary('>=', other);
  }
  /** `this < other`. */
  lt(other: ColumnOrLiteral): Column {
    return this.binary('<', other);
  }
  /** `this <= other`. */
  leq(other: ColumnOrLiteral): Column {
    return this.binary('<=', other);
  }
  /** `this = other` (null when either side is null). */
  equalTo(other: ColumnOrLiteral): Column {
    return this.binary('=', other);
  }
  /** Alias of equalTo. */
  eq(other: ColumnOrLiteral): Column {
    return this.equalTo(other);
  }
  /** `this != other`. */
  notEqual(other: ColumnOrLiteral): Column {
    return this.binary('!=', other);
  }
  /** Null-safe equality (`<=>`): true when both are null. */
  eqNullSafe(other: ColumnOrLiteral): Column {
    return this.binary('<=>', other);
  }
  /** `this AND other`. */
  and(other: ColumnOrLiteral): Column {
    return this.binary('AND', other);
  }
  /** `this OR other`. */
  or(other: ColumnOrLiteral): Column {
    return this.binary('OR', other);
  }
  /** `NOT this`. */
  not(): Column {
    return new Column({ k: 'unary', op: 'not', child: this.node });
  }
  /** True when the value is null. */
  isNull(): Column {
    return new Column({ k: 'unary', op: 'isNull', child: this.node });
  }
  /** True when the value is not null. */
  isNotNull(): Column {
    return new Column({ k: 'unary', op: 'isNotNull', child: this.node });
  }
  /** True when the value equals one of `values`. */
  isin(...values: ColumnOrLiteral[]): Column {
    return new Column({ k: 'call', fn: 'isin', args: [this.node, ...values.map(toNode)] });
  }
  /** `lower <= this <= upper`. */
  between(lower: ColumnOrLiteral, upper: ColumnOrLiteral): Column {
    return this.geq(lower).and(this.leq(upper));
  }
  /** SQL LIKE with `%` and `_`. */
  like(pattern: string): Column {
    return this.binary('LIKE', pattern);
  }
  /** The value converted to a Spark type (`'double'`, `'decimal(10,2)'`…). */
  cast(sparkType: string): Column {
    return new Column({ k: 'cast', child: this.node, type: duckdbTypeOf(sparkType, 'cast'), sparkType });
  }
  /** The same expression under another output name. */
  as(name: string): Column {
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('as: a column name must be a non-empty string');
    return new Column({ k: 'alias', child: this.node, name });
  }
  /** Alias of `as`. */
  alias(name: string): Column {
    return this.as(name);
  }
  /** Ascending sort order, nulls first (Spark's default). */
  asc(): Column {
    return new Column({ k: 'sort', child: unsorted(this.node), ascending: true, nullsFirst: true });
  }
  /** Ascending, nulls last. */
  asc_nulls_last(): Column {
    return new Column({ k: 'sort', child: unsorted(this.node), ascending: true, nullsFirst: false });
  }
  /** Descending sort order, nulls last (Spark's default). */
  desc(): Column {
    return new Column({ k: 'sort', child: unsorted(this.node), ascending: false, nullsFirst: false });
  }
  /** Descending, nulls first. */
  desc_nulls_first(): Column {
    return new Column({ k: 'sort', child: unsorted(this.node), ascending: false, nullsFirst: true });
  }
  /**
   * This window function or aggregate computed over a window (`row_number().over(w)`,
   * `sum('x').over(w)`); ranking functions and lag/lead need a window with an orderBy, as in Spark.
   */
  over(window: WindowSpec): Column {
    const fn = this.node;
    const ranking = fn.k === 'call' && RANKING_FUNCTIONS.has(fn.fn);
    if (!ranking && fn.k !== 'agg')
      throw new ConfigError(
        `over: ${columnName(fn)} is not a window function or an aggregate (use row_number, rank, dense_rank, lag, lead, sum, avg, min, max, count…)`,
      );
    if (fn.k === 'agg' && fn.fn === 'count_distinct')
      throw new ConfigError('over: countDistinct over a window is not supported (as in Spark)');
    if (ranking && window.spec.orderBy.length === 0)
      throw new ConfigError(
        `over: ${columnName(fn)} needs a window with an orderBy (Window.partitionBy(...).orderBy(...))`,
      );
    return new Column({ k: 'window', fn, spec: window.spec });
  }
  /** Spark's name of this column when it is not aliased: `(amount > 100)`, `sum(amount)`. */
  toString(): string {
    return columnName(this.node);
  }
}

function unsorted(node: ColumnNode): ColumnNode {
  return node.k === 'sort' ? node.child : node;
}

/** The column named `name` (`'*'` for every column). */
export function col(name: string): Column {
  if (typeof name !== 'string' || name.length === 0)
    throw new ConfigError('col: a column name must be a non-empty string');
  return new Column({ k: 'col', name });
}

/** Alias of col. */
export const column = col;

/** A literal value. */
export function lit(value: LiteralValue): Column {
  return new Column({ k: 'lit', value });
}

/**
 * A SQL expression string (`expr('amount * 2')`, `expr('amount * 2 AS twice')`), checked on the
 * driver before any task runs. A trailing `AS name` names the column, as in Spark.
 */
export function expr(sql: string): Column {
  if (typeof sql !== 'string' || sql.trim().length === 0)
    throw new ConfigError('expr: the expression must be a non-empty string');
  const text = sql.trim();
  const aliased = /^(.*\S)\s+AS\s+(?:"([^"]+)"|`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))$/is.exec(text);
  if (aliased) {
    const name = aliased[2] ?? aliased[3] ?? aliased[4]!;
    return new Column({ k: 'alias', child: { k: 'sql', text: aliased[1]! }, name });
  }
  return new Column({ k: 'sql', text });
}

/** A column given as a name or a Column. */
export type ColumnLike = string | Column;

/** A Column from a name or a Column. */
export function toColumn(c: ColumnLike): Column {
  return typeof c === 'string' ? col(c) : c;
}

function aggregate(fn: AggregateFunction, c: ColumnLike | '*'): Column {
  const child: ColumnNode | '*' = c === '*' ? '*' : toColumn(c).node;
  return new Column({ k: 'agg', fn, child });
}

/** Sum of the values (integers sum to long, decimals to decimal(38,s), others to double). */
export function sum(c: ColumnLike): Column {
  return aggregate('sum', c);
}
/** Number of non-null values; `count('*')` counts rows. */
export function count(c: ColumnLike | '*'): Column {
  return aggregate('count', c);
}
/** Mean of the values (double). */
export function avg(c: ColumnLike): Column {
  return aggregate('avg', c);
}
/** Alias of avg. */
export const mean = avg;
/** Smallest value. */
export function min(c: ColumnLike): Column {
  return aggregate('min', c);
}
/** Largest value. */
export function max(c: ColumnLike): Column {
  return aggregate('max', c);
}
/** Number of distinct non-null values. */
export function countDistinct(c: ColumnLike): Column {
  return aggregate('count_distinct', c);
}
/**
 * Spark's `first(col, ignoreNulls)`: a value of the group — which one depends on the partitioning,
 * as in Spark (it is not ordered). With `ignoreNulls`, a non-null value when the group has one.
 */
export function first(c: ColumnLike, ignoreNulls = false): Column {
  return aggregate(ignoreNulls ? 'first_ignore_nulls' : 'first', c);
}
/** Spark's `collect_list`: the group's non-null values as an array (empty, not null, when there are none), in no set order. */
export function collect_list(c: ColumnLike): Column {
  return aggregate('collect_list', c);
}

/** Functions applied to columns, by Spark name (a small set; `expr` reaches any DuckDB function). */
export function upper(c: ColumnLike): Column {
  return new Column({ k: 'call', fn: 'upper', args: [toColumn(c).node] });
}
/** Lower-case a string column. */
export function lower(c: ColumnLike): Column {
  return new Column({ k: 'call', fn: 'lower', args: [toColumn(c).node] });
}
/** Absolute value. */
export function abs(c: ColumnLike): Column {
  return new Column({ k: 'call', fn: 'abs', args: [toColumn(c).node] });
}
/** Round half up to `scale` decimals. */
export function round(c: ColumnLike, scale = 0): Column {
  return new Column({ k: 'call', fn: 'round', args: [toColumn(c).node, { k: 'lit', value: scale }] });
}
/** The first non-null of the columns. */
export function coalesce(...cs: ColumnLike[]): Column {
  return new Column({ k: 'call', fn: 'coalesce', args: cs.map((c) => toColumn(c).node) });
}

const BINARY_SQL: Readonly<Record<string, string>> = { '!=': '<>', '<=>': 'IS NOT DISTINCT FROM' };

function literalSql(value: LiteralValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return quoteString(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (!Number.isFinite(value)) throw new ConfigError(`lit: ${value} is not a finite number`);
  return Number.isInteger(value) ? String(value) : `${value}::DOUBLE`;
}

/** The DuckDB SQL of an expression (a sort order renders its child; see sortSql). */
export function columnSql(node: ColumnNode): string {
  switch (node.k) {
    case 'col':
      return node.name === '*' ? '*' : quoteIdent(node.name);
    case 'lit':
      return literalSql(node.value);
    case 'sql':
      return `(${node.text})`;
    case 'binary':
      // Spark (without ANSI mode) divides to null by zero; DuckDB would give ±Infinity.
      if (node.op === '/') return `(${columnSql(node.left)} / NULLIF(${columnSql(node.right)}, 0))`;
      return `(${columnSql(node.left)} ${BINARY_SQL[node.op] ?? node.op} ${columnSql(node.right)})`;
    case 'unary':
      if (node.op === 'not') return `(NOT ${columnSql(node.child)})`;
      if (node.op === 'negate') return `(- ${columnSql(node.child)})`;
      return `(${columnSql(node.child)} ${node.op === 'isNull' ? 'IS NULL' : 'IS NOT NULL'})`;
    case 'cast':
      return `CAST(${columnSql(node.child)} AS ${node.type})`;
    case 'call':
      if (node.fn === 'isin') {
        const [first, ...rest] = node.args;
        return `(${columnSql(first!)} IN (${rest.map(columnSql).join(', ')}))`;
      }
      return `${node.fn}(${node.args.map(columnSql).join(', ')})`;
    case 'agg':
      return aggregateSql(node.fn, node.child === '*' ? '*' : columnSql(node.child));
    case 'alias':
      return columnSql(node.child);
    case 'sort':
      return columnSql(node.child);
    case 'window':
      return `${columnSql(node.fn)} OVER (${windowSpecSql(node.spec)})`;
  }
}

function frameBound(value: number | null, start: boolean): string {
  if (value === null) return start ? 'UNBOUNDED PRECEDING' : 'UNBOUNDED FOLLOWING';
  if (value === 0) return 'CURRENT ROW';
  return value < 0 ? `${-value} PRECEDING` : `${value} FOLLOWING`;
}

/** The SQL inside a window's `OVER (…)`: PARTITION BY, ORDER BY (Spark's null order) and the frame. */
export function windowSpecSql(spec: WindowSpecNode): string {
  const parts: string[] = [];
  if (spec.partitionBy.length > 0) parts.push(`PARTITION BY ${spec.partitionBy.map(columnSql).join(', ')}`);
  if (spec.orderBy.length > 0) parts.push(`ORDER BY ${spec.orderBy.map(sortSql).join(', ')}`);
  if (spec.frame) {
    const f = spec.frame;
    parts.push(
      `${f.kind === 'rows' ? 'ROWS' : 'RANGE'} BETWEEN ${frameBound(f.start, true)} AND ${frameBound(f.end, false)}`,
    );
  }
  return parts.join(' ');
}

function frameName(value: number | null, start: boolean): string {
  if (value === null) return start ? 'unboundedpreceding$()' : 'unboundedfollowing$()';
  return value === 0 ? 'currentrow$()' : String(value);
}

/** Spark's text of a window in a column name: `PARTITION BY a ORDER BY t DESC NULLS LAST ROWS BETWEEN …`. */
function windowSpecName(spec: WindowSpecNode): string {
  const parts: string[] = [];
  if (spec.partitionBy.length > 0) parts.push(`PARTITION BY ${spec.partitionBy.map(columnName).join(', ')}`);
  if (spec.orderBy.length > 0)
    parts.push(
      `ORDER BY ${spec.orderBy.map((o) => columnName(o.k === 'sort' ? o : { k: 'sort', child: o, ascending: true, nullsFirst: true })).join(', ')}`,
    );
  const f = spec.frame;
  if (f)
    parts.push(
      `${f.kind === 'rows' ? 'ROWS' : 'RANGE'} BETWEEN ${frameName(f.start, true)} AND ${frameName(f.end, false)}`,
    );
  return parts.join(' ');
}

/**
 * One aggregate in one pass (no split): Spark's result types — sums of integers are long,
 * of decimals decimal(38,s), of anything else double; counts are long; averages double.
 */
export function aggregateSql(fn: AggregateFunction, arg: string): string {
  switch (fn) {
    case 'sum':
      return `sum(${arg})`;
    case 'count':
      return arg === '*' ? 'count(*)' : `count(${arg})`;
    case 'avg':
      return `avg(${arg})`;
    case 'min':
      return `min(${arg})`;
    case 'max':
      return `max(${arg})`;
    case 'count_distinct':
      return `count(DISTINCT ${arg})`;
    case 'first':
      return `first(${arg})`;
    case 'first_ignore_nulls':
      return `first(${arg}) FILTER (WHERE ${arg} IS NOT NULL)`;
    case 'collect_list':
      // Spark skips nulls and gives [] for a group with no value, where DuckDB's list keeps nulls and gives null.
      return `coalesce(list(${arg}) FILTER (WHERE ${arg} IS NOT NULL), [])`;
  }
}

/** `expr ASC NULLS FIRST` for a sort order (a plain column sorts ascending, nulls first). */
export function sortSql(node: ColumnNode): string {
  if (node.k === 'sort') {
    return `${columnSql(node.child)} ${node.ascending ? 'ASC' : 'DESC'} NULLS ${node.nullsFirst ? 'FIRST' : 'LAST'}`;
  }
  return `${columnSql(node)} ASC NULLS FIRST`;
}

/** A sort order's parts (a plain column: ascending, nulls first). */
export function sortOrderOf(node: ColumnNode): { expr: ColumnNode; ascending: boolean; nullsFirst: boolean } {
  return node.k === 'sort'
    ? { expr: node.child, ascending: node.ascending, nullsFirst: node.nullsFirst }
    : { expr: node, ascending: true, nullsFirst: true };
}

/** Spark's output name of an expression. */
export function columnName(node: ColumnNode): string {
  switch (node.k) {
    case 'col':
      return node.name;
    case 'lit':
      return node.value === null ? 'NULL' : String(node.value);
    case 'sql':
      return node.text;
    case 'binary':
      return `(${columnName(node.left)} ${node.op} ${columnName(node.right)})`;
    case 'unary':
      if (node.op === 'not') return `(NOT ${columnName(node.child)})`;
      if (node.op === 'negate') return `(- ${columnName(node.child)})`;
      return `(${columnName(node.child)} ${node.op === 'isNull' ? 'IS NULL' : 'IS NOT NULL'})`;
    case 'cast':
      return `CAST(${columnName(node.child)} AS ${node.sparkType.toUpperCase()})`;
    case 'call':
      if (node.fn === 'isin') {
        const [first, ...rest] = node.args;
        return `(${columnName(first!)} IN (${rest.map(columnName).join(', ')}))`;
      }
      return `${node.fn}(${node.args.map(columnName).join(', ')})`;
    case 'agg': {
      const arg = node.child === '*' ? '1' : columnName(node.child);
      if (node.fn === 'count_distinct') return `count(DISTINCT ${arg})`;
      return node.fn === 'first_ignore_nulls' ? `first(${arg})` : `${node.fn}(${arg})`;
    }
    case 'alias':
      return node.name;
    case 'sort':
      return `${columnName(node.child)} ${node.ascending ? 'ASC' : 'DESC'} NULLS ${node.nullsFirst ? 'FIRST' : 'LAST'}`;
    case 'window':
      return `${columnName(node.fn)} OVER (${windowSpecName(node.spec)})`;
  }
}

/** True when the expression contains a window function (`….over(w)`). */
export function hasWindow(node: ColumnNode): boolean {
  switch (node.k) {
    case 'window':
      return true;
    case 'binary':
      return hasWindow(node.left) || hasWindow(node.right);
    case 'unary':
    case 'cast':
    case 'alias':
    case 'sort':
      return hasWindow(node.child);
    case 'call':
      return node.args.some(hasWindow);
    default:
      return false;
  }
}

/** The window specs of an expression, outermost first. */
export function windowSpecsOf(node: ColumnNode): WindowSpecNode[] {
  switch (node.k) {
    case 'window':
      return [node.spec];
    case 'binary':
      return [...windowSpecsOf(node.left), ...windowSpecsOf(node.right)];
    case 'unary':
    case 'cast':
    case 'alias':
    case 'sort':
      return windowSpecsOf(node.child);
    case 'call':
      return node.args.flatMap(windowSpecsOf);
    default:
      return [];
  }
}

/** True when the expression contains an aggregate function call (of ours; `expr` text is opaque). */
export function hasAggregate(node: ColumnNode): boolean {
  switch (node.k) {
    case 'agg':
      return true;
    case 'binary':
      return hasAggregate(node.left) || hasAggregate(node.right);
    case 'unary':
    case 'cast':
    case 'alias':
    case 'sort':
      return hasAggregate(node.child);
    case 'call':
      return node.args.some(hasAggregate);
    default:
      return false;
  }
}
