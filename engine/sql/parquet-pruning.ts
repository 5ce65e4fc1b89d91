/**
 * Row-group skipping by Parquet statistics (Spark's ParquetFilters + parquet-mr's
 * StatisticsFilter): the filters of a scan fragment that run before anything renames or
 * aggregates its columns are pushed to the driver, which checks each row group's min/max/null
 * count against them and gives no task a row group that cannot hold a matching row. Skipping
 * never decides a result: every task still runs the whole filter; a row group is dropped only
 * when the statistics prove no row of it passes. Anything not understood (an `expr` string, a
 * function, a type without a safe order) may match. Pure: no DuckDB, no I/O.
 */
import { type ColumnNode, columnName } from './column.js';
import type { FragmentOp } from './fragment.js';

/** One column chunk's statistics as DuckDB's parquet_metadata() prints them (logical values as text). */
export interface ChunkStatistics {
  min?: string;
  max?: string;
  nullCount?: number;
}

/** What the skipping rule knows of one row group: its rows and its top-level columns' statistics (lower-case names). */
export interface RowGroupStatistics {
  numRows: number;
  columns: ReadonlyMap<string, ChunkStatistics>;
}

/** A filter pushed down from a `where`, with the names that no longer mean the file's column at that point. */
export interface PushedFilter {
  condition: ColumnNode;
  /** Lower-case names a withColumn, alias or rename before the filter gave a new meaning. */
  shadowed: ReadonlySet<string>;
}

/**
 * The filters of a scan fragment's leading operators that can be checked against the file's
 * statistics: filters before the first aggregate, sort, limit or deduplication (a filter after a
 * limit must not drop rows the limit would have taken), through selects, drops and new columns.
 */
export function pushedFilters(ops: readonly FragmentOp[]): PushedFilter[] {
  const shadowed = new Set<string>();
  const out: PushedFilter[] = [];
  for (const op of ops) {
    if (op.op === 'filter') out.push({ condition: op.condition, shadowed: new Set(shadowed) });
    else if (op.op === 'drop') continue;
    else if (op.op === 'withColumn') shadowed.add(op.name.toLowerCase());
    else if (op.op === 'withColumnRenamed') {
      shadowed.add(op.from.toLowerCase());
      shadowed.add(op.to.toLowerCase());
    } else if (op.op === 'select') {
      for (const c of op.columns) if (c.k !== 'col') shadowed.add(columnName(c).toLowerCase());
    } else break;
  }
  return out;
}

/** A literal of a pushed comparison: a number, a string, or a DATE '…' written in an expr. */
type Literal = { kind: 'number'; value: number } | { kind: 'string'; value: string };

function literalOf(node: ColumnNode): Literal | undefined {
  if (node.k === 'lit') {
    if (typeof node.value === 'number' && Number.isFinite(node.value))
      return { kind: 'number', value: node.value };
    if (typeof node.value === 'string') return { kind: 'string', value: node.value };
    return undefined;
  }
  if (node.k === 'sql') {
    const date = /^\s*DATE\s*'(\d{4}-\d{2}-\d{2})'\s*$/i.exec(node.text);
    if (date) return { kind: 'string', value: date[1]! };
  }
  return undefined;
}

/** How values of a DuckDB type are ordered for skipping; undefined: never skip on this column. */
type Order = 'integer' | 'decimal' | 'float' | 'string' | 'date';

function orderOf(type: string): Order | undefined {
  const t = type.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/.test(t))
    return 'integer';
  if (/^DECIMAL\(\d+,\s*\d+\)$/.test(t)) return 'decimal';
  if (t === 'DOUBLE' || t === 'FLOAT') return 'float';
  if (t === 'VARCHAR') return 'string';
  if (t === 'DATE') return 'date';
  return undefined;
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Compare a statistic (DuckDB's text of the value) with a literal: negative, zero or positive,
 * or undefined when they cannot be compared exactly (then nothing is skipped).
 */
export function compareStatistic(order: Order, stat: string, literal: Literal): number | undefined {
  switch (order) {
    case 'integer': {
      if (literal.kind !== 'number' || !INTEGER_TEXT.test(stat)) return undefined;
      const s = BigInt(stat);
      if (Number.isInteger(literal.value)) {
        if (!Number.isSafeInteger(literal.value)) return undefined;
        const v = BigInt(literal.value);
        return s < v ? -1 : s > v ? 1 : 0;
      }
      // A fractional literal: an integer statistic is never equal to it.
      const floor = BigInt(Math.floor(literal.value));
      return s <= floor ? -1 : 1;
    }
    case 'decimal': {
      // Exact as a double only with at most 15 significant digits.
      if (
        literal.kind !== 'number' ||
        !DECIMAL_TEXT.test(stat) ||
        stat.replace(/[-.]/g, '').replace(/^0+/, '').length > 15
      )
        return undefined;
      return Math.sign(Number(stat) - literal.value);
    }
    case 'float': {
      if (literal.kind !== 'number') return undefined;
      const s = Number(stat);
      if (Number.isNaN(s) || stat.trim() === '') return undefined;
      return Math.sign(s - literal.value);
    }
    case 'string':
      // DuckDB compares VARCHAR byte-wise, as Parquet orders UTF-8 statistics.
      if (literal.kind !== 'string') return undefined;
      return Buffer.compare(Buffer.from(stat, 'utf8'), Buffer.from(literal.value, 'utf8'));
    case 'date':
      if (literal.kind !== 'string' || !DATE_TEXT.test(stat) || !DATE_TEXT.test(literal.value))
        return undefined;
      return stat < literal.value ? -1 : stat > literal.value ? 1 : 0;
  }
}

const FLIP: Record<string, string> = {
  '>': '<',
  '>=': '<=',
  '<': '>',
  '<=': '>=',
  '=': '=',
  '!=': '!=',
  '<=>': '<=>',
};
const NEGATE: Record<string, string> = { '>': '<=', '>=': '<', '<': '>=', '<=': '>', '=': '!=', '!=': '=' };

/** The context of one row group's check. */
interface Check {
  stats: RowGroupStatistics;
  /** Lower-case column name → DuckDB type, of the file. */
  types: ReadonlyMap<string, string>;
  shadowed: ReadonlySet<string>;
}

function columnOf(node: ColumnNode, check: Check): { stats: ChunkStatistics; order: Order } | undefined {
  if (node.k !== 'col') return undefined;
  const name = node.name.toLowerCase();
  if (check.shadowed.has(name)) return undefined;
  const stats = check.stats.columns.get(name);
  const type = check.types.get(name);
  const order = type === undefined ? undefined : orderOf(type);
  if (!stats || !order) return undefined;
  return { stats, order };
}

/** False only when no non-null value within [min, max] can satisfy `column op literal`. */
function comparisonMayMatch(
  op: string,
  column: { stats: ChunkStatistics; order: Order },
  literal: Literal,
  numRows: number,
): boolean {
  const { stats, order } = column;
  // A column that is null in every row satisfies no comparison.
  if (stats.nullCount !== undefined && stats.nullCount >= numRows) return false;
  const vsMin = stats.min === undefined ? undefined : compareStatistic(order, stats.min, literal);
  const vsMax = stats.max === undefined ? undefined : compareStatistic(order, stats.max, literal);
  // NaN is greater than every number in DuckDB (and Spark) but writers leave it out of min/max:
  // a float column's max never rules out a row.
  const max = order === 'float' ? undefined : vsMax;
  switch (op) {
    case '>':
      return !(max !== undefined && max <= 0);
    case '>=':
      return !(max !== undefined && max < 0);
    case '<':
      return !(vsMin !== undefined && vsMin >= 0);
    case '<=':
      return !(vsMin !== undefined && vsMin > 0);
    case '=':
    case '<=>':
      return !((vsMin !== undefined && vsMin > 0) || (vsMax !== undefined && vsMax < 0));
    case '!=':
      return !(order !== 'float' && vsMin === 0 && vsMax === 0);
    default:
      return true;
  }
}

function mayMatch(node: ColumnNode, check: Check, negated: boolean): boolean {
  if (node.k === 'unary' && node.op === 'not') return mayMatch(node.child, check, !negated);
  if (node.k === 'binary' && (node.op === 'AND' || node.op === 'OR')) {
    // De Morgan under a NOT: NOT (a AND b) = NOT a OR NOT b.
    const conjunction = (node.op === 'AND') !== negated;
    const left = mayMatch(node.left, check, negated);
    const right = mayMatch(node.right, check, negated);
    return conjunction ? left && right : left || right;
  }
  if (node.k === 'unary' && (node.op === 'isNull' || node.op === 'isNotNull')) {
    const column = columnOf(node.child, check);
    const nulls = column?.stats.nullCount;
    if (nulls === undefined) return true;
    const wantsNull = (node.op === 'isNull') !== negated;
    return wantsNull ? nulls > 0 : nulls < check.stats.numRows;
  }
  if (node.k === 'binary' && node.op in FLIP) {
    let op = node.op;
    let column = columnOf(node.left, check);
    let literal = literalOf(node.right);
    if (!column || !literal) {
      column = columnOf(node.right, check);
      literal = literalOf(node.left);
      op = FLIP[op]!;
    }
    if (!column || !literal) return true;
    if (negated) {
      // NOT (a <=> v) is true for null rows: nothing to rule out.
      const negatedOp = NEGATE[op];
      if (negatedOp === undefined) return true;
      op = negatedOp;
    }
    return comparisonMayMatch(op, column, literal, check.stats.numRows);
  }
  if (node.k === 'call' && node.fn === 'isin' && !negated) {
    const column = columnOf(node.args[0]!, check);
    if (!column) return true;
    const literals = node.args.slice(1).map(literalOf);
    // A null or an unknown in the list: keep the row group.
    if (literals.some((l) => l === undefined)) return true;
    return literals.some((l) => comparisonMayMatch('=', column, l!, check.stats.numRows));
  }
  return true;
}

/** True unless the statistics prove that no row of the row group passes every pushed filter. */
export function rowGroupMayMatch(
  filters: readonly PushedFilter[],
  stats: RowGroupStatistics,
  types: ReadonlyMap<string, string>,
): boolean {
  return filters.every((f) => mayMatch(f.condition, { stats, types, shadowed: f.shadowed }, false));
}
