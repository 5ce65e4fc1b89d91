/**
 * The actions of a DataFrame. A relational result task computes its partial with DuckDB (rows,
 * a count, a sample of sort keys — see the stage program); these impls merge the partials on
 * the driver, in partition order. `schema`, `printSchema` and `explain` run no task at all: the
 * driver answers them from its binding of the plan (driver-actions on the driver side).
 */
import { StratusError } from '../../contract/errors.js';
import type { Action, ActionImpl } from '../dataset/actions.js';
import type { Key } from '../records/keys.js';
import type { RangeSample } from '../shuffle/partitioner.js';

/** The option naming what a DataFrame action computes in its tasks (and how it merges). */
export const DATAFRAME_ACTION_OPTION = 'dataframe';

/** What a DataFrame action's task returns for rows: column names, then each row's values in order. */
export interface RowsPartial {
  columns: string[];
  /** DuckDB types of the columns (for show's formatting). */
  types: string[];
  rows: unknown[][];
}

/** A row of a collected DataFrame: column name → value (JSON-like; see docs/dataframes.md for the types). */
export type Row = Record<string, unknown>;

/** What a sampling task of a DataFrame sort returns: its row count and a sample of its sort keys. */
export interface SortKeySample {
  count: number;
  keys: unknown[][];
}

/** The kinds of DataFrame action. */
export type DataFrameActionKind =
  | 'collect'
  | 'count'
  | 'take'
  | 'first'
  | 'show'
  | 'schema'
  | 'printSchema'
  | 'explain'
  | 'write';

/** True for actions the driver answers from the plan, without a job. */
export function isDriverSideKind(kind: unknown): boolean {
  return kind === 'schema' || kind === 'printSchema' || kind === 'explain';
}

/** The DataFrame action kind of an action, or undefined for a Dataset action. */
export function dataFrameActionKind(action: Action<unknown>): DataFrameActionKind | undefined {
  const kind = action.options[DATAFRAME_ACTION_OPTION];
  return typeof kind === 'string' ? (kind as DataFrameActionKind) : undefined;
}

function rowsOf(partials: readonly unknown[]): { columns: string[]; types: string[]; rows: unknown[][] } {
  const parts = partials as RowsPartial[];
  const first = parts[0];
  return { columns: first?.columns ?? [], types: first?.types ?? [], rows: parts.flatMap((p) => p.rows) };
}

function toObjects(columns: readonly string[], rows: readonly unknown[][]): Row[] {
  return rows.map((values) => {
    const row: Row = {};
    columns.forEach((c, i) => {
      row[c] = values[i];
    });
    return row;
  });
}

function noPartial(): never {
  throw new Error('internal: DataFrame partials are computed by the relational task runner');
}

/** The merge of each DataFrame action kind (tasks compute partials with DuckDB). */
export function dataFrameActionImpl(kind: DataFrameActionKind, n: number, truncate = true): ActionImpl {
  switch (kind) {
    case 'count':
      return { partial: noPartial, merge: (partials) => (partials as number[]).reduce((a, b) => a + b, 0) };
    case 'collect':
      return {
        partial: noPartial,
        merge: (partials) => {
          const { columns, rows } = rowsOf(partials);
          return toObjects(columns, rows);
        },
      };
    case 'take':
    case 'first':
      return {
        partial: noPartial,
        merge: (partials) => {
          const { columns, rows } = rowsOf(partials);
          const taken = toObjects(columns, rows.slice(0, n));
          return kind === 'first' ? (taken[0] ?? null) : taken;
        },
      };
    case 'show':
      return {
        partial: noPartial,
        merge: (partials) => {
          const { columns, types, rows } = rowsOf(partials);
          return showString(columns, types, rows, n, truncate);
        },
      };
    default:
      return {
        partial: noPartial,
        merge: () => {
          throw new Error(`internal: ${kind} is answered by the driver, not merged`);
        },
      };
  }
}

/** One value as Spark's show prints it: null, doubles with a fraction digit, lists in brackets. */
export function showCell(value: unknown, type: string): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' && (type === 'DOUBLE' || type === 'FLOAT') && Number.isInteger(value)) {
    return `${value}.0`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => showCell(v, '')).join(', ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Spark's Dataset.showString: a `+---+` framed table of the first `n` rows, cells right-aligned
 * and cut to 20 characters when `truncate`, then `only showing top n rows` when there are more.
 */
export function showString(
  columns: readonly string[],
  types: readonly string[],
  rows: readonly unknown[][],
  n: number,
  truncate = true,
): string {
  const shown = rows.slice(0, n);
  const cut = (s: string) => (truncate && s.length > 20 ? `${s.slice(0, 17)}...` : s);
  const cells = [
    columns.map((c) => cut(c)),
    ...shown.map((r) => r.map((v, i) => cut(showCell(v, types[i] ?? '')))),
  ];
  const widths = columns.map((_, i) => Math.max(3, ...cells.map((r) => (r[i] ?? '').length)));
  const line = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`;
  const pad = (s: string, w: number) => (truncate ? s.padStart(w) : s.padEnd(w));
  const render = (r: string[]) => `|${r.map((s, i) => pad(s, widths[i]!)).join('|')}|`;
  const out = [line, render(cells[0]!), line, ...cells.slice(1).map(render), line];
  if (rows.length > n) out.push(`only showing top ${n} row${n === 1 ? '' : 's'}`);
  return `${out.join('\n')}\n`;
}

/** A sort key's direction: ascending or not, nulls first or last. */
export interface SortDirection {
  ascending: boolean;
  nullsFirst: boolean;
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') {
    // DuckDB orders VARCHAR by its UTF-8 bytes, i.e. by code point (not by UTF-16 unit).
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compare two sort-key tuples as ORDER BY does with `directions`. */
export function compareSortKeys(
  a: readonly unknown[],
  b: readonly unknown[],
  directions: readonly SortDirection[],
): number {
  for (let i = 0; i < directions.length; i++) {
    const { ascending, nullsFirst } = directions[i]!;
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === null || y === null) {
      if (x === y) continue;
      return x === null ? (nullsFirst ? -1 : 1) : nullsFirst ? 1 : -1;
    }
    const c = compareValues(x, y);
    if (c !== 0) return ascending ? c : -c;
  }
  return 0;
}

/**
 * The sampling job's action of a DataFrame sort. Its tasks sample the sort keys of their
 * partition (DuckDB's reservoir sample); the merge ranks every sampled tuple in the sort's own
 * order (directions, nulls first or last) and returns RangeSample keys `[rank, tuple]`, so the
 * engine's computeRangeBounds — which orders keys by compareKeys — picks bounds in SQL order,
 * and the map side compares rows with each bound's tuple in SQL (program.ts).
 */
export function sortSampleImpl(directions: readonly SortDirection[]): ActionImpl {
  return {
    partial: noPartial,
    merge(partials): RangeSample[] {
      const samples = partials as SortKeySample[];
      const all = samples.flatMap((s) => s.keys);
      const sorted = [...all].sort((a, b) => compareSortKeys(a, b, directions));
      const ranks = new Map<unknown[], number>();
      let rank = -1;
      sorted.forEach((tuple, i) => {
        if (i === 0 || compareSortKeys(sorted[i - 1]!, tuple, directions) !== 0) rank++;
        ranks.set(tuple, rank);
      });
      return samples.map((s) => ({
        count: s.count,
        keys: s.keys.map((tuple) => [ranks.get(tuple)!, tuple as Key[]] as Key),
      }));
    },
  };
}

/** The tuple of a range bound made by sortSampleImpl (`[rank, tuple]`). */
export function boundTuple(bound: Key): unknown[] {
  if (!Array.isArray(bound) || bound.length !== 2 || !Array.isArray(bound[1])) {
    throw new StratusError(
      'PLAN_MISMATCH',
      `a DataFrame range bound must be [rank, values], got ${JSON.stringify(bound)}`,
    );
  }
  return bound[1] as unknown[];
}
