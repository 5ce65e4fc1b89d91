/**
 * Window functions, as Spark's `Window` / `WindowSpec` and the ranking functions of
 * `org.apache.spark.sql.functions`: `Window.partitionBy('a').orderBy(col('t').desc())`,
 * `.rowsBetween(Window.unboundedPreceding, Window.currentRow)`, `row_number().over(w)`,
 * `sum('x').over(w)`. A window column is used in `select` / `withColumn`; the planner puts a hash
 * exchange on the partition keys before it (one partition when the window has no partitionBy,
 * which Spark warns about) and the task computes the window in DuckDB with the same frame rules
 * (with an orderBy and no frame: from the partition's start to the current row's last peer).
 */
import { ConfigError } from '../../contract/errors.js';
import {
  Column,
  type ColumnLike,
  type ColumnNode,
  columnName,
  type LiteralValue,
  toColumn,
  type WindowSpec,
  type WindowSpecNode,
  windowSpecsOf,
} from './column.js';
import type { ExchangeSpec } from './fragment.js';

/** A frame bound at or below this is unbounded preceding (Spark: Long.MinValue; PySpark: ≤ -sys.maxsize). */
const UNBOUNDED_PRECEDING = Number.MIN_SAFE_INTEGER;
/** A frame bound at or above this is unbounded following. */
const UNBOUNDED_FOLLOWING = Number.MAX_SAFE_INTEGER;

function bound(value: number, what: string): number | null {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    (Number.isFinite(value) && !Number.isInteger(value))
  )
    throw new ConfigError(
      `${what}: a frame bound must be an integer (or Window.unboundedPreceding/Following), got ${value}`,
    );
  if (value <= UNBOUNDED_PRECEDING || value >= UNBOUNDED_FOLLOWING) return null;
  return value;
}

/** A window: partition keys, sort orders and a frame (Spark's WindowSpec). Immutable. */
class WindowSpecImpl implements WindowSpec {
  /** @internal */
  constructor(
    /** @internal */
    readonly spec: WindowSpecNode,
  ) {}

  /** The window partitioned by these columns (rows with equal keys are one window partition). */
  partitionBy(...columns: (ColumnLike | readonly ColumnLike[])[]): WindowSpec {
    return new WindowSpecImpl({ ...this.spec, partitionBy: columns.flat().map((c) => toColumn(c).node) });
  }

  /** Rows ordered by these columns within each window partition (names ascending; `col('t').desc()`). */
  orderBy(...columns: (ColumnLike | readonly ColumnLike[])[]): WindowSpec {
    return new WindowSpecImpl({ ...this.spec, orderBy: columns.flat().map((c) => toColumn(c).node) });
  }

  /**
   * A frame of rows relative to the current row: `rowsBetween(Window.unboundedPreceding, Window.currentRow)`
   * is a running total, `rowsBetween(-1, 1)` the row before, itself and the row after.
   */
  rowsBetween(start: number, end: number): WindowSpec {
    return this.frame('rows', start, end, 'rowsBetween');
  }

  /**
   * A frame of values of the (single, numeric) order column relative to the current row's value:
   * `rangeBetween(-10, Window.currentRow)`; the bounds may be unbounded or currentRow with any order.
   */
  rangeBetween(start: number, end: number): WindowSpec {
    return this.frame('range', start, end, 'rangeBetween');
  }

  private frame(kind: 'rows' | 'range', start: number, end: number, what: string): WindowSpec {
    const s = bound(start, what);
    const e = bound(end, what);
    if (s === null && start >= UNBOUNDED_FOLLOWING)
      throw new ConfigError(`${what}: the frame cannot start at unboundedFollowing`);
    if (e === null && end <= UNBOUNDED_PRECEDING)
      throw new ConfigError(`${what}: the frame cannot end at unboundedPreceding`);
    if (s !== null && e !== null && s > e)
      throw new ConfigError(`${what}: the frame's start (${s}) is after its end (${e})`);
    return new WindowSpecImpl({ ...this.spec, frame: { kind, start: s, end: e } });
  }
}

const EMPTY: WindowSpecNode = { partitionBy: [], orderBy: [] };

/** Builds WindowSpecs (Spark's `Window` object): `Window.partitionBy('a').orderBy('t')`. */
export const Window = {
  /** Frame bound: the first row of the window partition. */
  unboundedPreceding: UNBOUNDED_PRECEDING,
  /** Frame bound: the last row of the window partition. */
  unboundedFollowing: UNBOUNDED_FOLLOWING,
  /** Frame bound: the current row (with rangeBetween, its last peer). */
  currentRow: 0,
  /** A window partitioned by these columns. */
  partitionBy(...columns: (ColumnLike | readonly ColumnLike[])[]): WindowSpec {
    return new WindowSpecImpl(EMPTY).partitionBy(...columns);
  },
  /** A window over the whole DataFrame (one partition, as Spark warns) ordered by these columns. */
  orderBy(...columns: (ColumnLike | readonly ColumnLike[])[]): WindowSpec {
    return new WindowSpecImpl(EMPTY).orderBy(...columns);
  },
  /** A window over the whole DataFrame with a row frame. */
  rowsBetween(start: number, end: number): WindowSpec {
    return new WindowSpecImpl(EMPTY).rowsBetween(start, end);
  },
  /** A window over the whole DataFrame with a range frame. */
  rangeBetween(start: number, end: number): WindowSpec {
    return new WindowSpecImpl(EMPTY).rangeBetween(start, end);
  },
} as const;

function call(fn: string, args: ColumnNode[] = []): Column {
  return new Column({ k: 'call', fn, args });
}

/** The row's position in its ordered window partition, 1, 2, 3… (ties get distinct numbers in no set order). */
export function row_number(): Column {
  return call('row_number');
}
/** Rank with gaps: ties share a rank, the next row skips (1, 1, 3). */
export function rank(): Column {
  return call('rank');
}
/** Rank without gaps: ties share a rank, the next row follows (1, 1, 2). */
export function dense_rank(): Column {
  return call('dense_rank');
}
/** (rank - 1) / (rows in the partition - 1), 0 for a partition of one row. */
export function percent_rank(): Column {
  return call('percent_rank');
}
/** The fraction of the partition's rows ordered at or before the row. */
export function cume_dist(): Column {
  return call('cume_dist');
}
/** The bucket 1…n of the row when the ordered partition is cut into n nearly equal buckets. */
export function ntile(n: number): Column {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`ntile: n must be a positive integer, got ${n}`);
  return call('ntile', [{ k: 'lit', value: n }]);
}

function offsetCall(fn: 'lag' | 'lead', c: ColumnLike, offset: number, defaultValue: LiteralValue): Column {
  if (!Number.isInteger(offset)) throw new ConfigError(`${fn}: the offset must be an integer, got ${offset}`);
  return call(fn, [toColumn(c).node, { k: 'lit', value: offset }, { k: 'lit', value: defaultValue }]);
}

/** The value `offset` rows before the current one in the ordered partition, or `defaultValue` (null). */
export function lag(c: ColumnLike, offset = 1, defaultValue: LiteralValue = null): Column {
  return offsetCall('lag', c, offset, defaultValue);
}
/** The value `offset` rows after the current one in the ordered partition, or `defaultValue` (null). */
export function lead(c: ColumnLike, offset = 1, defaultValue: LiteralValue = null): Column {
  return offsetCall('lead', c, offset, defaultValue);
}

/** True when one of the columns computes a window. */
export function hasWindowColumn(columns: readonly ColumnNode[]): boolean {
  return columns.some((c) => windowSpecsOf(c).length > 0);
}

/**
 * The exchange before the window columns `columns`: a hash exchange on the partition keys every
 * window shares (rows equal on all of them meet in one task, so each window partition is whole in
 * one task), or one partition when a window has no partitionBy or the windows share no key.
 */
export function windowExchange(columns: readonly ColumnNode[]): ExchangeSpec {
  const specs = columns.flatMap(windowSpecsOf);
  const first = specs[0]?.partitionBy ?? [];
  const shared = first.filter((key) =>
    specs.every((s) => s.partitionBy.some((k) => JSON.stringify(k) === JSON.stringify(key))),
  );
  if (shared.length > 0) return { mode: 'hash', keys: shared };
  const unpartitioned = specs.some((s) => s.partitionBy.length === 0);
  return {
    mode: 'single',
    note: unpartitioned
      ? 'window without partitionBy: every row moves to one partition (Spark warns of this too)'
      : `windows share no partition key (${specs.map((s) => `[${s.partitionBy.map(columnName).join(', ')}]`).join(', ')}): every row moves to one partition`,
  };
}
