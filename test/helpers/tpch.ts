/**
 * TPC-H checks shared by the unit, end-to-end, chaos and packaged tests: the reference answer of
 * a query (examples/lib/tpch-sql.ts run by one DuckDB process over the same Parquet files) and a
 * row comparison that allows float sums a relative error (their summation order follows the
 * partitioning) while every other value must be equal.
 */
import { expect } from 'vitest';
import type { TpchData } from '../../examples/lib/tpch-gen.js';
import { type TpchQuery, type TpchRelations, tpchSql } from '../../examples/lib/tpch-sql.js';
import { referenceRows } from '../sql/tpch-data.js';

/** The scans of the generated tables, as the reference reads them. */
export function tpchRelations(data: TpchData): TpchRelations {
  const scan = (glob: string) => `read_parquet('${glob.replace(/'/g, "''")}')`;
  return {
    region: scan(data.tables.region),
    nation: scan(data.tables.nation),
    supplier: scan(data.tables.supplier),
    customer: scan(data.tables.customer),
    orders: scan(data.tables.orders),
    lineitem: scan(data.tables.lineitem),
  };
}

/** `query`'s answer from one DuckDB process over `data`'s files. */
export function tpchReference(query: TpchQuery, data: TpchData): Promise<Record<string, unknown>[]> {
  return referenceRows(tpchSql(query, tpchRelations(data)));
}

/** Whether two values are equal, numbers within `relative` of each other. */
function close(a: unknown, b: unknown, relative: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= relative * Math.max(Math.abs(a), Math.abs(b));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Assert `actual` equals `expected` row by row (in order: every query here orders, or returns
 * one row), with the same columns in the same order, numbers within a relative 1e-9.
 */
export function expectSameRows(
  label: string,
  actual: readonly Record<string, unknown>[] | undefined,
  expected: readonly Record<string, unknown>[],
  relative = 1e-9,
): void {
  expect(actual, `${label}: no result`).toBeDefined();
  expect(actual!.length, `${label}: row count`).toBe(expected.length);
  actual!.forEach((row, i) => {
    const want = expected[i]!;
    expect(Object.keys(row), `${label}: columns of row ${i}`).toEqual(Object.keys(want));
    for (const [column, value] of Object.entries(want)) {
      if (!close(row[column], value, relative)) {
        expect.fail(
          `${label}: row ${i}, column ${column}: ${JSON.stringify(row[column])} where DuckDB gives ${JSON.stringify(value)}`,
        );
      }
    }
  });
}
